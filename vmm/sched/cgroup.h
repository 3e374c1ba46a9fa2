/*
 * Per-VM cgroup v2 leaves for `mote serve`. Where the daemon has a
 * delegated cgroup v2 subtree (its own cgroup, writable, with the cpu,
 * memory and pids controllers available), each VM gets its own leaf with
 * cpu.max, memory.max and pids.max; where it has none, the daemon says so
 * once and schedules by accounting alone.
 *
 * Layout, for the daemon's cgroup CG (from /proc/self/cgroup, "0::CG"):
 *   CG/mote-serve      the daemon itself (cgroup v2 keeps processes in
 *                      leaves only, so it must leave CG before CG can
 *                      enable controllers for its children)
 *   CG/vm-NAME         one leaf per VM
 * Every error names the file it was about.
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
 * NULL when there is none, with the reason in why: "cgroup v2 is not
 * mounted at /sys/fs/cgroup", "/sys/fs/cgroup/CG is not writable: not
 * delegated", "controllers cpu, memory, pids not all available in ...". */
struct cg_root *cg_open(char *why, size_t whylen);
/* Remove the VM leaves that are left (empty ones; a busy leaf stays),
 * free r. CG/mote-serve stays: the daemon is in it. */
void cg_close(struct cg_root *r);

struct cg_limits {
	double cpus;               /* cpu.max quota in CPUs (vCPUs); 0: none */
	uint64_t mem_bytes;        /* memory.max; 0: none */
	uint64_t pids;             /* pids.max; 0: none */
};

/* Make leaf vm-NAME with the limits: cpu.max "QUOTA 100000", memory.max,
 * pids.max, and memory.swap.max 0 where the kernel has it. NAME is 1..64
 * characters of [A-Za-z0-9._-]. A leaf left by an earlier daemon is
 * reused (its limits rewritten). 0 or -errno (why says which file). */
int cg_create(struct cg_root *r, const char *name, const struct cg_limits *l,
	      char *why, size_t whylen);
/* Move pid into leaf vm-NAME (its cgroup.procs). 0 or -errno (why). */
int cg_attach(struct cg_root *r, const char *name, pid_t pid, char *why, size_t whylen);
/* Remove leaf vm-NAME once its processes are gone, waiting up to about
 * half a second for exiting ones. 0 (also when it is gone already) or
 * -errno (why). */
int cg_remove(struct cg_root *r, const char *name, char *why, size_t whylen);

/* ---- for tests, and what cg_open is made of ---- */

/* Where cg_open_at works. cgroupfs makes a cgroup's interface files on
 * mkdir and drops them on rmdir; a plain directory standing in for it
 * (tests) needs hooks that do the same. */
struct cg_env {
	const char *mount;         /* "/sys/fs/cgroup" */
	const char *self;          /* the daemon's cgroup, "/" or "/a/b" */
	pid_t pid;                 /* moved into SELF/mote-serve */
	/* 0 or -errno; NULL: mkdir(2) mode 0755, rmdir(2). */
	int (*mkdir)(void *opaque, const char *path);
	int (*rmdir)(void *opaque, const char *path);
	void *opaque;
};

/* cg_open on env, without the file-system type check (a tmpdir is no
 * cgroup2). Strings in env are copied. */
struct cg_root *cg_open_at(const struct cg_env *env, char *why, size_t whylen);
/* 0 if mount is a cgroup2 file system; -errno with the reason otherwise. */
int cg_check_v2(const char *mount, char *why, size_t whylen);
/* This process's cgroup v2 path from a /proc/PID/cgroup file (its "0::"
 * line) into path. 0 or -errno (why). */
int cg_read_self(const char *proc_cgroup, char *path, size_t pathlen,
		 char *why, size_t whylen);

#endif
