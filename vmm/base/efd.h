/*
 * eventfd helpers: the one place that signals and drains the eventfds that
 * join threads, devices and KVM (queue notifications, interrupt lines,
 * completions, wake-ups). Every such eventfd is non-blocking.
 */
#ifndef MOTE_EFD_H
#define MOTE_EFD_H

#include <stdbool.h>

/* A new non-blocking, close-on-exec eventfd, or -errno. */
int efd_new(void) __attribute__((warn_unused_result));

/* Add one to the counter. A saturated counter (EAGAIN) already means
 * "signalled", so nothing can be lost; safe from any thread and from
 * signal handlers. */
void efd_signal(int fd);

/* Reset the counter. True if it was signalled since the last drain. */
bool efd_drain(int fd);

#endif
