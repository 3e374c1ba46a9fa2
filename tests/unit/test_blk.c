/* Unit tests for virtio/blk.c and the image-file backend: requests built
 * by a fake guest driver, sent through the real virtio-mmio transport,
 * served by a fake in-memory backend or by a temporary image on io_uring
 * (the real kernel's, or a stand-in that shows the order of operations).
 * The file backend's source is included to reach its private state. */
#include "tests/unit/virtq_driver.c"
#include "virtio/backend/blk_file.c"
#include "virtio/blk.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define RAM_SIZE   (1024 * 1024)
#define DISK_SIZE  (64 * 1024)          /* 128 sectors */
#define RING       0x1000ull
#define TABLE      0x8000ull
#define HDR        0x10000ull
#define STATUS     0x10100ull
#define DATA       0x20000ull
#define DATA2      0x40000ull
#define FEATURES   (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | \
		    VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC))

/* ---- A stand-in for the kernel's side of io_uring ----
 *
 * This io_uring_submit() is linked in front of liburing's, so the file
 * backend (whose source is included above) calls it. Normally it passes
 * straight on: io_uring_submit_and_wait(ring, 0) is the same call under
 * another name. In hold mode it plays the kernel instead: it takes the
 * queued SQEs off the submission ring and keeps them; an operation is
 * carried out (for real, on the image), and its completion posted to the
 * completion ring with the eventfd signalled, only when the test says so.
 * The log says, in order, what the backend issued and what completed, so
 * a test can show that a flush's fdatasync went out only after the writes
 * before it had completed, and that the guest saw the flush complete only
 * after the fdatasync did. Its state is global because liburing's call
 * has no room for a context; each test that holds releases it again.
 */
#define FK_MAX 64

static struct {
	bool hold;
	struct io_uring *ring;     /* the one ring being held */
	int efd;                   /* its registered completion eventfd */
	struct io_uring_sqe sqe[FK_MAX];   /* what was submitted, in order */
	bool done[FK_MAX];
	unsigned n;
	char log[1024];
} fk;

static const char *fk_name(const struct io_uring_sqe *s)
{
	switch (s->opcode) {
	case IORING_OP_READV:  return "read";
	case IORING_OP_WRITEV: return "write";
	case IORING_OP_FSYNC:
		return s->fsync_flags & IORING_FSYNC_DATASYNC ? "fdatasync" : "fsync";
	default:               return "other";
	}
}

static void fk_log(const char *what, const struct io_uring_sqe *s)
{
	size_t l = strlen(fk.log);

	snprintf(fk.log + l, sizeof(fk.log) - l, "%s%s:%s", l ? " " : "", what, fk_name(s));
}

int io_uring_submit(struct io_uring *ring)
{
	struct io_uring_sq *sq = &ring->sq;
	int n = 0;

	if (!fk.hold || ring != fk.ring)
		return io_uring_submit_and_wait(ring, 0);
	for (; sq->sqe_head != sq->sqe_tail; sq->sqe_head++, n++) {
		ck_assert_uint_lt(fk.n, FK_MAX);
		fk.sqe[fk.n] = sq->sqes[sq->sqe_head & sq->ring_mask];
		fk.done[fk.n] = false;
		fk_log("submit", &fk.sqe[fk.n++]);
	}
	/* What the kernel does once it has consumed them: free the slots. */
	io_uring_smp_store_release(sq->khead, sq->sqe_head);
	return n;
}

static void fk_hold(struct io_uring *ring, int efd)
{
	memset(&fk, 0, sizeof(fk));
	fk.hold = true;
	fk.ring = ring;
	fk.efd = efd;
}

/* Carry out a held operation as the kernel would have. */
static int fk_perform(const struct io_uring_sqe *s)
{
	const struct iovec *iov = (const struct iovec *)(uintptr_t)s->addr;
	ssize_t n = -1;

	switch (s->opcode) {
	case IORING_OP_READV:
		n = preadv(s->fd, iov, (int)s->len, (off_t)s->off);
		break;
	case IORING_OP_WRITEV:
		n = pwritev2(s->fd, iov, (int)s->len, (off_t)s->off, (int)s->rw_flags);
		break;
	case IORING_OP_FSYNC:
		n = s->fsync_flags & IORING_FSYNC_DATASYNC ? fdatasync(s->fd) : fsync(s->fd);
		break;
	default:
		ck_abort_msg("fake io_uring: unexpected opcode %u", s->opcode);
	}
	return n < 0 ? -errno : (int)n;
}

/* The i-th submitted operation completes: carried out unless res (a
 * -errno to report instead) is given, posted, and the eventfd signalled. */
static void fk_complete_res(unsigned i, bool perform, int res)
{
	struct io_uring_cq *cq = &fk.ring->cq;
	unsigned tail = *cq->ktail;
	uint64_t one = 1;

	ck_assert_uint_lt(i, fk.n);
	ck_assert_msg(!fk.done[i], "operation %u completed twice", i);
	ck_assert_uint_lt(tail - *cq->khead, cq->ring_entries);
	if (perform)
		res = fk_perform(&fk.sqe[i]);
	fk.done[i] = true;
	fk_log("done", &fk.sqe[i]);
	cq->cqes[tail & cq->ring_mask] =
		(struct io_uring_cqe){ .user_data = fk.sqe[i].user_data, .res = res };
	io_uring_smp_store_release(cq->ktail, tail + 1);
	ck_assert_int_eq(write(fk.efd, &one, sizeof(one)), sizeof(one));
}

static void fk_complete(unsigned i)
{
	fk_complete_res(i, true, 0);
}

/* Let everything still held happen, then stop holding. */
static void fk_release(void)
{
	for (unsigned i = 0; i < fk.n; i++)
		if (!fk.done[i])
			fk_complete(i);
	fk.hold = false;
}

/* ---- A fake backend: an in-memory disk; requests wait for reap(). ---- */

struct fake_be {
	uint8_t disk[DISK_SIZE];
	struct blk_io_req *pending[2 * BLK_QUEUE_SIZE];
	unsigned npending, submits, flushes;
	unsigned max_pending;      /* the most ever in flight at once */
	unsigned nfinished;        /* the first nfinished pending are done */
	int fail;                  /* -errno to report, or 0 */
	/* Like io_uring on cached data: kick() finishes the requests at
	 * once and signals efd; reap() still delivers them. */
	bool done_on_kick;
	int efd;
	void (*ready)(void *opaque);
	void *ready_opaque;
};

static int fake_submit(void *be, struct blk_io_req *r)
{
	struct fake_be *f = be;

	f->pending[f->npending++] = r;
	if (f->npending > f->max_pending)
		f->max_pending = f->npending;
	f->submits++;
	return 0;
}

