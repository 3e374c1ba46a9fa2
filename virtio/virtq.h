/*
 * The device side of a virtio split virtqueue (virtio 1.1 section 2.6).
 *
 * Knows nothing of KVM, of transports or of notifications: guest memory is
 * reached only through vmm/base/gmem.h, and the caller decides what to do with
 * a chain and when to interrupt. The guest is hostile: every field read
 * from the rings is read once into host memory, checked, and only the copy
 * is used. A malformed ring makes the queue "broken": virtq_pop() and
 * virtq_push() then fail until the queue is reset, and the device reports
 * DEVICE_NEEDS_RESET.
 *
 * Completions are batched: virtq_push() only writes a used element; the
 * driver sees a batch when virtq_publish() stores used->idx once, behind
 * one release barrier. virtq_should_notify() publishes first, so a device
 * that ends every batch of pushes with it (through the transport's
 * signal_used) needs no explicit publish. Rule for devices: every path
 * that pushes ends in virtq_publish() or virtq_should_notify() before it
 * returns to the event loop, or the guest waits for completions it will
 * never see.
 *
 * Not thread-safe: one thread at a time (the transport's lock).
 */
#ifndef MOTE_VIRTIO_VIRTQ_H
#define MOTE_VIRTIO_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

struct gmem;

/* Largest queue a device may offer; also the longest chain (virtio caps a
 * chain, indirect tables included, at the queue size). */
#define VIRTQ_SIZE_MAX 1024

/* Ring feature bits (virtio 1.1 section 6), negotiated by the transport. */
#define VIRTQ_F_INDIRECT_DESC 28
#define VIRTQ_F_EVENT_IDX     29

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* avail->flags: the driver asks for no used-buffer interrupts. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Guest-visible layout, little-endian (x86 hosts only). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];      /* [size], then used_event */
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* [size], then avail_event */
};

/* Bytes each part occupies for a queue of the given size (event fields
 * included, as the spec lays them out whether or not EVENT_IDX is used). */
#define VIRTQ_DESC_BYTES(n)  (16ull * (n))
#define VIRTQ_AVAIL_BYTES(n) (6ull + 2ull * (n))
#define VIRTQ_USED_BYTES(n)  (6ull + 8ull * (n))

/* One buffer of a chain, already checked to lie inside guest RAM. */
struct virtq_seg {
	uint64_t gpa;
	uint8_t *host;        /* gmem_ptr(gpa, len): valid for the VM's life */
	uint32_t len;         /* may be 0 */
	bool write;           /* device-writable */
};

/* A popped descriptor chain: device-readable segments first (nread of
 * them), then device-writable ones, as the spec requires. */
struct virtq_chain {
	uint16_t head;        /* give back to virtq_push() */
	unsigned nseg, nread;
	uint64_t read_len, write_len;   /* byte totals of each part */
	struct virtq_seg seg[VIRTQ_SIZE_MAX];
};

struct virtq {
	const struct gmem *mem;
	uint16_t size;             /* 0 until enabled */
	bool ready;
	bool broken;               /* malformed ring seen; cleared by reset */
	bool event_idx, indirect;  /* negotiated ring features */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, resolved and checked once at enable. */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail;       /* next avail entry to pop */
	uint16_t avail_shadow;     /* last avail->idx read (and checked) */
	uint16_t used_idx;         /* next used entry to write: pushed, maybe unpublished */
	uint16_t published_used;   /* last value stored to used->idx (never read back) */
	uint16_t signalled_used;   /* published_used at the last virtq_should_notify() */
	uint16_t outstanding;      /* popped, neither pushed nor unpopped (for unpop) */
};

/* Put q in its reset state (not ready), over guest memory mem. */
void virtq_init(struct virtq *q, const struct gmem *mem);

/* Forget everything the guest configured; q stays bound to its memory. */
void virtq_reset(struct virtq *q);

/*
 * Make q live (the driver wrote QueueReady = 1). size must be a power of 2
 * in 1..VIRTQ_SIZE_MAX; the three parts must be aligned (16, 2, 4) and lie
 * wholly inside guest RAM. features: the negotiated feature bits (only the
 * ring bits matter). Returns 0, -EINVAL (bad size/alignment) or -EFAULT.
 */
int virtq_enable(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail,
		 uint64_t used, uint64_t features)
	__attribute__((warn_unused_result));

/*
 * Take the next available chain. Returns 1 and fills *c, 0 if the ring is
 * empty (or q is not ready), or -EINVAL/-EFAULT for a malformed ring (q is
 * then broken; -EIO for every later call). With EVENT_IDX, an empty ring
 * also publishes avail_event so the driver notifies on its next buffer.
 */
int virtq_pop(struct virtq *q, struct virtq_chain *c)
	__attribute__((warn_unused_result));

/* Hand chain head back with written bytes: writes the used element only;
 * the driver sees it after virtq_publish() (or virtq_should_notify()).
 * Publishes by itself when a whole ring's worth is pending, so a pending
 * element is never overwritten. 0, or -EIO if q is broken or not ready,
 * -EINVAL if head is out of range. */
int virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* Make every pushed element visible: one release barrier, one used->idx
 * store; nothing when none is pending. Works on a broken queue too
 * (completions pushed before it broke are real). */
void virtq_publish(struct virtq *q);

/*
 * Give back the n chains popped last, unused: the next virtq_pop()s return
 * them again (re-read and re-checked: the guest may have changed them). Only
 * for chains popped and not pushed since the queue was enabled, and the n
 * most recent pops must be exactly those not pushed: a device that pushes
 * some of a batch and unpops the rest pushes the oldest. 0, -EIO if q is
 * broken or not ready, -EINVAL if n is more than the popped chains not yet
 * pushed or unpopped (nothing changes then).
 */
int virtq_unpop(struct virtq *q, uint16_t n);

/*
 * After one or more pushes: publish them, then does the driver want a
 * used-buffer interrupt? Honours used_event (EVENT_IDX, 16-bit
 * wrap-around) or else VIRTQ_AVAIL_F_NO_INTERRUPT. Only pushes since the
 * previous call count: false when there were none.
 */
bool virtq_should_notify(struct virtq *q);

/* Pure helper, exposed for tests: the spec's vring_need_event(). */
bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx);

#endif
