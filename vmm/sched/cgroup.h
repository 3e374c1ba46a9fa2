/*
 * Per-VM cgroup v2 leaves for `mote serve`. Where the daemon has a
 * delegated cgroup v2 subtree (its own cgroup, writable, with the cpu,
 * memory and pids controllers available), each VM gets its own leaf with
 * cpu.max, memory.max and pids.max; where it has none, the daemon says so
 * once and schedules by accounting alone.
 */
#ifndef MOTE_SCHED_CGROUP_H
#define MOTE_SCHED_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cg_root;

/* Find a delegated subtree for this process (moving the daemon itself
 * into a leaf of its own, since cgroup v2 puts processes only in leaves).
 * NULL when there is none, with the reason in why. */
struct cg_root *cg_open(char *why, size_t whylen);
/* Remove the leaves that are left (empty), free r. */
void cg_close(struct cg_root *r);

struct cg_limits {
	double cpus;               /* cpu.max quota in CPUs (vCPUs); 0: none */
	uint64_t mem_bytes;        /* memory.max; 0: none */
	uint64_t pids;             /* pids.max; 0: none */
};

/* Make leaf NAME with the limits; 0 or -errno (why says which file). */
int cg_create(struct cg_root *r, const char *name, const struct cg_limits *l,
	      char *why, size_t whylen);
/* Move pid into leaf NAME (cgroup.procs). 0 or -errno. */
int cg_attach(struct cg_root *r, const char *name, pid_t pid);
/* Remove leaf NAME once its processes are gone. 0 or -errno. */
int cg_remove(struct cg_root *r, const char *name);

#endif
