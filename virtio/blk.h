/*
 * virtio-blk (virtio 1.1 section 5.2): one request queue, requests IN,
 * OUT, FLUSH and GET_ID, over a block backend
 * (virtio/backend/blk_backend.h) that the device manager opened and lends
 * to the device. Transport-agnostic: the device plugs in through
 * blk_virtio_ops (virtio/device.h).
 *
 *	struct blk *b = calloc(1, sizeof(*b));     (large: keep it off the stack)
 *	blk_init(b, &backend, drive->id);
 *	... a transport over &blk_virtio_ops, b; attaching it attaches the
 *	    backend to the event loop ...
 *	release the transport first: it resets the device, which waits for
 *	its I/O; then blk_release(b), then close the backend.
 *
 * Request layout is not assumed (VIRTIO_F_ANY_LAYOUT is implied by
 * VERSION_1): the readable bytes are a 16-byte header then OUT data, the
 * writable bytes are IN data then the status byte, however the driver
 * split them into descriptors. A chain without a writable byte cannot
 * carry a status: the device then needs a reset. Other bad requests
 * (short header, length not a multiple of 512, beyond the end of the
 * disk, too many segments, a write to a read-only drive) complete with
 * VIRTIO_BLK_S_IOERR; unknown types with VIRTIO_BLK_S_UNSUPP.
 */
#ifndef MOTE_VIRTIO_BLK_H
#define MOTE_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/backend/blk_backend.h"
#include "virtio/virtq.h"

struct evloop;
struct virtio_dev_ops;
struct virtio_host;

#define BLK_QUEUE_SIZE   256     /* QueueNumMax, and requests in flight */
/* Data segments per request (config seg_max): the most a chain can carry
 * besides its header and status, since the spec caps a chain at the queue
 * size. QEMU offers the same. The guest splits a request with more pages
 * than this, and each extra request costs the guest an exit and an
 * interrupt: at 126, a 1 MiB O_DIRECT read became 2 to 3 requests, at 254
 * 1 to 2 (its pages are contiguous now and then). At most BLK_IO_MAX_IOV. */
#define BLK_SEG_MAX      (BLK_QUEUE_SIZE - 2)
#define BLK_SECTOR       512
#define BLK_ID_BYTES     20      /* VIRTIO_BLK_ID_BYTES */
#define BLK_CONFIG_SIZE  64

/* Feature bits (section 5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX   2
#define VIRTIO_BLK_F_RO        5
#define VIRTIO_BLK_F_BLK_SIZE  6
#define VIRTIO_BLK_F_FLUSH     9

/* Request types and status values (section 5.2.6). */
#define VIRTIO_BLK_T_IN        0
#define VIRTIO_BLK_T_OUT       1
#define VIRTIO_BLK_T_FLUSH     4
#define VIRTIO_BLK_T_GET_ID    8
#define VIRTIO_BLK_S_OK        0
#define VIRTIO_BLK_S_IOERR     1
#define VIRTIO_BLK_S_UNSUPP    2

/* The request header, as the driver lays it out (little-endian). */
struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk;

/* One request in flight; the backend sees only io. */
struct blk_req {
	struct blk_io_req io;
	struct blk *b;
	uint16_t head;
	uint8_t *status;           /* the chain's last writable byte */
	uint32_t written;          /* used length on success */
	struct blk_req *next_free;
	struct iovec iov[BLK_SEG_MAX];
};

struct blk {
	char id[BLK_ID_BYTES];     /* GET_ID answer, NUL-padded */
	bool read_only;
	uint64_t sectors;
	struct blk_backend be;     /* lent by the device manager */
	const struct virtio_host *host;  /* set by attach */
	struct evloop *loop;       /* where the backend is attached */
	struct virtq *vq;          /* set while the driver has it active */
	uint64_t features;         /* negotiated */
	struct blk_req *reqs, *free;
	bool stalled;              /* stopped popping: every request was busy */
	uint8_t config[BLK_CONFIG_SIZE];
	struct virtq_chain chain;  /* scratch for virtq_pop */
};

/* The device's side of the transport; dev is the struct blk. */
extern const struct virtio_dev_ops blk_virtio_ops;

/* Set b up over an opened backend (not owned: the caller closes it after
 * blk_release). GET_ID answers the first 20 bytes of id. Returns 0,
 * -EINVAL (size not a multiple of 512) or -ENOMEM. */
int blk_init(struct blk *b, const struct blk_backend *be, const char *id)
	__attribute__((warn_unused_result));

/* Free b (after virtio_mmio_release() of its transport). */
void blk_release(struct blk *b);

/* What the backend's ready callback runs: reap the backend, complete
 * requests, interrupt the guest. Exposed for tests. */
void blk_poll(struct blk *b);

#endif
