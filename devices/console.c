#include "devices/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/uart.h"
#include "vmm/base/efd.h"
#include "vmm/base/evloop.h"
#include "vmm/base/log.h"

/* ---- output ---- */

static bool wait_writable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, CONSOLE_STALL_MS);

	/* Interrupted: write_all tries again, or gives up if stopping. */
	return r > 0 || (r < 0 && errno == EINTR);
}

/* Write everything, across short writes, EINTR and (for non-blocking
 * fds) EAGAIN, waiting at most CONSOLE_STALL_MS each time. 0 or -errno.
 * Once the VM is stopping, a short or interrupted write ends it with
 * -EINTR: the kick that stops a vCPU blocked here on a reader that no
 * longer reads cuts its write short, and it must not start another; and
 * a write starts only when the fd has room. */
static int write_all(const struct console *c, int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		/* Stopping, nothing will interrupt a blocked write: the last
		 * flush waits for room at most CONSOLE_STALL_MS. */
		if (__atomic_load_n(&c->stopping, __ATOMIC_ACQUIRE) && !wait_writable(fd))
			return -EAGAIN;
		ssize_t n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= n;
		}
		int err = n > 0 ? 0 : n < 0 ? errno : EIO;
		if (len && __atomic_load_n(&c->stopping, __ATOMIC_ACQUIRE))
			return -EINTR;
		if (!err || err == EINTR || (err == EAGAIN && wait_writable(fd)))
			continue;
		return -err;
	}
	return 0;
}

static void fd_sink(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;

	if (c->out_fd < 0 || c->out_dead)
		return;
	/* A stalled reader loses this chunk; a closed one (EPIPE: SIGPIPE is
	 * ignored by the VM) or a broken fd ends output for good. */
	int err = write_all(c, c->out_fd, buf, len);
	if (err && err != -EAGAIN && err != -EINTR)
		c->out_dead = true;
}

static void log_close(struct console *c)
{
	if (c->log_fd >= 0)
		close(c->log_fd);
	c->log_fd = -1;
}

static void log_truncate(struct console *c)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%s[mote: console log truncated at %llu bytes]\n",
			 c->log_at_bol ? "" : "\n", (unsigned long long)c->log_max);

	/* Best effort: the log is being closed either way. */
	if (write_all(c, c->log_fd, (const uint8_t *)line, (size_t)n) < 0) {
	}
	log_close(c);
}

/* The cap keeps a chatty or hostile guest from filling the host's disk. */
static void log_append(struct console *c, const uint8_t *buf, size_t len)
{
	if (c->log_fd < 0)
		return;
	uint64_t room = c->log_max - c->log_len;
	size_t n = len < room ? len : (size_t)room;
	int err = n ? write_all(c, c->log_fd, buf, n) : 0;
	if (err) {
		log_err("console log: %s; logging stopped", strerror(-err));
		log_close(c);
		return;
	}
	c->log_len += n;
	if (n)
		c->log_at_bol = buf[n - 1] == '\n';
	if (n < len)
		log_truncate(c);
}

static void flush_locked(struct console *c)
{
	if (!c->out_len)
		return;
	c->sink(c->sink_opaque, c->out_buf, c->out_len);
	log_append(c, c->out_buf, c->out_len);
	c->out_len = 0;
}

static int arm_timer(struct console *c, long ns)
{
	struct itimerspec its = { .it_value = { .tv_nsec = ns } };

	return timerfd_settime(c->flush_fd, 0, &its, NULL);
}

static void arm_flush(struct console *c)
{
	/* If the timer cannot be armed, flush per byte rather than never. */
	if (arm_timer(c, CONSOLE_FLUSH_DELAY_NS) < 0)
		flush_locked(c);
}

/* Buffer and flush a moment later: one write per burst, not per byte,
 * while a partial line (a shell prompt) still shows up promptly. */
void console_tx(void *console, uint8_t byte)
{
	struct console *c = console;

	pthread_mutex_lock(&c->out_lock);
	c->out_buf[c->out_len++] = byte;
	if (c->out_len == 1)
		arm_flush(c);
	if (c->out_len == sizeof(c->out_buf))
		flush_locked(c);
	pthread_mutex_unlock(&c->out_lock);
}

void console_flush(struct console *c)
{
	pthread_mutex_lock(&c->out_lock);
	flush_locked(c);
	pthread_mutex_unlock(&c->out_lock);
}

