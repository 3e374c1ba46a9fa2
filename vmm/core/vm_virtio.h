/*
 * The virtio part of the device manager: one virtio-mmio transport per
 * drive (and later per network interface), placed at LAYOUT_VIRTIO_MMIO,
 * with its interrupt line wired by irqfd and its queue notifications by
 * ioeventfd, and described to the guest in the DSDT.
 */
#ifndef MOTE_VM_VIRTIO_H
#define MOTE_VM_VIRTIO_H

#include <stddef.h>

struct vm;
struct acpi_dev;
struct irq_line;
struct virtio_slot;

#define VM_VIRTIO_MAX 16

struct vm_virtio {
	struct virtio_slot *slots;   /* one per device, owned here */
	size_t n;
};

/* Create a device per configured drive. -errno with one line in err. */
int vm_virtio_create(struct vm_virtio *v, struct vm *vm, char *err, size_t errlen)
	__attribute__((warn_unused_result));
/* DSDT entries; returns how many were written (at most max). */
size_t vm_virtio_acpi(const struct vm_virtio *v, struct acpi_dev *out, size_t max);
/* "virtio_mmio.device=SIZE@ADDR:GSI ..." for each device whose GSI a
 * kernel without an IOAPIC can reach (below 16), for kernels that cannot
 * read the DSDT. "" when there are none; NULL on -ENOMEM; caller frees. */
char *vm_virtio_cmdline(const struct vm_virtio *v) __attribute__((warn_unused_result));
/* Register queue notifications on the event loop. */
int vm_virtio_start(struct vm_virtio *v, struct vm *vm) __attribute__((warn_unused_result));
void vm_virtio_release(struct vm_virtio *v);

/* KVM_IRQFD for one interrupt line (vmm/devices.c). */
int devices_wire_irq(struct vm *vm, struct irq_line *l) __attribute__((warn_unused_result));

#endif
