/*
 * Starting VM processes and reading what they leave behind. The daemon is
 * single-threaded, so the child may call ordinary library functions
 * between fork and exec.
 */
#include "vmm/sched/jobs.h"
#include "vmm/sched/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_JOB_ARGS 256

int jobs_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Only in the child: say why on the job's stderr (mote.log) and die. */
static void child_fail(const char *what, int err)
{
	fprintf(stderr, "mote serve: %s: %s\n", what, strerror(err));
	_exit(127);
}

/* stdin and stdout from /dev/null: the console is copied, capped, by
 * --console-log, and a second uncapped copy on stdout would defeat the
 * cap. stderr (mote's own messages) into mote.log. */
static void child_fds(const char *dir)
{
	char path[PATH_MAX];
	int null = open("/dev/null", O_RDWR), log;

	if (jobs_path(path, sizeof(path), dir, JOB_STDERR) < 0)
		_exit(127);
	log = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	/* Nothing of the daemon's (database, sockets, signalfd) leaks in: all
	 * close at exec, not before, as the runner may be a descriptor of mote
	 * (/proc/self/fd/N, serve_opts.c) that the exec itself opens. */
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		child_fail("close_range", errno);
}

static void child_affinity(const uint16_t *cpus, unsigned n)
{
	cpu_set_t *set;
	size_t size = CPU_ALLOC_SIZE(65536);

	if (!n)
		return;
	set = CPU_ALLOC(65536);
	if (!set)
		child_fail("affinity", ENOMEM);
	CPU_ZERO_S(size, set);
	for (unsigned i = 0; i < n; i++)
		CPU_SET_S(cpus[i], size, set);
	if (sched_setaffinity(0, size, set) < 0)
		child_fail("sched_setaffinity", errno);
	CPU_FREE(set);
}

/* The daemon's signal mask, its ignored SIGPIPE and any handler it
 * inherited (a test harness's) are not the VM's. Dispositions go back to
 * the default before the mask opens: a SIGTERM that arrives before exec
 * must end this child, not run the daemon's handler in it. */
static void child_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);     /* fails harmlessly for KILL, STOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void child_exec(const struct job_spawn *j, pid_t parent)
{
	const char *argv[MAX_JOB_ARGS + 12];
	char cfg[PATH_MAX], con[PATH_MAX], res[PATH_MAX];
	int n = 0, ret;

	/* No VM outlives the daemon (mote run turns this into SIGTERM for
	 * its own VM once it runs; a runner that does not still dies). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	child_signals();
	child_fds(j->dir);
	/* Its own process group: a ^C on the daemon's terminal reaches the
	 * daemon, which stops the VMs in order, not every VM at once. */
	setpgid(0, 0);
	if (j->cg && (ret = cg_attach(j->cg, j->cg_leaf, getpid(), NULL, 0)) < 0)
		child_fail("cgroup leaf", -ret);
	child_affinity(j->cpus, j->ncpus);
	if (jobs_path(cfg, sizeof(cfg), j->dir, JOB_CONFIG) ||
	    jobs_path(con, sizeof(con), j->dir, JOB_CONSOLE) ||
	    jobs_path(res, sizeof(res), j->dir, JOB_RESULT))
		child_fail(j->dir, ENAMETOOLONG);
	argv[n++] = "mote";
	argv[n++] = "run";
	argv[n++] = "--config";
	argv[n++] = cfg;
	argv[n++] = "--console-log";
	argv[n++] = con;
	argv[n++] = "--result";
	argv[n++] = res;
	if (j->args && j->args[0]) {
		argv[n++] = "--";
		for (int i = 0; j->args[i] && i < MAX_JOB_ARGS; i++)
			argv[n++] = j->args[i];
	}
	argv[n] = NULL;
	execv(j->runner, (char *const *)argv);
	child_fail(j->runner, errno);
}

int jobs_spawn(const struct job_spawn *j, pid_t *pid, char *err, size_t errlen)
{
	pid_t parent = getpid();
	pid_t p = fork();

	if (p < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (p == 0)
		child_exec(j, parent);
	*pid = p;
	return 0;
}

/* The last non-empty line of mote.log, "mote: " dropped: why a VMM that
 * wrote no result failed. */
static bool last_stderr_line(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX], tail[1024];
	ssize_t n;
	int fd;
	off_t size;
	char *end, *start;

	if (jobs_path(path, sizeof(path), dir, JOB_STDERR) || (fd = open(path, O_RDONLY)) < 0)
		return false;
	size = lseek(fd, 0, SEEK_END);
	n = size < 0 ? -1 : pread(fd, tail, sizeof(tail) - 1, size > (off_t)sizeof(tail) - 1 ?
				  size - (off_t)sizeof(tail) + 1 : 0);
	close(fd);
	if (n <= 0)
		return false;
	tail[n] = '\0';
	for (end = tail + n; end > tail && (end[-1] == '\n' || end[-1] == '\r'); end--)
		*(end - 1) = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	if (strncmp(start, "mote: ", 6) == 0)
		start += 6;
	if (!*start || !len)
		return false;
	n = (ssize_t)strnlen(start, len - 1);   /* a long line is cut */
	memcpy(buf, start, (size_t)n);
	buf[n] = '\0';
	return true;
}