void console_stopping(struct console *c)
{
	__atomic_store_n(&c->stopping, true, __ATOMIC_RELEASE);
}

void console_set_sink(struct console *c, console_sink_fn fn, void *opaque)
{
	pthread_mutex_lock(&c->out_lock);
	flush_locked(c);
	c->sink = fn ? fn : fd_sink;
	c->sink_opaque = fn ? opaque : c;
	pthread_mutex_unlock(&c->out_lock);
}

/* Would a write to out_fd block now? A pipe or socket that polls
 * writable takes the (at most CONSOLE_OUT_BUF) buffered bytes at once. */
static bool out_blocked(const struct console *c)
{
	struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };

	if (c->sink != fd_sink || c->out_fd < 0 || c->out_dead)
		return false;
	return poll(&p, 1, 0) == 0;
}

/*
 * The timer's flush, on the event loop, which the disks and network
 * interfaces share: it must never wait for a slow console reader. If a
 * vCPU holds the lock (it is writing a full buffer, and may be blocked),
 * or the reader has not made room, try again later; the buffer stays at
 * CONSOLE_OUT_BUF bytes, and a guest that fills it blocks in its own
 * vCPU until the reader catches up.
 */
static void on_flush(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint64_t expirations;

	if (read(c->flush_fd, &expirations, sizeof(expirations)) < 0) {
	}
	if (pthread_mutex_trylock(&c->out_lock) != 0) {
		arm_timer(c, CONSOLE_RETRY_NS);
		return;
	}
	if (c->out_len && out_blocked(c))
		arm_timer(c, CONSOLE_RETRY_NS);
	else
		flush_locked(c);
	pthread_mutex_unlock(&c->out_lock);
}

/* ---- input ---- */

static void on_input(void *opaque, uint32_t events);

static void watch_input(struct console *c, bool on)
{
	if (on && !c->in_watched && c->in_pollable && !c->in_eof) {
		int err = evloop_add(c->loop, c->in_fd, EPOLLIN, on_input, c);
		if (err) {
			log_err("console input: %s; input stopped", strerror(-err));
			c->in_eof = true;
			return;
		}
		c->in_watched = true;
	} else if (!on && c->in_watched) {
		evloop_del(c->loop, c->in_fd);
		c->in_watched = false;
	}
}

static void end_input(struct console *c)
{
	watch_input(c, false);
	c->in_eof = true;
}

/* Read a chunk into in_buf. False if there is nothing to deliver: no data
 * yet, or input ended (EOF, a hung-up terminal, an error). */
static bool read_input(struct console *c)
{
	ssize_t n;

	do
		n = read(c->in_fd, c->in_buf, sizeof(c->in_buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->in_off = 0;
		c->in_len = (size_t)n;
		return true;
	}
	if (n < 0 && errno == EAGAIN)
		return false;
	end_input(c);
	return false;
}

/* Hand pending input to the uart; true when all of it was taken. */
static bool deliver(struct console *c)
{
	c->in_off += uart_receive(c->uart, c->in_buf + c->in_off, c->in_len - c->in_off);
	return c->in_off == c->in_len;
}

/* Move input into the uart until its FIFO is full (then stop reading
 * until rx_room) or the input has nothing more right now. Descriptors
 * epoll refuses (regular files, /dev/null) are read here, paced by the
 * guest draining the FIFO. */
static void pump_input(struct console *c)
{
	for (;;) {
		if (!deliver(c)) {
			watch_input(c, false);
			return;
		}
		if (c->in_eof)
			return;
		if (c->in_pollable) {
			watch_input(c, true);
			return;
		}
		if (!read_input(c))
			return;
	}
}

static void on_input(void *opaque, uint32_t events)
{
	struct console *c = opaque;

	if (read_input(c))
		pump_input(c);
}

static void on_room(void *opaque, uint32_t events)
{
	struct console *c = opaque;

	efd_drain(c->room_fd);
	pump_input(c);
}

void console_rx_room(void *console)
{
	struct console *c = console;

	/* Any thread: only wake the event loop, which owns the input. */
	efd_signal(c->room_fd);
}

/* ---- terminal ---- */

void console_restore_tty(const struct console *c)
{
	if (c->tty_saved)
		tcsetattr(c->in_fd, TCSANOW, &c->saved_tio);
}

/* Raw input, so keys (Ctrl-C included) reach the guest unprocessed; CR is
 * not mapped to NL, as on a real serial line. Output processing stays on
 * so the guest's bare "\n" still returns the host terminal's carriage. */
static int enter_raw_mode(struct console *c)
{
	struct termios t;

	if (tcgetattr(c->in_fd, &c->saved_tio) < 0)
		return -errno;
	t = c->saved_tio;
	t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB)) | CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(c->in_fd, TCSANOW, &t) < 0)
		return -errno;
	c->tty_saved = true;
	return 0;
}

