/*
 * The seccomp allow-lists: a forked child loads one thread kind's filter
 * on itself, then makes system calls. Allowed ones work (or fail in the
 * kernel, past the filter); one outside the list ends the child by SIGSYS
 * after one line on stderr naming the thread kind and the call.
 */
#include "vmm/core/seccomp.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* What the child does once filtered; its return value is its exit code. */
typedef int (*child_fn)(void);

struct outcome {
	int wstatus;
	char err[512];   /* the child's stderr */
};

static void child(enum seccomp_thread kind, enum config_seccomp mode, child_fn fn, int errfd)
{
	dup2(errfd, STDERR_FILENO);
	if (seccomp_prepare() != 0)
		_exit(100);
	if (seccomp_apply(kind, mode) != 0)
		_exit(101);
	/* exit_group itself: under ASan, _exit would first run the leak
	 * checker, which needs calls no list allows. */
	syscall(SYS_exit_group, fn());
}

static void run(enum seccomp_thread kind, enum config_seccomp mode, child_fn fn,
		struct outcome *o)
{
	int p[2];
	ssize_t n, got = 0;

	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		child(kind, mode, fn, p[1]);
	}
	close(p[1]);
	while ((n = read(p[0], o->err + got, sizeof(o->err) - 1 - (size_t)got)) > 0)
		got += n;
	o->err[got] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &o->wstatus, 0), pid);
}

static void expect_exit0(const struct outcome *o)
{
	ck_assert_msg(WIFEXITED(o->wstatus) && WEXITSTATUS(o->wstatus) == 0,
		      "child status 0x%x, stderr '%s'", o->wstatus, o->err);
}

/* Killed by SIGSYS, with the reporter's line naming kind and call. */
static void expect_sigsys(const struct outcome *o, const char *kind, long nr)
{
	char want[128];

	ck_assert_msg(WIFSIGNALED(o->wstatus) && WTERMSIG(o->wstatus) == SIGSYS,
		      "child status 0x%x, stderr '%s'", o->wstatus, o->err);
	snprintf(want, sizeof(want), "mote: seccomp: the %s thread made system call %ld,",
		 kind, nr);
	ck_assert_msg(strstr(o->err, want), "stderr '%s' lacks '%s'", o->err, want);
	ck_assert_msg(strchr(o->err, '\n') == o->err + strlen(o->err) - 1,
		      "not one line: '%s'", o->err);
}

/* ---- what the children do ---- */

/* Calls every kind needs: a write on an open fd, the time, memory
 * (not executable), a futex wake. */
static int common_ok(void)
{
	struct timespec ts;
	char c = 'x';

	if (write(STDERR_FILENO, &c, 0) != 0 || getpid() <= 0)
		return 1;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 2;
	void *m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	if (m == MAP_FAILED || munmap(m, 1 << 20) != 0)
		return 3;
	int word = 0;
	if (syscall(SYS_futex, &word, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0) < 0)
		return 4;
	return 0;
}

/* KVM_RUN passes the vCPU filter (and fails in the kernel on a non-KVM fd). */
static int vcpu_ok(void)
{
	int r = common_ok();

	if (r)
		return r;
	if (ioctl(STDERR_FILENO, KVM_RUN, 0) == 0 || errno != ENOTTY)
		return 10;
	return 0;
}

static int do_execve(void)
{
	char *const argv[] = { "/bin/true", NULL };

	execve("/bin/true", argv, NULL);
	return 50;   /* not reached when filtered */
}

static int do_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	return fd >= 0 ? 0 : 51;
}

static int do_tcgets(void)
{
	struct termios t;

	ioctl(STDERR_FILENO, TCGETS, &t);
	return 52;
}

static int do_open(void)
{
	int fd = open("/dev/null", O_RDONLY);

	return fd >= 0 ? 0 : 53;
}

static int do_exec_memory(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return 54;
}

/* Replacing the reporter kills at once, with nothing said. */
static int do_replace_handler(void)
{
	signal(SIGSYS, SIG_IGN);
	return 55;
}

/* The terminal the event loop restores at the end, opened and read by
 * the test before the child is filtered. */
static int tty_fd = -1;
static struct termios tty_saved;

static int do_restore_tty(void)
{
	return tcsetattr(tty_fd, TCSANOW, &tty_saved) == 0 ? 0 : 56;
}

static int do_tiocsti(void)
{
	char c = 'x';

	ioctl(tty_fd, TIOCSTI, &c);
	return 57;
}

/* ---- tests ---- */

START_TEST(allowed_calls_work)
{
	struct outcome o;

	run(SECCOMP_VCPU, CONFIG_SECCOMP_ON, vcpu_ok, &o);
	expect_exit0(&o);
	run(SECCOMP_LOOP, CONFIG_SECCOMP_ON, common_ok, &o);
	expect_exit0(&o);
	run(SECCOMP_WAITER, CONFIG_SECCOMP_ON, common_ok, &o);
	expect_exit0(&o);
	/* The event loop opens files (the result file) and sockets (slirp). */
	run(SECCOMP_LOOP, CONFIG_SECCOMP_ON, do_open, &o);
	expect_exit0(&o);
	run(SECCOMP_LOOP, CONFIG_SECCOMP_ON, do_socket, &o);
	expect_exit0(&o);
}
END_TEST

