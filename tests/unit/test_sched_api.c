/*
 * The scheduler's HTTP API and client verbs against a real daemon
 * (server_main in a child process) whose VMs are a fake `mote run`: a
 * shell script named by $MOTE_SCHED_RUNNER that takes mote run's
 * arguments, writes a console line and a result file as mote would, and
 * does what the job's arguments say:
 *   exit SECONDS STATUS   sleep, then end with STATUS (guest-exit)
 *   hang                  run until killed (SIGTERM: result "signal")
 *   stubborn              ignore SIGTERM (the daemon must SIGKILL it)
 *   selfkill              die of SIGKILL
 *   vmmfail               fail like a VMM without /dev/kvm, no result
 * No KVM needed. The daemon's host: 1 CPU x 2.0 = 2 vCPUs, 4 GiB - 512 MiB.
 */
#include "vmm/sched/http.h"
#include "vmm/sched/sched.h"
#include "vmm/sched/serve.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[] = "/tmp/mote-sched-api-XXXXXX";
static char sock[256];

static const char fake_runner[] =
	"#!/bin/sh\n"
	"while [ $# -gt 0 ]; do\n"
	"  case $1 in\n"
	"  --console-log) log=$2; shift 2 ;;\n"
	"  --result) res=$2; shift 2 ;;\n"
	"  --) shift; break ;;\n"
	"  *) shift ;;\n"
	"  esac\n"
	"done\n"
	"result() { printf '{\"status\": %d, \"reason\": \"%s\", \"message\": \"%s\"}\\n' "
	"\"$1\" \"$2\" \"$3\" > \"$res.tmp\" && mv \"$res.tmp\" \"$res\"; }\n"
	"trap 'result 143 signal \"stopped by signal 15\"; exit 143' TERM\n"
	"echo \"mote guest: fake\" >> \"$log\"\n"
	"case $1 in\n"
	"exit) sleep \"$2\" & wait; echo \"job done\" >> \"$log\";"
	" result \"$3\" guest-exit \"guest exited with status $3\"; exit \"$3\" ;;\n"
	"hang) while :; do sleep 1 & wait; done ;;\n"
	"stubborn) trap '' TERM; while :; do sleep 1; done ;;\n"
	"selfkill) kill -9 $$ ;;\n"
	"vmmfail) echo 'mote: cannot open /dev/kvm: No such file or directory' >&2; exit 1 ;;\n"
	"esac\n";

/* ---- scaffolding ---- */

static void put_file(const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void setup(void)
{
	char runner[PATH_MAX];

	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/mote-sched-api-XXXXXX")));
	snprintf(sock, sizeof(sock), "%s/run/serve.sock", dir);
	snprintf(runner, sizeof(runner), "%s/fake-mote", dir);
	put_file("fake-mote", fake_runner, 0700);
	put_file("vmlinuz", "not a kernel, but validation only opens it\n", 0600);
	setenv("MOTE_SCHED_RUNNER", runner, 1);
	setenv("MOTE_SOCKET", sock, 1);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The daemon, its stderr in dir/serve.log. */
static pid_t start_daemon(void)
{
	char state[PATH_MAX], log[PATH_MAX];
	struct http_resp r;
	char err[256];
	pid_t pid;

	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(log, sizeof(log), "%s/serve.log", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char *argv[] = { "mote", "serve", "--socket", sock, "--state", state,
				 "--cpus", "1", "--cpu-ratio", "2", "--mem", "4G",
				 "--reserve-mem", "512M", "--no-cgroup", NULL };
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		dup2(fd, 2);
		_exit(server_main(15, argv));
	}
	for (int i = 0; i < 500; i++) {
		if (http_request(sock, "GET", "/metrics", NULL, &r, err, sizeof(err)) == 0) {
			http_resp_free(&r);
			return pid;
		}
		sleep_ms(10);
	}
	ck_abort_msg("the daemon did not come up");
	return -1;
}

static int stop_daemon(pid_t pid, int sig)
{
	int ws;

	kill(pid, sig);
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* A request whose answer is JSON; returns the code, *j the body. */
static int call(const char *method, const char *path, const char *body, json_t **j)
{
	struct http_resp r;
	char err[256];
	int code;

	ck_assert_msg(http_request(sock, method, path, body, &r, err, sizeof(err)) == 0, "%s", err);
	code = r.code;
	if (j) {
		*j = json_loads(r.body, 0, NULL);
		ck_assert_msg(*j != NULL, "%s %s: not JSON: %s", method, path, r.body);
	}
	http_resp_free(&r);
	return code;
}

static const char *str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key)) ?: "";
}

