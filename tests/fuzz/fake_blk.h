/*
 * A fake block backend for the virtio-blk targets: a 64 KiB disk in
 * memory. It checks every request the device hands it (iovecs inside
 * guest RAM, offsets and lengths inside the disk, sector multiples, tags
 * unique in flight), holds requests until the target completes them
 * (some with an error, in any order), and copies data so ASan sees every
 * byte the device lets it touch.
 */
#ifndef MOTE_TESTS_FUZZ_FAKE_BLK_H
#define MOTE_TESTS_FUZZ_FAKE_BLK_H

#include "tests/fuzz/fuzz.h"
#include "virtio/backend/blk_backend.h"
#include "virtio/blk.h"

#include <errno.h>

#define FAKE_DISK (64 * 1024)

struct fake_blk {
	uint8_t disk[FAKE_DISK];
	const uint8_t *ram;          /* every iovec must lie inside it */
	uint64_t ram_size;
	struct blk_io_req *pending[BLK_QUEUE_SIZE];
	unsigned npending;
	bool busy[BLK_QUEUE_SIZE];   /* tags in flight */
	int submit_err;              /* next submit fails with it (once) */
	uint64_t submitted, completed;
};

static void fake_blk_check(struct fake_blk *f, const struct blk_io_req *r)
{
	uint64_t total = 0;

	FZ_CHECK(r->done != NULL);
	FZ_CHECK(f->npending < BLK_QUEUE_SIZE);
	FZ_CHECK(r->tag < BLK_QUEUE_SIZE && !f->busy[r->tag]);
	if (r->op == BLK_IO_FLUSH)
		return;
	FZ_CHECK(r->op == BLK_IO_READ || r->op == BLK_IO_WRITE);
	FZ_CHECK(r->iovcnt >= 1 && r->iovcnt <= BLK_SEG_MAX);
	for (unsigned i = 0; i < r->iovcnt; i++) {
		FZ_CHECK(r->iov[i].iov_len > 0);
		FZ_CHECK(fz_inside(r->iov[i].iov_base, r->iov[i].iov_len, f->ram, f->ram_size));
		total += r->iov[i].iov_len;
	}
	FZ_CHECK(r->offset % BLK_SECTOR == 0 && total % BLK_SECTOR == 0);
	FZ_CHECK(r->offset <= FAKE_DISK && total <= FAKE_DISK - r->offset);
}

static int fake_blk_submit(void *be, struct blk_io_req *r)
{
	struct fake_blk *f = be;

	fake_blk_check(f, r);
	if (f->submit_err) {
		int e = f->submit_err;
		f->submit_err = 0;
		return e;
	}
	f->busy[r->tag] = true;
	f->pending[f->npending++] = r;
	f->submitted++;
	return 0;
}

static void fake_blk_kick(void *be)
{
}

/* Complete pending request i with err (0: do the I/O). */
static void fake_blk_complete(struct fake_blk *f, unsigned i, int err)
{
	struct blk_io_req *r = f->pending[i];
	uint64_t off = r->offset;

	/* Out of the list before done(), which may submit more. */
	f->pending[i] = f->pending[--f->npending];
	f->busy[r->tag] = false;
	for (unsigned k = 0; !err && r->op != BLK_IO_FLUSH && k < r->iovcnt; k++) {
		if (r->op == BLK_IO_READ)
			memcpy(r->iov[k].iov_base, f->disk + off, r->iov[k].iov_len);
		else
			memcpy(f->disk + off, r->iov[k].iov_base, r->iov[k].iov_len);
		off += r->iov[k].iov_len;
	}
	f->completed++;
	r->done(r, err);
}

/* reap: everything, in order, without errors; the targets call
 * fake_blk_complete themselves for other orders. */
static void fake_blk_reap(void *be)
{
	struct fake_blk *f = be;

	while (f->npending)
		fake_blk_complete(f, 0, 0);
}

static void fake_blk_close(void *be)
{
}

/* No attach: completions happen when the target says. */
static const struct blk_backend_ops fake_blk_ops = {
	.submit = fake_blk_submit,
	.kick = fake_blk_kick,
	.reap = fake_blk_reap,
	.drain = fake_blk_reap,
	.close = fake_blk_close,
};

#endif
