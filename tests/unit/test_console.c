/* Unit tests for devices/console.c with pipes, a pty and a temporary log:
 * output reaches out_fd, the log and custom sinks; the log cap holds;
 * input reaches the uart with back-pressure and stops at EOF. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices/console.h"
#include "devices/uart.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"

struct fixture {
	struct evloop loop;
	struct uart uart;
	struct console con;
	int in[2], out[2];       /* pipes: [0] read end, [1] write end */
	int stopfd;
	char log_path[64];
};

static struct fixture f;

static void on_stop(void *opaque, uint32_t events)
{
	uint64_t v;

	if (read(f.stopfd, &v, sizeof(v)) < 0) {
	}
	evloop_stop(opaque);
}

static void setup(void)
{
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(evloop_init(&f.loop), 0);
	ck_assert_int_eq(uart_init(&f.uart, NULL), 0);
	ck_assert_int_eq(pipe2(f.in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(f.out, O_CLOEXEC | O_NONBLOCK), 0);
	f.stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(f.stopfd, 0);
	ck_assert_int_eq(evloop_add(&f.loop, f.stopfd, EPOLLIN, on_stop, &f.loop), 0);
	strcpy(f.log_path, "/tmp/mote-test-console-XXXXXX");
	int fd = mkstemp(f.log_path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	console_release(&f.con);
	uart_release(&f.uart);
	evloop_release(&f.loop);
	for (int i = 0; i < 2; i++) {
		if (f.in[i] >= 0)
			close(f.in[i]);
		if (f.out[i] >= 0)
			close(f.out[i]);
	}
	close(f.stopfd);
	unlink(f.log_path);
}

static void init_console(int in_fd, const char *log, uint64_t log_max)
{
	char err[128] = "";
	int r = console_init(&f.con, &f.loop, &f.uart, in_fd, f.out[1], log, log_max, err,
			     sizeof(err));
	ck_assert_msg(r == 0, "console_init: %s", err);
}

/* Dispatch whatever is ready now, then return. */
static void run_once(void)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(f.stopfd, &one, sizeof(one)), sizeof(one));
	f.loop.stopping = false;
	ck_assert_int_eq(evloop_run(&f.loop), 0);
}

static void guest_write(const char *s)
{
	for (; *s; s++)
		uart_bus_ops.write(&f.uart, 0, (const uint8_t *)s, 1);
}

static uint8_t guest_read(unsigned off)
{
	uint8_t b = 0;

	uart_bus_ops.read(&f.uart, off, &b, 1);
	return b;
}

static size_t read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	return n;
}

static size_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	size_t n = read_all(fd, buf, cap);
	close(fd);
	return n;
}

