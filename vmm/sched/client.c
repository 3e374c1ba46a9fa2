/*
 * The client verbs: submit, ps, wait, logs, kill, drain, flavors. Each is
 * one or a few HTTP requests to the daemon. Exit statuses: 0 done; 1 the
 * daemon cannot be reached or failed; 2 a usage error or a request the
 * daemon refused; wait (and submit --wait) exit with the VM's status like
 * mote run: its own status when it exited, 1 when it failed, 143 when it
 * was killed.
 */
#include "vmm/api/mote.h"
#include "vmm/sched/sched.h"
#include "vmm/sched/http.h"
#include "vmm/sched/paths.h"
#include "vmm/sched/serve.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EXIT_UNREACHABLE 1
#define EXIT_REFUSED 2
#define EXIT_KILLED 143
#define POLL_MS 250

/* One verb's command line, --socket taken out. */
struct cli {
	const char *verb;
	char sock[SCHED_SOCKET_MAX];
	char **args;                   /* the verb's own arguments */
	int nargs;
	char **job;                    /* after "--" (submit) */
	int njob;
};

/* msg has one %s, for arg: the user's, so shown escaped. */
static int usage(const struct cli *c, const char *msg, const char *arg)
{
	char shown[512];

	fprintf(stderr, "mote %s: ", c->verb);
	fprintf(stderr, msg, mote_str_shown(arg, shown, sizeof(shown)));
	fprintf(stderr, " (see mote --help)\n");
	return EXIT_REFUSED;
}

/* A request; 0 with *r, or EXIT_UNREACHABLE after saying why. */
static int request(const struct cli *c, const char *method, const char *path, const char *body,
		   struct http_resp *r)
{
	char err[512];

	if (http_request(c->sock, method, path, body, r, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "mote: %s\n", err);
	return EXIT_UNREACHABLE;
}

/* A non-2xx answer: its "error" on stderr; 2 for 4xx and 503 (refused),
 * 1 for the daemon's own failures. */
static int refused(const struct cli *c, struct http_resp *r)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));

	fprintf(stderr, "mote %s: %s\n", c->verb, msg ? msg : "the scheduler refused the request");
	json_decref(j);
	http_resp_free(r);
	return r->code >= 500 && r->code != 503 ? EXIT_UNREACHABLE : EXIT_REFUSED;
}

static bool ok(const struct http_resp *r)
{
	return r->code >= 200 && r->code < 300;
}

static int parse_id(const struct cli *c, uint64_t *id)
{
	long v;

	if (c->nargs != 1)
		return usage(c, "give one job ID%s", "");
	if (sched_parse_long(c->args[0], 1, __LONG_MAX__, &v))
		return usage(c, "'%s' is not a job ID", c->args[0]);
	*id = (uint64_t)v;
	return 0;
}

/* ---- wait ---- */

/* A job's JSON to mote run's exit status. */
static int job_exit_status(json_t *job)
{
	const char *st = json_string_value(json_object_get(job, "state"));
	json_t *status = json_object_get(job, "status");

	if (st && strcmp(st, "exited") == 0 && json_is_integer(status))
		return (int)json_integer_value(status) & 0xff;
	if (st && strcmp(st, "killed") == 0)
		return EXIT_KILLED;
	return 1;
}

static int wait_job(const struct cli *c, uint64_t id)
{
	char path[64];
	struct http_resp r;
	json_t *job;
	int ret;

	snprintf(path, sizeof(path), "/jobs/%llu/wait", (unsigned long long)id);
	ret = request(c, "GET", path, NULL, &r);
	if (ret)
		return ret;
	if (!ok(&r))   /* 503: it stopped with the job still queued */
		return r.code == 503 ? (refused(c, &r), EXIT_UNREACHABLE) : refused(c, &r);
	job = json_loads(r.body, 0, NULL);
	http_resp_free(&r);
	ret = job_exit_status(job);
	if (json_is_string(json_object_get(job, "reason")) &&
	    strcmp(json_string_value(json_object_get(job, "state")), "exited") != 0)
		fprintf(stderr, "mote: job %llu: %s\n", (unsigned long long)id,
			json_string_value(json_object_get(job, "reason")));
	json_decref(job);
	return ret;
}

static int cmd_wait(const struct cli *c)
{
	uint64_t id = 0;

	return parse_id(c, &id) ?: wait_job(c, id);
}

/* ---- submit ---- */

