/*
 * Inside the scheduler's core (core.c, submit.c, report.c): the daemon's
 * in-memory view of the jobs that have not ended. Ended jobs live in the
 * database only.
 */
#ifndef MOTE_SCHED_CORE_INT_H
#define MOTE_SCHED_CORE_INT_H

#include "vmm/sched/core.h"
#include "vmm/sched/flavor.h"
#include "vmm/sched/state.h"

#include <sys/types.h>

struct active {
	uint64_t id;
	enum job_state state;          /* queued, booting or running */
	pid_t pid;                     /* 0 while queued */
	int64_t started_mono;          /* ms, for the boot fallback */
	int64_t kill_at;               /* ms when SIGKILL follows; 0: none */
	const char *kill_reason;       /* set: it ends as killed, for this */
	uint64_t scanned;              /* console bytes searched for a banner */
	bool cg_leaf;                  /* it has a cgroup leaf */
};

struct sched {
	struct sched_opts o;
	struct state *db;
	struct place_engine *pe;
	struct flavor_set flavors;
	struct cg_root *cg;            /* NULL: accounting alone */
	struct active *act;
	size_t nact, capact;
	bool draining, stopping;
	int64_t drain_at;              /* ms when a drain SIGTERMs; 0: none */
	double drain_deadline_s;       /* as asked, for the views; < 0: none */
	/* Since the daemon started (Prometheus counters). */
	uint64_t launches, failures, kills, submissions, refusals;
};

struct active *core_find(struct sched *s, uint64_t id);
/* Track a new queued job; NULL when out of memory. */
struct active *core_add(struct sched *s, uint64_t id);
/* Start whatever placement lets start now. */
void core_schedule(struct sched *s);
/* The host memory a VM of mem_mib guest RAM is accounted for. */
uint64_t core_cost_mib(uint64_t mem_mib);

#endif