static void fake_kick(void *be)
{
	struct fake_be *f = be;
	uint64_t one = 1;

	if (f->done_on_kick && f->npending) {
		f->nfinished = f->npending;
		ck_assert_int_eq(write(f->efd, &one, sizeof(one)), sizeof(one));
	}
}

static void fake_do(struct fake_be *f, struct blk_io_req *r)
{
	uint64_t off = r->offset;

	ck_assert(r->op == BLK_IO_FLUSH || off <= DISK_SIZE);
	for (unsigned i = 0; i < r->iovcnt; i++) {
		ck_assert_uint_le(r->iov[i].iov_len, DISK_SIZE - off);
		if (r->op == BLK_IO_READ)
			memcpy(r->iov[i].iov_base, f->disk + off, r->iov[i].iov_len);
		else if (r->op == BLK_IO_WRITE)
			memcpy(f->disk + off, r->iov[i].iov_base, r->iov[i].iov_len);
		off += r->iov[i].iov_len;
	}
	if (r->op == BLK_IO_FLUSH)
		f->flushes++;
}

/* Like a completion ring: only finished requests are delivered. */
static void fake_reap(void *be)
{
	struct fake_be *f = be;
	unsigned n = f->nfinished;

	f->nfinished = 0;
	f->npending -= n;
	struct blk_io_req *done[2 * BLK_QUEUE_SIZE];
	memcpy(done, f->pending, n * sizeof(done[0]));
	memmove(f->pending, f->pending + n, f->npending * sizeof(f->pending[0]));
	for (unsigned i = 0; i < n; i++) {
		if (!f->fail)
			fake_do(f, done[i]);
		done[i]->done(done[i], f->fail);
	}
}

static void fake_drain(void *be)
{
	struct fake_be *f = be;

	f->nfinished = f->npending;
	fake_reap(f);
}

/* The storage finishes everything in flight; the device learns it as it
 * would from the backend's ready callback. */
static void fake_finish(struct fake_be *f, struct blk *b)
{
	f->nfinished = f->npending;
	blk_poll(b);
}

static int fake_attach(void *be, struct evloop *loop, void (*ready)(void *), void *opaque)
{
	struct fake_be *f = be;

	f->ready = ready;
	f->ready_opaque = opaque;
	return 0;
}

static void fake_detach(void *be, struct evloop *loop)
{
}

static void fake_close(void *be)
{
}

static const struct blk_backend_ops fake_ops = {
	.submit = fake_submit,
	.kick = fake_kick,
	.reap = fake_reap,
	.drain = fake_drain,
	.attach = fake_attach,
	.detach = fake_detach,
	.close = fake_close,
};

/* ---- Fixture: guest RAM, transport, device, driver ---- */

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct blk *b;
	struct blk_backend be;
	struct fake_be *fake;       /* NULL with a real image */
	struct vdrv drv;
	char path[256];
};

static void wr(struct fx *x, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&x->t, off, (const uint8_t *)&v, 4);
}

static uint32_t rd(struct fx *x, uint64_t off)
{
	uint8_t d[4] = { 0 };
	uint32_t v;

	virtio_mmio_bus_ops.read(&x->t, off, d, 4);
	memcpy(&v, d, 4);
	return v;
}

static void driver_up(struct fx *x, uint16_t qsz, uint64_t features)
{
	struct vdrv *d = &x->drv;

	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, features >> 32);
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK);
	vdrv_init(d, &x->mem, qsz, RING);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, qsz);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, d->desc);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, d->avail);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, d->used);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK,
			  VIRTIO_STATUS_DRIVER_OK);
	virtio_mmio_poll_notify(&x->t, 0);   /* the activation kick */
}

static struct fx *fx_base(void)
{
	struct fx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	x->ram = aligned_alloc(4096, RAM_SIZE);
	memset(x->ram, 0, RAM_SIZE);
	ck_assert_int_eq(gmem_add(&x->mem, 0, RAM_SIZE, x->ram), 0);
	ck_assert_int_eq(irq_line_init(&x->irq, 5), 0);
	ck_assert_int_eq(evloop_init(&x->loop), 0);
	x->b = calloc(1, sizeof(*x->b));
	ck_assert_ptr_nonnull(x->b);
	return x;
}

static void fx_wire(struct fx *x, uint16_t qsz, uint64_t features)
{
	ck_assert_int_eq(virtio_mmio_init(&x->t, &x->mem, &x->irq, &blk_virtio_ops, x->b), 0);
	ck_assert_int_eq(virtio_mmio_attach(&x->t, &x->loop), 0);
	driver_up(x, qsz, features);
}

static struct fx *fx_fake(bool ro, uint16_t qsz)
{
	struct fx *x = fx_base();

	x->fake = calloc(1, sizeof(*x->fake));
	x->be = (struct blk_backend){ &fake_ops, x->fake, DISK_SIZE, ro };
	ck_assert_int_eq(blk_init(x->b, &x->be, "rootfs"), 0);
	fx_wire(x, qsz, FEATURES);
	return x;
}

static void make_image(char *path, size_t pathlen, const char *dir, off_t size)
{
	snprintf(path, pathlen, "%s/mote-blk-XXXXXX", dir);
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	/* Recognisable contents: every byte is its sector number. */
	for (off_t s = 0; s < size / BLK_SECTOR; s++) {
		uint8_t sec[BLK_SECTOR];
		memset(sec, (int)s, sizeof(sec));
		ck_assert_int_eq(pwrite(fd, sec, sizeof(sec), s * BLK_SECTOR), BLK_SECTOR);
	}
	close(fd);
}

static const char *tmpdir(void)
{
	const char *d = getenv("TMPDIR");
	return d && *d ? d : "/tmp";
}

static struct fx *fx_image_in(const char *dir, bool ro)
{
	struct fx *x = fx_base();
	char err[256];

	make_image(x->path, sizeof(x->path), dir, DISK_SIZE);
	int e = blk_file_open(&x->be, x->path, ro ? BLK_FILE_RO : 0, BLK_QUEUE_SIZE, err,
			      sizeof(err));
	ck_assert_msg(e == 0, "blk_file_open: %s", err);
	ck_assert_int_eq(blk_init(x->b, &x->be, "data"), 0);
	fx_wire(x, 256, FEATURES);
	return x;
}

static struct fx *fx_image(bool ro)
{
	return fx_image_in(tmpdir(), ro);
}

static void fx_free(struct fx *x)
{
	virtio_mmio_release(&x->t);
	blk_release(x->b);
	if (!x->fake)
		x->be.ops->close(x->be.be);
	if (x->path[0])
		unlink(x->path);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	free(x->fake);
	free(x->b);
	free(x->ram);
	free(x);
}

