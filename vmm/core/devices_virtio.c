/*
 * Virtio devices in the device manager: one virtio-mmio transport per
 * device, placed where the architecture says (arch_virtio_place), its
 * interrupt line wired by irqfd and its queue notifications by ioeventfd.
 * virtio_add() does that for any device; the per-type parts only open a
 * backend and make the device.
 */
#include "vmm/core/devices_priv.h"
#include "virtio/backend/blk_cow.h"
#include "virtio/backend/blk_file.h"
#include "virtio/backend/cow_overlay.h"
#include "virtio/backend/net_mac.h"
#include "virtio/backend/net_slirp.h"
#include "virtio/backend/net_tap.h"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "vmm/base/irq.h"
#include "vmm/base/log.h"
#include "vmm/config/config.h"
#include "vmm/core/arch.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One virtio device: its transport, interrupt line and what the device's
 * type needs released after the transport (the device, its backend). */
struct virtio_slot {
	struct irq_line irq;
	struct virtio_mmio t;
	bool transport_ok;
	void *dev;
	void (*release_dev)(void *dev);
};

static int wire_notify(struct vm *vm, struct virtio_slot *v, uint64_t base)
{
	for (unsigned q = 0; q < virtio_mmio_num_queues(&v->t); q++) {
		struct kvm_ioeventfd io = {
			.datamatch = q,
			.addr = base + VIRTIO_MMIO_QUEUE_NOTIFY,
			.len = 4,
			.fd = virtio_mmio_notify_fd(&v->t, q),
			.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		int r = KVM_IOCTL(vm->vm_fd, KVM_IOEVENTFD, &io);
		if (r < 0)
			return r;
	}
	return 0;
}

static int start_virtio(struct dev_slot *s, struct evloop *loop)
{
	struct virtio_slot *v = s->priv;

	return virtio_mmio_attach(&v->t, loop);
}

static void release_virtio(struct dev_slot *s)
{
	struct virtio_slot *v = s->priv;

	/* The transport first: its reset waits for the device's I/O. */
	if (v->transport_ok)
		virtio_mmio_release(&v->t);
	if (v->dev)
		v->release_dev(v->dev);
	irq_line_release(&v->irq);
	free(v);
}

/*
 * Give dev (of type ops) a transport, a place on the MMIO bus, an
 * interrupt and queue notifications. From here on the slot owns dev and
 * releases it with release_dev, on failure too.
 */
static int virtio_add(struct vm *vm, struct vm_devices *d, const char *name,
		      const struct virtio_dev_ops *ops, void *dev, void (*release_dev)(void *))
{
	uint64_t base;
	uint32_t irq;
	int r = arch_virtio_place((unsigned)d->nvirtio, &base, &irq);
	struct virtio_slot *v = r ? NULL : calloc(1, sizeof(*v));
	struct dev_slot *s = v ? devices_new_slot(d, name) : NULL;

	if (!s) {
		free(v);
		release_dev(dev);
		return r ? r : v ? -ENOSPC : -ENOMEM;
	}
	d->nvirtio++;
	v->irq.fd = -1;
	v->dev = dev;
	v->release_dev = release_dev;
	s->priv = v;
	s->release = release_virtio;
	s->start = start_virtio;
	s->described = true;
	s->desc = (struct arch_dev){ ARCH_DEV_VIRTIO_MMIO, base, VIRTIO_MMIO_SIZE, irq };
	r = irq_line_init(&v->irq, irq);
	if (!r)
		r = virtio_mmio_init(&v->t, &vm->mem, &v->irq, ops, dev);
	if (r)
		return r;
	v->transport_ok = true;
	r = bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops, &v->t, s->name);
	if (!r)
		r = wire_notify(vm, v, base);
	return r ? r : devices_wire_irq(vm, &v->irq);
}

/* ---- virtio-blk ---- */

struct blk_dev {
	struct blk blk;
	struct blk_backend be;
};

static void release_blk(void *dev)
{
	struct blk_dev *b = dev;

	blk_release(&b->blk);
	b->be.ops->close(b->be.be);
	free(b);
}

static int open_backend(struct blk_backend *be, const struct drive_config *dc,
			char *err, size_t errlen)
{
	char why[512];
	int r;

	if (dc->ephemeral)
		r = blk_cow_open(be, dc->path, cow_default_dir(), BLK_QUEUE_SIZE, why, sizeof(why));
	else
		r = blk_file_open(be, dc->path, dc->read_only ? BLK_FILE_RO : 0, BLK_QUEUE_SIZE,
				  why, sizeof(why));
	if (r)
		snprintf(err, errlen, "drive %s: %s", log_str(dc->id).s, why);
	return r;
}

