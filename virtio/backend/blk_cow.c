#include "virtio/backend/blk_cow.h"

#include "virtio/backend/blk_file.h"
#include "virtio/backend/cow_overlay.h"
#include "vmm/base/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * One guest request in flight. It reaches a file backend as sub, which
 * covers one run (reads) or the whole range (writes, flushes), and has the
 * same tag: each file backend keeps its own per-tag state.
 */
struct cow_req {
	struct blk_cow *c;
	struct blk_io_req *r;          /* the device's request */
	uint64_t off, len, pos;        /* its range; bytes done so far */
	uint64_t run;                  /* reads: the run sub covers */
	struct blk_io_req sub;
	struct iovec iov[BLK_IO_MAX_IOV];
};

struct blk_cow {
	struct blk_backend base, store;
	struct cow_overlay ov;
	unsigned depth, inflight;
	struct cow_req *reqs;          /* [depth] */
};

static const struct blk_backend_ops blk_cow_ops;

static void cow_close(void *be)
{
	struct blk_cow *c = be;

	/* Both closes drain; a run the base finishes may go on to the
	 * store, so the store is drained after the base. */
	if (c->base.ops)
		c->base.ops->close(c->base.be);
	if (c->store.ops)
		c->store.ops->close(c->store.be);
	cow_overlay_close(&c->ov);
	free(c->reqs);
	free(c);
}

/* The store backend takes a second descriptor of the overlay; the map
 * stays with the overlay. */
static int open_store(struct blk_cow *c, const char *dir, char *err, size_t errlen)
{
	int e = cow_overlay_open(&c->ov, dir, c->base.size, err, errlen);

	if (e)
		return e;
	int fd = dup(c->ov.fd);
	if (fd < 0) {
		e = -errno;
		snprintf(err, errlen, "ephemeral store in %s: %s", log_str(dir).s, strerror(-e));
		return e;
	}
	return blk_file_adopt(&c->store, fd, c->base.size, BLK_FILE_BUFFERED, c->depth,
			      "ephemeral store", err, errlen);
}

int blk_cow_open(struct blk_backend *out, const char *path, const char *dir, unsigned depth,
		 char *err, size_t errlen)
{
	struct blk_cow *c = calloc(1, sizeof(*c));
	int e;

	if (c)
		c->reqs = calloc(depth, sizeof(*c->reqs));
	if (!c || !c->reqs) {
		free(c);
		snprintf(err, errlen, "image %s: %s", log_str(path).s, strerror(ENOMEM));
		return -ENOMEM;
	}
	c->depth = depth;
	c->ov.fd = -1;
	e = blk_file_open(&c->base, path, BLK_FILE_RO | BLK_FILE_BUFFERED, depth, err, errlen);
	if (!e)
		e = open_store(c, dir, err, errlen);
	if (e) {
		cow_close(c);
		return e;
	}
	*out = (struct blk_backend){ &blk_cow_ops, c, c->base.size, false };
	return 0;
}

unsigned blk_cow_inflight(const struct blk_backend *b)
{
	return ((const struct blk_cow *)b->be)->inflight;
}

/* ---- Submission ---- */

/* sub's iov: bytes [pos, pos+len) of the device's iov. */
static void slice(struct cow_req *q, uint64_t pos, uint64_t len)
{
	const struct blk_io_req *r = q->r;
	unsigned n = 0;

	for (unsigned i = 0; i < r->iovcnt && len; i++) {
		uint64_t l = r->iov[i].iov_len;
		if (pos >= l) {
			pos -= l;
			continue;
		}
		uint64_t take = l - pos < len ? l - pos : len;
		q->iov[n++] = (struct iovec){ (uint8_t *)r->iov[i].iov_base + pos, take };
		len -= take;
		pos = 0;
	}
	q->sub.iov = q->iov;
	q->sub.iovcnt = n;
}

static void sub_done(struct blk_io_req *sub, int err);

/* Send the next read run to whichever file holds it. */
static int next_run(struct cow_req *q)
{
	bool in_store;
	uint64_t run = cow_overlay_run(&q->c->ov, q->off + q->pos, q->len - q->pos, &in_store);
	struct blk_backend *to = in_store ? &q->c->store : &q->c->base;

	if (!run)
		return -EIO;
	q->run = run;
	slice(q, q->pos, run);
	q->sub.offset = q->off + q->pos;
	return to->ops->submit(to->be, &q->sub);
}