/* ---- Building and running requests ---- */

static void put_hdr(struct fx *x, uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { htole32(type), 0, htole64(sector) };

	ck_assert_int_eq(gmem_write(&x->mem, gpa, &h, sizeof(h)), 0);
}

static void kick(struct fx *x)
{
	wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 0);   /* the bus fallback path */
	virtio_mmio_poll_notify(&x->t, 0);    /* what the evloop would run */
}

/* Wait for the next used entry, reaping the backend as the evloop would. */
static void wait_used(struct fx *x, uint32_t *id, uint32_t *len)
{
	for (int i = 0; i < 1000; i++) {
		if (vdrv_get_used(&x->drv, id, len))
			return;
		/* The file backend's completions arrive through the loop. */
		if (x->fake)
			fake_finish(x->fake, x->b);
		else
			/* 0: io_uring's task work interrupted the wait. */
			ck_assert_int_ge(evloop_poll(&x->loop, 10000), 0);
	}
	ck_abort_msg("no used entry");
}

static uint8_t status(struct fx *x)
{
	return x->ram[STATUS];
}

/* header, one data buffer, status: the classic three-descriptor layout. */
static uint8_t run3(struct fx *x, uint32_t type, uint64_t sector, uint64_t data,
		    uint32_t len, uint32_t *used_len)
{
	bool in = type != VIRTIO_BLK_T_OUT;
	struct vdrv_buf b[] = { { HDR, 16, false }, { data, len, in }, { STATUS, 1, true } };
	uint32_t id, ulen;

	put_hdr(x, HDR, type, sector);
	x->ram[STATUS] = 0xee;
	uint16_t head = vdrv_add(&x->drv, b, 3);
	kick(x);
	wait_used(x, &id, &ulen);
	ck_assert_uint_eq(id, head);
	if (used_len)
		*used_len = ulen;
	return status(x);
}

static uint8_t run_flush(struct fx *x)
{
	struct vdrv_buf b[] = { { HDR, 16, false }, { STATUS, 1, true } };
	uint32_t id, len;

	put_hdr(x, HDR, VIRTIO_BLK_T_FLUSH, 0);
	x->ram[STATUS] = 0xee;
	vdrv_add(&x->drv, b, 2);
	kick(x);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(len, 1);
	return status(x);
}

static void fill(struct fx *x, uint64_t gpa, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		x->ram[gpa + i] = (uint8_t)(seed + i * 7);
}

static bool filled(const uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed + i * 7))
			return false;
	return true;
}

/* ---- Tests against the fake backend ---- */

START_TEST(config_and_features)
{
	struct fx *x = fx_fake(false, 16);

	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG), DISK_SIZE / 512);     /* capacity */
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 4), 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 12), BLK_SEG_MAX);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 20), 512);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 0xfc), 0);            /* past config */
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t f = rd(x, VIRTIO_MMIO_DEVICE_FEATURES);
	ck_assert_uint_eq(f & VIRTIO_BIT(VIRTIO_BLK_F_RO), 0);
	ck_assert(f & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	ck_assert(f & VIRTIO_BIT(VIRTQ_F_EVENT_IDX));
	ck_assert(f & VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC));
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 0);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_QUEUE_NUM_MAX), BLK_QUEUE_SIZE);
	fx_free(x);

	x = fx_fake(true, 16);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(rd(x, VIRTIO_MMIO_DEVICE_FEATURES) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	fx_free(x);
}
END_TEST

START_TEST(write_then_read)
{
	struct fx *x = fx_fake(false, 16);
	uint32_t len;

	fill(x, DATA, 1024, 3);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 5, DATA, 1024, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1);
	ck_assert(filled(x->fake->disk + 5 * 512, 1024, 3));
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 5, DATA2, 1024, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1025);
	ck_assert(filled(x->ram + DATA2, 1024, 3));
	ck_assert_uint_eq(run_flush(x), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->fake->flushes, 1);
	fx_free(x);
}
END_TEST

/* The device must not assume a descriptor layout (VERSION_1). */
START_TEST(any_layout)
{
	struct fx *x = fx_fake(false, 16);
	uint32_t id, len;

	/* OUT: header split over three descriptors, the third also holding
	 * the first data bytes; data continues in a second buffer. */
	put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 2);
	memcpy(x->ram + DATA, x->ram + HDR + 10, 6);         /* header tail */
	fill(x, DATA + 6, 512, 9);
	memcpy(x->ram + DATA2, x->ram + DATA + 6 + 500, 12);
	struct vdrv_buf w[] = { { HDR, 4, false }, { HDR + 4, 6, false },
				{ DATA, 6 + 500, false }, { DATA2, 12, false },
				{ STATUS, 1, true } };
	vdrv_add(&x->drv, w, 5);
	kick(x);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(status(x), VIRTIO_BLK_S_OK);
	ck_assert(filled(x->fake->disk + 2 * 512, 512, 9));

	/* IN: data and status in one writable buffer. */
	put_hdr(x, HDR, VIRTIO_BLK_T_IN, 2);
	struct vdrv_buf r[] = { { HDR, 16, false }, { DATA2, 513, true } };
	vdrv_add(&x->drv, r, 2);
	kick(x);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(len, 513);
	ck_assert_uint_eq(x->ram[DATA2 + 512], VIRTIO_BLK_S_OK);
	ck_assert(filled(x->ram + DATA2, 512, 9));
	fx_free(x);
}
END_TEST

START_TEST(out_of_range_requests)
{
	struct fx *x = fx_fake(false, 16);
	unsigned submits = x->fake->submits;
	uint64_t last = DISK_SIZE / 512;

	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, last - 1, DATA, 1024, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, last, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, UINT64_MAX, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, DATA, 512, NULL),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA, 100, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(x->fake->submits, submits);         /* none reached it */
	/* The last sector itself is fine, and so is an empty read at the end. */
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, last - 1, DATA, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, last, DATA, 0, NULL), VIRTIO_BLK_S_OK);
	fx_free(x);
}
END_TEST

START_TEST(read_only_refuses_writes)
{
	struct fx *x = fx_fake(true, 16);
	unsigned submits = x->fake->submits;

	memset(x->fake->disk, 0x5a, 512);
	fill(x, DATA, 512, 1);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 0, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(x->fake->submits, submits);
	ck_assert_uint_eq(x->fake->disk[0], 0x5a);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[DATA], 0x5a);
	fx_free(x);
}
END_TEST