/* {"config": FILE's JSON, "flavor", "priority", "args", "cwd"}. */
static char *submit_body(const struct cli *c, const char *file, const char *flavor,
			 long priority)
{
	json_error_t jerr;
	json_t *cfg = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr), *args, *req;
	char cwd[4096], *text;

	if (!cfg && jerr.line < 1) {
		fprintf(stderr, "mote submit: %s\n", jerr.text);   /* names the file */
		return NULL;
	}
	if (!cfg) {
		fprintf(stderr, "mote submit: %s:%d:%d: %s\n", file, jerr.line, jerr.column,
			jerr.text);
		return NULL;
	}
	args = json_array();
	for (int i = 0; args && i < c->njob; i++)
		json_array_append_new(args, json_string(c->job[i]));
	req = json_pack("{so so* sI so}", "config", cfg, "flavor",
			flavor ? json_string(flavor) : NULL, "priority", (json_int_t)priority,
			"args", args);
	if (req && getcwd(cwd, sizeof(cwd)))
		json_object_set_new(req, "cwd", json_string(cwd));
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	return text;
}

/* The daemon names the config vm.json; the user knows it as FILE. */
static int submit_refused(const struct cli *c, struct http_resp *r, const char *file)
{
	json_t *j = json_loads(r->body, 0, NULL);
	const char *msg = json_string_value(json_object_get(j, "error"));
	int ret = r->code >= 500 && r->code != 503 ? EXIT_UNREACHABLE : EXIT_REFUSED;

	if (msg && strncmp(msg, "vm.json", 7) == 0)
		fprintf(stderr, "mote submit: %s%s\n", file, msg + 7);
	else
		fprintf(stderr, "mote submit: %s\n", msg ? msg : "the scheduler refused the job");
	json_decref(j);
	http_resp_free(r);
	return ret;
}

static int cmd_submit(const struct cli *c)
{
	const char *file = NULL, *flavor = NULL;
	bool wait = false;
	long prio = 0;
	struct http_resp r;
	char *body;
	json_t *j;
	int ret;

	for (int i = 0; i < c->nargs; i++) {
		const char *a = c->args[i];

		if (strcmp(a, "--wait") == 0)
			wait = true;
		else if (strcmp(a, "--flavor") == 0 && i + 1 < c->nargs)
			flavor = c->args[++i];
		else if (strcmp(a, "--priority") == 0 && i + 1 < c->nargs) {
			if (sched_parse_long(c->args[++i], -1000, 1000, &prio))
				return usage(c, "--priority %s: not a number in -1000..1000",
					     c->args[i]);
		} else if (a[0] == '-' || file)
			return usage(c, "unexpected argument '%s'", a);
		else
			file = a;
	}
	if (!file)
		return usage(c, "give the VM's config file%s", "");
	body = submit_body(c, file, flavor, prio);
	if (!body)
		return EXIT_REFUSED;
	ret = request(c, "POST", "/jobs", body, &r);
	free(body);
	if (ret)
		return ret;
	if (!ok(&r))
		return submit_refused(c, &r, file);
	j = json_loads(r.body, 0, NULL);
	http_resp_free(&r);
	uint64_t id = (uint64_t)json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	printf("%llu\n", (unsigned long long)id);
	fflush(stdout);
	return wait ? wait_job(c, id) : 0;
}

/* ---- ps ---- */

static void fmt_duration(char *buf, size_t len, int64_t ms)
{
	int64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
}

static void print_job(json_t *j, int64_t now)
{
	json_t *started = json_object_get(j, "started_ms"), *ended = json_object_get(j, "ended_ms");
	json_t *status = json_object_get(j, "status"), *reason = json_object_get(j, "reason");
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *flavor = json_string_value(json_object_get(j, "flavor"));
	json_int_t mem = json_integer_value(json_object_get(j, "mem_mib"));
	char up[32] = "-", st[300] = "-", memtxt[32];

	if (json_is_integer(started))
		fmt_duration(up, sizeof(up), (json_is_integer(ended) ? json_integer_value(ended)
					      : now) - json_integer_value(started));
	if (json_is_integer(status))
		snprintf(st, sizeof(st), "%lld", (long long)json_integer_value(status));
	if (state && strcmp(state, "exited") != 0 && json_is_string(reason))
		snprintf(st + strlen(st), sizeof(st) - strlen(st), " (%s)",
			 json_string_value(reason));
	snprintf(memtxt, sizeof(memtxt), mem % 1024 ? "%lldM" : "%lldG",
		 (long long)(mem % 1024 ? mem : mem / 1024));
	printf("%-6lld %-8s %-12s %5lld %6s %8s %s\n",
	       (long long)json_integer_value(json_object_get(j, "id")), state ? state : "?",
	       flavor ? flavor : "-", (long long)json_integer_value(json_object_get(j, "vcpus")),
	       memtxt, up, st);
}

