/*
 * Opening and closing the scheduler's core: directories, flavors, the
 * placement engine, the database and what a previous daemon left in it.
 */
#include "vmm/sched/core_int.h"
#include "vmm/sched/cgroup.h"
#include "vmm/sched/jobs.h"
#include "vmm/sched/paths.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char reason_orphan[] = "daemon restarted while it ran";

static int make_dirs(const struct sched *s, char *err, size_t errlen)
{
	static const char *const sub[] = { "jobs", "tmp" };
	char path[PATH_MAX];
	int ret;

	for (size_t i = 0; i < 2; i++) {
		ret = jobs_path(path, sizeof(path), s->o.state_dir, sub[i]);
		if (!ret)
			ret = sched_mkdirs(path, 0700);
		if (ret) {
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* Submissions cut short by a crash leave directories in tmp/. */
static void clean_tmp(const struct sched *s)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (jobs_path(path, sizeof(path), s->o.state_dir, "tmp"))
		return;
	d = opendir(path);
	while (d && (e = readdir(d))) {
		if (e->d_name[0] != '.' && jobs_path(sub, sizeof(sub), path, e->d_name) == 0)
			jobs_remove_dir(sub);
	}
	if (d)
		closedir(d);
}

static int open_flavors(struct sched *s, char *err, size_t errlen)
{
	int ret = flavor_defaults(&s->flavors);

	if (ret) {
		snprintf(err, errlen, "flavors: %s", strerror(-ret));
		return ret;
	}
	return s->o.flavors_file ? flavor_load(&s->flavors, s->o.flavors_file, err, errlen) : 0;
}

struct queued_list {
	struct place_req *v;
	size_t n, cap;
};

static int collect_queued(void *opaque, const struct job_row *r)
{
	struct queued_list *q = opaque;

	if (r->state != JOB_QUEUED)
		return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct place_req *v = realloc(q->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->n++] = (struct place_req){ .id = r->id, .vcpus = r->vcpus,
					   .mem_mib = r->cost_mib, .priority = r->priority,
					   .dedicated = r->dedicated,
					   .submit_ms = (uint64_t)r->submitted_ms };
	return 0;
}

/* Back into placement, in their old order and with their old submission
 * times (so aging goes on where it was). One that no longer fits (a
 * smaller --cpus or --mem) fails with placement's reason. */
static int requeue(struct sched *s, const struct place_req *r)
{
	char why[200], reason[JOB_REASON_MAX];
	struct active *a = core_add(s, r->id);
	int ret;

	if (!a)
		return -ENOMEM;
	ret = place_enqueue(s->pe, r);
	if (ret == 0)
		return 0;
	if (place_fits_ever(s->pe, r, why, sizeof(why)) == 0)
		snprintf(why, sizeof(why), "%s", strerror(-ret));
	snprintf(reason, sizeof(reason), "cannot be queued again: %s", why);
	s->nact--;      /* a is the last entry: not in placement, just drop it */
	return state_set_ended(s->db, r->id, JOB_FAILED, -1, reason, sched_wall_ms());
}

static int recover(struct sched *s, char *err, size_t errlen)
{
	struct queued_list q = { 0 };
	int ret = state_fail_orphans(s->db, reason_orphan, sched_wall_ms());

	if (ret > 0)
		fprintf(stderr, "mote serve: %d job(s) that ran under the previous daemon are"
			" marked failed\n", ret);
	if (ret >= 0)
		ret = state_each(s->db, false, collect_queued, &q);
	for (size_t i = 0; ret >= 0 && i < q.n; i++)
		ret = requeue(s, &q.v[i]);
	free(q.v);
	if (ret < 0)
		snprintf(err, errlen, "%s/state.db: cannot recover the jobs: %s",
			 s->o.state_dir, strerror(-ret));
	return ret < 0 ? ret : 0;
}

static void open_cgroup(struct sched *s)
{
	char why[256] = "";

	if (s->o.no_cgroup)
		return;
	s->cg = cg_open(why, sizeof(why));
	if (!s->cg)
		fprintf(stderr, "mote serve: no delegated cgroup v2 subtree (%s): placing VMs"
			" by accounting alone\n", why);
}

int sched_open(const struct sched_opts *o, struct sched **out, char *err, size_t errlen)
{
	struct sched *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->o = *o;
	s->drain_deadline_s = -1;
	ret = make_dirs(s, err, errlen);
	if (!ret)
		ret = open_flavors(s, err, errlen);
	if (!ret && !(s->pe = place_new(&o->host))) {
		snprintf(err, errlen, "the host's capacity is not valid (cpus, memory, ratios)");
		ret = -EINVAL;
	}
	if (!ret)
		ret = state_open(o->state_dir, &s->db, err, errlen);
	if (!ret)
		ret = recover(s, err, errlen);
	if (ret) {
		sched_close(s);
		return ret;
	}
	clean_tmp(s);
	open_cgroup(s);
	*out = s;
	return 0;
}

void sched_close(struct sched *s)
{
	if (!s)
		return;
	cg_close(s->cg);
	state_close(s->db);
	place_free(s->pe);
	if (s->flavors.v)
		flavor_release(&s->flavors);
	free(s->act);
	free(s);
}
