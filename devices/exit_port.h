/*
 * The exit port: a guest job reports its status by writing one byte N to
 * PORT_EXIT; the VM stops with STOP_GUEST_EXIT and status N. Reads 0.
 *   bus_register(&pio, PORT_EXIT, 1, &exit_port_bus_ops, &ep, "exit")
 */
#ifndef MOTE_DEVICES_EXIT_PORT_H
#define MOTE_DEVICES_EXIT_PORT_H

#include "vmm/base/stop.h"

struct bus_ops;

/* Callers allocate it; holds no resources, so there is no release. */
struct exit_port {
	struct stop_hook stop;
};

/* stop is copied. */
void exit_port_init(struct exit_port *p, const struct stop_hook *stop);

/* Bus handlers; opaque is the struct exit_port. */
extern const struct bus_ops exit_port_bus_ops;

#endif