static int create_blk(struct vm *vm, struct vm_devices *d, const struct drive_config *dc,
		      char *err, size_t errlen)
{
	struct blk_dev *b = calloc(1, sizeof(*b));
	char name[8];

	if (!b)
		return -ENOMEM;
	int r = open_backend(&b->be, dc, err, errlen);
	if (r) {
		free(b);
		return r;
	}
	r = blk_init(&b->blk, &b->be, dc->id);
	if (r) {
		b->be.ops->close(b->be.be);
		free(b);
	} else {
		snprintf(name, sizeof(name), "vd%c", (char)('a' + d->nvirtio));
		r = virtio_add(vm, d, name, &blk_virtio_ops, &b->blk, release_blk);
	}
	if (r)
		snprintf(err, errlen, "drive %s: setting up its virtio device: %s", log_str(dc->id).s,
			 strerror(-r));
	return r;
}

int devices_create_drives(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;

	for (size_t i = 0; i < cfg->ndrives; i++) {
		int r = create_blk(vm, d, &cfg->drives[i], err, errlen);
		if (r)
			return r;
	}
	return 0;
}

/* ---- virtio-net ---- */

struct net_dev {
	struct net net;
	struct net_backend be;
};

static void release_net(void *dev)
{
	struct net_dev *n = dev;

	net_release(&n->net);
	n->be.ops->close(n->be.be);
	free(n);
}

static int open_slirp(struct net_backend *be, const struct net_config *nc,
		      char *err, size_t errlen)
{
	struct net_slirp_fwd fwds[NET_SLIRP_MAX_FWDS];
	struct net_slirp_config sc = { .fwds = fwds, .nfwds = (unsigned)nc->nfwds };

	if (nc->nfwds > NET_SLIRP_MAX_FWDS) {
		snprintf(err, errlen, "at most %d host forwards", NET_SLIRP_MAX_FWDS);
		return -EINVAL;
	}
	for (size_t i = 0; i < nc->nfwds; i++)
		fwds[i] = (struct net_slirp_fwd){
			.proto = nc->fwds[i].udp ? NET_SLIRP_UDP : NET_SLIRP_TCP,
			.host_addr = { nc->fwds[i].host_addr },
			.host_port = nc->fwds[i].host_port,
			.guest_port = nc->fwds[i].guest_port,
		};
	return net_slirp_open(be, &sc, err, errlen);
}

static int open_net_backend(struct net_backend *be, const struct net_config *nc,
			    char *err, size_t errlen)
{
	char why[512];
	int r;

	if (nc->backend == NET_BACKEND_USER)
		r = open_slirp(be, nc, why, sizeof(why));
	else
		r = net_tap_open(be, nc->tap, nc->create, why, sizeof(why));
	if (r)
		snprintf(err, errlen, "network interface %s: %s", log_str(nc->id).s, why);
	return r;
}

/* The MAC given, or one derived from the interface: the same on every
 * run of the same config, so the guest keeps its address. */
static void pick_mac(const struct net_config *nc, uint8_t mac[6])
{
	char seed[128];

	if (nc->has_mac) {
		memcpy(mac, nc->mac, 6);
		return;
	}
	snprintf(seed, sizeof(seed), "%s/%s", nc->id,
		 nc->backend == NET_BACKEND_USER ? "user" : nc->tap);
	net_mac_generate(mac, seed);
}

static int create_net(struct vm *vm, struct vm_devices *d, const struct net_config *nc,
		      char *err, size_t errlen)
{
	struct net_dev *n = calloc(1, sizeof(*n));
	uint8_t mac[6];

	if (!n)
		return -ENOMEM;
	int r = open_net_backend(&n->be, nc, err, errlen);
	if (r) {
		free(n);
		return r;
	}
	pick_mac(nc, mac);
	r = net_init(&n->net, &n->be, mac);
	if (r) {
		n->be.ops->close(n->be.be);
		free(n);
	} else {
		r = virtio_add(vm, d, nc->id, &net_virtio_ops, &n->net, release_net);
	}
	if (r)
		snprintf(err, errlen, "network interface %s: setting up its virtio device: %s",
			 log_str(nc->id).s, strerror(-r));
	return r;
}

int devices_create_nets(struct vm *vm, struct vm_devices *d, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;

	for (size_t i = 0; i < cfg->nnets; i++) {
		int r = create_net(vm, d, &cfg->nets[i], err, errlen);
		if (r)
			return r;
	}
	return 0;
}
