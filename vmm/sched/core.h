/*
 * The scheduler's core: jobs from submission to their end, with no HTTP
 * in it. It owns the placement engine, the database, the flavors, the
 * cgroup root and the VM processes. Single-threaded: the daemon's loop
 * calls it when a request, a child's exit or a timer arrives.
 */
#ifndef MOTE_SCHED_CORE_H
#define MOTE_SCHED_CORE_H

#include "vmm/sched/placement.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Memory a VM costs the host beyond its guest RAM. mote's measured
 * overhead is under 1 MiB of PSS plus its libraries; 32 MiB covers RSS,
 * page tables and the console buffers. */
#define SCHED_VMM_OVERHEAD_MIB 32
/* A job waiting this long gains one priority step (placement's aging). */
#define SCHED_AGING_MS 60000
/* SIGTERM, then SIGKILL this much later if the VM is still there. */
#define SCHED_KILL_GRACE_MS 5000
/* A guest that never shows a boot banner counts as booted after this
 * long, so a quiet guest does not hold a booting slot for ever. */
#define SCHED_BOOT_FALLBACK_MS 10000
/* Priorities a submission may ask for. */
#define SCHED_PRIORITY_MAX 1000

struct sched_opts {
	char state_dir[PATH_MAX];
	const char *flavors_file;      /* NULL: the built-in flavors only */
	struct place_host host;
	/* Placement's CPU i is host CPU cpu_map[i] (the daemon's own
	 * affinity, in order). */
	uint16_t cpu_map[PLACE_MAX_CPUS];
	char runner[PATH_MAX];         /* what a VM execs: mote, or a fake */
	bool no_cgroup;                /* do not look for a delegated subtree */
	/* A job ended (the server answers those waiting for it). */
	void (*on_end)(void *opaque, uint64_t id);
	void *opaque;
};

struct sched;

/* Open the state (re-queueing what was queued, failing what ran when the
 * daemon died), the flavors and the cgroup root. 0 or -errno with err. */
int sched_open(const struct sched_opts *o, struct sched **out, char *err, size_t errlen);
/* Free everything; VMs must have ended (sched_done), queued jobs stay
 * queued in the database for the next daemon. */
void sched_close(struct sched *s);

/* A POST /jobs body. 0 with *id; -EINVAL or -E2BIG: refused, err says
 * why; -EAGAIN: draining or stopping; other -errno: the daemon's fault. */
int sched_submit(struct sched *s, const char *body, size_t len, uint64_t *id,
		 char *err, size_t errlen);
/* Kill a job: queued ones end at once, the others get SIGTERM (SIGKILL
 * after the grace period). 0, -ENOENT, or -EALREADY (it has ended). */
int sched_kill(struct sched *s, uint64_t id, char *err, size_t errlen);
/* Take no more jobs, kill the queued ones, and SIGTERM what still runs
 * deadline_s from now (< 0: never). Returns how many queued jobs died. */
int sched_drain(struct sched *s, double deadline_s);
/* The daemon got SIGTERM or SIGINT: take nothing more and stop every VM
 * (a second call sends SIGKILL). Queued jobs stay queued. */
void sched_stop(struct sched *s);

/* Reap the VM processes that ended (after SIGCHLD). */
void sched_reap(struct sched *s);
/* Boot detection, kill and drain timers, then start what fits. */
void sched_tick(struct sched *s);
/* How soon sched_tick wants to run again, in ms. */
int sched_timeout_ms(const struct sched *s);
/* Stopping, and no VM process is left. */
bool sched_done(const struct sched *s);
bool sched_stopping(const struct sched *s);

/* 1: the job has ended; 0: not yet; -ENOENT: no such job. */
int sched_job_ended(struct sched *s, uint64_t id);
/* The job's directory. 0 or -ENAMETOOLONG. */
int sched_job_dir(const struct sched *s, uint64_t id, char *buf, size_t len);

/* The views, malloc'd JSON (NULL: out of memory, or *err -ENOENT). */
char *sched_job_json(struct sched *s, uint64_t id, int *err);
char *sched_jobs_json(struct sched *s, bool all);
char *sched_flavors_json(const struct sched *s);
char *sched_drain_json(const struct sched *s, int killed);
/* Prometheus text exposition format. */
char *sched_metrics(const struct sched *s);

#endif
