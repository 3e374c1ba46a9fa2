/*
 * virtio-mmio transport, version 2 (virtio 1.1 section 4.2): the register
 * file a guest driver sees, the status state machine, feature negotiation,
 * queue setup, interrupts and queue notifications. Device backends (blk,
 * net) plug in through struct virtio_dev_ops and never see registers.
 *
 * Wiring, done by the VM core (devices never call KVM):
 *
 *	struct irq_line irq;          irq_line_init(&irq, gsi)
 *	virtio_mmio_init(&t, mem, &irq, &blk_virtio_ops, blk);
 *	bus_register(mmio, base, VIRTIO_MMIO_SIZE, &virtio_mmio_bus_ops, &t, "vda");
 *	for (q = 0; q < virtio_mmio_num_queues(&t); q++)
 *		KVM_IOEVENTFD { .addr = base + VIRTIO_MMIO_QUEUE_NOTIFY, .len = 4,
 *		                .fd = virtio_mmio_notify_fd(&t, q),
 *		                .datamatch = q, .flags = KVM_IOEVENTFD_FLAG_DATAMATCH }
 *	KVM_IRQFD { .fd = irq.fd, .gsi = gsi }
 *	virtio_mmio_attach(&t, loop);    before evloop_run()
 *	... VM runs ...
 *	virtio_mmio_release(&t);         after the vCPUs and the loop stopped
 *
 * Threads: vCPU threads call the bus ops; the evloop thread runs device
 * work. Every entry point takes the transport's mutex, and every
 * virtio_dev_ops callback runs with it held. A QueueNotify write that
 * reaches the bus (no ioeventfd registered) only signals the queue's
 * eventfd, so device work still happens on the evloop thread.
 */
#ifndef MOTE_VIRTIO_MMIO_H
#define MOTE_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/device.h"
#include "virtio/virtq.h"

struct bus_ops;
struct evloop;
struct gmem;
struct irq_line;
struct virtio_mmio;

#define VIRTIO_MMIO_SIZE          0x200   /* bus range: registers + config */
#define VIRTIO_MMIO_MAX_QUEUES    VIRTIO_DEV_MAX_QUEUES
#define VIRTIO_MMIO_MAGIC         0x74726976  /* "virt" */
#define VIRTIO_MMIO_VENDOR        0x45544f4d  /* "MOTE" */

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE       0x000
#define VIRTIO_MMIO_VERSION           0x004
#define VIRTIO_MMIO_DEVICE_ID         0x008
#define VIRTIO_MMIO_VENDOR_ID         0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES   0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES   0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL         0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX     0x034
#define VIRTIO_MMIO_QUEUE_NUM         0x038
#define VIRTIO_MMIO_QUEUE_READY       0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY      0x050   /* ioeventfd address: base + this */
#define VIRTIO_MMIO_INTERRUPT_STATUS  0x060
#define VIRTIO_MMIO_INTERRUPT_ACK     0x064
#define VIRTIO_MMIO_STATUS            0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW    0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH   0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW  0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW  0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL           0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW       0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH      0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW      0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH     0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG            0x100

/* InterruptStatus bits. */
#define VIRTIO_MMIO_INT_VRING         0x1
#define VIRTIO_MMIO_INT_CONFIG        0x2

struct virtio_mmio_notify {
	struct virtio_mmio *t;
	unsigned idx;
	int fd;                      /* eventfd; KVM_IOEVENTFD target */
};

/* Registers the driver wrote for one queue, before QueueReady. */
struct virtio_mmio_qregs {
	uint16_t num;
	uint64_t desc, driver, device;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct gmem *mem;
	struct irq_line *irq;
	const struct virtio_dev_ops *ops;
	void *dev;
	struct evloop *loop;         /* set by virtio_mmio_attach() */
	struct virtio_host host;     /* lent to the device at attach */
	uint64_t device_features, driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status, isr, config_gen;
	bool active;                 /* activate() succeeded since reset */
	struct virtq vq[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_mmio_qregs qregs[VIRTIO_MMIO_MAX_QUEUES];
	struct virtio_mmio_notify notify[VIRTIO_MMIO_MAX_QUEUES];
};

/* Bus handlers; opaque is the struct virtio_mmio. */
extern const struct bus_ops virtio_mmio_bus_ops;

/*
 * Set up t for device dev (ops must outlive t) over guest memory mem,
 * interrupting through irq (owned by the caller). Creates one notify
 * eventfd per queue. Returns 0, -EINVAL (bad ops) or -errno.
 */
int virtio_mmio_init(struct virtio_mmio *t, const struct gmem *mem, struct irq_line *irq,
		     const struct virtio_dev_ops *ops, void *dev)
	__attribute__((warn_unused_result));

/* Add the notify eventfds (and, through ops->attach, the device's fds) to
 * loop. Call once, before evloop_run(). Returns 0 or -errno. */
int virtio_mmio_attach(struct virtio_mmio *t, struct evloop *loop)
	__attribute__((warn_unused_result));

/* Reset the device, detach from the loop, close the eventfds. */
void virtio_mmio_release(struct virtio_mmio *t);

/* Number of queues (for KVM_IOEVENTFD wiring). */
unsigned virtio_mmio_num_queues(const struct virtio_mmio *t);

/* Queue q's notify eventfd, or -1 if q is out of range. */
int virtio_mmio_notify_fd(const struct virtio_mmio *t, unsigned q);

/* What the evloop does when queue q's eventfd fires: drain it and, if the
 * device is live, run its queue_notify. Exposed for tests. */
void virtio_mmio_poll_notify(struct virtio_mmio *t, unsigned q);

/* Device side through struct virtio_host; exposed for tests, which
 * drive a transport without a device's help. Lock held where noted in
 * virtio/device.h. */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
void virtio_mmio_signal_used(struct virtio_mmio *t, unsigned q);
void virtio_mmio_config_changed(struct virtio_mmio *t);
void virtio_mmio_needs_reset(struct virtio_mmio *t);

#endif
