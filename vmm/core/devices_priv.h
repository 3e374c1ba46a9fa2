/*
 * Inside the device manager (vmm/core/devices*.c): every device the VM has
 * sits in a slot that says how the guest finds it (its place and
 * interrupt, which the architecture's boot code turns into firmware
 * tables), how it starts and how it is released. Creation runs as a table
 * of steps; release walks the slots in reverse, so each device has one
 * release path.
 */
#ifndef MOTE_CORE_DEVICES_PRIV_H
#define MOTE_CORE_DEVICES_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/core/arch.h"

struct bus_ops;
struct evloop;
struct irq_line;
struct vm;
struct vm_devices;

#define DEVICES_MAX_SLOTS 32
#define DEVICES_MAX_IRQS  DEVICES_MAX_SLOTS

struct dev_slot {
	char name[24];            /* "com1", "vda", "eth0": for messages */
	bool described;           /* the guest finds it through desc */
	struct arch_dev desc;
	/* Optional: start I/O on the event loop, once vCPUs are about to run. */
	int (*start)(struct dev_slot *s, struct evloop *loop);
	/* Release what the slot owns; safe on a half-built slot. */
	void (*release)(struct dev_slot *s);
	void *priv;
};

/* A new empty slot, or NULL when all DEVICES_MAX_SLOTS are taken. */
struct dev_slot *devices_new_slot(struct vm_devices *d, const char *name);

/* Put dev (len bytes, ops) on the bus at at; -errno with one line in err
 * naming it. */
int devices_register(struct vm *vm, const struct arch_place *at, uint64_t len,
		     const struct bus_ops *ops, void *dev, const char *name, char *err,
		     size_t errlen) __attribute__((warn_unused_result));

/* Have the line wired with KVM_IRQFD by devices_wire_irqs (devices.h),
 * once the interrupt controller is complete. l stays where it is until
 * devices_release. 0, or -ENOSPC past DEVICES_MAX_IRQS. */
int devices_wire_irq(struct vm *vm, struct irq_line *l) __attribute__((warn_unused_result));

/* The steps, in order (devices_platform.c, the architecture's
 * arch_platform_devices, devices_virtio.c). */
int devices_create_platform(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int devices_create_drives(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int devices_create_nets(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Restore the host terminal; safe to call more than once. */
void devices_platform_restore_tty(struct vm_devices *d);
/* See devices_stopping. */
void devices_platform_stopping(struct vm_devices *d);

struct vm_devices {
	struct vm *vm;
	struct dev_slot slots[DEVICES_MAX_SLOTS];
	size_t nslots;
	size_t nvirtio;           /* virtio slots so far: picks base and GSI */
	struct irq_line *irqs[DEVICES_MAX_IRQS];  /* for devices_wire_irqs */
	size_t nirqs;
	struct platform *platform;  /* devices_platform.c's */
};

#endif