/* ---- setup ---- */

/* Our controlling terminal, with another process group in the
 * foreground: reading it would stop mote with SIGTTIN. */
static bool in_background(int fd)
{
	pid_t fg = tcgetpgrp(fd);

	return fg >= 0 && fg != getpgrp();
}

static int setup_input(struct console *c)
{
	int err;

	/* A backgrounded mote leaves the terminal alone; the guest simply
	 * gets no input. */
	if (c->in_fd < 0 || (isatty(c->in_fd) && in_background(c->in_fd))) {
		c->in_eof = true;
		return 0;
	}
	if (isatty(c->in_fd) && (err = enter_raw_mode(c)))
		return err;
	err = evloop_add(c->loop, c->in_fd, EPOLLIN, on_input, c);
	if (err == -EPERM) {
		console_rx_room(c);     /* not pollable: start pulling */
		return 0;
	}
	if (err) {
		console_restore_tty(c);
		c->tty_saved = false;
		return err;
	}
	c->in_pollable = c->in_watched = true;
	return 0;
}

static void teardown_notifiers(struct console *c)
{
	if (c->room_fd >= 0) {
		evloop_del(c->loop, c->room_fd);
		close(c->room_fd);
	}
	if (c->flush_fd >= 0) {
		evloop_del(c->loop, c->flush_fd);
		close(c->flush_fd);
	}
	c->room_fd = c->flush_fd = -1;
}

static int setup_notifiers(struct console *c)
{
	int err;

	c->room_fd = efd_new();
	c->flush_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (c->room_fd < 0 || c->flush_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = evloop_add(c->loop, c->room_fd, EPOLLIN, on_room, c);
	if (!err)
		err = evloop_add(c->loop, c->flush_fd, EPOLLIN, on_flush, c);
	if (!err)
		return 0;
fail:
	teardown_notifiers(c);
	return err;
}

static void init_fields(struct console *c, struct evloop *loop, struct uart *u, int in_fd,
			int out_fd, uint64_t log_max)
{
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->uart = u;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->room_fd = c->flush_fd = c->log_fd = -1;
	c->sink = fd_sink;
	c->sink_opaque = c;
	c->log_max = log_max ? log_max : UINT64_MAX;
	c->log_at_bol = true;
}

int console_init(struct console *c, struct evloop *loop, struct uart *u, int in_fd,
		 int out_fd, const char *log_path, uint64_t log_max, char *errbuf,
		 size_t errlen)
{
	const char *what = "console";
	int err;

	init_fields(c, loop, u, in_fd, out_fd, log_max);
	err = -pthread_mutex_init(&c->out_lock, NULL);
	if (err)
		goto fail;
	if (log_path) {
		c->log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
		if (c->log_fd < 0) {
			err = -errno;
			what = log_path;
			goto fail_mutex;
		}
	}
	err = setup_notifiers(c);
	if (err)
		goto fail_log;
	err = setup_input(c);
	if (err)
		goto fail_notifiers;
	uart_set_host(u, &(struct uart_host){ console_tx, console_rx_room, c });
	c->inited = true;
	return 0;

fail_notifiers:
	teardown_notifiers(c);
fail_log:
	log_close(c);
fail_mutex:
	pthread_mutex_destroy(&c->out_lock);
fail:
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s: %s", log_str(what).s, strerror(-err));
	return err;
}

void console_release(struct console *c)
{
	if (!c->inited)
		return;
	uart_set_host(c->uart, NULL);   /* no more bytes after the final flush */
	console_stopping(c);            /* which waits for a reader 1 s at most */
	console_flush(c);
	watch_input(c, false);
	teardown_notifiers(c);
	log_close(c);
	console_restore_tty(c);
	c->tty_saved = false;
	pthread_mutex_destroy(&c->out_lock);
	c->inited = false;
}
