/*
 * The VM's event loop: one epoll set, run by the VMM thread. Devices
 * register file descriptors (queue-notify eventfds, io_uring completion
 * eventfds, the console's stdin, timers) with a handler and an opaque
 * pointer. No thread per device.
 */
#ifndef MOTE_EVLOOP_H
#define MOTE_EVLOOP_H

#include <stdint.h>
#include <stdbool.h>

/* events: the EPOLL* bits that fired. */
typedef void (*evloop_fn)(void *opaque, uint32_t events);

struct evloop_entry;

struct evloop {
	int epfd;
	int wakefd;               /* eventfd: evloop_stop() from any thread */
	bool stopping;
	struct evloop_entry *entries; /* list of registrations, owned here */
};

int evloop_init(struct evloop *l) __attribute__((warn_unused_result));
void evloop_release(struct evloop *l);

/* Watch fd for events (EPOLLIN etc.). One registration per fd. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *opaque)
	__attribute__((warn_unused_result));
/* Change the events fd is watched for (0: none for now, the registration
 * stays). How a producer with nothing to do, e.g. a network backend whose
 * guest has no free receive buffers, keeps the level-triggered loop from
 * spinning. 0, or -ENOENT if fd is not registered. */
int evloop_mod(struct evloop *l, int fd, uint32_t events);
/* Stop watching fd. Safe from inside a handler (even fd's own). */
int evloop_del(struct evloop *l, int fd);

/* Dispatch events until evloop_stop(). Returns 0, or -errno on failure. */
int evloop_run(struct evloop *l);
/* Wait up to timeout_ms (-1: for ever) for events and dispatch one batch;
 * for tests and for draining. Returns how many fired, or -errno. */
int evloop_poll(struct evloop *l, int timeout_ms);
/* Ask evloop_run() to return. Safe from any thread and signal handlers. */
void evloop_stop(struct evloop *l);

#endif
