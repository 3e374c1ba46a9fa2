/*
 * POST /jobs: a submission is checked exactly as `mote validate` checks a
 * file (the config is written to a file and loaded by libmote), sized by
 * its flavor, refused if it could never fit this host, and only then
 * recorded and queued.
 */
#include "vmm/api/mote.h"
#include "vmm/sched/core_int.h"
#include "vmm/sched/jobs.h"
#include "vmm/sched/paths.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SUBMIT_ARGS_MAX 256

struct submission {
	json_t *req;                   /* the request; owns what follows */
	json_t *config;
	const struct flavor *flavor;   /* NULL: the config's own size */
	int priority;
	json_t *args;                  /* array of strings (maybe empty) */
	const char *argv[SUBMIT_ARGS_MAX + 1];
	const char *cwd;
};

static int refuse(char *err, size_t errlen, const char *msg, const char *arg)
{
	snprintf(err, errlen, msg, arg);
	return -EINVAL;
}

static int parse_args(struct submission *sub, char *err, size_t errlen)
{
	size_t i, n = 0;
	json_t *v;

	if (!sub->args) {
		sub->argv[0] = NULL;
		return 0;
	}
	if (!json_is_array(sub->args) || json_array_size(sub->args) > SUBMIT_ARGS_MAX)
		return refuse(err, errlen, "\"args\" must be an array of at most 256 strings", "");
	json_array_foreach(sub->args, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return refuse(err, errlen, "\"args\" must be an array of strings"
				      " (without NUL)", "");
		sub->argv[n++] = json_string_value(v);
	}
	sub->argv[n] = NULL;
	return 0;
}

static int parse_fields(struct sched *s, struct submission *sub, char *err, size_t errlen)
{
	json_t *flavor = json_object_get(sub->req, "flavor");
	json_t *prio = json_object_get(sub->req, "priority");
	json_t *cwd = json_object_get(sub->req, "cwd");

	if (!json_is_object(sub->config))
		return refuse(err, errlen, "the request has no \"config\" object", "");
	if (flavor && !json_is_null(flavor)) {
		if (!json_is_string(flavor))
			return refuse(err, errlen, "\"flavor\" must be a string", "");
		sub->flavor = flavor_find(&s->flavors, json_string_value(flavor));
		if (!sub->flavor)
			return refuse(err, errlen, "unknown flavor '%s' (see mote flavors)",
				      json_string_value(flavor));
	}
	if (prio && (!json_is_integer(prio) ||
		     json_integer_value(prio) < -SCHED_PRIORITY_MAX ||
		     json_integer_value(prio) > SCHED_PRIORITY_MAX))
		return refuse(err, errlen, "\"priority\" must be a whole number in -1000..1000", "");
	sub->priority = prio ? (int)json_integer_value(prio) : 0;
	if (cwd && (!json_is_string(cwd) || json_string_value(cwd)[0] != '/'))
		return refuse(err, errlen, "\"cwd\" must be an absolute path", "");
	sub->cwd = cwd ? json_string_value(cwd) : NULL;
	return parse_args(sub, err, errlen);
}

static int parse_request(struct sched *s, const char *body, size_t len,
			 struct submission *sub, char *err, size_t errlen)
{
	static const char *const keys[] = { "config", "flavor", "priority", "args", "cwd" };
	json_error_t jerr;
	const char *key;
	json_t *v;

