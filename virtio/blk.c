#include "virtio/blk.h"

#include "virtio/device.h"
#include "virtio/virtio.h"
#include "vmm/base/evloop.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HDR_BYTES sizeof(struct virtio_blk_outhdr)

_Static_assert(BLK_SEG_MAX <= BLK_IO_MAX_IOV, "a request's iovecs must fit the backend's");

/* ---- Setup ---- */

static void put_le32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void build_config(struct blk *b)
{
	uint64_t cap = htole64(b->sectors);

	memset(b->config, 0, sizeof(b->config));
	memcpy(b->config, &cap, 8);                        /* capacity */
	put_le32(b->config + 12, BLK_SEG_MAX);             /* seg_max */
	put_le32(b->config + 20, BLK_SECTOR);              /* blk_size */
}

int blk_init(struct blk *b, const struct blk_backend *be, const char *id)
{
	if (be->size % BLK_SECTOR)
		return -EINVAL;
	b->reqs = calloc(BLK_QUEUE_SIZE, sizeof(*b->reqs));
	if (!b->reqs)
		return -ENOMEM;
	b->free = NULL;
	for (unsigned i = BLK_QUEUE_SIZE; i-- > 0;) {
		b->reqs[i].b = b;
		b->reqs[i].io.tag = i;
		b->reqs[i].next_free = b->free;
		b->free = &b->reqs[i];
	}
	/* NUL-padded; a 20-byte id has no terminator, as the spec allows. */
	memset(b->id, 0, sizeof(b->id));
	if (id)
		memcpy(b->id, id, strnlen(id, sizeof(b->id)));
	b->read_only = be->read_only;
	b->sectors = be->size / BLK_SECTOR;
	b->be = *be;
	b->host = NULL;
	b->loop = NULL;
	b->vq = NULL;
	b->stalled = false;
	build_config(b);
	return 0;
}

void blk_release(struct blk *b)
{
	free(b->reqs);
	b->reqs = b->free = NULL;
}

/* ---- Completing requests ---- */

static void put_req(struct blk *b, struct blk_req *r)
{
	r->next_free = b->free;
	b->free = r;
}

static void complete_req(struct blk *b, struct blk_req *r, uint8_t status, uint32_t written)
{
	*r->status = status;
	/* Fails only if the queue broke meanwhile; NEEDS_RESET is set then. */
	if (virtq_push(b->vq, r->head, written) < 0)
		virtio_host_needs_reset(b->host);
	put_req(b, r);
}

/* The backend's verdict on r->io. */
static void io_done(struct blk_io_req *io, int err)
{
	struct blk_req *r = (struct blk_req *)((char *)io - offsetof(struct blk_req, io));
	struct blk *b = r->b;

	if (!b->vq) {
		put_req(b, r);        /* reset meanwhile: the rings are gone */
		return;
	}
	if (err)
		complete_req(b, r, VIRTIO_BLK_S_IOERR, 1);
	else
		complete_req(b, r, VIRTIO_BLK_S_OK, r->written);
}

/* ---- Parsing a chain ---- */

/* Bytes [skip, skip+len) of segs[0..n) as iovecs. Count, or -1 if more
 * than max would be needed. Zero-length pieces are left out. */
static int map_range(struct iovec *iov, unsigned max, const struct virtq_seg *segs,
		     unsigned n, uint64_t skip, uint64_t len)
{
	unsigned cnt = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (skip >= segs[i].len) {
			skip -= segs[i].len;
			continue;
		}
		uint64_t take = segs[i].len - skip;
		if (take > len)
			take = len;
		if (cnt == max)
			return -1;
		iov[cnt++] = (struct iovec){ segs[i].host + skip, take };
		len -= take;
		skip = 0;
	}
	return cnt;
}

