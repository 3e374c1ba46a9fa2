#include "virtio/mmio.h"

#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/efd.h"
#include "vmm/base/evloop.h"
#include "vmm/base/irq.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static uint32_t get32(const uint8_t *d)
{
	uint32_t v;

	memcpy(&v, d, 4);
	return v;
}

static void put32(uint8_t *d, uint32_t v)
{
	memcpy(d, &v, 4);
}

static bool ops_valid(const struct virtio_dev_ops *ops)
{
	uint16_t m = ops->queue_max;

	return ops->num_queues >= 1 && ops->num_queues <= VIRTIO_MMIO_MAX_QUEUES &&
	       m >= 1 && m <= VIRTQ_SIZE_MAX && !(m & (m - 1)) && ops->features &&
	       ops->config_read && ops->activate && ops->reset && ops->queue_notify;
}

static void close_notify_fds(struct virtio_mmio *t)
{
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		if (t->notify[i].fd < 0)
			continue;
		if (t->loop)
			evloop_del(t->loop, t->notify[i].fd);
		close(t->notify[i].fd);
		t->notify[i].fd = -1;
	}
}

static void host_lock(void *t) { virtio_mmio_lock(t); }
static void host_unlock(void *t) { virtio_mmio_unlock(t); }
static void host_signal_used(void *t, unsigned q) { virtio_mmio_signal_used(t, q); }
static void host_config_changed(void *t) { virtio_mmio_config_changed(t); }
static void host_needs_reset(void *t) { virtio_mmio_needs_reset(t); }

int virtio_mmio_init(struct virtio_mmio *t, const struct gmem *mem, struct irq_line *irq,
		     const struct virtio_dev_ops *ops, void *dev)
{
	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++)
		t->notify[i] = (struct virtio_mmio_notify){ t, i, -1 };
	if (!ops || !ops_valid(ops))
		return -EINVAL;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		virtq_init(&t->vq[i], mem);
		t->qregs[i].num = ops->queue_max;
	}
	for (unsigned i = 0; i < ops->num_queues; i++) {
		t->notify[i].fd = efd_new();
		if (t->notify[i].fd < 0) {
			int err = t->notify[i].fd;
			close_notify_fds(t);
			return err;
		}
	}
	int err = pthread_mutex_init(&t->lock, NULL);
	if (err) {
		close_notify_fds(t);
		return -err;
	}
	t->mem = mem;
	t->irq = irq;
	t->ops = ops;
	t->dev = dev;
	t->device_features = ops->features(dev) | VIRTIO_BIT(VIRTIO_F_VERSION_1);
	t->host = (struct virtio_host){ host_lock, host_unlock, host_signal_used,
					host_config_changed, host_needs_reset, t };
	return 0;
}

static void on_notify(void *opaque, uint32_t events)
{
	struct virtio_mmio_notify *n = opaque;

	virtio_mmio_poll_notify(n->t, n->idx);
}

int virtio_mmio_attach(struct virtio_mmio *t, struct evloop *loop)
{
	int err = 0;
	unsigned i;

	for (i = 0; i < t->ops->num_queues; i++) {
		err = evloop_add(loop, t->notify[i].fd, EPOLLIN, on_notify, &t->notify[i]);
		if (err)
			goto undo;
	}
	t->loop = loop;
	if (t->ops->attach) {
		virtio_mmio_lock(t);
		err = t->ops->attach(t->dev, &t->host, loop);
		virtio_mmio_unlock(t);
		if (err)
			goto undo;
	}
	return 0;
undo:
	while (i-- > 0)
		evloop_del(loop, t->notify[i].fd);
	t->loop = NULL;
	return err;
}

static void reset(struct virtio_mmio *t)
{
	t->ops->reset(t->dev);
	t->active = false;
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		virtq_reset(&t->vq[i]);
		t->qregs[i] = (struct virtio_mmio_qregs){ .num = t->ops->queue_max };
	}
	t->driver_features = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->status = t->isr = 0;
}

void virtio_mmio_release(struct virtio_mmio *t)
{
	if (!t->ops)
		return;           /* init failed, or released already */
	virtio_mmio_lock(t);
	reset(t);
	virtio_mmio_unlock(t);
	close_notify_fds(t);
	if (t->loop && t->ops->detach)
		t->ops->detach(t->dev, t->loop);
	t->loop = NULL;
	pthread_mutex_destroy(&t->lock);
	t->ops = NULL;
}

unsigned virtio_mmio_num_queues(const struct virtio_mmio *t)
{
	return t->ops->num_queues;
}