	sub->req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!sub->req) {
		snprintf(err, errlen, "request:%d:%d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(sub->req))
		return refuse(err, errlen, "the request must be a JSON object", "");
	json_object_foreach(sub->req, key, v) {
		size_t i = 0;

		while (i < 5 && strcmp(key, keys[i]) != 0)
			i++;
		if (i == 5)
			return refuse(err, errlen, "unknown key '%s' in the request", key);
	}
	sub->config = json_object_get(sub->req, "config");
	sub->args = json_object_get(sub->req, "args");
	return parse_fields(s, sub, err, errlen);
}

/* A relative path in the config means one relative to the submitter's
 * directory (mote run reads it relative to its working directory). */
static int absolutize(json_t *obj, const char *key, const char *cwd)
{
	const char *p = json_string_value(json_object_get(obj, key));
	char buf[PATH_MAX];

	if (!p || p[0] == '/' || !cwd)
		return 0;
	if (snprintf(buf, sizeof(buf), "%s/%s", cwd, p) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return json_object_set_new(obj, key, json_string(buf)) ? -ENOMEM : 0;
}

/* The config as the VM will read it: paths made absolute, the flavor's
 * size written in, and the console log and result left to the daemon
 * (it passes its own on mote run's command line; a submitter's paths
 * there would be written by a VM it no longer owns). */
static int rewrite_config(struct submission *sub)
{
	json_t *boot = json_object_get(sub->config, "boot-source");
	json_t *drives = json_object_get(sub->config, "drives");
	json_t *mote = json_object_get(sub->config, "mote"), *mc, *d;
	int ret = 0;
	size_t i;

	if (json_is_object(boot))
		ret = absolutize(boot, "kernel_image_path", sub->cwd) ?:
		      absolutize(boot, "initrd_path", sub->cwd);
	json_array_foreach(drives, i, d)
		if (!ret && json_is_object(d))
			ret = absolutize(d, "path_on_host", sub->cwd);
	if (json_is_object(mote)) {
		json_object_del(mote, "console_log");
		json_object_del(mote, "result");
	}
	if (ret || !sub->flavor)
		return ret;
	mc = json_object_get(sub->config, "machine-config");
	if (!json_is_object(mc)) {
		mc = json_object();
		if (!mc || json_object_set_new(sub->config, "machine-config", mc))
			return -ENOMEM;
	}
	if (json_object_set_new(mc, "vcpu_count", json_integer(sub->flavor->vcpus)) ||
	    json_object_set_new(mc, "mem_size_mib", json_integer((json_int_t)sub->flavor->mem_mib)))
		return -ENOMEM;
	return 0;
}

/* Drop "DIR/" from libmote's messages: they then name vm.json, as
 * `mote validate vm.json` would. */
static void strip_dir(char *msg, const char *dir)
{
	size_t n = strlen(dir);
	char *p;

	while ((p = strstr(msg, dir)) && p[n] == '/')
		memmove(p, p + n + 1, strlen(p + n + 1) + 1);
}

/* libmote's own checks, as mote validate runs them. */
static int validate(struct submission *sub, const char *dir, const char *path,
		    unsigned *vcpus, uint64_t *mem, char *err, size_t errlen)
{
	struct mote_config *cfg = mote_config_from_file(path, err, errlen);
	int ret = cfg ? 0 : -EINVAL;

	if (!ret && sub->flavor)
		ret = mote_config_set_cpus(cfg, sub->flavor->vcpus) ?:
		      mote_config_set_mem_mib(cfg, sub->flavor->mem_mib);
	if (!ret && sub->argv[0])
		ret = mote_config_set_job(cfg, sub->argv);
	if (!ret && mote_config_validate(cfg, err, errlen))
		ret = -EINVAL;
	else if (ret && cfg)
		snprintf(err, errlen, "vm.json: %s", mote_strerror(ret));
	if (!ret) {
		*vcpus = mote_config_cpus(cfg);
		*mem = mote_config_mem_mib(cfg);
	}
	mote_config_free(cfg);
	strip_dir(err, dir);
	return ret ? -EINVAL : 0;
}

/* Write the config into a fresh directory under tmp/ and validate it. */
static int stage(struct sched *s, struct submission *sub, char *dir, size_t dirlen,
		 struct job_row *r, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	if (snprintf(dir, dirlen, "%s/tmp/submit-XXXXXX", s->o.state_dir) >= (int)dirlen ||
	    !mkdtemp(dir)) {
		snprintf(err, errlen, "cannot stage the config: %s", strerror(errno));
		return -EIO;
	}
	ret = rewrite_config(sub);
	if (ret)
		return refuse(err, errlen, "the config's paths are too long", "");
	if (jobs_path(path, sizeof(path), dir, JOB_CONFIG) ||
	    json_dump_file(sub->config, path, JSON_INDENT(2)) < 0) {
		snprintf(err, errlen, "cannot write the config in %s", dir);
		return -EIO;
	}
	return validate(sub, dir, path, &r->vcpus, &r->mem_mib, err, errlen);
}

static int fill_row(struct sched *s, struct submission *sub, struct job_row *r,
		    char *err, size_t errlen)
{
	char *args = sub->args ? json_dumps(sub->args, JSON_COMPACT) : strdup("[]");
	struct place_req pr;
	int ret = 0;

	if (!args || strlen(args) >= sizeof(r->args))
		ret = refuse(err, errlen, "\"args\" is too long", "");
	else
		snprintf(r->args, sizeof(r->args), "%s", args);
	free(args);
	r->state = JOB_QUEUED;
	snprintf(r->flavor, sizeof(r->flavor), "%s", sub->flavor ? sub->flavor->name : "");
	r->dedicated = sub->flavor && sub->flavor->dedicated;
	r->cost_mib = core_cost_mib(r->mem_mib);
	r->priority = sub->priority;
	r->submitted_ms = sched_wall_ms();
	r->started_ms = r->ended_ms = -1;
	r->status = -1;
	pr = (struct place_req){ .id = 1, .vcpus = r->vcpus, .mem_mib = r->cost_mib,
				 .dedicated = r->dedicated, .priority = r->priority };
	if (!ret && place_fits_ever(s->pe, &pr, err, errlen))
		ret = -E2BIG;
	return ret;
}

/* Give the staged directory its job id, record the job and queue it. */
static int commit(struct sched *s, const char *tmp, struct job_row *r, char *err, size_t errlen)
{
	struct place_req pr = { .vcpus = r->vcpus, .mem_mib = r->cost_mib,
				.priority = r->priority, .dedicated = r->dedicated,
				.submit_ms = (uint64_t)r->submitted_ms };
	char dir[PATH_MAX];
	int ret = state_next_id(s->db, &r->id);

	if (!ret)
		ret = sched_job_dir(s, r->id, dir, sizeof(dir));
	if (!ret) {
		jobs_remove_dir(dir);   /* a crash's leftover: no row names it */
		ret = rename(tmp, dir) < 0 ? -errno : jobs_path(r->config, sizeof(r->config),
								 dir, JOB_CONFIG);
	}
	if (!ret && (ret = state_insert(s->db, r)) != 0)
		rename(dir, tmp);       /* tmp/ is cleaned by the caller */
	pr.id = r->id;
	if (!ret && !core_add(s, r->id))
		ret = -ENOMEM;
	if (!ret && (ret = place_enqueue(s->pe, &pr)) != 0) {
		s->nact--;
		state_set_ended(s->db, r->id, JOB_FAILED, -1, "placement refused it",
				sched_wall_ms());
	}
	if (ret)
		snprintf(err, errlen, "cannot record the job: %s", strerror(-ret));
	return ret;
}

int sched_submit(struct sched *s, const char *body, size_t len, uint64_t *id,
		 char *err, size_t errlen)
{
	struct submission sub = { 0 };
	struct job_row *r = calloc(1, sizeof(*r));
	char tmp[PATH_MAX] = "";
	int ret = r ? 0 : -ENOMEM;

	if (!ret && (s->stopping || s->draining)) {
		snprintf(err, errlen, "the scheduler is %s: it takes no new jobs",
			 s->stopping ? "stopping" : "draining");
		ret = -EAGAIN;
	}
	if (!ret)
		ret = parse_request(s, body, len, &sub, err, errlen);
	if (!ret)
		ret = stage(s, &sub, tmp, sizeof(tmp), r, err, errlen);
	if (!ret)
		ret = fill_row(s, &sub, r, err, errlen);
	if (!ret)
		ret = commit(s, tmp, r, err, errlen);
	if (*tmp)
		jobs_remove_dir(tmp);  /* gone already if committed */
	if (!ret)
		*id = r->id;
	s->submissions++;
	s->refusals += ret != 0;
	json_decref(sub.req);
	free(r);
	if (!ret)
		core_schedule(s);
	return ret;
}
