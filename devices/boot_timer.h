/*
 * The boot timer: a port the guest writes once at each step of its boot
 * that mote should time, as Firecracker's boot timer does. A one-byte
 * write of a BOOT_TIMER_* code to PORT_BOOT_TIMER records that step's
 * time through the host handle; other codes are ignored, and so is any
 * write after the first of each code. Reads 0.
 *   bus_register(&pio, PORT_BOOT_TIMER, 1, &boot_timer_bus_ops, &bt, "boot-timer")
 */
#ifndef MOTE_DEVICES_BOOT_TIMER_H
#define MOTE_DEVICES_BOOT_TIMER_H

#include <stdbool.h>

struct bus_ops;

enum boot_timer_code {
	BOOT_TIMER_READY = 1,      /* the guest's init is up */
	BOOT_TIMER_JOB_START = 2,  /* the job is about to start */
	BOOT_TIMER_NCODES
};

/* What the device reaches of its host: a clock reading per code. Called
 * on the vCPU thread that wrote, once per code. */
struct boot_timer_host {
	void (*mark)(void *opaque, enum boot_timer_code code);
	void *opaque;
};

/* Callers allocate it; holds no resources, so there is no release. */
struct boot_timer {
	struct boot_timer_host host;
	bool seen[BOOT_TIMER_NCODES];  /* atomic */
	unsigned long ignored;         /* writes of unknown codes; atomic */
};

/* host is copied (NULL: marks go nowhere). */
void boot_timer_init(struct boot_timer *t, const struct boot_timer_host *host);

/* Bus handlers; opaque is the struct boot_timer. */
extern const struct bus_ops boot_timer_bus_ops;

#endif
