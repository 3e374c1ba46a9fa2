/*
 * The serial console: plumbing between the uart and the host.
 *
 * Output: bytes the guest transmits are buffered and handed to the sink
 * (by default a writer to out_fd) about a millisecond later from the event
 * loop, or at once when the buffer fills, and copied to an optional log
 * file capped at log_max bytes. The buffer is fixed (CONSOLE_OUT_BUF): a
 * guest that outruns a slow reader blocks in its vCPU when it is full,
 * and the event loop never waits for the reader (it retries later). Input: in_fd is read on the event loop and
 * fed to the uart; when the uart's FIFO is full, reading pauses until the
 * guest drains it (no busy loop, no lost input). A terminal in_fd is put
 * in raw mode (output processing kept, so "\n" still starts a new line)
 * and restored by console_release().
 *
 * Threads: console_tx runs on vCPU threads, everything else on the event
 * loop's thread or the owner's, with the event loop not running.
 */
#ifndef MOTE_DEVICES_CONSOLE_H
#define MOTE_DEVICES_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <termios.h>

struct evloop;
struct uart;

#define CONSOLE_OUT_BUF         4096
#define CONSOLE_IN_BUF          256
#define CONSOLE_FLUSH_DELAY_NS  1000000        /* output latency bound */
#define CONSOLE_RETRY_NS        10000000       /* the reader is slow: look again */
#define CONSOLE_STALL_MS        1000           /* non-blocking sink: give up after */

/* Where guest output goes. Called with the output lock held, from the
 * event loop or a vCPU thread, one call at a time, in order; it must not
 * call console functions. */
typedef void (*console_sink_fn)(void *opaque, const uint8_t *buf, size_t len);

/* Callers allocate it; fields are private to console.c. */
struct console {
	bool inited;
	struct evloop *loop;
	struct uart *uart;

	int in_fd;                 /* not owned; -1: no input */
	bool in_pollable;          /* epoll accepts it (not a regular file) */
	bool in_watched;           /* registered on the loop right now */
	bool in_eof;
	uint8_t in_buf[CONSOLE_IN_BUF];
	size_t in_off, in_len;     /* bytes read but not yet taken by the uart */
	int room_fd;               /* eventfd: the uart has room again */
	bool tty_saved;
	struct termios saved_tio;

	pthread_mutex_t out_lock;
	int out_fd;                /* not owned; -1: discard */
	bool out_dead;             /* EPIPE or another hard error: stop writing */
	bool stopping;             /* the VM is ending: never wait to write. Atomic. */
	console_sink_fn sink;
	void *sink_opaque;
	uint8_t out_buf[CONSOLE_OUT_BUF];
	size_t out_len;
	int flush_fd;              /* timerfd: flush buffered output */

	int log_fd;                /* -1: no log (or the log was closed) */
	uint64_t log_max, log_len;
	bool log_at_bol;           /* the log ends with a complete line */
};

/*
 * Wire the console to the uart (as its host) and the event loop. in_fd or
 * out_fd may be -1. log_path may be NULL; log_max 0 means no cap (as in
 * vm_config.console_log_max). On failure returns -errno with a message in err
 * and leaves nothing to release.
 */
int console_init(struct console *c, struct evloop *loop, struct uart *u, int in_fd,
		 int out_fd, const char *log_path, uint64_t log_max, char *err,
		 size_t errlen) __attribute__((warn_unused_result));

/* Detach from the uart and the loop, flush, close the log, restore the
 * terminal. Call once the vCPUs and the event loop have stopped. Safe on
 * a console whose init failed, and twice. */
void console_release(struct console *c);

/* Restore the terminal's saved mode; only calls tcsetattr(), so usable on
 * fatal paths and in signal handlers. */
void console_restore_tty(const struct console *c);

/* Send output to fn(opaque, ...) instead of out_fd; NULL restores out_fd. */
void console_set_sink(struct console *c, console_sink_fn fn, void *opaque);

/* Write buffered output to the sink and the log now. */
void console_flush(struct console *c);

/* The VM is about to stop its vCPUs: from now on a write that a slow
 * reader holds up gives up (at the kick that follows) instead of waiting,
 * so a vCPU blocked in the console can always be joined. Any thread. */
void console_stopping(struct console *c);

/* The uart's host callbacks (installed by console_init). */
void console_tx(void *console, uint8_t byte);
void console_rx_room(void *console);

#endif