START_TEST(loop_restores_terminal)
{
	struct outcome o;
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	tty_fd = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(tty_fd, 0);
	ck_assert_int_eq(tcgetattr(tty_fd, &tty_saved), 0);
	run(SECCOMP_LOOP, CONFIG_SECCOMP_ON, do_restore_tty, &o);
	expect_exit0(&o);
	/* Other terminal requests stay out: typing into it, for one. */
	run(SECCOMP_LOOP, CONFIG_SECCOMP_ON, do_tiocsti, &o);
	expect_sigsys(&o, "event-loop", SYS_ioctl);
	close(tty_fd);
	close(master);
}
END_TEST

START_TEST(execve_kills_every_kind)
{
	struct outcome o;

	for (int k = 0; k < SECCOMP_NKINDS; k++) {
		run((enum seccomp_thread)k, CONFIG_SECCOMP_ON, do_execve, &o);
		expect_sigsys(&o, seccomp_thread_name((enum seccomp_thread)k), SYS_execve);
	}
}
END_TEST

START_TEST(unused_calls_kill)
{
	struct outcome o;

	run(SECCOMP_VCPU, CONFIG_SECCOMP_ON, do_socket, &o);
	expect_sigsys(&o, "vcpu", SYS_socket);
	run(SECCOMP_WAITER, CONFIG_SECCOMP_ON, do_socket, &o);
	expect_sigsys(&o, "main", SYS_socket);
}
END_TEST

/* Where open is not listed it fails (glibc's malloc may try it on any
 * thread), and nothing is opened. */
START_TEST(unlisted_open_fails)
{
	struct outcome o;

	run(SECCOMP_VCPU, CONFIG_SECCOMP_ON, do_open, &o);
	ck_assert_msg(WIFEXITED(o.wstatus) && WEXITSTATUS(o.wstatus) == 53,
		      "child status 0x%x, stderr '%s'", o.wstatus, o.err);
	run(SECCOMP_WAITER, CONFIG_SECCOMP_ON, do_open, &o);
	ck_assert_msg(WIFEXITED(o.wstatus) && WEXITSTATUS(o.wstatus) == 53,
		      "child status 0x%x, stderr '%s'", o.wstatus, o.err);
}
END_TEST

/* ioctl passes for the listed requests only. */
START_TEST(ioctl_by_request)
{
	struct outcome o;

	run(SECCOMP_VCPU, CONFIG_SECCOMP_ON, do_tcgets, &o);
	expect_sigsys(&o, "vcpu", SYS_ioctl);
	run(SECCOMP_WAITER, CONFIG_SECCOMP_ON, vcpu_ok, &o);
	expect_sigsys(&o, "main", SYS_ioctl);
}
END_TEST

START_TEST(no_executable_memory)
{
	struct outcome o;

	for (int k = 0; k < SECCOMP_NKINDS; k++) {
		run((enum seccomp_thread)k, CONFIG_SECCOMP_ON, do_exec_memory, &o);
		expect_sigsys(&o, seccomp_thread_name((enum seccomp_thread)k), SYS_mmap);
	}
}
END_TEST

START_TEST(reporter_cannot_be_replaced)
{
	struct outcome o;

	for (int k = 0; k < SECCOMP_NKINDS; k++) {
		run((enum seccomp_thread)k, CONFIG_SECCOMP_ON, do_replace_handler, &o);
		ck_assert_msg(WIFSIGNALED(o.wstatus) && WTERMSIG(o.wstatus) == SIGSYS,
			      "status 0x%x", o.wstatus);
		ck_assert_str_eq(o.err, "");
	}
}
END_TEST

/* log lets the call through; off loads nothing. */
START_TEST(log_and_off_allow)
{
	struct outcome o;

	run(SECCOMP_VCPU, CONFIG_SECCOMP_LOG, do_socket, &o);
	expect_exit0(&o);
	run(SECCOMP_WAITER, CONFIG_SECCOMP_LOG, do_open, &o);
	expect_exit0(&o);
	run(SECCOMP_VCPU, CONFIG_SECCOMP_OFF, do_socket, &o);
	expect_exit0(&o);
}
END_TEST

START_TEST(lists_are_small)
{
	for (int k = 0; k < SECCOMP_NKINDS; k++) {
		unsigned n = seccomp_list_size((enum seccomp_thread)k);
		ck_assert_uint_gt(n, 10);
		ck_assert_uint_lt(n, 80);
	}
	ck_assert_uint_lt(seccomp_list_size(SECCOMP_VCPU), seccomp_list_size(SECCOMP_LOOP));
	ck_assert_int_eq(seccomp_apply(SECCOMP_NKINDS, CONFIG_SECCOMP_ON), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seccomp");
	TCase *tc = tcase_create("filters");

	tcase_add_test(tc, allowed_calls_work);
	tcase_add_test(tc, loop_restores_terminal);
	tcase_add_test(tc, execve_kills_every_kind);
	tcase_add_test(tc, unused_calls_kill);
	tcase_add_test(tc, unlisted_open_fails);
	tcase_add_test(tc, ioctl_by_request);
	tcase_add_test(tc, no_executable_memory);
	tcase_add_test(tc, reporter_cannot_be_replaced);
	tcase_add_test(tc, log_and_off_allow);
	tcase_add_test(tc, lists_are_small);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
