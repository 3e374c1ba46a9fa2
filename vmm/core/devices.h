/*
 * The device manager: creates mote's devices for a VM, places them on the
 * buses, and wires their interrupt lines (KVM_IRQFD) and queue
 * notifications (KVM_IOEVENTFD). The only code that joins devices to KVM.
 */
#ifndef MOTE_DEVICES_H
#define MOTE_DEVICES_H

#include <stddef.h>

struct vm;
struct arch_dev;

/* Create every device the config asks for. -errno with one line in err. */
int devices_create(struct vm *vm, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* KVM_IRQFD for every device's interrupt line: after arch_load_guest,
 * once the interrupt controller is complete (arm64's vGIC refuses irqfds
 * before KVM_DEV_ARM_VGIC_CTRL_INIT, which needs every vCPU). -errno with
 * one line in err. */
int devices_wire_irqs(struct vm *vm, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* Describe the devices the guest finds through firmware tables (in
 * creation order) into out[0..max); returns how many were written. */
size_t devices_describe(const struct vm *vm, struct arch_dev *out, size_t max);
/* Called once vCPUs are about to run: start device I/O on the event loop. */
int devices_start(struct vm *vm) __attribute__((warn_unused_result));
/* Undo devices_create; safe on a partial setup. */
void devices_release(struct vm *vm);
/* The vCPUs are about to be kicked out of the guest and joined: no
 * device may keep one waiting on the host from now on (the console's
 * writes to a reader that stopped reading give up). */
void devices_stopping(struct vm *vm);
/* Restore the host terminal; safe to call more than once. */
void devices_restore_tty(struct vm *vm);

#endif
