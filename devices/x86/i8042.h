/*
 * A minimal i8042 keyboard controller: enough for Linux to probe it
 * without hanging and to reboot through it. No keyboard or mouse is
 * attached and it raises no interrupts; commands answer at once, so no
 * driver waits for a timeout. Command 0xfe (pulse the reset line), or
 * clearing bit 0 of the output port, asks the VM to stop with STOP_REBOOT.
 *
 * One range covers ports 0x60-0x64:
 *   bus_register(&pio, PORT_I8042, I8042_NR_PORTS, &i8042_bus_ops, &kbc, "i8042")
 * offset 0: data, 4: status/command, 1: system control port B (0x61).
 */
#ifndef MOTE_DEVICES_I8042_H
#define MOTE_DEVICES_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/stop.h"

struct bus_ops;

#define I8042_NR_PORTS 5
#define I8042_OUT_MAX  8

/* Callers allocate it; fields are private to i8042.c. */
struct i8042 {
	pthread_mutex_t lock;
	struct stop_hook stop;
	uint8_t ctr;            /* controller command byte */
	uint8_t outport;        /* output port (bit 0: reset line, 1: A20) */
	uint8_t pending;        /* command waiting for its data byte, or 0 */
	uint8_t portb;          /* port 0x61 */
	bool last_was_cmd;      /* status bit 3: last write went to 0x64 */
	uint8_t out[I8042_OUT_MAX];
	unsigned out_head, out_count;
};

/* Reset state; stop is copied. Returns 0 or -errno. */
int i8042_init(struct i8042 *k, const struct stop_hook *stop)
	__attribute__((warn_unused_result));
void i8042_release(struct i8042 *k);

/* Bus handlers; opaque is the struct i8042. */
extern const struct bus_ops i8042_bus_ops;

#endif