static int cmd_ps(const struct cli *c)
{
	bool all = false, raw = false;
	struct http_resp r;
	struct timespec ts;
	json_t *j, *job;
	size_t i;
	int ret;

	for (i = 0; i < (size_t)c->nargs; i++) {
		if (strcmp(c->args[i], "--all") == 0 || strcmp(c->args[i], "-a") == 0)
			all = true;
		else if (strcmp(c->args[i], "--json") == 0)
			raw = true;
		else
			return usage(c, "unexpected argument '%s'", c->args[i]);
	}
	ret = request(c, "GET", all ? "/jobs?all=1" : "/jobs", NULL, &r);
	if (ret || !ok(&r))
		return ret ?: refused(c, &r);
	if (raw) {
		printf("%s\n", r.body);
		http_resp_free(&r);
		return 0;
	}
	j = json_loads(r.body, 0, NULL);
	http_resp_free(&r);
	clock_gettime(CLOCK_REALTIME, &ts);
	printf("%-6s %-8s %-12s %5s %6s %8s %s\n", "ID", "STATE", "FLAVOR", "VCPUS", "MEM",
	       "UPTIME", "STATUS");
	json_array_foreach(json_object_get(j, "jobs"), i, job)
		print_job(job, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	json_decref(j);
	return 0;
}

/* ---- logs ---- */

static int cmd_logs(const struct cli *c)
{
	bool follow = false;
	struct cli one = *c;
	uint64_t id, off = 0;
	struct http_resp r;
	char path[96];
	int ret;

	one.nargs = 0;
	for (int i = 0; i < c->nargs; i++) {
		if (strcmp(c->args[i], "--follow") == 0 || strcmp(c->args[i], "-f") == 0)
			follow = true;
		else
			one.args[one.nargs++] = c->args[i];
	}
	if ((ret = parse_id(&one, &id)))
		return ret;
	for (;;) {
		snprintf(path, sizeof(path), "/jobs/%llu/logs?offset=%llu",
			 (unsigned long long)id, (unsigned long long)off);
		ret = request(c, "GET", path, NULL, &r);
		if (ret || !ok(&r))
			return ret ?: refused(c, &r);
		fwrite(r.body, 1, r.len, stdout);
		off = r.next_offset;
		http_resp_free(&r);
		if (r.len)
			continue;
		if (!follow || r.ended)
			break;
		fflush(stdout);
		usleep(POLL_MS * 1000);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- kill, drain, flavors ---- */

static int cmd_kill(const struct cli *c)
{
	struct http_resp r;
	char path[64];
	uint64_t id = 0;
	int ret = parse_id(c, &id);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), "/jobs/%llu/kill", (unsigned long long)id);
	ret = request(c, "POST", path, NULL, &r);
	if (ret || !ok(&r))
		return ret ?: refused(c, &r);
	http_resp_free(&r);
	/* Return once it has ended (at most the grace period). */
	snprintf(path, sizeof(path), "/jobs/%llu/wait", (unsigned long long)id);
	ret = request(c, "GET", path, NULL, &r);
	if (!ret)
		http_resp_free(&r);
	return ret;
}

/* Wait until nothing is queued, booting or running. */
static int wait_idle(const struct cli *c)
{
	struct http_resp r;
	json_t *j;
	size_t n;
	int ret;

	for (;;) {
		ret = request(c, "GET", "/jobs", NULL, &r);
		if (ret || !ok(&r))
			return ret ?: refused(c, &r);
		j = json_loads(r.body, 0, NULL);
		http_resp_free(&r);
		n = json_array_size(json_object_get(j, "jobs"));
		json_decref(j);
		if (!n)
			return 0;
		usleep(POLL_MS * 1000);
	}
}

static int cmd_drain(const struct cli *c)
{
	char body[64] = "{}";
	struct http_resp r;
	double d;
	char *end;
	int ret;

	for (int i = 0; i < c->nargs; i++) {
		if (strcmp(c->args[i], "--deadline") != 0 || i + 1 >= c->nargs)
			return usage(c, "unexpected argument '%s'", c->args[i]);
		d = strtod(c->args[++i], &end);
		if (!*c->args[i] || *end || !(d >= 0) || d > 1e9)
			return usage(c, "--deadline %s: not a number of seconds", c->args[i]);
		snprintf(body, sizeof(body), "{\"deadline_s\": %.3f}", d);
	}
	ret = request(c, "POST", "/drain", body, &r);
	if (ret || !ok(&r))
		return ret ?: refused(c, &r);
	http_resp_free(&r);
	return wait_idle(c);
}

static int cmd_flavors(const struct cli *c)
{
	struct http_resp r;
	json_t *j, *f;
	size_t i;
	int ret;

	if (c->nargs)
		return usage(c, "unexpected argument '%s'", c->args[0]);
	ret = request(c, "GET", "/flavors", NULL, &r);
	if (ret || !ok(&r))
		return ret ?: refused(c, &r);
	j = json_loads(r.body, 0, NULL);
	http_resp_free(&r);
	printf("%-16s %5s %8s %s\n", "NAME", "VCPUS", "MEM_MIB", "DEDICATED");
	json_array_foreach(json_object_get(j, "flavors"), i, f)
		printf("%-16s %5lld %8lld %s\n", json_string_value(json_object_get(f, "name")),
		       (long long)json_integer_value(json_object_get(f, "vcpus")),
		       (long long)json_integer_value(json_object_get(f, "mem_mib")),
		       json_is_true(json_object_get(f, "dedicated")) ? "yes" : "no");
	json_decref(j);
	return 0;
}

/* ---- dispatch ---- */

static const struct verb {
	const char *name;
	int (*run)(const struct cli *c);
} verbs[] = {
	{ "submit", cmd_submit }, { "ps", cmd_ps }, { "wait", cmd_wait }, { "logs", cmd_logs },
	{ "kill", cmd_kill }, { "drain", cmd_drain }, { "flavors", cmd_flavors },
};

bool sched_is_verb(const char *verb)
{
	for (size_t i = 0; verb && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verb, verbs[i].name) == 0)
			return true;
	return verb && strcmp(verb, "serve") == 0;
}

