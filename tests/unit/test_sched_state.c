/*
 * Unit tests for the scheduler's pieces that need no daemon: the SQLite
 * state (a round trip through close and open, the restart rule for jobs
 * that were running), a job's outcome from its wait status and result
 * file, boot detection in the console log, CPU lists, and the size and
 * path helpers. Each test works in its own scratch directory.
 */
#include "vmm/sched/jobs.h"
#include "vmm/sched/paths.h"
#include "vmm/sched/state.h"

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/mote-sched-state-XXXXXX";

static void scratch(void)
{
	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/mote-sched-state-XXXXXX")));
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* After each test (in its process): the scratch directory goes. */
static void cleanup(void)
{
	if (strcmp(dir + strlen(dir) - 6, "XXXXXX") != 0)
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void row(struct job_row *r, uint64_t id, enum job_state st)
{
	memset(r, 0, sizeof(*r));
	r->id = id;
	r->state = st;
	snprintf(r->config, sizeof(r->config), "%s/jobs/%llu/vm.json", dir, (unsigned long long)id);
	snprintf(r->flavor, sizeof(r->flavor), "small");
	r->vcpus = 2;
	r->mem_mib = 512;
	r->cost_mib = 544;
	r->priority = -3;
	snprintf(r->args, sizeof(r->args), "[\"sh\",\"-c\",\"echo 'hi'\"]");
	r->submitted_ms = 1000 + (int64_t)id;
	r->started_ms = r->ended_ms = -1;
	r->status = -1;
}

static int count(void *opaque, const struct job_row *r)
{
	(*(int *)opaque)++;
	return 0;
}

START_TEST(state_round_trip)
{
	struct state *s;
	struct job_row r, got;
	char err[256];
	uint64_t id;
	int n = 0;

	scratch();
	ck_assert_int_eq(state_open(dir, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(state_next_id(s, &id), 0);
	ck_assert_int_eq(id, 1);
	for (uint64_t i = 1; i <= 4; i++) {
		row(&r, i, JOB_QUEUED);
		ck_assert_int_eq(state_insert(s, &r), 0);
	}
	ck_assert_int_eq(state_insert(s, &r), -EIO);    /* the id exists */
	ck_assert_int_eq(state_set_started(s, 2, 4242, "0-1", 5000), 0);
	ck_assert_int_eq(state_set_started(s, 3, 4343, "2", 5001), 0);
	ck_assert_int_eq(state_set_running(s, 3), 0);
	ck_assert_int_eq(state_set_ended(s, 4, JOB_EXITED, 3, "guest exited with status 3", 6000),
			 0);
	state_close(s);

	ck_assert_int_eq(state_open(dir, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(state_get(s, 2, &got), 0);
	ck_assert_int_eq(got.state, JOB_BOOTING);
	ck_assert_int_eq(got.pid, 4242);
	ck_assert_str_eq(got.cpus, "0-1");
	ck_assert_int_eq(got.started_ms, 5000);
	ck_assert_str_eq(got.args, "[\"sh\",\"-c\",\"echo 'hi'\"]");
	ck_assert_str_eq(got.flavor, "small");
	ck_assert_int_eq(got.priority, -3);
	ck_assert_int_eq(got.cost_mib, 544);
	ck_assert_int_eq(state_get(s, 4, &got), 0);
	ck_assert_int_eq(got.state, JOB_EXITED);
	ck_assert_int_eq(got.status, 3);
	ck_assert_int_eq(got.ended_ms, 6000);
	ck_assert_str_eq(got.reason, "guest exited with status 3");
	ck_assert_int_eq(state_get(s, 1, &got), 0);
	ck_assert_int_eq(got.status, -1);
	ck_assert_int_eq(got.started_ms, -1);
	ck_assert_int_eq(got.pid, 0);
	ck_assert_int_eq(state_get(s, 9, &got), -ENOENT);
	ck_assert_int_eq(state_next_id(s, &id), 0);
	ck_assert_int_eq(id, 5);

	/* A restart: what was booting or running died with the daemon. */
	ck_assert_int_eq(state_fail_orphans(s, "daemon restarted while it ran", 7000), 2);
	ck_assert_int_eq(state_get(s, 3, &got), 0);
	ck_assert_int_eq(got.state, JOB_FAILED);
	ck_assert_str_eq(got.reason, "daemon restarted while it ran");
	ck_assert_int_eq(state_each(s, false, count, &n), 0);
	ck_assert_int_eq(n, 1);                          /* job 1, still queued */
	n = 0;
	ck_assert_int_eq(state_each(s, true, count, &n), 0);
	ck_assert_int_eq(n, 4);
	state_close(s);
}
END_TEST

START_TEST(state_bad_dir)
{
	struct state *s;
	char err[256] = "";

	ck_assert_int_ne(state_open("/nonexistent/dir", &s, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "/nonexistent/dir/state.db") != NULL, "err: %s", err);
}
END_TEST

START_TEST(state_names)
{
	for (int i = JOB_QUEUED; i <= JOB_KILLED; i++)
		ck_assert_int_eq(job_state_parse(job_state_name(i)), i);
	ck_assert_int_eq(job_state_parse("bogus"), -1);
	ck_assert(!job_state_ended(JOB_RUNNING));
	ck_assert(job_state_ended(JOB_KILLED));
}
END_TEST

/* ---- outcomes ---- */

static int exited(int status)
{
	return status << 8;        /* a wait status for exit(status) */
}

START_TEST(outcome_result_file)
{
	struct job_end e;

	scratch();
	write_file(JOB_RESULT, "{\"status\": 3, \"reason\": \"guest-exit\", \"message\":"
		   " \"guest exited with status 3\"}");
	jobs_outcome(dir, exited(3), &e);
	ck_assert_int_eq(e.state, JOB_EXITED);
	ck_assert_int_eq(e.status, 3);
	ck_assert_str_eq(e.reason, "guest exited with status 3");
	write_file(JOB_RESULT, "{\"status\": 124, \"reason\": \"timeout\", \"message\": \"t\"}");
	jobs_outcome(dir, exited(124), &e);
	ck_assert_int_eq(e.state, JOB_EXITED);
	ck_assert_int_eq(e.status, 124);
	write_file(JOB_RESULT, "{\"status\": 1, \"reason\": \"error\", \"message\": \"no KVM\"}");
	jobs_outcome(dir, exited(1), &e);
	ck_assert_int_eq(e.state, JOB_FAILED);
	ck_assert_str_eq(e.reason, "no KVM");
	write_file(JOB_RESULT, "{\"status\": 143, \"reason\": \"signal\", \"message\": \"sig\"}");
	jobs_outcome(dir, exited(143), &e);
	ck_assert_int_eq(e.state, JOB_FAILED);
}
END_TEST

START_TEST(outcome_without_result)
{
	struct job_end e;

	scratch();
	jobs_outcome(dir, SIGKILL, &e);          /* a wait status for death by SIGKILL */
	ck_assert_int_eq(e.state, JOB_FAILED);
	ck_assert_str_eq(e.reason, "killed by signal 9");
	jobs_outcome(dir, exited(1), &e);
	ck_assert_int_eq(e.state, JOB_FAILED);
	ck_assert_str_eq(e.reason, "the VMM exited with status 1 and wrote no result");
	write_file(JOB_STDERR, "mote: debug line\nmote: cannot open /dev/kvm: Permission denied\n\n");
	jobs_outcome(dir, exited(1), &e);
	ck_assert_str_eq(e.reason, "cannot open /dev/kvm: Permission denied");
	/* A killed VMM's result, if any, is not believed over its death. */
	write_file(JOB_RESULT, "{\"status\": 0, \"reason\": \"guest-exit\", \"message\": \"m\"}");
	jobs_outcome(dir, SIGSEGV, &e);
	ck_assert_int_eq(e.state, JOB_FAILED);
	ck_assert_str_eq(e.reason, "killed by signal 11");
	/* Death by SIGSYS: the seccomp reporter's line is the reason. */
	write_file(JOB_STDERR, "mote: seccomp: the vcpu thread made system call 59, which "
		   "its filter does not allow; mote ends with SIGSYS\n");
	jobs_outcome(dir, SIGSYS, &e);
	ck_assert_int_eq(e.state, JOB_FAILED);
	ck_assert_str_eq(e.reason, "seccomp: the vcpu thread made system call 59, which "
			 "its filter does not allow; mote ends with SIGSYS");
}
END_TEST

START_TEST(boot_detection)
{
	char big[70000];
	uint64_t scanned = 0;

	scratch();
	ck_assert(!jobs_boot_seen(dir, &scanned));                 /* no log yet */
	write_file(JOB_CONSOLE, "Linux version 6.1\n");
	ck_assert(!jobs_boot_seen(dir, &scanned));
	ck_assert_int_eq(scanned, 18);
	write_file(JOB_CONSOLE, "Linux version 6.1\nRun /init as init process\n");
	ck_assert(jobs_boot_seen(dir, &scanned));
	/* A mark across the 64 KiB read boundary and after NUL bytes. */
	memset(big, 'x', sizeof(big));
	big[100] = '\0';
	memcpy(big + 65536 - 5, "mote guest: up\n", 15);
	big[sizeof(big) - 1] = '\0';
	scanned = 0;
	{
		char path[PATH_MAX];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, JOB_CONSOLE);
		f = fopen(path, "w");
		fwrite(big, 1, sizeof(big), f);
		fclose(f);
	}
	ck_assert(jobs_boot_seen(dir, &scanned));
}
END_TEST

START_TEST(cpu_lists)
{
	uint16_t cpus[] = { 0, 1, 2, 3, 6, 8, 9 };
	char buf[64], tiny[8];

	jobs_format_cpus(buf, sizeof(buf), cpus, 7);
	ck_assert_str_eq(buf, "0-3,6,8-9");
	jobs_format_cpus(buf, sizeof(buf), cpus + 4, 1);
	ck_assert_str_eq(buf, "6");
	jobs_format_cpus(buf, sizeof(buf), cpus, 0);
	ck_assert_str_eq(buf, "");
	jobs_format_cpus(tiny, sizeof(tiny), cpus, 7);
	ck_assert_str_eq(tiny + strlen(tiny) - 3, "...");
}
END_TEST

START_TEST(sizes_and_numbers)
{
	uint64_t mib;
	long v;

	ck_assert_int_eq(sched_parse_mib("512", &mib), 0);
	ck_assert_int_eq(mib, 512);
	ck_assert_int_eq(sched_parse_mib("2G", &mib), 0);
	ck_assert_int_eq(mib, 2048);
	ck_assert_int_eq(sched_parse_mib("1TiB", &mib), 0);
	ck_assert_int_eq(mib, 1 << 20);
	ck_assert_int_eq(sched_parse_mib("2048K", &mib), 0);
	ck_assert_int_eq(mib, 2);
	ck_assert_int_eq(sched_parse_mib("0", &mib), -EINVAL);
	ck_assert_int_eq(sched_parse_mib("12X", &mib), -EINVAL);
	ck_assert_int_eq(sched_parse_mib("-1", &mib), -EINVAL);
	ck_assert_int_eq(sched_parse_mib("", &mib), -EINVAL);
	ck_assert_int_eq(sched_parse_long("17", 1, 20, &v), 0);
	ck_assert_int_eq(v, 17);
	ck_assert_int_eq(sched_parse_long("21", 1, 20, &v), -EINVAL);
	ck_assert_int_eq(sched_parse_long("1x", 1, 20, &v), -EINVAL);
}
END_TEST

START_TEST(default_paths)
{
	char buf[PATH_MAX];

	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	ck_assert_int_eq(sched_default_socket(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/run/user/1000/mote/serve.sock");
	unsetenv("XDG_RUNTIME_DIR");
	ck_assert_int_eq(sched_default_socket(buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, geteuid() == 0 ? "/run/mote/serve.sock" : buf);
	setenv("MOTE_SOCKET", "/x/s.sock", 1);
	ck_assert_int_eq(sched_client_socket(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/x/s.sock");
	ck_assert_int_eq(sched_client_socket("/y.sock", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/y.sock");
	unsetenv("MOTE_SOCKET");
	ck_assert_int_eq(sched_default_socket(buf, 8), -ENAMETOOLONG);
}
END_TEST

START_TEST(socket_dir_checks)
{
	char path[PATH_MAX], err[256] = "";
	struct stat st;

	scratch();
	snprintf(path, sizeof(path), "%s/new/serve.sock", dir);
	ck_assert_int_eq(sched_socket_dir(path, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/new", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	/* A directory others may write into is refused. */
	chmod(path, 0777);
	snprintf(path, sizeof(path), "%s/new/serve.sock", dir);
	ck_assert_int_eq(sched_socket_dir(path, err, sizeof(err)), -EPERM);
	ck_assert_msg(strstr(err, "only it can write") != NULL, "err: %s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sched_state");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, cleanup);

	tcase_add_test(tc, state_round_trip);
	tcase_add_test(tc, state_bad_dir);
	tcase_add_test(tc, state_names);
	tcase_add_test(tc, outcome_result_file);
	tcase_add_test(tc, outcome_without_result);
	tcase_add_test(tc, boot_detection);
	tcase_add_test(tc, cpu_lists);
	tcase_add_test(tc, sizes_and_numbers);
	tcase_add_test(tc, default_paths);
	tcase_add_test(tc, socket_dir_checks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