/* Copy the header out of guest memory once; the guest may change it. */
static void read_header(const struct virtq_chain *c, struct virtio_blk_outhdr *h)
{
	struct iovec iov[HDR_BYTES];
	int n = map_range(iov, HDR_BYTES, c->seg, c->nread, 0, HDR_BYTES);
	uint8_t *p = (uint8_t *)h;

	for (int i = 0; i < n; i++) {
		memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	h->type = le32toh(h->type);
	h->sector = le64toh(h->sector);
}

static uint8_t *status_byte(const struct virtq_chain *c)
{
	for (unsigned i = c->nseg; i-- > c->nread;)
		if (c->seg[i].len)
			return c->seg[i].host + c->seg[i].len - 1;
	return NULL;
}

static bool in_range(const struct blk *b, uint64_t sector, uint64_t len)
{
	return len % BLK_SECTOR == 0 && sector <= b->sectors &&
	       len / BLK_SECTOR <= b->sectors - sector;
}

/* Fill r->io for a read or write of len bytes at sector from the chain's
 * part [skip, skip+len). Returns a status, VIRTIO_BLK_S_OK to submit. */
static uint8_t prepare_rw(struct blk *b, struct blk_req *r, const struct virtq_chain *c,
			  uint64_t sector, bool write, uint64_t len)
{
	const struct virtq_seg *segs = write ? c->seg : c->seg + c->nread;
	unsigned n = write ? c->nread : c->nseg - c->nread;
	int cnt = map_range(r->iov, BLK_SEG_MAX, segs, n, write ? HDR_BYTES : 0, len);

	if (!in_range(b, sector, len) || cnt < 0)
		return VIRTIO_BLK_S_IOERR;
	r->io = (struct blk_io_req){
		.tag = r->io.tag,
		.op = write ? BLK_IO_WRITE : BLK_IO_READ,
		.offset = sector * BLK_SECTOR,
		.iov = r->iov,
		.iovcnt = cnt,
		/* Without FLUSH negotiated, the driver expects write-through. */
		.dsync = write && !(b->features & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH)),
		.done = io_done,
	};
	r->written = write ? 1 : len + 1;
	return VIRTIO_BLK_S_OK;
}

static void get_id(struct blk *b, struct blk_req *r, const struct virtq_chain *c)
{
	struct iovec iov[BLK_ID_BYTES];
	uint64_t len = c->write_len - 1 < BLK_ID_BYTES ? c->write_len - 1 : BLK_ID_BYTES;
	int n = map_range(iov, BLK_ID_BYTES, c->seg + c->nread, c->nseg - c->nread, 0, len);
	const char *src = b->id;

	for (int i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, src, iov[i].iov_len);
		src += iov[i].iov_len;
	}
	complete_req(b, r, VIRTIO_BLK_S_OK, len + 1);
}

/* Start one request: complete it at once, or hand it to the backend. */
static void handle(struct blk *b, struct blk_req *r, const struct virtq_chain *c)
{
	struct virtio_blk_outhdr h;
	uint8_t st;

	r->head = c->head;
	if (c->read_len < HDR_BYTES) {
		complete_req(b, r, VIRTIO_BLK_S_IOERR, 1);
		return;
	}
	read_header(c, &h);
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		st = prepare_rw(b, r, c, h.sector, false, c->write_len - 1);
		break;
	case VIRTIO_BLK_T_OUT:
		st = b->read_only ? VIRTIO_BLK_S_IOERR :
		     prepare_rw(b, r, c, h.sector, true, c->read_len - HDR_BYTES);
		break;
	case VIRTIO_BLK_T_FLUSH:
		r->io = (struct blk_io_req){ .op = BLK_IO_FLUSH, .tag = r->io.tag,
					     .done = io_done };
		r->written = 1;
		st = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		get_id(b, r, c);
		return;
	default:
		complete_req(b, r, VIRTIO_BLK_S_UNSUPP, 1);
		return;
	}
	/* A zero-length read or write has nothing to do. */
	if (st == VIRTIO_BLK_S_OK && r->io.op != BLK_IO_FLUSH && r->io.iovcnt == 0)
		complete_req(b, r, st, r->written);
	else if (st != VIRTIO_BLK_S_OK || b->be.ops->submit(b->be.be, &r->io) < 0)
		complete_req(b, r, VIRTIO_BLK_S_IOERR, 1);
}