START_TEST(backend_errors)
{
	struct fx *x = fx_fake(false, 16);

	x->fake->fail = -EIO;
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	x->fake->fail = -ENOSPC;
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 0, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run_flush(x), VIRTIO_BLK_S_IOERR);
	x->fake->fail = 0;
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA, 512, NULL), VIRTIO_BLK_S_OK);
	fx_free(x);
}
END_TEST

START_TEST(get_id)
{
	struct fx *x = fx_fake(false, 16);
	uint32_t len;

	memset(x->ram + DATA, 0xff, 32);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_GET_ID, 0, DATA, 20, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 21);
	ck_assert_mem_eq(x->ram + DATA, "rootfs\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	ck_assert_uint_eq(x->ram[DATA + 20], 0xff);           /* never more than 20 */
	/* A short buffer gets what fits. */
	memset(x->ram + DATA, 0xff, 32);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_GET_ID, 0, DATA, 4, &len), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(x->ram + DATA, "root\xff", 5);
	fx_free(x);

	/* A 25-character id is cut to 20, without a terminator. */
	x = fx_base();
	x->fake = calloc(1, sizeof(*x->fake));
	x->be = (struct blk_backend){ &fake_ops, x->fake, DISK_SIZE, false };
	ck_assert_int_eq(blk_init(x->b, &x->be,
				  "abcdefghijklmnopqrstuvwxy"), 0);
	fx_wire(x, 16, FEATURES);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_GET_ID, 0, DATA, 64, &len), VIRTIO_BLK_S_OK);
	ck_assert_mem_eq(x->ram + DATA, "abcdefghijklmnopqrst", 20);
	ck_assert_uint_eq(len, 21);
	fx_free(x);
}
END_TEST

START_TEST(unsupported_type)
{
	struct fx *x = fx_fake(false, 16);

	ck_assert_uint_eq(run3(x, 11 /* DISCARD */, 0, DATA, 16, NULL), VIRTIO_BLK_S_UNSUPP);
	ck_assert_uint_eq(run3(x, 2 /* SCSI */, 0, DATA, 16, NULL), VIRTIO_BLK_S_UNSUPP);
	fx_free(x);
}
END_TEST

START_TEST(short_header)
{
	struct fx *x = fx_fake(false, 16);
	struct vdrv_buf b[] = { { HDR, 8, false }, { STATUS, 1, true } };
	uint32_t id, len;

	vdrv_add(&x->drv, b, 2);
	kick(x);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(status(x), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	fx_free(x);
}
END_TEST

START_TEST(no_status_byte)
{
	struct fx *x = fx_fake(false, 16);
	struct vdrv_buf b[] = { { HDR, 16, false }, { DATA, 512, false },
				{ STATUS, 0, true } };

	put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 0);
	vdrv_add(&x->drv, b, 3);
	kick(x);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG,
			  VIRTIO_MMIO_INT_CONFIG);
	ck_assert_uint_eq(x->fake->submits, 0);
	fx_free(x);
}
END_TEST

START_TEST(malformed_ring_needs_reset)
{
	struct fx *x = fx_fake(false, 16);

	vdrv_set_desc(&x->drv, 0, RAM_SIZE - 4, 16, 0, 0);  /* past RAM */
	vdrv_publish(&x->drv, 0);
	kick(x);
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	/* A reset and a fresh start make the device usable again. */
	wr(x, VIRTIO_MMIO_STATUS, 0);
	driver_up(x, 16, FEATURES);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA, 512, NULL), VIRTIO_BLK_S_OK);
	fx_free(x);
}
END_TEST

START_TEST(too_many_segments)
{
	struct fx *x = fx_fake(false, 256);
	struct vdrv_buf b[256];
	uint32_t id, len;

	/* seg_max is what a chain as long as the queue carries besides its
	 * header and status; a smaller one splits the guest's large reads
	 * into more requests. */
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_CONFIG + 12), 254);
	/* 256 descriptors (the most a chain may have): header, 254 data
	 * pieces of 256 bytes (127 sectors), status: accepted. Then the
	 * status shares the last descriptor with 512 more data bytes, which
	 * makes 255 pieces: refused, although the chain is no longer. */
	for (unsigned extra = 0; extra <= 1; extra++) {
		b[0] = (struct vdrv_buf){ HDR, 16, false };
		for (unsigned i = 0; i < 254; i++)
			b[1 + i] = (struct vdrv_buf){ DATA + 256 * i, 256, true };
		b[255] = extra ? (struct vdrv_buf){ DATA + 256 * 254, 512 + 1, true }
			       : (struct vdrv_buf){ STATUS, 1, true };
		uint8_t *st = &x->ram[extra ? DATA + 256 * 254 + 512 : STATUS];
		*st = 0xee;
		put_hdr(x, HDR, VIRTIO_BLK_T_IN, 0);
		vdrv_publish(&x->drv, vdrv_chain_indirect(&x->drv, TABLE, b, 256));
		kick(x);
		wait_used(x, &id, &len);
		ck_assert_uint_eq(*st, extra ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(len, extra ? 1 : 254 * 256 + 1);
	}
	fx_free(x);
}
END_TEST

static unsigned free_reqs(const struct blk *b)
{
	unsigned n = 0;

	for (const struct blk_req *r = b->free; r; r = r->next_free)
		n++;
	return n;
}

/* A hostile driver re-publishing the same chain can have more requests in
 * flight than the queue holds; the device stops popping, then resumes. */
START_TEST(request_pool_exhaustion)
{
	struct fx *x = fx_fake(false, 8);
	struct vdrv_buf b[] = { { HDR, 16, false }, { STATUS, 1, true } };
	uint32_t id, len;

	put_hdr(x, HDR, VIRTIO_BLK_T_FLUSH, 0);
	uint16_t head = vdrv_chain(&x->drv, b, 2);
	for (unsigned round = 0; round < BLK_QUEUE_SIZE / 8 + 1; round++) {
		for (unsigned i = 0; i < 8; i++)
			vdrv_publish(&x->drv, head);
		kick(x);
	}
	ck_assert(x->b->stalled);
	ck_assert_uint_eq(x->fake->npending, BLK_QUEUE_SIZE);
	ck_assert_uint_eq(vdrv_used_idx(&x->drv), 0);
	fake_finish(x->fake, x->b);         /* completes 256, pops the last 8 */
	ck_assert(!x->b->stalled);
	ck_assert_uint_eq(x->fake->npending, 8);
	fake_finish(x->fake, x->b);
	ck_assert_uint_eq(vdrv_used_idx(&x->drv), BLK_QUEUE_SIZE + 8);
	while (vdrv_get_used(&x->drv, &id, &len))
		ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(free_reqs(x->b), BLK_QUEUE_SIZE);
	fx_free(x);
}
END_TEST

