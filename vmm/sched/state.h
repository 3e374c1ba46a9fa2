/*
 * The scheduler's memory: one SQLite database (state.db in the state
 * directory) with a row per job, written before the daemon answers, so a
 * restarted daemon knows every job it ever accepted. WAL mode, a busy
 * timeout, prepared statements; the daemon is its only writer.
 */
#ifndef MOTE_SCHED_STATE_H
#define MOTE_SCHED_STATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel command lines are at most 2 KiB on x86, so a job's arguments
 * (which go on it) fit with room for JSON quoting. */
#define JOB_ARGS_MAX 4096
#define JOB_REASON_MAX 256
#define JOB_CPUS_MAX 256

enum job_state {
	JOB_QUEUED,
	JOB_BOOTING,
	JOB_RUNNING,
	JOB_EXITED,    /* the VM ended with a status (the guest's, 124, ...) */
	JOB_FAILED,    /* the VMM failed, died of a signal or lost its daemon */
	JOB_KILLED,    /* by mote kill, a drain or the daemon's stop */
};

/* "queued", "booting", ...; state_name_parse is its inverse (-1: none). */
const char *job_state_name(enum job_state st);
int job_state_parse(const char *name);
static inline bool job_state_ended(enum job_state st) { return st >= JOB_EXITED; }

/* One row. Times are wall-clock milliseconds since the epoch, -1 when not
 * (yet) known; status -1 and pid 0 likewise. */
struct job_row {
	uint64_t id;
	enum job_state state;
	char config[PATH_MAX];         /* the saved config (jobs/ID/vm.json) */
	char flavor[32];               /* "" when the config's own size */
	unsigned vcpus;
	uint64_t mem_mib;              /* guest RAM */
	uint64_t cost_mib;             /* what placement accounts for it */
	bool dedicated;
	int priority;
	char args[JOB_ARGS_MAX];       /* the guest job's argv, a JSON array */
	int64_t submitted_ms, started_ms, ended_ms;
	int status;
	char reason[JOB_REASON_MAX];
	int pid;
	char cpus[JOB_CPUS_MAX];       /* host CPUs it was given, "0-3,6" */
};

struct state;

/* Open (creating) DIR/state.db. 0 or -errno with one line in err. */
int state_open(const char *dir, struct state **out, char *err, size_t errlen);
void state_close(struct state *s);

/* The id the next job gets (ids are never reused). */
int state_next_id(struct state *s, uint64_t *id);
/* Insert r (state, id and all); 0 or -EIO. */
int state_insert(struct state *s, const struct job_row *r);
/* 0, -ENOENT or -EIO. */
int state_get(struct state *s, uint64_t id, struct job_row *r);

/* booting, with its process and CPUs. */
int state_set_started(struct state *s, uint64_t id, int pid, const char *cpus,
		      int64_t now_ms);
int state_set_running(struct state *s, uint64_t id);
/* An ended state with its status (-1: none) and reason. */
int state_set_ended(struct state *s, uint64_t id, enum job_state st, int status,
		    const char *reason, int64_t now_ms);

/* Call fn on each row, oldest first: every job (all), or those that have
 * not ended. Stops at fn's first non-zero return, which it returns. */
typedef int (*state_row_fn)(void *opaque, const struct job_row *r);
int state_each(struct state *s, bool all, state_row_fn fn, void *opaque);

/* After a restart: jobs that were booting or running lost their VM with
 * the old daemon (PR_SET_PDEATHSIG): mark them failed. Returns how many,
 * or -EIO. */
int state_fail_orphans(struct state *s, const char *reason, int64_t now_ms);

#endif
