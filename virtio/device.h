/*
 * The virtio device contract: what a device (blk, net) gives a transport,
 * and the small host handle a transport lends the device at attach time.
 * A device includes this header, never the transport's: it does not know
 * whether it sits behind virtio-mmio or anything else.
 *
 * Threads: every virtio_dev_ops callback runs with the transport's lock
 * held. A device's own event-loop handlers (its backend's completions,
 * frames arriving) take the same lock through host->lock before touching
 * queues or calling the other host functions.
 */
#ifndef MOTE_VIRTIO_DEVICE_H
#define MOTE_VIRTIO_DEVICE_H

#include <stdint.h>

struct evloop;
struct virtq;

/* What a transport does for its device. opaque is the transport. */
struct virtio_host {
	void (*lock)(void *opaque);
	void (*unlock)(void *opaque);
	/* Lock held. After pushing used buffers on queue q: interrupt the
	 * driver if it wants one (virtq_should_notify). */
	void (*signal_used)(void *opaque, unsigned q);
	/* Lock held. Config space changed: bump the generation, interrupt. */
	void (*config_changed)(void *opaque);
	/* Lock held. The device is broken (a malformed queue, a chain with no
	 * room for a status): DEVICE_NEEDS_RESET, and tell the driver. */
	void (*needs_reset)(void *opaque);
	void *opaque;
};

static inline void virtio_host_lock(const struct virtio_host *h) { h->lock(h->opaque); }
static inline void virtio_host_unlock(const struct virtio_host *h) { h->unlock(h->opaque); }
static inline void virtio_host_signal_used(const struct virtio_host *h, unsigned q)
{
	h->signal_used(h->opaque, q);
}
static inline void virtio_host_config_changed(const struct virtio_host *h)
{
	h->config_changed(h->opaque);
}
static inline void virtio_host_needs_reset(const struct virtio_host *h)
{
	h->needs_reset(h->opaque);
}

/* What a device provides. Optional callbacks may be NULL. */
struct virtio_dev_ops {
	const char *name;            /* "blk", "net": for messages */
	uint32_t device_id;          /* VIRTIO_ID_* */
	unsigned num_queues;         /* 1..VIRTIO_DEV_MAX_QUEUES */
	uint16_t queue_max;          /* QueueNumMax: a power of 2, <= VIRTQ_SIZE_MAX */
	/* Feature bits offered (device and ring bits); VERSION_1 is added. */
	uint64_t (*features)(void *dev);
	/* Config space at offset off; must bounds-check (bytes beyond read
	 * as 0: data is zeroed). */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, unsigned len);
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, unsigned len);
	/* Optional: keep host (it outlives the device's attachment) and
	 * register the device's own fds, its backend's among them, on loop. */
	int (*attach)(void *dev, const struct virtio_host *host, struct evloop *loop);
	/* Optional: undo attach. */
	void (*detach)(void *dev, struct evloop *loop);
	/* DRIVER_OK after FEATURES_OK: start using queues[0..num_queues)
	 * (those that are ready) with the negotiated features. Non-zero:
	 * the device needs a reset. */
	int (*activate)(void *dev, struct virtq *queues, uint64_t features);
	/* Stop touching the queues and guest memory; wait for in-flight
	 * I/O. Also called when the device was never activated. */
	void (*reset)(void *dev);
	/* Queue qidx was notified (event-loop thread, device active). */
	void (*queue_notify)(void *dev, unsigned qidx);
};

#define VIRTIO_DEV_MAX_QUEUES 8

#endif