/* The bound README states: however many chains a guest posts and however
 * often it notifies, a drive has at most BLK_QUEUE_SIZE requests in flight
 * in its backend. Four queues' worth of chains, published in rounds with
 * completions in between: the most ever pending is the queue size. */
START_TEST(inflight_bounded_by_queue_size)
{
	struct fx *x = fx_fake(false, 8);
	struct vdrv_buf b[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
	unsigned posted = 0;

	put_hdr(x, HDR, VIRTIO_BLK_T_IN, 0);
	uint16_t head = vdrv_chain(&x->drv, b, 3);
	for (unsigned round = 0; round < 4 * BLK_QUEUE_SIZE / 8; round++) {
		for (unsigned i = 0; i < 8; i++, posted++)
			vdrv_publish(&x->drv, head);
		for (unsigned k = 0; k < 3; k++)
			kick(x);                    /* notifies in a tight loop */
		ck_assert_uint_le(x->fake->npending, BLK_QUEUE_SIZE);
		if (round % 32 == 31)        /* the ring never holds more */
			fake_finish(x->fake, x->b);
	}
	while (x->fake->npending)
		fake_finish(x->fake, x->b);
	ck_assert_uint_eq(x->fake->max_pending, BLK_QUEUE_SIZE);
	ck_assert_uint_eq(x->fake->submits, posted);
	ck_assert_uint_eq(free_reqs(x->b), BLK_QUEUE_SIZE);
	fx_free(x);
}
END_TEST

/* Reset with requests in flight: they are waited for, and dropped. */
START_TEST(reset_drops_inflight)
{
	struct fx *x = fx_fake(false, 16);
	struct vdrv_buf b[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };

	put_hdr(x, HDR, VIRTIO_BLK_T_IN, 0);
	vdrv_add(&x->drv, b, 3);
	vdrv_add(&x->drv, b, 3);
	kick(x);
	ck_assert_uint_eq(x->fake->npending, 2);
	wr(x, VIRTIO_MMIO_STATUS, 0);
	ck_assert_uint_eq(x->fake->npending, 0);
	ck_assert_uint_eq(vdrv_used_idx(&x->drv), 0);
	ck_assert_uint_eq(free_reqs(x->b), BLK_QUEUE_SIZE);
	fx_free(x);
}
END_TEST

/* Requests the backend finished during the kick (cached reads) go back
 * with the notification that started them, without waiting for the
 * event loop to see the completion signal. */
START_TEST(completion_during_kick)
{
	struct fx *x = fx_fake(false, 16);
	struct vdrv_buf b[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
	uint32_t id, len;

	x->fake->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ck_assert_int_ge(x->fake->efd, 0);
	x->fake->done_on_kick = true;
	x->fake->disk[3 * 512] = 0x33;
	put_hdr(x, HDR, VIRTIO_BLK_T_IN, 3);
	uint16_t head = vdrv_add(&x->drv, b, 3);
	kick(x);
	ck_assert(vdrv_get_used(&x->drv, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 513);
	ck_assert_uint_eq(status(x), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[DATA], 0x33);
	ck_assert_uint_eq(x->fake->npending, 0);
	close(x->fake->efd);
	fx_free(x);
}
END_TEST

/* ---- Tests against a real image on io_uring ---- */

#define IMG(x) ((struct blk_file *)(x)->be.be)

/* Open path as a drive the way the device manager does. */
static int open_drive(struct blk *b, struct blk_backend *be, const char *path, bool ro,
		      char *err, size_t errlen)
{
	int e = blk_file_open(be, path, ro ? BLK_FILE_RO : 0, BLK_QUEUE_SIZE, err, errlen);

	if (!e)
		ck_assert_int_eq(blk_init(b, be, "drive"), 0);
	return e;
}

static void close_drive(struct blk *b, struct blk_backend *be)
{
	blk_release(b);
	be->ops->close(be->be);
}

static void check_image_io(struct fx *x)
{
	uint32_t len;

	/* Reads see the image: sector s is full of byte s. */
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 7, DATA, 1024, &len), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(len, 1025);
	ck_assert_uint_eq(x->ram[DATA], 7);
	ck_assert_uint_eq(x->ram[DATA + 1023], 8);
	/* Aligned buffers (O_DIRECT when the file system allows it). */
	fill(x, DATA, 4096, 11);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 8, DATA, 4096, NULL), VIRTIO_BLK_S_OK);
	/* Unaligned ones (always buffered). */
	fill(x, DATA2 + 3, 1536, 13);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 17, DATA2 + 3, 1536, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(run_flush(x), VIRTIO_BLK_S_OK);
	memset(x->ram + DATA, 0, 8192);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 8, DATA + 1, 4096, NULL), VIRTIO_BLK_S_OK);
	ck_assert(filled(x->ram + DATA + 1, 4096, 11));
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 17, DATA + 4096, 1536, NULL), VIRTIO_BLK_S_OK);
	ck_assert(filled(x->ram + DATA + 4096, 1536, 13));

	/* And the file itself holds the data. */
	uint8_t buf[1536];
	int fd = open(x->path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 1536, 17 * 512), 1536);
	ck_assert(filled(buf, 1536, 13));
	close(fd);
	/* Beyond the end, on the real backend too. */
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, DISK_SIZE / 512, DATA, 512, NULL),
			  VIRTIO_BLK_S_IOERR);
}

START_TEST(image_read_write)
{
	struct fx *x = fx_image(false);

	check_image_io(x);
	fx_free(x);
}
END_TEST

/* tmpfs refuses O_DIRECT on older kernels (everything goes buffered) and
 * accepts it on newer ones; either way the data must be right. */
START_TEST(image_on_tmpfs)
{
	struct stat st;

	if (stat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	struct fx *x = fx_image_in("/dev/shm", false);
	check_image_io(x);
	fx_free(x);
}
END_TEST

/* A file system that takes O_DIRECT at open but refuses the request: the
 * request is retried buffered, and direct I/O is not tried again. */
START_TEST(image_direct_refused)
{
	struct fx *x = fx_image(false);

	if (IMG(x)->dfd >= 0) {
		/* Lie about the alignment so a request the kernel will refuse
		 * (data split into segments that are not sector multiples)
		 * goes direct. */
		struct vdrv_buf b[] = { { HDR, 16, false }, { DATA2 + 3, 100, false },
					{ DATA2 + 1003, 412, false }, { STATUS, 1, true } };
		uint32_t id, len;
		IMG(x)->mem_align = IMG(x)->off_align = 1;
		fill(x, DATA2 + 3, 512, 5);
		memmove(x->ram + DATA2 + 1003, x->ram + DATA2 + 103, 412);
		put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 2);
		vdrv_add(&x->drv, b, 4);
		kick(x);
		wait_used(x, &id, &len);
		ck_assert_uint_eq(status(x), VIRTIO_BLK_S_OK);
		ck_assert(IMG(x)->direct_refused);
		ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 2, DATA + 1, 512, NULL), VIRTIO_BLK_S_OK);
		ck_assert(filled(x->ram + DATA + 1, 512, 5));
	}
	fx_free(x);
}
END_TEST

