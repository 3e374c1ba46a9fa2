/*
 * A job's VM as a child process and its files. Each job has a directory
 * STATE/jobs/ID holding:
 *   vm.json       the submitted config, as validated (the flavor's size in it)
 *   console.log   the guest console (mote run --console-log, 16 MiB cap)
 *   result.json   how the VM ended (mote run --result)
 *   mote.log      the VMM's own stderr ("mote: cannot open /dev/kvm ...")
 * The VM is `RUNNER run --config vm.json --console-log console.log
 * --result result.json [-- ARGS]`, where RUNNER is this very program
 * (/proc/self/exe) or, for tests, $MOTE_SCHED_RUNNER.
 */
#ifndef MOTE_SCHED_JOBS_H
#define MOTE_SCHED_JOBS_H

#include "vmm/sched/state.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cg_root;
struct cg_limits;

#define JOB_CONFIG   "vm.json"
#define JOB_CONSOLE  "console.log"
#define JOB_RESULT   "result.json"
#define JOB_STDERR   "mote.log"

/* What a started VM needs. */
struct job_spawn {
	const char *runner;            /* the program to exec */
	const char *dir;               /* the job's directory */
	const char *const *args;       /* the guest job, NULL-terminated */
	const uint16_t *cpus;          /* host CPU numbers for its affinity */
	unsigned ncpus;                /* 0: no affinity */
	struct cg_root *cg;            /* NULL: no cgroup leaf */
	const char *cg_leaf;           /* its leaf (already created) */
};

/* Fork and exec the VM. The child dies with the daemon (SIGKILL), gets
 * stdin and stdout from /dev/null, stderr into mote.log, its own process
 * group, the CPUs and the cgroup leaf. 0 with *pid, or -errno with one
 * line in err. */
int jobs_spawn(const struct job_spawn *j, pid_t *pid, char *err, size_t errlen);

/* How a job ended, from its wait status and its result file. */
struct job_end {
	enum job_state state;          /* JOB_EXITED or JOB_FAILED */
	int status;                    /* -1 when none */
	char reason[JOB_REASON_MAX];
};
void jobs_outcome(const char *dir, int wstatus, struct job_end *end);

/* Has the guest's console shown that it booted ("mote guest:", the
 * default guest's banner, or the kernel's "Run /init")? *scanned is how
 * far the log was read before; it moves on. */
bool jobs_boot_seen(const char *dir, uint64_t *scanned);

/* DIR/NAME into buf; -ENAMETOOLONG if it does not fit. */
int jobs_path(char *buf, size_t len, const char *dir, const char *name);
/* Remove a job directory and the files in it (one level). */
void jobs_remove_dir(const char *dir);

/* "0-3,6" for a CPU list (truncated with "..." if buf is too short). */
void jobs_format_cpus(char *buf, size_t len, const uint16_t *cpus, unsigned n);

#endif