/* The result file's status, reason and message. */
static bool read_result(const char *dir, int *status, char *reason, size_t rlen,
			char *msg, size_t mlen)
{
	char path[PATH_MAX];
	json_t *j, *st;

	if (jobs_path(path, sizeof(path), dir, JOB_RESULT))
		return false;
	j = json_load_file(path, 0, NULL);
	st = json_object_get(j, "status");
	if (!json_is_integer(st)) {
		json_decref(j);
		return false;
	}
	*status = (int)json_integer_value(st);
	snprintf(reason, rlen, "%s", json_string_value(json_object_get(j, "reason")) ?: "");
	snprintf(msg, mlen, "%s", json_string_value(json_object_get(j, "message")) ?: "");
	json_decref(j);
	return true;
}

void jobs_outcome(const char *dir, int wstatus, struct job_end *end)
{
	char why[32], msg[JOB_REASON_MAX];
	int status;

	end->state = JOB_FAILED;
	end->status = -1;
	/* SIGSYS is mote's seccomp filter refusing a call: its one stderr
	 * line says which thread made which call. */
	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGSYS &&
	    last_stderr_line(dir, end->reason, sizeof(end->reason)))
		return;
	if (WIFSIGNALED(wstatus)) {
		snprintf(end->reason, sizeof(end->reason), "killed by signal %d",
			 WTERMSIG(wstatus));
		return;
	}
	if (!read_result(dir, &status, why, sizeof(why), msg, sizeof(msg))) {
		if (!last_stderr_line(dir, end->reason, sizeof(end->reason)))
			snprintf(end->reason, sizeof(end->reason),
				 "the VMM exited with status %d and wrote no result",
				 WEXITSTATUS(wstatus));
		end->status = WEXITSTATUS(wstatus);
		return;
	}
	snprintf(end->reason, sizeof(end->reason), "%s", *msg ? msg : why);
	end->status = status;
	/* A VMM error, or a stop by a signal the daemon did not send, is a
	 * failure; the rest (guest exit, poweroff, reboot, timeout) is the
	 * guest's own ending, with its status. */
	if (strcmp(why, "error") != 0 && strcmp(why, "signal") != 0)
		end->state = JOB_EXITED;
}

static const char *const boot_marks[] = { "mote guest:", "Run /init" };
#define BOOT_MARK_OVERLAP 16    /* longer than any mark */

bool jobs_boot_seen(const char *dir, uint64_t *scanned)
{
	char path[PATH_MAX], buf[65536 + 1];
	uint64_t from = *scanned > BOOT_MARK_OVERLAP ? *scanned - BOOT_MARK_OVERLAP : 0;
	bool seen = false;
	ssize_t n;
	int fd;

	if (jobs_path(path, sizeof(path), dir, JOB_CONSOLE) || (fd = open(path, O_RDONLY)) < 0)
		return false;
	/* A log may hold NUL bytes: search chunk by chunk, each as text up
	 * to its first NUL (good enough: the marks are plain text lines). */
	while (!seen && (n = pread(fd, buf, sizeof(buf) - 1, (off_t)from)) > 0) {
		buf[n] = '\0';
		for (size_t i = 0; i < sizeof(boot_marks) / sizeof(boot_marks[0]); i++)
			seen = seen || memmem(buf, (size_t)n, boot_marks[i],
					      strlen(boot_marks[i])) != NULL;
		*scanned = from + (uint64_t)n;
		from = *scanned > BOOT_MARK_OVERLAP ? *scanned - BOOT_MARK_OVERLAP : 0;
		if (n < (ssize_t)sizeof(buf) - 1)
			break;
	}
	close(fd);
	return seen;
}

void jobs_remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    jobs_path(path, sizeof(path), dir, e->d_name) == 0)
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void jobs_format_cpus(char *buf, size_t len, const uint16_t *cpus, unsigned n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		unsigned j = i;
		int w;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		w = j > i ? snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "",
				     cpus[i], cpus[j])
			  : snprintf(buf + used, len - used, "%s%u", used ? "," : "", cpus[i]);
		if (w < 0 || (size_t)w >= len - used) {
			if (len >= 4)
				strcpy(buf + len - 4, "...");
			return;
		}
		used += (size_t)w;
		i = j;
	}
}