START_TEST(image_read_only)
{
	struct fx *x = fx_image(true);

	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	ck_assert(rd(x, VIRTIO_MMIO_DEVICE_FEATURES) & VIRTIO_BIT(VIRTIO_BLK_F_RO));
	fill(x, DATA, 512, 1);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_OUT, 3, DATA, 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 3, DATA, 512, NULL), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[DATA + 100], 3);
	ck_assert_uint_eq(run_flush(x), VIRTIO_BLK_S_OK);
	fx_free(x);
}
END_TEST

START_TEST(image_locking)
{
	struct fx *x = fx_image(false);
	struct blk *b2 = calloc(1, sizeof(*b2));
	struct blk_backend be2;
	char err[256], want[64];

	ck_assert_int_eq(open_drive(b2, &be2, x->path, false, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "(pid %d)", (int)getpid());
	ck_assert_msg(strstr(err, "image ") && strstr(err, "is locked by another process") &&
		      strstr(err, want), "message: %s", err);
	/* A reader must wait for the writer too. */
	ck_assert_int_eq(open_drive(b2, &be2, x->path, true, err, sizeof(err)), -EBUSY);
	fx_free(x);

	/* Readers share. */
	x = fx_image(true);
	ck_assert_int_eq(open_drive(b2, &be2, x->path, true, err, sizeof(err)), 0);
	close_drive(b2, &be2);
	ck_assert_int_eq(open_drive(b2, &be2, x->path, false, err, sizeof(err)), -EBUSY);
	fx_free(x);
	free(b2);
}
END_TEST

START_TEST(image_open_errors)
{
	struct blk *b = calloc(1, sizeof(*b));
	struct blk_backend be2;
	char path[256], err[256];

	ck_assert_int_eq(open_drive(b, &be2, "/nonexistent/mote.img", false, err, sizeof(err)),
			 -ENOENT);
	ck_assert_msg(strstr(err, "image /nonexistent/mote.img: No such file"),
		      "message: %s", err);
	ck_assert_int_eq(open_drive(b, &be2, "/", true, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "not a regular file or block device"), "message: %s", err);

	make_image(path, sizeof(path), tmpdir(), 4096);
	ck_assert_int_eq(truncate(path, 4096 + 100), 0);
	ck_assert_int_eq(open_drive(b, &be2, path, false, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "size 4196 is not a multiple of 512"), "message: %s", err);
	/* Nothing stays locked after a failed open. */
	ck_assert_int_eq(truncate(path, 4096), 0);
	ck_assert_int_eq(open_drive(b, &be2, path, false, err, sizeof(err)), 0);
	ck_assert_uint_eq(b->sectors, 8);
	close_drive(b, &be2);
	if (geteuid() != 0) {
		chmod(path, 0);
		ck_assert_int_eq(open_drive(b, &be2, path, true, err, sizeof(err)), -EACCES);
	}
	unlink(path);
	free(b);
}
END_TEST

/* The image shrinks under us: the read comes back short, the rest is
 * retried, hits end of file, and the guest gets IOERR, never OK. */
START_TEST(image_shrinks)
{
	struct fx *x = fx_image(false);

	ck_assert_int_eq(truncate(x->path, 4 * 512 + 100), 0);
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 0, DATA2 + 1, 8 * 512, NULL), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(x->ram[DATA2 + 1 + 3 * 512], 3);   /* the part that existed */
	ck_assert_uint_eq(run3(x, VIRTIO_BLK_T_IN, 1, DATA2, 512, NULL), VIRTIO_BLK_S_OK);
	fx_free(x);
}
END_TEST

/* A flush waits for the writes submitted before it. */
START_TEST(image_flush_after_writes)
{
	struct fx *x = fx_image(false);
	struct vdrv_buf w[] = { { HDR, 16, false }, { DATA, 4096, false }, { STATUS, 1, true } };
	struct vdrv_buf f[] = { { HDR + 16, 16, false }, { STATUS + 1, 1, true } };
	uint32_t id, len;

	put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 0);
	put_hdr(x, HDR + 16, VIRTIO_BLK_T_FLUSH, 0);
	fill(x, DATA, 4096, 21);
	uint16_t wh = vdrv_add(&x->drv, w, 3);
	uint16_t fh = vdrv_add(&x->drv, f, 2);
	kick(x);
	/* While the write is out, the flush is held back. A real io_uring may
	 * complete the write inside the kick already (the flush_order_* tests
	 * check the order with the kernel held). */
	if (IMG(x)->writes_inflight)
		ck_assert_ptr_nonnull(IMG(x)->parked);
	else
		ck_assert_ptr_null(IMG(x)->parked);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(id, wh);
	wait_used(x, &id, &len);
	ck_assert_uint_eq(id, fh);
	ck_assert_uint_eq(x->ram[STATUS], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[STATUS + 1], VIRTIO_BLK_S_OK);
	ck_assert_ptr_null(IMG(x)->parked);
	ck_assert_uint_eq(IMG(x)->inflight, 0);
	fx_free(x);
}
END_TEST

/* ---- The order of operations, with the kernel held (fk) ---- */

/* The guest's used entries so far, by head, after running the event loop
 * (where the backend's completions arrive) until nothing is left to do. */
struct used_seen {
	bool id[256];
};

static void collect(struct fx *x, struct used_seen *u)
{
	uint32_t id, len;

	while (evloop_poll(&x->loop, 0) > 0)
		;
	while (vdrv_get_used(&x->drv, &id, &len)) {
		ck_assert_uint_lt(id, 256);
		u->id[id] = true;
	}
}

/* Two writes, then a flush, in one notification: the fdatasync is issued
 * only when both writes have completed, and the guest sees the flush
 * complete only after the fdatasync has. */
