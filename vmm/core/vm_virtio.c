#include "vmm/core/vm_virtio.h"
#include "boot/acpi.h"
#include "boot/layout.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "vmm/config/config.h"
#include "vmm/base/irq.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct virtio_slot {
	uint64_t base;
	struct irq_line irq;
	struct virtio_mmio t;
	struct blk *blk;
	bool transport_ok;
};

/* GSIs 5, 6, 7, then 9 onwards: 4 is COM1's and 8 stays the RTC's. */
static uint32_t slot_gsi(size_t i)
{
	uint32_t gsi = IRQ_VIRTIO_FIRST + (uint32_t)i;

	return gsi >= 8 ? gsi + 1 : gsi;
}

static int wire_notify(struct vm *vm, struct virtio_slot *s)
{
	for (unsigned q = 0; q < virtio_mmio_num_queues(&s->t); q++) {
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = s->base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = virtio_mmio_notify_fd(&s->t, q),
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		int r = KVM_IOCTL(vm->vm_fd, KVM_IOEVENTFD, &io);
		if (r < 0)
			return r;
	}
	return 0;
}

static int create_blk(struct vm *vm, struct virtio_slot *s, size_t i,
		      const struct drive_config *d, char *err, size_t errlen)
{
	char name[8];
	int r;

	s->base = LAYOUT_VIRTIO_MMIO + i * LAYOUT_VIRTIO_STRIDE;
	s->irq.fd = -1;
	s->blk = calloc(1, sizeof(*s->blk));
	if (!s->blk)
		return -ENOMEM;
	if (d->ephemeral)
		r = blk_open_ephemeral(s->blk, d->path, blk_cow_default_dir(), d->id, err, errlen);
	else
		r = blk_open(s->blk, d->path, d->read_only, d->id, err, errlen);
	if (r) {
		free(s->blk);
		s->blk = NULL;
		return r;
	}
	r = irq_line_init(&s->irq, slot_gsi(i));
	if (!r)
		r = virtio_mmio_init(&s->t, &vm->mem, &s->irq, &blk_virtio_ops, s->blk);
	if (r)
		goto fail;
	s->transport_ok = true;
	snprintf(name, sizeof(name), "vd%c", (char)('a' + i));
	r = bus_register(&vm->mmio, s->base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops, &s->t,
			 name);
	if (!r)
		r = wire_notify(vm, s);
	if (!r)
		r = devices_wire_irq(vm, &s->irq);
	if (!r)
		return 0;
fail:
	snprintf(err, errlen, "drive %s: setting up its virtio device: %s", d->id, strerror(-r));
	return r;
}

int vm_virtio_create(struct vm_virtio *v, struct vm *vm, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;

	v->n = 0;
	if (cfg->ndrives > VM_VIRTIO_MAX) {
		snprintf(err, errlen, "at most %d drives", VM_VIRTIO_MAX);
		return -EINVAL;
	}
	v->slots = calloc(VM_VIRTIO_MAX, sizeof(*v->slots));
	if (!v->slots)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->ndrives; i++) {
		/* Counted first, so a half-built slot is released too. */
		v->n++;
		int r = create_blk(vm, &v->slots[i], i, &cfg->drives[i], err, errlen);
		if (r)
			return r;
	}
	return 0;
}

size_t vm_virtio_acpi(const struct vm_virtio *v, struct acpi_dev *out, size_t max)
{
	size_t n = 0;

	for (; n < v->n && n < max; n++)
		out[n] = (struct acpi_dev){ ACPI_DEV_VIRTIO_MMIO, v->slots[n].base,
					    VIRTIO_MMIO_SIZE, v->slots[n].irq.gsi };
	return n;
}

char *vm_virtio_cmdline(const struct vm_virtio *v)
{
	char *out = NULL;
	size_t size;
	const char *sep = "";
	FILE *f = open_memstream(&out, &size);

	if (!f)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		const struct virtio_slot *s = &v->slots[i];

		/* Without ACPI, Linux knows no IOAPIC and takes only the PIC's 16
		 * lines. */
		if (s->irq.gsi >= 16)
			continue;
		fprintf(f, "%svirtio_mmio.device=%u@0x%" PRIx64 ":%u", sep,
			(unsigned)VIRTIO_MMIO_SIZE, s->base, (unsigned)s->irq.gsi);
		sep = " ";
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

int vm_virtio_start(struct vm_virtio *v, struct vm *vm)
{
	for (size_t i = 0; i < v->n; i++) {
		int r = virtio_mmio_attach(&v->slots[i].t, &vm->loop);
		if (r)
			return r;
	}
	return 0;
}

void vm_virtio_release(struct vm_virtio *v)
{
	for (size_t i = 0; v->slots && i < v->n; i++) {
		struct virtio_slot *s = &v->slots[i];
		if (s->transport_ok)
			virtio_mmio_release(&s->t);
		if (s->blk) {
			blk_release(s->blk);
			free(s->blk);
		}
		irq_line_release(&s->irq);
	}
	free(v->slots);
	v->slots = NULL;
	v->n = 0;
}