int virtio_mmio_notify_fd(const struct virtio_mmio *t, unsigned q)
{
	return q < t->ops->num_queues ? t->notify[q].fd : -1;
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

void virtio_mmio_poll_notify(struct virtio_mmio *t, unsigned q)
{
	if (q >= t->ops->num_queues)
		return;
	/* Drain first: a notify arriving while the device works re-arms it.
	 * Nothing pending: look at the queue anyway. */
	efd_drain(t->notify[q].fd);
	virtio_mmio_lock(t);
	if (t->active && t->vq[q].ready)
		t->ops->queue_notify(t->dev, q);
	virtio_mmio_unlock(t);
}

static void kick(struct virtio_mmio *t, unsigned q)
{
	efd_signal(t->notify[q].fd);
}

/* One edge each time a status bit is set, even if it was set already: an
 * edge lost while the guest had the pin masked then costs one interrupt,
 * not the device. A redundant edge only makes the guest read the status. */
static void raise_isr(struct virtio_mmio *t, uint32_t bit)
{
	t->isr |= bit;
	irq_line_trigger(t->irq);
}

void virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q)
{
	if (q < t->ops->num_queues && virtq_should_notify(&t->vq[q]))
		raise_isr(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_gen++;
	raise_isr(t, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_needs_reset(struct virtio_mmio *t)
{
	if (t->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* Spec 2.1.2: once DRIVER_OK, say so with a config-change interrupt. */
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_isr(t, VIRTIO_MMIO_INT_CONFIG);
}

static bool features_acceptable(const struct virtio_mmio *t)
{
	uint64_t f = t->driver_features;

	return !(f & ~t->device_features) && (f & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static void activate(struct virtio_mmio *t)
{
	if (t->ops->activate(t->dev, t->vq, t->driver_features)) {
		virtio_mmio_needs_reset(t);
		return;
	}
	t->active = true;
	/* Buffers made available before DRIVER_OK get processed too, on the
	 * evloop thread rather than this vCPU thread. */
	for (unsigned i = 0; i < t->ops->num_queues; i++)
		if (t->vq[i].ready)
			kick(t, i);
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		reset(t);
		return;
	}
	/* Drivers only ever add bits; NEEDS_RESET is the device's to set. */
	uint32_t add = v & 0xff & ~t->status & ~VIRTIO_STATUS_NEEDS_RESET;

	/* Refusing FEATURES_OK is how a device rejects a feature set. */
	if ((add & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(t))
		add &= ~VIRTIO_STATUS_FEATURES_OK;
	/* Only features accepted, in this write or before, may go live: one
	 * write of FEATURES_OK|DRIVER_OK with refused features must not
	 * activate the device (virtio 1.1 section 3.1.1). */
	if ((add & VIRTIO_STATUS_DRIVER_OK) &&
	    !((t->status | add) & VIRTIO_STATUS_FEATURES_OK)) {
		add &= ~VIRTIO_STATUS_DRIVER_OK;
		virtio_mmio_needs_reset(t);
	}
	t->status |= add;
	if (add & VIRTIO_STATUS_DRIVER_OK)
		activate(t);
}

static bool queue_configurable(const struct virtio_mmio *t)
{
	return t->queue_sel < t->ops->num_queues && !t->vq[t->queue_sel].ready;
}

static void write_queue_ready(struct virtio_mmio *t, uint32_t v)
{
	unsigned q = t->queue_sel;

	if (q >= t->ops->num_queues)
		return;
	if (!v) {
		virtq_reset(&t->vq[q]);
		return;
	}
	if (t->vq[q].ready)
		return;
	const struct virtio_mmio_qregs *r = &t->qregs[q];
	int err = -EINVAL;
	/* Ring features must be known: queues come after FEATURES_OK. */
	if ((t->status & VIRTIO_STATUS_FEATURES_OK) && r->num <= t->ops->queue_max)
		err = virtq_enable(&t->vq[q], r->num, r->desc, r->driver, r->device,
				   t->driver_features);
	if (err)
		virtio_mmio_needs_reset(t);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffull) | ((uint64_t)val << 32);
	else
		*v = (*v & ~0xffffffffull) | val;
}

static void write_queue_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	/* The spec forbids changing a live queue; ignore such writes. */
	if (!queue_configurable(t))
		return;
	struct virtio_mmio_qregs *r = &t->qregs[t->queue_sel];

	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		r->num = v > 0xffff ? 0 : v;    /* 0: refused at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&r->desc, off & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_half(&r->driver, off & 4, v);
		break;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_half(&r->device, off & 4, v);
		break;
	}
}

static uint32_t feature_half(uint64_t f, uint32_t sel)
{
	return sel == 0 ? (uint32_t)f : sel == 1 ? (uint32_t)(f >> 32) : 0;
}

static uint32_t read_reg(struct virtio_mmio *t, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return feature_half(t->device_features, t->dev_feat_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return t->queue_sel < t->ops->num_queues ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return t->queue_sel < t->ops->num_queues && t->vq[t->queue_sel].ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->isr;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff;      /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_gen;
	default:
		return 0;               /* write-only or reserved */
	}
}

static void write_reg(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Frozen once FEATURES_OK is set (spec 3.1.1). */
		if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&t->driver_features, t->drv_feat_sel, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		write_queue_ready(t, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		if (v < t->ops->num_queues)
			kick(t, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		write_status(t, v);
		break;
	default:
		write_queue_reg(t, off, v);
		break;
	}
}

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, unsigned len)
{
	struct virtio_mmio *t = opaque;

	virtio_mmio_lock(t);
	if (off >= VIRTIO_MMIO_CONFIG)
		t->ops->config_read(t->dev, off - VIRTIO_MMIO_CONFIG, data, len);
	else if (len == 4 && !(off & 3))   /* registers are 32-bit only */
		put32(data, read_reg(t, off));
	virtio_mmio_unlock(t);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data, unsigned len)
{
	struct virtio_mmio *t = opaque;

	virtio_mmio_lock(t);
	if (off >= VIRTIO_MMIO_CONFIG) {
		if (t->ops->config_write)
			t->ops->config_write(t->dev, off - VIRTIO_MMIO_CONFIG, data, len);
	} else if (len == 4 && !(off & 3)) {
		write_reg(t, off, get32(data));
	}
	virtio_mmio_unlock(t);
}

const struct bus_ops virtio_mmio_bus_ops = {
	.read = mmio_read,
	.write = mmio_write,
};