START_TEST(flush_order_writes_fdatasync_done)
{
	struct fx *x = fx_image(false);
	struct vdrv_buf w1[] = { { HDR, 16, false }, { DATA, 4096, false }, { STATUS, 1, true } };
	struct vdrv_buf w2[] = { { HDR + 16, 16, false }, { DATA2 + 3, 512, false },
				 { STATUS + 1, 1, true } };
	struct vdrv_buf fl[] = { { HDR + 32, 16, false }, { STATUS + 2, 1, true } };
	struct used_seen u = { { false } };
	uint8_t buf[512];

	fk_hold(&IMG(x)->ring, IMG(x)->efd);
	put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 0);
	put_hdr(x, HDR + 16, VIRTIO_BLK_T_OUT, 16);
	put_hdr(x, HDR + 32, VIRTIO_BLK_T_FLUSH, 0);
	fill(x, DATA, 4096, 31);
	fill(x, DATA2 + 3, 512, 37);
	memset(x->ram + STATUS, 0xee, 3);
	uint16_t h1 = vdrv_add(&x->drv, w1, 3);
	uint16_t h2 = vdrv_add(&x->drv, w2, 3);
	uint16_t hf = vdrv_add(&x->drv, fl, 2);
	kick(x);
	ck_assert_str_eq(fk.log, "submit:write submit:write");

	fk_complete(0);
	collect(x, &u);
	ck_assert(u.id[h1] && !u.id[h2] && !u.id[hf]);
	ck_assert_str_eq(fk.log, "submit:write submit:write done:write");

	fk_complete(1);
	collect(x, &u);
	ck_assert(u.id[h2] && !u.id[hf]);
	ck_assert_str_eq(fk.log, "submit:write submit:write done:write done:write "
				 "submit:fdatasync");
	ck_assert_int_eq(fk.sqe[2].fd, IMG(x)->fd);
	/* However long the fdatasync takes, the flush is not done before. */
	for (int i = 0; i < 5; i++) {
		collect(x, &u);
		ck_assert(!u.id[hf]);
		ck_assert_uint_eq(x->ram[STATUS + 2], 0xee);
	}

	fk_complete(2);
	collect(x, &u);
	ck_assert(u.id[hf]);
	ck_assert_uint_eq(x->ram[STATUS], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[STATUS + 1], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[STATUS + 2], VIRTIO_BLK_S_OK);
	ck_assert_str_eq(fk.log, "submit:write submit:write done:write done:write "
				 "submit:fdatasync done:fdatasync");
	/* The held operations really happened. */
	int fd = open(x->path, O_RDONLY);
	ck_assert_int_eq(pread(fd, buf, 512, 16 * 512), 512);
	ck_assert(filled(buf, 512, 37));
	close(fd);
	fk_release();
	ck_assert_uint_eq(IMG(x)->inflight, 0);
	fx_free(x);
}
END_TEST

/* A write the guest sends after the flush is not the flush's concern: the
 * fdatasync goes out while it is still in flight. */
START_TEST(flush_order_later_write_not_waited)
{
	struct fx *x = fx_image(false);
	struct vdrv_buf w1[] = { { HDR, 16, false }, { DATA, 4096, false }, { STATUS, 1, true } };
	struct vdrv_buf fl[] = { { HDR + 16, 16, false }, { STATUS + 1, 1, true } };
	struct vdrv_buf w3[] = { { HDR + 32, 16, false }, { DATA2, 4096, false },
				 { STATUS + 2, 1, true } };
	struct used_seen u = { { false } };

	fk_hold(&IMG(x)->ring, IMG(x)->efd);
	put_hdr(x, HDR, VIRTIO_BLK_T_OUT, 0);
	put_hdr(x, HDR + 16, VIRTIO_BLK_T_FLUSH, 0);
	put_hdr(x, HDR + 32, VIRTIO_BLK_T_OUT, 32);
	uint16_t h1 = vdrv_add(&x->drv, w1, 3);
	uint16_t hf = vdrv_add(&x->drv, fl, 2);
	uint16_t h3 = vdrv_add(&x->drv, w3, 3);
	kick(x);
	ck_assert_str_eq(fk.log, "submit:write submit:write");

	fk_complete(0);
	collect(x, &u);
	ck_assert(u.id[h1] && !u.id[hf] && !u.id[h3]);
	ck_assert_str_eq(fk.log, "submit:write submit:write done:write submit:fdatasync");

	fk_complete(2);
	collect(x, &u);
	ck_assert(u.id[hf] && !u.id[h3]);
	ck_assert_uint_eq(x->ram[STATUS + 1], VIRTIO_BLK_S_OK);

	fk_complete(1);
	collect(x, &u);
	ck_assert(u.id[h3]);
	fk_release();
	fx_free(x);
}
END_TEST

/* With nothing in flight the fdatasync goes out at once, and its outcome
 * is the flush's: a failed fdatasync is an I/O error for the guest. */
START_TEST(flush_order_fdatasync_result)
{
	struct fx *x = fx_image(false);
	struct vdrv_buf fl[] = { { HDR, 16, false }, { STATUS, 1, true } };
	struct used_seen u = { { false } };

	fk_hold(&IMG(x)->ring, IMG(x)->efd);
	put_hdr(x, HDR, VIRTIO_BLK_T_FLUSH, 0);
	x->ram[STATUS] = 0xee;
	uint16_t hf = vdrv_add(&x->drv, fl, 2);
	kick(x);
	ck_assert_str_eq(fk.log, "submit:fdatasync");
	collect(x, &u);
	ck_assert(!u.id[hf]);
	fk_complete_res(0, false, -EIO);
	collect(x, &u);
	ck_assert(u.id[hf]);
	ck_assert_uint_eq(x->ram[STATUS], VIRTIO_BLK_S_IOERR);
	fk_release();
	fx_free(x);
}
END_TEST