/* Pop and start everything available, then submit it as one batch. */
static void process(struct blk *b)
{
	b->stalled = false;
	for (;;) {
		if (!b->free) {
			b->stalled = true;   /* resumed by blk_poll() */
			break;
		}
		int n = virtq_pop(b->vq, &b->chain);
		if (n < 0)
			virtio_host_needs_reset(b->host);
		if (n <= 0)
			break;
		struct blk_req *r = b->free;
		b->free = r->next_free;
		r->status = status_byte(&b->chain);
		if (!r->status) {
			/* Nowhere to put a status: the driver broke the spec. */
			put_req(b, r);
			virtio_host_needs_reset(b->host);
			continue;
		}
		handle(b, r, &b->chain);
	}
	b->be.ops->kick(b->be.be);
}

/* Reap the backend, and pop again if the queue waited for free slots. */
static void reap(struct blk *b)
{
	b->be.ops->reap(b->be.be);
	if (b->vq && b->stalled)
		process(b);
}

void blk_poll(struct blk *b)
{
	virtio_host_lock(b->host);
	reap(b);
	if (b->vq)
		virtio_host_signal_used(b->host, 0);
	virtio_host_unlock(b->host);
}

/* ---- Transport callbacks (transport lock held) ---- */

static uint64_t blk_features(void *dev)
{
	struct blk *b = dev;
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC) |
		     VIRTIO_BIT(VIRTQ_F_EVENT_IDX);

	return b->read_only ? f | VIRTIO_BIT(VIRTIO_BLK_F_RO) : f;
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
	struct blk *b = dev;

	/* Bytes past the config read as zero (the bus pre-zeroes data). */
	for (unsigned i = 0; i < len && off < sizeof(b->config) - i; i++)
		data[i] = b->config[off + i];
}

static void on_ready(void *opaque)
{
	blk_poll(opaque);
}

static int blk_attach(void *dev, const struct virtio_host *host, struct evloop *loop)
{
	struct blk *b = dev;

	b->host = host;
	if (!b->be.ops->attach)
		return 0;
	int err = b->be.ops->attach(b->be.be, loop, on_ready, b);
	if (!err)
		b->loop = loop;
	return err;
}

static void blk_detach(void *dev, struct evloop *loop)
{
	struct blk *b = dev;

	if (b->loop)
		b->be.ops->detach(b->be.be, b->loop);
	b->loop = NULL;
}

static int blk_activate(void *dev, struct virtq *queues, uint64_t features)
{
	struct blk *b = dev;

	b->features = features;
	b->vq = &queues[0];
	return 0;
}

static void blk_reset(void *dev)
{
	struct blk *b = dev;

	b->vq = NULL;               /* completions from here on are dropped */
	b->be.ops->drain(b->be.be);
	b->stalled = false;
	b->features = 0;
}

static void blk_queue_notify(void *dev, unsigned q)
{
	struct blk *b = dev;

	process(b);
	/* Reads of cached data complete inside io_uring_enter: hand them
	 * back now, under this interrupt, not one event-loop turn later.
	 * Costs one look at the completion ring when there are none. */
	reap(b);
	virtio_host_signal_used(b->host, 0);
}

const struct virtio_dev_ops blk_virtio_ops = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max = BLK_QUEUE_SIZE,
	.features = blk_features,
	.config_read = blk_config_read,
	.attach = blk_attach,
	.detach = blk_detach,
	.activate = blk_activate,
	.reset = blk_reset,
	.queue_notify = blk_queue_notify,
};
