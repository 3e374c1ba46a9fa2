/*
 * The placement engine of `mote serve`: admission, queueing and CPU
 * choice for the VMs of one host, as pure bookkeeping. It starts no
 * process, reads no clock (callers pass now_ms) and does no I/O, so it can
 * be tested on random workloads and replayed after a daemon restart.
 *
 * Capacity. cpu_ratio and mem_ratio count to the nearest thousandth. The
 * shared pool is the host CPUs no dedicated job holds; with D CPUs held:
 *   shared vCPUs committed  <= (cpus - D) * cpu_ratio
 *   memory committed (MiB)  <= floor((mem_mib - reserve_mib) * mem_ratio)
 *   jobs booting            <= max_booting
 * A dedicated job of k vCPUs takes k host CPUs no other dedicated job has,
 * which leave the shared pool: it is admitted only if the shared vCPUs
 * already committed still fit (cpus - D - k) * cpu_ratio. A job's mem_mib
 * is what it costs the host: guest RAM plus the VMM's overhead and a
 * margin (the daemon adds those). Admission never commits more.
 *
 * Structure (OpenStack Nova's vocabulary): filters reject what cannot
 * start now (boot slots, CPUs free to dedicate, shared vCPUs, memory);
 * weighers rank the CPUs a dedicated job may take, packing: the smallest
 * free block of adjacent CPUs that holds the whole job, else the smallest
 * blocks first; lowest-numbered first within a block. Big blocks stay free
 * for big dedicated jobs.
 *
 * Order. Effective priority = priority + floor((now_ms - submit_ms) /
 * aging_ms) (no aging when aging_ms is 0, no wait when now_ms < submit_ms);
 * higher first, then lower submit_ms, then lower id. The head is the
 * queued job first in that order.
 *
 * The head's reservation. If the head passes the filters, it starts.
 * Otherwise it reserves, of each resource free now (CPUs free to
 * dedicate, room in the shared pool, memory, boot slots), what it needs or
 * all that is free if it needs more. Another job may start only if it
 * passes the filters against what is left after that reservation; the
 * first of those in queue order starts. The head's shortfall (what it
 * needs beyond what is free) is then the same as without that job, so the
 * head starts once the same running jobs have ended: a backfilled job
 * never delays it. Room in the shared pool counts a dedicated job's CPUs
 * at cpu_ratio vCPUs each, so a dedicated job cannot shrink the room the
 * head waits for unnoticed.
 *
 * Knowing no run times, the rule is as conservative as it sounds: every
 * job needs a boot slot, memory and room in the shared pool, and a head
 * that cannot start lacks at least one of those (a dedicated head short
 * of CPUs is short of room too: the room is at most the free CPUs times
 * cpu_ratio), so nothing is left of it for anyone else. In this resource
 * model the head therefore blocks the queue, and jobs start in strict
 * queue order; backfill that pays needs run-time limits on requests.
 *
 * Ids are known from place_enqueue until place_cancel or place_release;
 * then they may be used again.
 */
#ifndef MOTE_SCHED_PLACEMENT_H
#define MOTE_SCHED_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLACE_MAX_CPUS 1024

struct place_host {
	unsigned cpus;             /* host CPUs the daemon may use, 1..PLACE_MAX_CPUS */
	double cpu_ratio;          /* shared vCPUs per host CPU, 0.001..1000000 */
	uint64_t mem_mib;          /* host memory, > reserve_mib */
	uint64_t reserve_mib;      /* kept for the host itself */
	double mem_ratio;          /* 0.001..1000000; 1.0: no overcommit */
	unsigned max_booting;      /* VMs booting at once, >= 1 */
	uint64_t aging_ms;         /* waiting this long adds 1 to priority; 0: never */
};

struct place_req {
	uint64_t id;               /* unique, non-zero */
	unsigned vcpus;            /* >= 1 */
	uint64_t mem_mib;          /* what it costs the host, >= 1 */
	int priority;              /* higher starts first */
	bool dedicated;            /* whole CPUs of its own */
	uint64_t submit_ms;        /* for FIFO and aging */
};

/* What place_next decided: start job id now, on these CPUs, ascending (its
 * own for a dedicated job; for a shared one, the CPUs no dedicated job
 * held at that moment, which it may float over; a later dedicated job
 * takes some of them away). */
struct place_decision {
	uint64_t id;
	unsigned ncpus;
	uint16_t cpus[PLACE_MAX_CPUS];
};

struct place_stats {
	double vcpu_capacity, vcpus_committed;   /* shared pool, in vCPUs */
	unsigned dedicated_cpus;                 /* host CPUs held by dedicated jobs */
	uint64_t mem_capacity_mib, mem_committed_mib;
	unsigned queued, booting, running;
};

struct place_engine;

/* NULL on a bad host (zero CPUs, ratios out of range, no memory left after
 * the reserve, ...) or out of memory. */
struct place_engine *place_new(const struct place_host *h)
	__attribute__((warn_unused_result));
void place_free(struct place_engine *e);

/* Could r ever start on this host, even empty? 0; -E2BIG with one line in
 * why naming the resource and the numbers ("needs 8 vCPUs, the host has 4
 * (4 CPUs at ratio 1)"); -EINVAL for a malformed request (id 0, no vCPUs,
 * no memory). why may be NULL when whylen is 0. */
int place_fits_ever(const struct place_engine *e, const struct place_req *r,
		    char *why, size_t whylen);

/* Queue r. 0, -EEXIST (id known), -E2BIG (never fits), -EINVAL, -ENOMEM. */
int place_enqueue(struct place_engine *e, const struct place_req *r)
	__attribute__((warn_unused_result));

/* Drop a queued job. 0, or -ENOENT if it is not queued. */
int place_cancel(struct place_engine *e, uint64_t id);

/* The next job to start now: 1 with *d filled (its resources are then
 * committed and it counts as booting), or 0 if none can start. Never
 * fails (room for every queued job is made at place_enqueue). Call until
 * it returns 0 after every change. O(queued jobs). */
int place_next(struct place_engine *e, uint64_t now_ms, struct place_decision *d);

/* A booting job finished booting (frees its slot under max_booting).
 * 0, or -ENOENT if id is not booting. */
int place_booted(struct place_engine *e, uint64_t id);

/* A booting or running job ended: its resources are free again.
 * 0, or -ENOENT if id is neither. */
int place_release(struct place_engine *e, uint64_t id);

void place_get_stats(const struct place_engine *e, struct place_stats *s);

#endif
