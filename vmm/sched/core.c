/*
 * The jobs' life: queued -> booting -> running -> exited | failed |
 * killed. Every change is written to the database before anyone is told.
 */
#include "vmm/sched/core_int.h"
#include "vmm/sched/cgroup.h"
#include "vmm/sched/jobs.h"
#include "vmm/sched/paths.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define JOB_ARGV_MAX 256
#define KILLED_STATUS 143       /* as if ended by SIGTERM, like mote run */

static const char reason_kill[] = "killed by mote kill";
static const char reason_stop[] = "killed: the daemon stopped";
static const char reason_drain_queued[] = "killed: drained before it started";
static const char reason_drain_deadline[] = "killed: the drain deadline passed";

struct active *core_find(struct sched *s, uint64_t id)
{
	for (size_t i = 0; i < s->nact; i++)
		if (s->act[i].id == id)
			return &s->act[i];
	return NULL;
}

static struct active *find_pid(struct sched *s, pid_t pid)
{
	for (size_t i = 0; i < s->nact; i++)
		if (s->act[i].pid == pid)
			return &s->act[i];
	return NULL;
}

struct active *core_add(struct sched *s, uint64_t id)
{
	if (s->nact == s->capact) {
		size_t cap = s->capact ? s->capact * 2 : 16;
		struct active *v = realloc(s->act, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->act = v;
		s->capact = cap;
	}
	s->act[s->nact] = (struct active){ .id = id, .state = JOB_QUEUED };
	return &s->act[s->nact++];
}

uint64_t core_cost_mib(uint64_t mem_mib)
{
	return mem_mib + SCHED_VMM_OVERHEAD_MIB;
}

int sched_job_dir(const struct sched *s, uint64_t id, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/jobs/%llu", s->o.state_dir, (unsigned long long)id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void leaf_name(char *buf, size_t len, uint64_t id)
{
	snprintf(buf, len, "job-%llu", (unsigned long long)id);
}

/* The job has ended: record it, give its resources back, forget it. */
static void end_job(struct sched *s, struct active *a, enum job_state st, int status,
		    const char *reason)
{
	uint64_t id = a->id;
	char leaf[32];

	if (state_set_ended(s->db, id, st, status, reason, sched_wall_ms()))
		fprintf(stderr, "mote serve: job %llu: its end is not recorded\n",
			(unsigned long long)id);
	if (a->state == JOB_QUEUED)
		place_cancel(s->pe, id);
	else
		place_release(s->pe, id);
	if (a->cg_leaf) {
		char why[256];
		leaf_name(leaf, sizeof(leaf), id);
		if (cg_remove(s->cg, leaf, why, sizeof(why)))
			fprintf(stderr, "mote serve: job %llu: %s\n", (unsigned long long)id, why);
	}
	s->failures += st == JOB_FAILED;
	s->kills += st == JOB_KILLED;
	*a = s->act[--s->nact];
	if (s->o.on_end)
		s->o.on_end(s->o.opaque, id);
}

/* The row's args (a JSON array of strings) as argv; the strings stay
 * owned by *arr (decref it). */
static int args_argv(const char *json, json_t **arr, const char **argv, size_t max)
{
	size_t i, n = 0;
	json_t *v;

	*arr = json_loads(json, 0, NULL);
	if (!json_is_array(*arr))
		return -EINVAL;
	json_array_foreach(*arr, i, v) {
		if (n + 1 >= max || !json_is_string(v))
			return -EINVAL;
		argv[n++] = json_string_value(v);
	}
	argv[n] = NULL;
	return 0;
}

/* A cgroup leaf with the job's limits: its vCPUs, its accounted memory
 * plus a margin (the limit guards against a runaway VMM; the page cache
 * of its images and bursts of console output push it past the steady
 * state), and a few processes (mote is one process; the runner may be a
 * script). */
static int make_leaf(struct sched *s, const struct job_row *r, char *err, size_t errlen)
{
	uint64_t margin = r->mem_mib / 8 > 32 ? r->mem_mib / 8 : 32;
	struct cg_limits l = { .cpus = r->vcpus, .pids = 64,
			       .mem_bytes = (r->cost_mib + margin) << 20 };
	char leaf[32];

	leaf_name(leaf, sizeof(leaf), r->id);
	return cg_create(s->cg, leaf, &l, err, errlen);
}

/* Fork the VM for row r on the CPUs placement chose. */
static int spawn(struct sched *s, struct active *a, const struct job_row *r,
		 const struct place_decision *d, char *err, size_t errlen)
{
	uint16_t cpus[PLACE_MAX_CPUS];
	const char *argv[JOB_ARGV_MAX];
	char dir[PATH_MAX], leaf[32], cpustr[JOB_CPUS_MAX];
	struct job_spawn js = { .runner = s->o.runner, .dir = dir, .args = argv,
				.cpus = cpus, .ncpus = d->ncpus };
	json_t *arr = NULL;
	pid_t pid;
	int ret;

	for (unsigned i = 0; i < d->ncpus; i++)
		cpus[i] = s->o.cpu_map[d->cpus[i]];
	if (sched_job_dir(s, r->id, dir, sizeof(dir)) ||
	    args_argv(r->args, &arr, argv, JOB_ARGV_MAX)) {
		json_decref(arr);
		snprintf(err, errlen, "its saved arguments are unreadable");
		return -EINVAL;
	}
	if (s->cg) {
		ret = make_leaf(s, r, err, errlen);
		if (ret) {
			json_decref(arr);
			return ret;
		}
		leaf_name(leaf, sizeof(leaf), r->id);
		js.cg = s->cg;
		js.cg_leaf = leaf;
		a->cg_leaf = true;
	}
	ret = jobs_spawn(&js, &pid, err, errlen);
	json_decref(arr);
	if (ret)
		return ret;
	jobs_format_cpus(cpustr, sizeof(cpustr), cpus, d->ncpus);
	a->pid = pid;
	a->state = JOB_BOOTING;
	a->started_mono = sched_mono_ms();
	if (state_set_started(s->db, r->id, pid, cpustr, sched_wall_ms()))
		fprintf(stderr, "mote serve: job %llu: its start is not recorded\n",
			(unsigned long long)r->id);
	return 0;
}

static void start_job(struct sched *s, const struct place_decision *d)
{
	struct active *a = core_find(s, d->id);
	struct job_row *r = malloc(sizeof(*r));
	char err[JOB_REASON_MAX] = "";
	int ret = -ENOMEM;

	if (!a) {   /* placement and the daemon disagree: give it back */
		place_release(s->pe, d->id);
		free(r);
		return;
	}
	a->state = JOB_BOOTING;   /* placement committed it: release, not cancel */
	if (r && (ret = state_get(s->db, d->id, r)) == 0)
		ret = spawn(s, a, r, d, err, sizeof(err));
	free(r);
	if (ret == 0) {
		s->launches++;
		return;
	}
	if (!*err)
		snprintf(err, sizeof(err), "cannot start: %s", strerror(-ret));
	end_job(s, a, JOB_FAILED, -1, err);
}

void core_schedule(struct sched *s)
{
	struct place_decision *d;

	if (s->stopping || s->draining)
		return;
	d = malloc(sizeof(*d));   /* 2 KiB of CPU numbers */
	if (!d)
		return;
	while (place_next(s->pe, (uint64_t)sched_wall_ms(), d) == 1)
		start_job(s, d);
	free(d);
}

/* The VM's process group (its own, set in the child), or the process if
 * the child has not got that far. */
static void signal_vm(const struct active *a, int sig)
{
	if (kill(-a->pid, sig) < 0)
		kill(a->pid, sig);
}

static void terminate(struct active *a, const char *reason, int64_t now)
{
	if (a->kill_reason)
		return;
	a->kill_reason = reason;
	a->kill_at = now + SCHED_KILL_GRACE_MS;
	signal_vm(a, SIGTERM);
}

void sched_reap(struct sched *s)
{
	char dir[PATH_MAX];
	struct job_end end;
	struct active *a;
	int ws;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		a = find_pid(s, pid);
		if (!a || sched_job_dir(s, a->id, dir, sizeof(dir)))
			continue;
		jobs_outcome(dir, ws, &end);
		if (a->kill_reason)
			end_job(s, a, JOB_KILLED, KILLED_STATUS, a->kill_reason);
		else
			end_job(s, a, end.state, end.status, end.reason);
	}
	core_schedule(s);
}

/* Booting -> running: the console shows the guest's banner or the
 * kernel starting init, or the fallback time has passed. */
static void check_boot(struct sched *s, struct active *a, int64_t now)
{
	char dir[PATH_MAX];

	if (a->state != JOB_BOOTING || sched_job_dir(s, a->id, dir, sizeof(dir)))
		return;
	if (!jobs_boot_seen(dir, &a->scanned) && now - a->started_mono < SCHED_BOOT_FALLBACK_MS)
		return;
	a->state = JOB_RUNNING;
	place_booted(s->pe, a->id);
	state_set_running(s->db, a->id);
}

void sched_tick(struct sched *s)
{
	int64_t now = sched_mono_ms();
	bool deadline = s->drain_at && now >= s->drain_at;

	if (deadline)
		s->drain_at = 0;
	for (size_t i = 0; i < s->nact; i++) {
		struct active *a = &s->act[i];

		check_boot(s, a, now);
		if (deadline && a->pid)
			terminate(a, reason_drain_deadline, now);
		if (a->kill_at && now >= a->kill_at) {
			a->kill_at = 0;
			signal_vm(a, SIGKILL);
		}
	}
	core_schedule(s);
}

int sched_timeout_ms(const struct sched *s)
{
	for (size_t i = 0; i < s->nact; i++)
		if (s->act[i].state == JOB_BOOTING)
			return 100;    /* watching consoles for a banner */
	return 1000;               /* aging, kill and drain timers */
}

int sched_kill(struct sched *s, uint64_t id, char *err, size_t errlen)
{
	struct active *a = core_find(s, id);
	struct job_row *r;
	int ret;

	if (a && a->state == JOB_QUEUED) {
		end_job(s, a, JOB_KILLED, KILLED_STATUS, reason_kill);
		core_schedule(s);
		return 0;
	}
	if (a) {
		terminate(a, reason_kill, sched_mono_ms());
		return 0;
	}
	r = malloc(sizeof(*r));
	ret = r ? state_get(s->db, id, r) : -ENOMEM;
	if (ret == -ENOENT)
		snprintf(err, errlen, "no job %llu", (unsigned long long)id);
	else if (ret == 0)
		snprintf(err, errlen, "job %llu has already ended (%s)", (unsigned long long)id,
			 job_state_name(r->state));
	free(r);
	return ret == 0 ? -EALREADY : ret;
}

int sched_drain(struct sched *s, double deadline_s)
{
	int killed = 0;

	s->draining = true;
	s->drain_deadline_s = deadline_s;
	s->drain_at = deadline_s < 0 ? 0 : sched_mono_ms() + (int64_t)(deadline_s * 1000);
	/* Queued jobs would start only to be killed at the deadline, or keep
	 * the host busy past it: they end now. Walk backwards, since end_job
	 * moves the last entry into the one it removes. */
	for (size_t i = s->nact; i-- > 0;) {
		if (s->act[i].state == JOB_QUEUED) {
			end_job(s, &s->act[i], JOB_KILLED, KILLED_STATUS, reason_drain_queued);
			killed++;
		}
	}
	return killed;
}

void sched_stop(struct sched *s)
{
	int64_t now = sched_mono_ms();

	for (size_t i = 0; i < s->nact; i++) {
		struct active *a = &s->act[i];

		if (!a->pid)
			continue;
		if (s->stopping)       /* asked twice: no more grace */
			a->kill_at = now;
		terminate(a, reason_stop, now);
	}
	s->stopping = true;
}

bool sched_stopping(const struct sched *s)
{
	return s->stopping;
}

bool sched_done(const struct sched *s)
{
	if (!s->stopping)
		return false;
	for (size_t i = 0; i < s->nact; i++)
		if (s->act[i].pid)
			return false;
	return true;
}

int sched_job_ended(struct sched *s, uint64_t id)
{
	struct job_row *r;
	int ret;

	if (core_find(s, id))
		return 0;
	r = malloc(sizeof(*r));
	ret = r ? state_get(s->db, id, r) : -ENOMEM;
	free(r);
	return ret == 0 ? 1 : ret;
}
