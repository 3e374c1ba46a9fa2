/*
 * The placement engine of `mote serve`: admission, queueing and CPU
 * choice for the VMs of one host, as pure bookkeeping. It starts no
 * process, reads no clock (callers pass now_ms) and does no I/O, so it can
 * be tested on random workloads and replayed after a daemon restart.
 *
 * Capacity: vCPUs = cpus * cpu_ratio (shared VMs) and memory =
 * (mem_mib - reserve_mib) * mem_ratio. A job's mem_mib is what it costs
 * the host: guest RAM plus the VMM's overhead and a margin (the daemon
 * adds those). Admission never commits more than capacity.
 *
 * Structure (OpenStack Nova's vocabulary): filters reject what cannot
 * start now (vCPUs, memory, free dedicated CPUs, the cap on VMs booting at
 * once); weighers rank the CPUs a job may take, packing (most allocated
 * first) so that whole cores stay free for big and dedicated jobs.
 *
 * Order: priority first (higher first), FIFO within a priority, aging
 * (a job's effective priority rises by one every aging_ms it waits, so
 * nothing waits for ever), and the head's reservation: while the head of
 * the queue cannot start, a smaller job may start ahead of it only if the
 * head could still start as soon as the running jobs' resources it waits
 * for are released (it never needs more than what is left after the small
 * job ends... in practice: backfill only takes resources beyond what the
 * head needs).
 *
 * Dedicated jobs get whole CPUs that no other dedicated job has, and
 * count one host CPU per vCPU (no ratio); shared jobs float over the CPUs
 * no dedicated job holds.
 */
#ifndef MOTE_SCHED_PLACEMENT_H
#define MOTE_SCHED_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLACE_MAX_CPUS 1024

struct place_host {
	unsigned cpus;             /* host CPUs the daemon may use, 1..PLACE_MAX_CPUS */
	double cpu_ratio;          /* shared vCPUs per host CPU, > 0 */
	uint64_t mem_mib;          /* host memory */
	uint64_t reserve_mib;      /* kept for the host itself */
	double mem_ratio;          /* > 0; 1.0: no overcommit */
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

/* What place_next decided: start job id now, on these CPUs (its own for a
 * dedicated job; for a shared one, the CPUs it may float over). */
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

/* NULL on a bad host (zero CPUs, ratios <= 0, ...) or out of memory. */
struct place_engine *place_new(const struct place_host *h);
void place_free(struct place_engine *e);

/* Could r ever start on this host, even empty? 0, or -E2BIG with one line
 * in why ("needs 8 vCPUs, the host has 4 at ratio 1.0"). */
int place_fits_ever(const struct place_engine *e, const struct place_req *r,
		    char *why, size_t whylen);

/* Queue r. 0, -EEXIST (id known), -E2BIG (never fits), -EINVAL, -ENOMEM. */
int place_enqueue(struct place_engine *e, const struct place_req *r);

/* Drop a queued job. 0, or -ENOENT if it is not queued. */
int place_cancel(struct place_engine *e, uint64_t id);

/* The next job to start now: 1 with *d filled (its resources are then
 * committed and it counts as booting), or 0 if none can start. Call until
 * it returns 0 after every change. */
int place_next(struct place_engine *e, uint64_t now_ms, struct place_decision *d);

/* A booting job finished booting (frees its slot under max_booting). */
void place_booted(struct place_engine *e, uint64_t id);

/* A booting or running job ended: its resources are free again. */
void place_release(struct place_engine *e, uint64_t id);

void place_get_stats(const struct place_engine *e, struct place_stats *s);

#endif