static long long num(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* A job config for the stand-in kernel with vcpus vCPUs. */
static char *config(unsigned vcpus)
{
	char *s;

	ck_assert_int_ge(asprintf(&s, "{\"boot-source\": {\"kernel_image_path\": \"%s/vmlinuz\"},"
				  " \"machine-config\": {\"vcpu_count\": %u, \"mem_size_mib\": 128}}",
				  dir, vcpus), 0);
	return s;
}

/* POST /jobs with the job's args (a JSON array's inside); the id. */
static long long submit(unsigned vcpus, const char *args)
{
	char *cfg = config(vcpus), *body;
	json_t *j;
	long long id;
	int code;

	ck_assert_int_ge(asprintf(&body, "{\"config\": %s, \"args\": [%s]}", cfg, args), 0);
	code = call("POST", "/jobs", body, &j);
	ck_assert_msg(code == 201, "submit: %d %s", code, str(j, "error"));
	id = num(j, "id");
	json_decref(j);
	free(body);
	free(cfg);
	return id;
}

/* POST /jobs expecting a refusal; its error line. */
static char *refused(const char *body, int want)
{
	json_t *j;
	int code = call("POST", "/jobs", body, &j);
	char *err = strdup(str(j, "error"));

	ck_assert_msg(code == want, "%d, not %d: %s", code, want, err);
	json_decref(j);
	return err;
}

static json_t *job(long long id, const char *what)
{
	char path[64];
	json_t *j;

	snprintf(path, sizeof(path), "/jobs/%lld%s", id, what);
	ck_assert_int_eq(call("GET", path, NULL, &j), 200);
	return j;
}

/* Poll until the job is in state st (5 s at most). */
static void await_state(long long id, const char *st)
{
	for (int i = 0; i < 500; i++) {
		json_t *j = job(id, "");
		bool there = strcmp(str(j, "state"), st) == 0;

		json_decref(j);
		if (there)
			return;
		sleep_ms(10);
	}
	ck_abort_msg("job %lld never became %s", id, st);
}

static void expect_end(long long id, const char *st, int status, const char *reason)
{
	json_t *j = job(id, "/wait");

	ck_assert_str_eq(str(j, "state"), st);
	if (status >= 0)
		ck_assert_int_eq(num(j, "status"), status);
	if (reason)
		ck_assert_msg(strstr(str(j, "reason"), reason), "reason: %s", str(j, "reason"));
	ck_assert(json_is_integer(json_object_get(j, "ended_ms")));
	json_decref(j);
}

/* ---- the API ---- */

START_TEST(submit_wait_logs)
{
	pid_t d = start_daemon();
	struct http_resp r;
	char err[256], path[96];
	struct stat st;
	json_t *j;
	long long id;

	ck_assert_int_eq(stat(sock, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	id = submit(1, "\"exit\", \"0.2\", \"3\"");
	ck_assert_int_eq(id, 1);
	j = job(id, "");
	/* Placed at once; the fake's banner may already have made it
	 * running. */
	ck_assert_msg(strcmp(str(j, "state"), "booting") == 0 ||
		      strcmp(str(j, "state"), "running") == 0, "state %s", str(j, "state"));
	json_decref(j);
	expect_end(id, "exited", 3, "guest exited with status 3");

	snprintf(path, sizeof(path), "/jobs/%lld/logs?offset=0", id);
	ck_assert_int_eq(http_request(sock, "GET", path, NULL, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.body, "mote guest: fake\njob done\n");
	ck_assert(r.ended);
	ck_assert_int_eq(r.next_offset, r.len);
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/jobs/%lld/logs?offset=17", id);
	ck_assert_int_eq(http_request(sock, "GET", path, NULL, &r, err, sizeof(err)), 0);
	ck_assert_str_eq(r.body, "job done\n");
	http_resp_free(&r);

	ck_assert_int_eq(call("GET", "/jobs", NULL, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "jobs")), 0);
	json_decref(j);
	ck_assert_int_eq(call("GET", "/jobs?all=1", NULL, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "jobs")), 1);
	json_decref(j);
	ck_assert_int_eq(call("GET", "/flavors", NULL, &j), 200);
	ck_assert_int_ge(json_array_size(json_object_get(j, "flavors")), 1);
	json_decref(j);
	ck_assert_int_eq(http_request(sock, "GET", "/metrics", NULL, &r, err, sizeof(err)), 0);
	ck_assert_msg(strstr(r.body, "\nmote_launches_total 1\n"), "%s", r.body);
	ck_assert_msg(strstr(r.body, "\nmote_vcpu_capacity 2\n"), "%s", r.body);
	http_resp_free(&r);
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
	ck_assert_int_eq(access(sock, F_OK), -1);      /* the socket is removed */
}
END_TEST

START_TEST(refusals)
{
	pid_t d = start_daemon();
	char *cfg = config(1), *big = config(3), *body, *e;

	e = refused("{\"config\": ", 400);
	ck_assert_msg(strncmp(e, "request:1:", 10) == 0, "%s", e);
	free(e);
	e = refused("[]", 400);
	ck_assert_str_eq(e, "the request must be a JSON object");
	free(e);
	e = refused("{\"cfg\": {}}", 400);
	ck_assert_str_eq(e, "unknown key 'cfg' in the request");
	free(e);
	e = refused("{\"flavor\": \"small\"}", 400);
	ck_assert_str_eq(e, "the request has no \"config\" object");
	free(e);
	/* libmote's own validation, naming the config as vm.json. */
	e = refused("{\"config\": {\"boot-source\": {\"kernel_image_path\": \"nope\"}},"
		    " \"cwd\": \"/nonexistent\"}", 400);
	ck_assert_str_eq(e, "vm.json: boot-source.kernel_image_path: /nonexistent/nope:"
			 " No such file or directory");
	free(e);
	e = refused("{\"config\": {\"machine-config\": {\"turbo\": true}}}", 400);
	ck_assert_msg(strstr(e, "vm.json") && strstr(e, "machine-config.turbo"), "%s", e);
	free(e);
	ck_assert_int_ge(asprintf(&body, "{\"config\": %s, \"flavor\": \"huge\"}", cfg), 0);
	e = refused(body, 400);
	ck_assert_str_eq(e, "unknown flavor 'huge' (see mote flavors)");
	free(e);
	free(body);
	ck_assert_int_ge(asprintf(&body, "{\"config\": %s, \"priority\": 5000}", cfg), 0);
	e = refused(body, 400);
	ck_assert_msg(strstr(e, "priority"), "%s", e);
	free(e);
	free(body);
	ck_assert_int_ge(asprintf(&body, "{\"config\": %s, \"args\": [1]}", cfg), 0);
	e = refused(body, 400);
	ck_assert_msg(strstr(e, "args"), "%s", e);
	free(e);
	free(body);
	/* 3 vCPUs can never fit 1 CPU x 2.0: placement's reason. */
	ck_assert_int_ge(asprintf(&body, "{\"config\": %s}", big), 0);
	e = refused(body, 400);
	ck_assert_msg(strstr(e, "3 vCPUs"), "%s", e);
	free(e);
	free(body);
	ck_assert_int_eq(call("GET", "/jobs/99", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/jobs/99/wait", NULL, NULL), 404);
	ck_assert_int_eq(call("POST", "/jobs/99/kill", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/jobs/x", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/nope", NULL, NULL), 404);
	ck_assert_int_eq(call("DELETE", "/jobs", NULL, NULL), 405);
	ck_assert_int_eq(call("GET", "/drain", NULL, NULL), 405);
	ck_assert_int_eq(call("POST", "/drain", "{\"deadline_s\": -1}", NULL), 400);
	/* Nothing refused left a row or a directory behind. */
	ck_assert_int_eq(submit(1, "\"exit\", \"0\", \"0\""), 1);
	free(cfg);
	free(big);
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(queue_and_kill)
{
	pid_t d = start_daemon();
	long long a, b;
	json_t *j;

	a = submit(2, "\"hang\"");          /* takes both vCPUs */
	b = submit(1, "\"exit\", \"0\", \"0\"");
	await_state(a, "running");          /* the fake's banner */
	j = job(b, "");
	ck_assert_str_eq(str(j, "state"), "queued");
	ck_assert(json_is_null(json_object_get(j, "pid")));
	json_decref(j);
	ck_assert_int_eq(call("POST", "/jobs/2/kill", NULL, &j), 200);
	ck_assert_str_eq(str(j, "state"), "killed");
	json_decref(j);
	expect_end(b, "killed", 143, "killed by mote kill");
	ck_assert_int_eq(call("POST", "/jobs/1/kill", NULL, NULL), 200);
	expect_end(a, "killed", 143, "killed by mote kill");
	ck_assert_int_eq(call("POST", "/jobs/1/kill", NULL, &j), 409);
	ck_assert_str_eq(str(j, "error"), "job 1 has already ended (killed)");
	json_decref(j);
	/* Its resources are back: a 2-vCPU job starts. */
	expect_end(submit(2, "\"exit\", \"0\", \"4\""), "exited", 4, NULL);
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(failures)
{
	pid_t d = start_daemon();

	expect_end(submit(1, "\"selfkill\""), "failed", -1, "killed by signal 9");
	expect_end(submit(1, "\"vmmfail\""), "failed", 1,
		   "cannot open /dev/kvm: No such file or directory");
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(stubborn_vm_gets_sigkill)
{
	pid_t d = start_daemon();
	long long id = submit(1, "\"stubborn\"");
	time_t t0;

	await_state(id, "running");
	t0 = time(NULL);
	ck_assert_int_eq(call("POST", "/jobs/1/kill", NULL, NULL), 200);
	expect_end(id, "killed", 143, "killed by mote kill");
	ck_assert_int_ge(time(NULL) - t0, 4);     /* the grace period, then SIGKILL */
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(restart_keeps_history)
{
	pid_t d = start_daemon();
	long long a = submit(2, "\"hang\""), b = submit(1, "\"exit\", \"0.1\", \"6\""), c;
	struct stat st;

	await_state(a, "running");
	/* SIGTERM: running VMs are stopped and recorded, queued jobs stay. */
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
	d = start_daemon();
	expect_end(a, "killed", 143, "the daemon stopped");
	expect_end(b, "exited", 6, NULL);
	/* SIGKILL: the VM dies with the daemon (PR_SET_PDEATHSIG), the next
	 * daemon removes the stale socket and marks the job failed. */
	c = submit(1, "\"hang\"");
	await_state(c, "running");
	ck_assert_int_eq(stop_daemon(d, SIGKILL), 128 + SIGKILL);
	ck_assert_int_eq(stat(sock, &st), 0);
	d = start_daemon();
	expect_end(c, "failed", -1, "daemon restarted while it ran");
	ck_assert_int_eq(submit(1, "\"exit\", \"0\", \"0\""), 4);   /* ids go on */
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(drain)
{
	pid_t d = start_daemon();
	long long a = submit(2, "\"hang\""), b = submit(1, "\"exit\", \"0\", \"0\"");
	char *cfg = config(1), *body;
	json_t *j;

	await_state(a, "running");
	ck_assert_int_eq(call("POST", "/drain", "{\"deadline_s\": 0.3}", &j), 200);
	ck_assert(json_is_true(json_object_get(j, "draining")));
	ck_assert_int_eq(num(j, "killed_queued"), 1);
	json_decref(j);
	expect_end(b, "killed", 143, "drained before it started");
	ck_assert_int_ge(asprintf(&body, "{\"config\": %s}", cfg), 0);
	free(refused(body, 503));
	expect_end(a, "killed", 143, "drain deadline");
	free(body);
	free(cfg);
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

START_TEST(one_daemon_per_socket)
{
	pid_t d = start_daemon();
	char state[PATH_MAX];
	pid_t second;
	int ws;

	snprintf(state, sizeof(state), "%s/state2", dir);
	second = fork();
	if (second == 0) {
		char *argv[] = { "mote", "serve", "--socket", sock, "--state", state,
				 "--no-cgroup", NULL };

		close(2);
		_exit(server_main(7, argv));
	}
	ck_assert_int_eq(waitpid(second, &ws, 0), second);
	ck_assert_int_eq(WEXITSTATUS(ws), 1);
	ck_assert_int_eq(call("GET", "/flavors", NULL, NULL), 200);   /* the first lives */
	ck_assert_int_eq(stop_daemon(d, SIGINT), 0);
}
END_TEST

/* ---- the client verbs ---- */

/* Run `mote ARGS...` (sched_main) in a child; its exit status, its
 * stdout in out. */
static int verb(char *out, size_t outlen, const char *const *args)
{
	char *argv[32], path[PATH_MAX];
	int argc = 0, ws, fd;
	ssize_t n;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/verb.out", dir);
	argv[argc++] = "mote";
	while (*args)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		close(2);
		ws = sched_main(argc, argv);
		fflush(stdout);     /* main's return would; _exit does not */
		_exit(ws);
	}
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	fd = open(path, O_RDONLY);
	n = fd >= 0 ? read(fd, out, outlen - 1) : 0;
	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return WEXITSTATUS(ws);
}

START_TEST(client_verbs)
{
	char out[8192], file[PATH_MAX], *cfg = config(1);
	pid_t d = start_daemon();

	snprintf(file, sizeof(file), "%s/vm.json", dir);
	put_file("vm.json", cfg, 0600);
	put_file("bad.json", "{\"machine-config\": {\"vcpu_count\": 0}}", 0600);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, "--",
			 "exit", "0", "5", NULL }), 0);
	ck_assert_str_eq(out, "1\n");
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "wait", "1", NULL }), 5);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, "--wait",
			 "--flavor", "tiny", "--priority", "3", "--", "exit", "0", "7", NULL }), 7);
	ck_assert_str_eq(out, "2\n");
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "logs", "2", NULL }), 0);
	ck_assert_str_eq(out, "mote guest: fake\njob done\n");
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, "--",
			 "hang", NULL }), 0);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "kill", "3", NULL }), 0);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "wait", "3", NULL }), 143);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, "--",
			 "selfkill", NULL }), 0);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "wait", "4", NULL }), 1);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "ps", "--all", NULL }), 0);
	ck_assert_msg(strstr(out, "ID") && strstr(out, "STATUS") && strstr(out, "tiny") &&
		      strstr(out, "killed by signal 9"), "%s", out);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "ps", "--json", NULL }), 0);
	ck_assert_str_eq(out, "{\"jobs\":[]}\n");
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "flavors", NULL }), 0);
	ck_assert_msg(strstr(out, "small"), "%s", out);
	/* Refused: 2. Usage: 2. Unreachable: 1. */
	snprintf(file, sizeof(file), "%s/bad.json", dir);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, NULL }), 2);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "wait", "77", NULL }), 2);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "kill", "1", NULL }), 2);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "wait", NULL }), 2);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "ps", "--socket",
			 "/nonexistent.sock", NULL }), 1);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "drain", "--deadline", "1",
			 NULL }), 0);
	ck_assert_int_eq(verb(out, sizeof(out), (const char *[]){ "submit", file, NULL }), 2);
	free(cfg);
	ck_assert_int_eq(stop_daemon(d, SIGTERM), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched_api");
	TCase *tc = tcase_create("daemon");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, submit_wait_logs);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, queue_and_kill);
	tcase_add_test(tc, failures);
	tcase_add_test(tc, stubborn_vm_gets_sigkill);
	tcase_add_test(tc, restart_keeps_history);
	tcase_add_test(tc, drain);
	tcase_add_test(tc, one_daemon_per_socket);
	tcase_add_test(tc, client_verbs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