static uint64_t iov_total(const struct blk_io_req *r)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < r->iovcnt; i++)
		n += r->iov[i].iov_len;
	return n;
}

static int cow_submit(void *be, struct blk_io_req *r)
{
	struct blk_cow *c = be;
	uint64_t len = iov_total(r);

	if (r->tag >= c->depth || r->iovcnt > BLK_IO_MAX_IOV)
		return -EINVAL;
	/* The map covers the disk's sectors and nothing else: reads within
	 * the disk, writes of whole sectors. */
	if (r->op != BLK_IO_FLUSH &&
	    (r->offset > c->base.size || len > c->base.size - r->offset || !len))
		return -EINVAL;
	if (r->op == BLK_IO_WRITE && (r->offset % COW_SECTOR || len % COW_SECTOR))
		return -EINVAL;
	struct cow_req *q = &c->reqs[r->tag];
	*q = (struct cow_req){ .c = c, .r = r, .off = r->offset, .len = len };
	q->sub = (struct blk_io_req){ .op = r->op, .offset = r->offset, .dsync = r->dsync,
				      .tag = r->tag, .done = sub_done };
	int e;
	if (r->op == BLK_IO_READ) {
		e = next_run(q);
	} else {
		slice(q, 0, len);
		e = c->store.ops->submit(c->store.be, &q->sub);
	}
	if (!e)
		c->inflight++;
	return e;
}

static void cow_kick(void *be)
{
	struct blk_cow *c = be;

	c->base.ops->kick(c->base.be);
	c->store.ops->kick(c->store.be);
}

/* ---- Completion ---- */

static void deliver(struct cow_req *q, int err)
{
	q->c->inflight--;
	q->r->done(q->r, err);
}

static void sub_done(struct blk_io_req *sub, int err)
{
	struct cow_req *q = (struct cow_req *)((char *)sub - offsetof(struct cow_req, sub));

	if (err || q->r->op == BLK_IO_FLUSH) {
		deliver(q, err);
		return;
	}
	if (q->r->op == BLK_IO_WRITE) {
		/* Marked before done(): a read the guest sends after seeing
		 * this write complete must find the new data. */
		cow_overlay_mark(&q->c->ov, q->off, q->len);
		deliver(q, 0);
		return;
	}
	q->pos += q->run;
	if (q->pos < q->len) {
		err = next_run(q);
		if (!err)
			return;           /* kicked by the reap that called us */
	}
	deliver(q, err);
}

static void cow_reap(void *be)
{
	struct blk_cow *c = be;

	c->base.ops->reap(c->base.be);
	c->store.ops->reap(c->store.be);
	cow_kick(c);
}

static void cow_drain(void *be)
{
	struct blk_cow *c = be;

	/* A run that ends in one file may continue in the other. */
	while (c->inflight) {
		c->base.ops->drain(c->base.be);
		c->store.ops->drain(c->store.be);
		/* Each request in flight has its sub in one file backend, and
		 * their drains return only when empty: a guard, not a path. */
		if (!blk_file_inflight(&c->base) && !blk_file_inflight(&c->store))
			break;
	}
}

static int cow_attach(void *be, struct evloop *loop, void (*ready)(void *), void *opaque)
{
	struct blk_cow *c = be;
	int e = c->base.ops->attach(c->base.be, loop, ready, opaque);

	if (e)
		return e;
	e = c->store.ops->attach(c->store.be, loop, ready, opaque);
	if (e)
		c->base.ops->detach(c->base.be, loop);
	return e;
}

static void cow_detach(void *be, struct evloop *loop)
{
	struct blk_cow *c = be;

	c->base.ops->detach(c->base.be, loop);
	c->store.ops->detach(c->store.be, loop);
}

static const struct blk_backend_ops blk_cow_ops = {
	.submit = cow_submit,
	.kick = cow_kick,
	.reap = cow_reap,
	.drain = cow_drain,
	.attach = cow_attach,
	.detach = cow_detach,
	.close = cow_close,
};
