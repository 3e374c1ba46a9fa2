/*
 * The device manager: creates the VM's devices as a table of steps,
 * places them on the buses, wires their interrupt lines (KVM_IRQFD) and
 * queue notifications (KVM_IOEVENTFD), and describes them for the
 * architecture's boot code. The only code that joins devices to KVM; devices
 * themselves never see it.
 */
#include "vmm/core/devices.h"
#include "vmm/core/devices_priv.h"
#include "vmm/base/irq.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int (*create)(struct vm *vm, struct vm_devices *d, char *err, size_t errlen);
} steps[] = {
	{ "platform devices", devices_create_platform },
	{ "the architecture's devices", arch_platform_devices },
	{ "drives", devices_create_drives },
	{ "network interfaces", devices_create_nets },
};

struct dev_slot *devices_new_slot(struct vm_devices *d, const char *name)
{
	if (d->nslots == DEVICES_MAX_SLOTS)
		return NULL;
	struct dev_slot *s = &d->slots[d->nslots++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	return s;
}

int devices_wire_irq(struct vm *vm, struct irq_line *l)
{
	struct vm_devices *d = vm->devs;

	if (d->nirqs == DEVICES_MAX_IRQS)
		return -ENOSPC;
	d->irqs[d->nirqs++] = l;
	return 0;
}

/* The irqfds go when their eventfds close (irq_line_release): nothing to
 * undo here. */
int devices_wire_irqs(struct vm *vm, char *err, size_t errlen)
{
	const struct vm_devices *d = vm->devs;

	for (size_t i = 0; i < d->nirqs; i++) {
		struct kvm_irqfd irqfd = { .fd = (uint32_t)d->irqs[i]->fd, .gsi = d->irqs[i]->gsi };
		int r = KVM_IOCTL(vm->vm_fd, KVM_IRQFD, &irqfd);
		if (r < 0) {
			snprintf(err, errlen, "interrupt line %u: KVM_IRQFD: %s", d->irqs[i]->gsi,
				 strerror(-r));
			return r;
		}
	}
	return 0;
}

int devices_register(struct vm *vm, const struct arch_place *at, uint64_t len,
		     const struct bus_ops *ops, void *dev, const char *name, char *err,
		     size_t errlen)
{
	bool pio = at->bus == ARCH_BUS_PIO;
	int r = bus_register(pio ? &vm->pio : &vm->mmio, at->base, len, ops, dev, name);

	if (r)
		snprintf(err, errlen, "%s at %s 0x%llx: %s", name, pio ? "port" : "address",
			 (unsigned long long)at->base, strerror(-r));
	return r;
}

int devices_create(struct vm *vm, char *err, size_t errlen)
{
	struct vm_devices *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->vm = vm;
	vm->devs = d;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r = steps[i].create(vm, d, err, errlen);
		if (r) {
			if (!err[0])
				snprintf(err, errlen, "%s: %s", steps[i].name, strerror(-r));
			return r;      /* vm_release() unwinds through devices_release */
		}
	}
	return 0;
}

size_t devices_describe(const struct vm *vm, struct arch_dev *out, size_t max)
{
	const struct vm_devices *d = vm->devs;
	size_t n = 0;

	for (size_t i = 0; i < d->nslots && n < max; i++)
		if (d->slots[i].described)
			out[n++] = d->slots[i].desc;
	return n;
}

int devices_start(struct vm *vm)
{
	struct vm_devices *d = vm->devs;

	for (size_t i = 0; i < d->nslots; i++) {
		struct dev_slot *s = &d->slots[i];
		int r = s->start ? s->start(s, &vm->loop) : 0;
		if (r)
			return r;
	}
	return 0;
}

void devices_stopping(struct vm *vm)
{
	if (vm->devs)
		devices_platform_stopping(vm->devs);
}

void devices_restore_tty(struct vm *vm)
{
	if (vm->devs)
		devices_platform_restore_tty(vm->devs);
}

void devices_release(struct vm *vm)
{
	struct vm_devices *d = vm->devs;

	if (!d)
		return;
	while (d->nslots > 0) {
		struct dev_slot *s = &d->slots[--d->nslots];
		if (s->release)
			s->release(s);
	}
	free(d);
	vm->devs = NULL;
}