START_TEST(output_reaches_fd_and_log)
{
	char buf[256];

	init_console(-1, f.log_path, 0);
	guest_write("hello\r\n");
	console_flush(&f.con);
	read_all(f.out[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "hello\r\n");
	read_file(f.log_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "hello\r\n");
}
END_TEST

static void on_output(void *opaque, uint32_t events)
{
	evloop_stop(opaque);
}

START_TEST(output_flushed_by_event_loop)
{
	char buf[64];

	init_console(-1, NULL, 0);
	ck_assert_int_eq(evloop_add(&f.loop, f.out[0], EPOLLIN, on_output, &f.loop), 0);
	guest_write("# ");                  /* a prompt: no newline */
	ck_assert_int_eq(evloop_run(&f.loop), 0);
	read_all(f.out[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "# ");
}
END_TEST

START_TEST(full_buffer_flushes_at_once)
{
	static char big[CONSOLE_OUT_BUF + 1];
	static char got[CONSOLE_OUT_BUF + 16];

	memset(big, 'x', CONSOLE_OUT_BUF);
	init_console(-1, NULL, 0);
	guest_write(big);
	ck_assert_uint_eq(read_all(f.out[0], got, sizeof(got)), CONSOLE_OUT_BUF);
}
END_TEST

START_TEST(log_cap)
{
	char buf[256];

	init_console(-1, f.log_path, 10);
	guest_write("0123456789abcdef\n");
	console_flush(&f.con);
	guest_write("more\n");
	console_flush(&f.con);
	read_file(f.log_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0123456789\n[mote: console log truncated at 10 bytes]\n");
	read_all(f.out[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "0123456789abcdef\nmore\n");   /* the terminal gets it all */
}
END_TEST

START_TEST(log_exactly_full_is_not_truncated)
{
	char buf[256];

	init_console(-1, f.log_path, 6);
	guest_write("abcde\n");
	console_release(&f.con);
	read_file(f.log_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "abcde\n");
}
END_TEST

START_TEST(bad_log_path_fails_cleanly)
{
	char err[128] = "";

	int r = console_init(&f.con, &f.loop, &f.uart, -1, f.out[1], "/nonexistent/dir/log", 0,
			     err, sizeof(err));
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/dir/log"));
	console_release(&f.con);            /* a no-op after a failed init */
}
END_TEST

static char sunk[64];
static size_t nsunk;

static void test_sink(void *opaque, const uint8_t *buf, size_t len)
{
	ck_assert_ptr_eq(opaque, &f);
	for (size_t i = 0; i < len && nsunk < sizeof(sunk) - 1; i++)
		sunk[nsunk++] = (char)buf[i];
}

START_TEST(custom_sink)
{
	char buf[64];

	nsunk = 0;
	memset(sunk, 0, sizeof(sunk));
	init_console(-1, f.log_path, 0);
	console_set_sink(&f.con, test_sink, &f);
	guest_write("to the sink");
	console_flush(&f.con);
	ck_assert_str_eq(sunk, "to the sink");
	ck_assert_uint_eq(read_all(f.out[0], buf, sizeof(buf)), 0);
	read_file(f.log_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "to the sink");   /* the log does not depend on the sink */
	console_set_sink(&f.con, NULL, NULL);
	guest_write("!");
	console_flush(&f.con);
	read_all(f.out[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "!");
}
END_TEST

START_TEST(closed_reader_is_ignored)
{
	char buf[64];

	signal(SIGPIPE, SIG_IGN);
	init_console(-1, f.log_path, 0);
	close(f.out[0]);
	f.out[0] = -1;
	guest_write("nobody listens\n");
	console_flush(&f.con);
	guest_write("still logged\n");
	console_flush(&f.con);
	read_file(f.log_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "nobody listens\nstill logged\n");
}
END_TEST

/* ---- a slow reader: the event loop never waits for it ---- */

/* Make f.out blocking on the write side and fill it: a reader that has
 * stopped reading. */
static size_t stall_reader(void)
{
	static char junk[65536];
	size_t filled = 0;
	ssize_t n;

	while ((n = write(f.out[1], junk, sizeof(junk))) > 0)
		filled += (size_t)n;
	ck_assert_int_eq(fcntl(f.out[1], F_SETFL, 0), 0);   /* blocking from now on */
	return filled;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Poll the loop for about ms; true if the whole time stayed under 2 * ms
 * (no handler blocked). */
static bool loop_stays_free(int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (ms_since(&t0) < ms)
		evloop_poll(&f.loop, 5);
	return ms_since(&t0) < 2 * ms;
}

/* Read f.out until its last bytes are tail. */
static void read_until(const char *tail)
{
	static char buf[1 << 17];
	size_t n = 0, len = strlen(tail);
	ssize_t r;

	ck_assert_int_eq(fcntl(f.out[0], F_SETFL, O_NONBLOCK), 0);
	for (int i = 0; i < 400; i++) {
		evloop_poll(&f.loop, 5);
		while ((r = read(f.out[0], buf + n, sizeof(buf) - n)) > 0)
			n += (size_t)r;
		if (n >= len && memcmp(buf + n - len, tail, len) == 0)
			return;
		if (n == sizeof(buf))
			n = 0;
	}
	ck_abort_msg("'%s' never reached the reader", tail);
}

/* The timer's flush finds the reader stalled: it leaves the bytes in the
 * buffer and comes back later instead of blocking the loop, which the
 * disks share; once the reader reads, the bytes arrive. */
START_TEST(stalled_reader_does_not_block_loop)
{
	init_console(-1, NULL, 0);
	stall_reader();
	guest_write("# ");
	ck_assert_msg(loop_stays_free(100), "the event loop blocked on the console");
	ck_assert_uint_eq(f.con.out_len, 2);
	read_until("# ");
	ck_assert_uint_eq(f.con.out_len, 0);
}
END_TEST

static void *vcpu_floods(void *arg)
{
	static char big[CONSOLE_OUT_BUF + 4];

	memset(big, 'y', CONSOLE_OUT_BUF);
	memcpy(big + CONSOLE_OUT_BUF, "end", 4);
	guest_write(big);           /* blocks in the full buffer's write */
	return NULL;
}

/* A vCPU floods the console while the reader is stalled: it blocks in its
 * own write with the output lock held, the buffer stays at its fixed
 * size, and the event loop's flush, unable to take the lock, does not
 * wait for it. */
START_TEST(flooding_vcpu_blocks_alone)
{
	pthread_t t;

	init_console(-1, NULL, 0);
	stall_reader();
	ck_assert_int_eq(pthread_create(&t, NULL, vcpu_floods, NULL), 0);
	usleep(50 * 1000);
	ck_assert_msg(loop_stays_free(100), "the event loop blocked on the console");
	ck_assert_uint_le(f.con.out_len, CONSOLE_OUT_BUF);
	read_until("end");
	pthread_join(t, NULL);
}
END_TEST

static void on_kick(int sig)
{
	(void)sig;
}

/* The VM is stopping: the vCPU blocked writing to a reader that stopped
 * reading is kicked, and must leave the write (losing that output) so
 * that it can be joined; mote must not hang on a stalled reader. The
 * kick may cut a write short rather than fail it, so only the stopping
 * flag tells the vCPU not to write the rest. */
START_TEST(kicked_vcpu_leaves_stalled_write)
{
	struct sigaction sa = { .sa_handler = on_kick };   /* no SA_RESTART */
	struct timespec until;
	pthread_t t;

	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	init_console(-1, NULL, 0);
	stall_reader();
	ck_assert_int_eq(pthread_create(&t, NULL, vcpu_floods, NULL), 0);
	usleep(100 * 1000);
	console_stopping(&f.con);
	ck_assert_int_eq(pthread_kill(t, SIGUSR1), 0);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	int r = pthread_timedjoin_np(t, NULL, &until);
	if (r) {
		read_until("end");      /* unblock it, to fail cleanly */
		pthread_join(t, NULL);
	}
	ck_assert_msg(r == 0, "the kicked vCPU stayed in its write");
	/* The release's last flush ("end") must not wait for the reader
	 * either: the fixture's teardown would hang. */
}
END_TEST

START_TEST(input_reaches_rbr)
{
	uint8_t fifo_on = 0x01;

	init_console(f.in[0], NULL, 0);
	uart_bus_ops.write(&f.uart, 2, &fifo_on, 1);
	ck_assert_int_eq(write(f.in[1], "hi", 2), 2);
	run_once();
	ck_assert_uint_eq(guest_read(5) & 0x01, 0x01);
	ck_assert_uint_eq(guest_read(0), 'h');
	ck_assert_uint_eq(guest_read(0), 'i');
	ck_assert_uint_eq(guest_read(5) & 0x01, 0);
}
END_TEST

START_TEST(input_waits_for_room)
{
	char in[100], got[100];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)('0' + i % 64);
	init_console(f.in[0], NULL, 0);
	uint8_t fifo_on = 0x01;
	uart_bus_ops.write(&f.uart, 2, &fifo_on, 1);
	ck_assert_int_eq(write(f.in[1], in, sizeof(in)), sizeof(in));
	for (int round = 0; round < 20 && n < sizeof(in); round++) {
		run_once();
		size_t before = n;
		while ((guest_read(5) & 0x01) && n < sizeof(got))
			got[n++] = (char)guest_read(0);
		ck_assert_uint_le(n - before, UART_FIFO_SIZE);
	}
	ck_assert_uint_eq(n, sizeof(in));
	ck_assert_mem_eq(got, in, sizeof(in));
	ck_assert_uint_eq(guest_read(5) & 0x02, 0);     /* nothing overran */
}
END_TEST

START_TEST(input_eof_stops_reading)
{
	init_console(f.in[0], NULL, 0);
	ck_assert_int_eq(write(f.in[1], "z", 1), 1);
	close(f.in[1]);
	f.in[1] = -1;
	run_once();
	run_once();
	ck_assert(f.con.in_eof);
	ck_assert(!f.con.in_watched);
	ck_assert_uint_eq(guest_read(0), 'z');
}
END_TEST

START_TEST(regular_file_input_is_pulled)
{
	int fd = open(f.log_path, O_RDWR | O_TRUNC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	init_console(fd, NULL, 0);
	run_once();
	ck_assert_uint_eq(guest_read(0), 'a');    /* FIFO off: one byte at a time */
	run_once();
	ck_assert_uint_eq(guest_read(0), 'b');
	run_once();
	ck_assert_uint_eq(guest_read(0), 'c');
	run_once();
	ck_assert(f.con.in_eof);
	close(fd);
}
END_TEST

START_TEST(dev_null_input)
{
	int fd = open("/dev/null", O_RDONLY);

	ck_assert_int_ge(fd, 0);
	init_console(fd, NULL, 0);
	run_once();
	ck_assert(f.con.in_eof);
	ck_assert_uint_eq(guest_read(5) & 0x01, 0);
	close(fd);
}
END_TEST

START_TEST(tty_raw_mode_restored)
{
	struct termios before, during, after;
	int master = posix_openpt(O_RDWR | O_NOCTTY);

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(grantpt(master), 0);
	ck_assert_int_eq(unlockpt(master), 0);
	int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	ck_assert_int_ge(slave, 0);
	ck_assert_int_eq(tcgetattr(slave, &before), 0);
	ck_assert(before.c_lflag & ICANON);
	init_console(slave, NULL, 0);
	ck_assert_int_eq(tcgetattr(slave, &during), 0);
	ck_assert(!(during.c_lflag & (ICANON | ECHO | ISIG)));
	ck_assert(!(during.c_iflag & (ICRNL | IXON)));
	ck_assert(during.c_oflag & OPOST);
	/* Raw: a CR typed on the terminal reaches the guest as CR. */
	ck_assert_int_eq(write(master, "\r", 1), 1);
	struct pollfd p = { .fd = slave, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, -1), 1);   /* ptys pass data on asynchronously */
	run_once();
	ck_assert_uint_eq(guest_read(0), '\r');
	console_restore_tty(&f.con);
	ck_assert_int_eq(tcgetattr(slave, &after), 0);
	ck_assert(after.c_lflag & ICANON);
	ck_assert_int_eq(tcsetattr(slave, TCSANOW, &during), 0);
	console_release(&f.con);
	ck_assert_int_eq(tcgetattr(slave, &after), 0);
	ck_assert_uint_eq(after.c_lflag, before.c_lflag);
	ck_assert_uint_eq(after.c_iflag, before.c_iflag);
	close(slave);
	close(master);
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *out = tcase_create("output");
	TCase *in = tcase_create("input");

	tcase_add_checked_fixture(out, setup, teardown);
	tcase_add_test(out, output_reaches_fd_and_log);
	tcase_add_test(out, output_flushed_by_event_loop);
	tcase_add_test(out, full_buffer_flushes_at_once);
	tcase_add_test(out, log_cap);
	tcase_add_test(out, log_exactly_full_is_not_truncated);
	tcase_add_test(out, bad_log_path_fails_cleanly);
	tcase_add_test(out, custom_sink);
	tcase_add_test(out, closed_reader_is_ignored);
	tcase_add_test(out, stalled_reader_does_not_block_loop);
	tcase_add_test(out, flooding_vcpu_blocks_alone);
	tcase_add_test(out, kicked_vcpu_leaves_stalled_write);
	tcase_add_checked_fixture(in, setup, teardown);
	tcase_add_test(in, input_reaches_rbr);
	tcase_add_test(in, input_waits_for_room);
	tcase_add_test(in, input_eof_stops_reading);
	tcase_add_test(in, regular_file_input_is_pulled);
	tcase_add_test(in, dev_null_input);
	tcase_add_test(in, tty_raw_mode_restored);
	suite_add_tcase(s, out);
	suite_add_tcase(s, in);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(console_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