/* Many requests in one notification go out as one batch. */
START_TEST(image_batch)
{
	struct fx *x = fx_image(false);
	uint32_t id, len;
	unsigned n = 32;

	for (unsigned i = 0; i < n; i++) {
		uint64_t hdr = HDR + 32 * i, st = STATUS + i;
		struct vdrv_buf b[] = { { hdr, 16, false }, { DATA + 512 * i, 512, true }, { st, 1, true } };
		put_hdr(x, hdr, VIRTIO_BLK_T_IN, i);
		vdrv_add(&x->drv, b, 3);
	}
	kick(x);
	for (unsigned i = 0; i < n; i++)
		wait_used(x, &id, &len);
	for (unsigned i = 0; i < n; i++) {
		ck_assert_uint_eq(x->ram[STATUS + i], VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(x->ram[DATA + 512 * i + 17], i);
	}
	fx_free(x);
}
END_TEST

/* ---- The real event loop, on its own thread ---- */

static void *loop_thread(void *arg)
{
	struct evloop *l = arg;

	return (void *)(intptr_t)evloop_run(l);
}

START_TEST(image_through_evloop)
{
	struct fx *x = fx_image(false);
	struct vdrv_buf b[] = { { HDR, 16, false }, { DATA, 2048, true }, { STATUS, 1, true } };
	struct pollfd p = { .fd = x->irq.fd, .events = POLLIN };
	pthread_t th;
	uint32_t id, len;
	uint64_t v;

	ck_assert_int_eq(read(x->irq.fd, &v, sizeof(v)) < 0, 1);   /* no edge yet */
	ck_assert_int_eq(pthread_create(&th, NULL, loop_thread, &x->loop), 0);
	put_hdr(x, HDR, VIRTIO_BLK_T_IN, 20);
	x->ram[STATUS] = 0xee;
	uint16_t head = vdrv_add(&x->drv, b, 3);
	wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 0);          /* a vCPU's write */
	ck_assert_int_eq(poll(&p, 1, 10000), 1);      /* the used-buffer interrupt */
	ck_assert_uint_eq(rd(x, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	wr(x, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	evloop_stop(&x->loop);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert(vdrv_get_used(&x->drv, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 2049);
	ck_assert_uint_eq(x->ram[STATUS], VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(x->ram[DATA + 2047], 23);
	fx_free(x);
}
END_TEST

/* ---- Draining: teardown never leaves I/O in flight ---- */

struct drain_req {
	struct blk_io_req r;
	struct iovec iov;
	int err;                   /* 1 until done */
};

static void drain_req_done(struct blk_io_req *r, int err)
{
	((struct drain_req *)r)->err = err;
}

static void drain_submit(struct blk_backend *be, struct drain_req *q, unsigned tag,
			 void *buf, size_t len, uint64_t off)
{
	q->iov = (struct iovec){ buf, len };
	q->err = 1;
	q->r = (struct blk_io_req){ .op = BLK_IO_READ, .offset = off, .iov = &q->iov,
				    .iovcnt = 1, .tag = tag, .done = drain_req_done };
	ck_assert_int_eq(be->ops->submit(be->be, &q->r), 0);
}

/* The fault: the first waits fail as a broken kernel's would. */
static int failed_waits;

static int failing_wait(struct io_uring *ring, struct io_uring_cqe **cqe,
			struct __kernel_timespec *ts)
{
	if (failed_waits < 5) {
		failed_waits++;
		return -ENOMEM;
	}
	return io_uring_wait_cqe_timeout(ring, cqe, ts);
}

/* A wait that fails with something else than EINTR is retried: drain
 * returns only with every request delivered. */
START_TEST(drain_survives_failed_waits)
{
	struct blk_backend be;
	struct drain_req q[8];
	static uint8_t buf[8][4096];
	char path[256], err[256];

	make_image(path, sizeof(path), tmpdir(), DISK_SIZE);
	ck_assert_int_eq(blk_file_open(&be, path, BLK_FILE_RO, 8, err, sizeof(err)), 0);
	((struct blk_file *)be.be)->wait_cqe = failing_wait;
	for (unsigned i = 0; i < 8; i++)
		drain_submit(&be, &q[i], i, buf[i], sizeof(buf[i]), (uint64_t)i * 4096);
	be.ops->drain(be.be);
	ck_assert_int_ge(failed_waits, 1);
	ck_assert_uint_eq(blk_file_inflight(&be), 0);
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_int_eq(q[i].err, 0);
		for (unsigned j = 0; j < 4096; j++)   /* each byte is its sector */
			ck_assert_uint_eq(buf[i][j], (uint8_t)(i * 8 + j / 512));
	}
	be.ops->close(be.be);
	unlink(path);
}
END_TEST

/* A request that would never finish (a read from an empty pipe, as a
 * hung device's would be) is cancelled, and drain waits for that. The
 * tcase's timeout catches a drain that waits for ever. */
START_TEST(drain_cancels_hung_io)
{
	struct blk_backend be;
	struct drain_req q;
	struct timespec t0, t1;
	uint8_t buf[512];
	char err[256];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(blk_file_adopt(&be, p[0], 4096, BLK_FILE_RO | BLK_FILE_BUFFERED, 4,
					"pipe", err, sizeof(err)), 0);
	drain_submit(&be, &q, 0, buf, sizeof(buf), 0);
	be.ops->kick(be.be);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	be.ops->drain(be.be);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_uint_eq(blk_file_inflight(&be), 0);
	ck_assert_int_eq(q.err, -ECANCELED);
	ck_assert_int_ge((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000,
			 DRAIN_CANCEL_MS - DRAIN_TICK_MS);
	be.ops->close(be.be);
	close(p[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blk");
	TCase *fake = tcase_create("fake-backend");
	TCase *img = tcase_create("image");

	tcase_add_test(fake, config_and_features);
	tcase_add_test(fake, write_then_read);
	tcase_add_test(fake, any_layout);
	tcase_add_test(fake, out_of_range_requests);
	tcase_add_test(fake, read_only_refuses_writes);
	tcase_add_test(fake, backend_errors);
	tcase_add_test(fake, get_id);
	tcase_add_test(fake, unsupported_type);
	tcase_add_test(fake, short_header);
	tcase_add_test(fake, no_status_byte);
	tcase_add_test(fake, malformed_ring_needs_reset);
	tcase_add_test(fake, too_many_segments);
	tcase_add_test(fake, request_pool_exhaustion);
	tcase_add_test(fake, inflight_bounded_by_queue_size);
	tcase_add_test(fake, reset_drops_inflight);
	tcase_add_test(fake, completion_during_kick);
	tcase_add_test(img, image_read_write);
	tcase_add_test(img, image_on_tmpfs);
	tcase_add_test(img, image_direct_refused);
	tcase_add_test(img, image_read_only);
	tcase_add_test(img, image_locking);
	tcase_add_test(img, image_open_errors);
	tcase_add_test(img, image_shrinks);
	tcase_add_test(img, image_flush_after_writes);
	tcase_add_test(img, flush_order_writes_fdatasync_done);
	tcase_add_test(img, flush_order_later_write_not_waited);
	tcase_add_test(img, flush_order_fdatasync_result);
	tcase_add_test(img, image_batch);
	tcase_add_test(img, image_through_evloop);
	tcase_set_timeout(img, 60);
	/* Tagged: qemu-user has no io_uring, so the arm64 run (tools/arm64.mk)
	 * leaves these out with CK_EXCLUDE_TAGS=io_uring. */
	tcase_set_tags(img, "io_uring");
	{
		TCase *drain = tcase_create("drain");

		tcase_add_test(drain, drain_survives_failed_waits);
		tcase_add_test(drain, drain_cancels_hung_io);
		tcase_set_timeout(drain, 10);
		tcase_set_tags(drain, "io_uring");
		suite_add_tcase(s, drain);
	}
	suite_add_tcase(s, fake);
	suite_add_tcase(s, img);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
