/*
 * What the daemon shows: jobs, flavors and a drain as JSON, and the
 * metrics in Prometheus' text format.
 */
#include "vmm/sched/core_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *opt_int(int64_t v, int64_t none)
{
	return v == none ? json_null() : json_integer(v);
}

static json_t *opt_str(const char *s)
{
	return *s ? json_string(s) : json_null();
}

/* One job as the API shows it (ids, sizes, times in ms since the epoch,
 * null for what is not known yet). */
static json_t *job_object(const struct sched *s, const struct job_row *r)
{
	json_t *args = json_loads(r->args, 0, NULL);
	char dir[PATH_MAX];

	if (sched_job_dir(s, r->id, dir, sizeof(dir)))
		dir[0] = '\0';
	return json_pack("{sI ss so sI sI sI sb si so ss ss sI so so so so so so}",
			 "id", (json_int_t)r->id,
			 "state", job_state_name(r->state),
			 "flavor", opt_str(r->flavor),
			 "vcpus", (json_int_t)r->vcpus,
			 "mem_mib", (json_int_t)r->mem_mib,
			 "cost_mib", (json_int_t)r->cost_mib,
			 "dedicated", r->dedicated,
			 "priority", r->priority,
			 "args", args ? args : json_array(),
			 "config", r->config,
			 "dir", dir,
			 "submitted_ms", (json_int_t)r->submitted_ms,
			 "started_ms", opt_int(r->started_ms, -1),
			 "ended_ms", opt_int(r->ended_ms, -1),
			 "status", opt_int(r->status, -1),
			 "reason", opt_str(r->reason),
			 "pid", opt_int(r->pid, 0),
			 "cpus", opt_str(r->cpus));
}

static char *dump(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return text;
}

char *sched_job_json(struct sched *s, uint64_t id, int *err)
{
	struct job_row *r = malloc(sizeof(*r));
	char *text = NULL;

	*err = r ? state_get(s->db, id, r) : -ENOMEM;
	if (*err == 0)
		text = dump(job_object(s, r));
	if (*err == 0 && !text)
		*err = -ENOMEM;
	free(r);
	return text;
}

struct list_ctx {
	const struct sched *s;
	json_t *jobs;
};

static int add_job(void *opaque, const struct job_row *r)
{
	struct list_ctx *c = opaque;

	return json_array_append_new(c->jobs, job_object(c->s, r)) ? -ENOMEM : 0;
}

char *sched_jobs_json(struct sched *s, bool all)
{
	struct list_ctx c = { s, json_array() };

	if (!c.jobs || state_each(s->db, all, add_job, &c)) {
		json_decref(c.jobs);
		return NULL;
	}
	return dump(json_pack("{so}", "jobs", c.jobs));
}

char *sched_flavors_json(const struct sched *s)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < s->flavors.n; i++) {
		const struct flavor *f = &s->flavors.v[i];

		json_array_append_new(list, json_pack("{ss sI sI sb}", "name", f->name,
						      "vcpus", (json_int_t)f->vcpus,
						      "mem_mib", (json_int_t)f->mem_mib,
						      "dedicated", f->dedicated));
	}
	return list ? dump(json_pack("{so}", "flavors", list)) : NULL;
}

char *sched_drain_json(const struct sched *s, int killed)
{
	struct place_stats st;

	place_get_stats(s->pe, &st);
	return dump(json_pack("{sb so si si}", "draining", s->draining,
			      "deadline_s", s->drain_deadline_s < 0 ? json_null()
				      : json_real(s->drain_deadline_s),
			      "killed_queued", killed, "active", st.booting + st.running));
}

/* A growing text buffer for the metrics. */
struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		char *b = realloc(t->buf, t->cap);
		if (n < 0 || !b) {
			t->failed = true;
			return;
		}
		t->buf = b;
	}
	t->len += (size_t)n;
}

static void metric(struct text *t, const char *name, const char *type, const char *help,
		   double v)
{
	put(t, "# HELP mote_%s %s\n# TYPE mote_%s %s\nmote_%s %.17g\n", name, help, name, type,
	    name, v);
}

char *sched_metrics(const struct sched *s)
{
	struct text t = { .buf = malloc(1024), .cap = 1024 };
	struct place_stats st;

	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	place_get_stats(s->pe, &st);
	metric(&t, "vcpu_capacity", "gauge", "Shared vCPUs the host offers (CPUs x cpu ratio).",
	       st.vcpu_capacity);
	metric(&t, "vcpus_committed", "gauge", "Shared vCPUs given to VMs.", st.vcpus_committed);
	metric(&t, "dedicated_cpus", "gauge", "Host CPUs held by dedicated VMs.",
	       st.dedicated_cpus);
	metric(&t, "memory_capacity_bytes", "gauge", "Memory the host offers to VMs.",
	       (double)st.mem_capacity_mib * 1048576.0);
	metric(&t, "memory_committed_bytes", "gauge", "Memory accounted to VMs.",
	       (double)st.mem_committed_mib * 1048576.0);
	put(&t, "# HELP mote_jobs Jobs by state (those that have not ended).\n"
		"# TYPE mote_jobs gauge\n"
		"mote_jobs{state=\"queued\"} %u\nmote_jobs{state=\"booting\"} %u\n"
		"mote_jobs{state=\"running\"} %u\n", st.queued, st.booting, st.running);
	metric(&t, "submissions_total", "counter", "Submissions since the daemon started.",
	       (double)s->submissions);
	metric(&t, "submissions_refused_total", "counter", "Submissions refused.",
	       (double)s->refusals);
	metric(&t, "launches_total", "counter", "VM processes started.", (double)s->launches);
	metric(&t, "failures_total", "counter", "Jobs that ended failed.", (double)s->failures);
	metric(&t, "kills_total", "counter", "Jobs that ended killed.", (double)s->kills);
	metric(&t, "draining", "gauge", "1 while the daemon drains.", s->draining);
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}