/* Split argv[2..] into the verb's arguments, --socket and the job. */
static int split(int argc, char **argv, struct cli *c, char **store)
{
	const char *sock = NULL;

	c->verb = argv[1];
	c->args = store;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			c->job = argv + i + 1;
			c->njob = argc - i - 1;
			break;
		}
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strncmp(argv[i], "--socket=", 9) == 0)
			sock = argv[i] + 9;
		else
			c->args[c->nargs++] = argv[i];
	}
	if (sched_client_socket(sock, c->sock, sizeof(c->sock)))
		return usage(c, "the socket path is too long%s", "");
	return 0;
}

int sched_main(int argc, char **argv)
{
	struct cli c = { 0 };
	char **store;
	int ret;

	if (strcmp(argv[1], "serve") == 0)
		return serve_exec(argc, argv);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			sched_help(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	store = calloc((size_t)argc + 1, sizeof(*store));
	if (!store)
		return 1;
	ret = split(argc, argv, &c, store);
	for (size_t i = 0; !ret && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(verbs[i].name, c.verb) == 0)
			ret = verbs[i].run(&c) ?: -1;
	free(store);
	return ret < 0 ? 0 : ret;
}

void sched_help(FILE *f)
{
	fputs("\nScheduler: a daemon running many VMs on this host, and its clients:\n"
	      "  mote serve [OPTIONS]          the daemon (HTTP and JSON on a Unix socket)\n"
	      "    --socket PATH               default $XDG_RUNTIME_DIR/mote/serve.sock, else\n"
	      "                                /run/mote/serve.sock (root), else\n"
	      "                                /tmp/mote-$UID/serve.sock\n"
	      "    --state DIR                 jobs and state.db; default $XDG_STATE_HOME/mote/serve,\n"
	      "                                else ~/.local/state/mote/serve (root: /var/lib/mote/serve)\n"
	      "    --cpus N                    host CPUs to use (default: all this process may use)\n"
	      "    --mem SIZE                  host memory (default: MemTotal)\n"
	      "    --reserve-mem SIZE          kept for the host (default 512M, at most half of --mem)\n"
	      "    --cpu-ratio R               vCPUs per host CPU (default 4.0)\n"
	      "    --mem-ratio R               memory overcommit (default 1.0: none)\n"
	      "    --max-booting N             VMs booting at once (default: --cpus)\n"
	      "    --flavors FILE              more flavors: {\"flavors\": [{\"name\": ..., \"vcpus\": ...,\n"
	      "                                \"mem_mib\": ..., \"dedicated\": false}]}\n"
	      "    --no-cgroup                 no per-VM cgroup leaves even where delegated\n"
	      "  mote submit FILE [--flavor NAME] [--priority N] [--wait] [-- JOB ARGS]\n"
	      "                                queue a VM (FILE as for mote run --config); prints its ID\n"
	      "  mote ps [--all] [--json]      jobs not yet ended (--all: every job)\n"
	      "  mote wait ID                  wait for a job; exit with its status (failed: 1,\n"
	      "                                killed: 143)\n"
	      "  mote logs ID [--follow]       its console\n"
	      "  mote kill ID                  remove a queued job, or stop a running one\n"
	      "  mote drain [--deadline S]     take no new jobs, drop queued ones, stop what still\n"
	      "                                runs after S seconds; returns when nothing runs\n"
	      "  mote flavors                  the named sizes --flavor accepts\n"
	      "  Clients find the daemon through --socket PATH, else $MOTE_SOCKET, else the\n"
	      "  default. They exit 1 when it cannot be reached, 2 when it refuses a request.\n",
	      f);
}
