/*
 * The guest is hostile: randomized tests of guest memory, the split
 * virtqueue, the virtio-mmio transport and virtio-blk, driven by a guest
 * that writes random registers and random garbage into its rings,
 * interleaved with a well-behaved driver so that deep paths are reached.
 *
 * Deterministic: each seed replays the same run. MOTE_FUZZ_SEEDS=n runs n
 * seeds per test, MOTE_FUZZ_SEED=s starts at seed s, MOTE_FUZZ_OPS=n sets
 * the steps per seed; a failure names the seed and the step.
 *
 * What must hold whatever the guest does: no crash and no sanitizer
 * report; nothing outside guest RAM is touched (canary pages around every
 * RAM region, poisoned under ASan); no request is leaked; every buffer
 * handed to the backend lies inside guest RAM and inside the disk; and
 * after a reset a good driver can use the device again.
 */
#include "tests/unit/fuzz_env.c"
#include "tests/unit/virtq_driver.c"
#include "virtio/blk.h"
#include "virtio/backend/blk_cow.h"
#include "virtio/backend/blk_file.h"
#include "virtio/backend/cow_overlay.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#include <check.h>
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define GUARD      4096
#define NREGIONS   3
#define DISK_SIZE  (64 * 1024)          /* 128 sectors */
#define SECTORS    (DISK_SIZE / BLK_SECTOR)
#define MMIO_BASE  0xd0000000ull
#define RAM0       (1024 * 1024)

/* Where the good driver puts things in region 0. */
#define G_RING     0x1000ull
#define G_TABLE    0x8000ull
#define G_HDR      0x10000ull
#define G_STATUS   0x10100ull
#define G_DATA     0x20000ull
#define G_MAXLEN   (8 * BLK_SECTOR)

/*
 * Guest RAM: region 0 at 0, region 1 right after it with a host buffer of
 * its own (nothing may straddle the two), region 2 ending at UINT64_MAX,
 * where every "gpa + len" can wrap.
 */
static const struct { uint64_t gpa, size; } layout[NREGIONS] = {
	{ 0, RAM0 },
	{ RAM0, 64 * 1024 },
	{ 0xffffffffffff0000ull, 0xffff },
};

/* ck_assert records a checkpoint (a write to Check's pipe) on every call,
 * too slow for millions of checks: the hot loops use this instead, which
 * also names the seed and the step to replay. */
#define fz_check(x, cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("seed %llu step %u: %s (line %d)",        \
				     (unsigned long long)(x)->seed, (x)->op, #cond, \
				     __LINE__);                                \
	} while (0)

/* ---- A seeded generator (splitmix64) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static bool one_in(struct rng *r, unsigned n)
{
	return below(r, n) == 0;
}

/* A value a hostile guest likes: edges of every width, or anything. */
static uint64_t pick_value(struct rng *r)
{
	static const uint64_t v[] = {
		0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 0xff, 0x100, 0x1ff, 0x200, 0xfff, 0x1000,
		0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe,
		0xffffffff, 0x100000000ull, UINT64_MAX, UINT64_MAX - 1, 1ull << 63,
	};

	switch (below(r, 4)) {
	case 0:
		return rnd(r);
	case 1:
		return below(r, 300);
	default:
		return v[below(r, sizeof(v) / sizeof(v[0]))];
	}
}

/* ---- Guest RAM with canaries ---- */

struct ram {
	uint8_t *alloc;
	size_t alloc_len;
	uint8_t *host;
	uint64_t size;
};

static uint8_t canary(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 13));
}

static void ram_alloc(struct ram *m, uint64_t size, struct rng *r)
{
	size_t body = (size + GUARD - 1) / GUARD * GUARD;

	m->alloc_len = GUARD + body + GUARD;
	m->alloc = aligned_alloc(GUARD, m->alloc_len);
	ck_assert_ptr_nonnull(m->alloc);
	m->host = m->alloc + GUARD;
	m->size = size;
	for (size_t i = 0; i < m->alloc_len; i++)
		m->alloc[i] = canary(i);
	/* A guest's RAM starts out as anything at all. */
	for (uint64_t i = 0; i < size; i += 8) {
		uint64_t v = rnd(r);
		memcpy(m->host + i, &v, size - i < 8 ? size - i : 8);
	}
	POISON(m->alloc, GUARD);
	POISON(m->host + size, m->alloc_len - GUARD - size);
}

/* Every byte around the region must be as we left it. */
static void ram_free(struct ram *m)
{
	UNPOISON(m->alloc, m->alloc_len);
	for (size_t i = 0; i < m->alloc_len; i++) {
		if (m->alloc + i == m->host)
			i += m->size;
		if (i < m->alloc_len && m->alloc[i] != canary(i))
			ck_abort_msg("canary %zd bytes from region start overwritten",
				     (ssize_t)(i - GUARD));
	}
	free(m->alloc);
}

/* ---- A fake backend that checks every request it gets ---- */

struct fx;

struct fake_be {
	struct fx *x;
	uint8_t disk[DISK_SIZE];
	struct blk_io_req *pending[BLK_QUEUE_SIZE];
	unsigned npending;
	bool hostile;              /* fail some requests, complete out of order */
};

struct fx {
	struct rng rng;
	uint64_t seed;
	unsigned op;
	struct ram ram[NREGIONS];
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct bus bus;
	struct virtio_mmio t;
	struct blk *b;
	struct blk_backend be;
	bool ephemeral;
	struct fake_be *fake;      /* NULL with a real image */
	char path[256];
	bool wired;
};

/* Does [p, p+len) lie inside one RAM region's host buffer? */
static bool in_ram(const struct fx *x, const void *p, uint64_t len)
{
	const uint8_t *b = p;

	for (unsigned i = 0; i < NREGIONS; i++) {
		const struct ram *m = &x->ram[i];
		if (b >= m->host && b <= m->host + m->size &&
		    len <= (uint64_t)(m->host + m->size - b))
			return true;
	}
	return false;
}

static void fake_check(struct fake_be *f, const struct blk_io_req *r)
{
	struct fx *x = f->x;
	uint64_t total = 0;

	fz_check(x, r->done != NULL);
	fz_check(x, f->npending < BLK_QUEUE_SIZE);
	if (r->op == BLK_IO_FLUSH)
		return;
	fz_check(x, r->op == BLK_IO_READ || r->op == BLK_IO_WRITE);
	fz_check(x, r->iovcnt >= 1 && r->iovcnt <= BLK_SEG_MAX);
	for (unsigned i = 0; i < r->iovcnt; i++) {
		fz_check(x, r->iov[i].iov_len > 0);
		fz_check(x, in_ram(x, r->iov[i].iov_base, r->iov[i].iov_len));
		total += r->iov[i].iov_len;
	}
	fz_check(x, r->offset % BLK_SECTOR == 0 && total % BLK_SECTOR == 0);
	fz_check(x, r->offset <= DISK_SIZE && total <= DISK_SIZE - r->offset);
}

static int fake_submit(void *be, struct blk_io_req *r)
{
	struct fake_be *f = be;

	fake_check(f, r);
	if (f->hostile && one_in(&f->x->rng, 16))
		return -EIO;
	f->pending[f->npending++] = r;
	return 0;
}

static void fake_kick(void *be)
{
}

static void fake_complete(struct fake_be *f, unsigned i)
{
	struct blk_io_req *r = f->pending[i];
	int err = f->hostile && one_in(&f->x->rng, 16) ? -EIO : 0;
	uint64_t off = r->offset;

	/* Out of the list before done(), which may submit more. */
	f->pending[i] = f->pending[--f->npending];
	for (unsigned k = 0; !err && r->op != BLK_IO_FLUSH && k < r->iovcnt; k++) {
		if (r->op == BLK_IO_READ)
			memcpy(r->iov[k].iov_base, f->disk + off, r->iov[k].iov_len);
		else
			memcpy(f->disk + off, r->iov[k].iov_base, r->iov[k].iov_len);
		off += r->iov[k].iov_len;
	}
	r->done(r, err);
}

static void fake_reap(void *be)
{
	struct fake_be *f = be;

	if (!f->hostile) {
		while (f->npending)
			fake_complete(f, 0);
		return;
	}
	/* Some of them, in any order. */
	for (uint64_t n = below(&f->x->rng, f->npending + 1); n && f->npending; n--)
		fake_complete(f, below(&f->x->rng, f->npending));
}

static void fake_drain(void *be)
{
	struct fake_be *f = be;

	while (f->npending)
		fake_complete(f, 0);
}

static void fake_close(void *be)
{
}

/* Completes only when the test reaps: no attach, no ready callback. */
static const struct blk_backend_ops fake_ops = {
	.submit = fake_submit,
	.kick = fake_kick,
	.reap = fake_reap,
	.drain = fake_drain,
	.close = fake_close,
};

/* Requests the backend holds. */
static unsigned backend_busy(const struct fx *x)
{
	if (x->fake)
		return x->fake->npending;
	return x->ephemeral ? blk_cow_inflight(&x->be) : blk_file_inflight(&x->be);
}

/* ---- Fixture ---- */

static struct fx *fx_ram(uint64_t seed)
{
	struct fx *x = calloc(1, sizeof(*x));

	ck_assert_ptr_nonnull(x);
	x->seed = seed;
	x->rng.s = seed * 0x2545f4914f6cdd1dull;
	for (unsigned i = 0; i < NREGIONS; i++) {
		ram_alloc(&x->ram[i], layout[i].size, &x->rng);
		ck_assert_int_eq(gmem_add(&x->mem, layout[i].gpa, layout[i].size,
					  x->ram[i].host), 0);
	}
	return x;
}

static void make_image(struct fx *x)
{
	const char *dir = getenv("TMPDIR");
	uint8_t buf[DISK_SIZE];

	snprintf(x->path, sizeof(x->path), "%s/mote-fuzz-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(x->path);
	ck_assert_int_ge(fd, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rnd(&x->rng);
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), sizeof(buf));
	close(fd);
}

/* The fake backend, an image file on io_uring, or the same as an
 * ephemeral drive (writes to a copy-on-write store). */
enum disk { DISK_FAKE, DISK_IMAGE, DISK_EPHEMERAL };

static void open_disk(struct fx *x, enum disk kind)
{
	char err[256];
	int e;

	x->b = calloc(1, sizeof(*x->b));
	ck_assert_ptr_nonnull(x->b);
	if (kind != DISK_FAKE) {
		make_image(x);
		x->ephemeral = kind == DISK_EPHEMERAL;
		if (kind == DISK_IMAGE)
			e = blk_file_open(&x->be, x->path, 0, BLK_QUEUE_SIZE, err, sizeof(err));
		else
			e = blk_cow_open(&x->be, x->path, cow_default_dir(), BLK_QUEUE_SIZE,
					 err, sizeof(err));
		/* Open now: gone even if a failing check ends the test early. */
		unlink(x->path);
		ck_assert_msg(e == 0, "open: %s", err);
		ck_assert_int_eq(blk_init(x->b, &x->be, "fuzz"), 0);
		return;
	}
	x->fake = calloc(1, sizeof(*x->fake));
	ck_assert_ptr_nonnull(x->fake);
	x->fake->x = x;
	x->be = (struct blk_backend){ &fake_ops, x->fake, DISK_SIZE, false };
	ck_assert_int_eq(blk_init(x->b, &x->be, "fuzz"), 0);
}

static struct fx *fx_dev(uint64_t seed, enum disk kind)
{
	struct fx *x = fx_ram(seed);

	ck_assert_int_eq(irq_line_init(&x->irq, 5), 0);
	ck_assert_int_eq(evloop_init(&x->loop), 0);
	bus_init(&x->bus, "mmio", 0);
	open_disk(x, kind);
	ck_assert_int_eq(virtio_mmio_init(&x->t, &x->mem, &x->irq, &blk_virtio_ops, x->b), 0);
	ck_assert_int_eq(virtio_mmio_attach(&x->t, &x->loop), 0);
	ck_assert_int_eq(bus_register(&x->bus, MMIO_BASE, VIRTIO_MMIO_SIZE,
				      &virtio_mmio_bus_ops, &x->t, "vda"), 0);
	x->wired = true;
	return x;
}

static void fx_free(struct fx *x)
{
	if (x->wired) {
		virtio_mmio_release(&x->t);
		blk_release(x->b);
		x->be.ops->close(x->be.be);
		bus_release(&x->bus);
		evloop_release(&x->loop);
		irq_line_release(&x->irq);
	}
	free(x->fake);
	free(x->b);
	for (unsigned i = 0; i < NREGIONS; i++)
		ram_free(&x->ram[i]);
	free(x);
}

/* ---- Picking guest addresses ---- */

static const struct gmem_region *pick_region(struct fx *x)
{
	/* Region 0 most of the time: that is where rings and buffers meet. */
	return &x->mem.r[one_in(&x->rng, 3) ? below(&x->rng, NREGIONS) : 0];
}

/* Any address: mostly inside RAM, often at an edge, sometimes anywhere. */
static uint64_t pick_gpa(struct fx *x)
{
	struct rng *r = &x->rng;
	const struct gmem_region *g = pick_region(x);

	switch (below(r, 8)) {
	case 0:
		return rnd(r);
	case 1:
		return UINT64_MAX - below(r, 64);
	case 2:
		return g->gpa + g->size - below(r, 64);
	case 3:
		return g->gpa - 1 - below(r, 64);
	default:
		return g->gpa + below(r, g->size);
	}
}

/* A buffer of len bytes: mostly inside one region, sometimes ending right
 * at a region's end (UINT64_MAX - 1 for the top one) or straddling it. */
static uint64_t pick_buf(struct fx *x, uint64_t len)
{
	struct rng *r = &x->rng;
	const struct gmem_region *g = pick_region(x);

	if (len > g->size || one_in(r, 10))
		return pick_gpa(x);
	switch (below(r, 6)) {
	case 0:
		return g->gpa + g->size - len;
	case 1:
		return g->gpa + g->size - len + 1 + below(r, 16);
	default:
		return g->gpa + below(r, g->size - len + 1);
	}
}

static uint32_t pick_len(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 2, 15, 16, 17, 20, 21, 511, 512, 513, 1024, 1025, 4096,
		DISK_SIZE, DISK_SIZE + 512, 0x80000000, 0xffffffff,
	};

	if (one_in(r, 4))
		return below(r, 3) ? (uint32_t)below(r, 2048) : (uint32_t)rnd(r);
	return v[below(r, sizeof(v) / sizeof(v[0]))];
}

static uint32_t pick_qsize(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 3, 5, 255, 257, 384, 512, 1024, 2048, 0xffff, 0x10000, 0xffffffff,
	};

	if (below(r, 4))
		return 1u << below(r, 9);        /* 1..256: what blk accepts */
	return v[below(r, sizeof(v) / sizeof(v[0]))];
}

/* ---- Rings as the guest laid them out ---- */

struct ring {
	uint64_t desc, avail, used;
	uint16_t size;
};

/* The driver-side layout vdrv_init() uses. */
static struct ring ring_at(uint64_t base, uint16_t size)
{
	struct ring g = { .size = size };

	g.desc = (base + 15) & ~15ull;
	g.avail = g.desc + VIRTQ_DESC_BYTES(size);
	g.used = (g.avail + VIRTQ_AVAIL_BYTES(size) + 3) & ~3ull;
	return g;
}

static uint64_t ring_bytes(uint16_t size)
{
	return VIRTQ_DESC_BYTES(size) + VIRTQ_AVAIL_BYTES(size) + 3 + VIRTQ_USED_BYTES(size);
}

/* Where a ring of size entries could go: usually where it fits, sometimes
 * hanging over a region's end, sometimes anywhere. */
static uint64_t pick_ring_base(struct fx *x, uint16_t size)
{
	struct rng *r = &x->rng;
	const struct gmem_region *g = pick_region(x);
	uint64_t need = ring_bytes(size);

	if (need > g->size || one_in(r, 10))
		return pick_gpa(x);
	if (one_in(r, 6))
		return g->gpa + g->size - need + below(r, 64);
	return (g->gpa + below(r, g->size - need + 1)) & ~15ull;
}

/* The queue-0 ring the guest has configured, live or not. */
static struct ring guest_ring(const struct fx *x)
{
	const struct virtq *q = &x->t.vq[0];
	const struct virtio_mmio_qregs *qr = &x->t.qregs[0];

	if (q->ready)
		return (struct ring){ q->desc_gpa, q->avail_gpa, q->used_gpa, q->size };
	return (struct ring){ qr->desc, qr->driver, qr->device,
			      qr->num && qr->num <= VIRTQ_SIZE_MAX ? qr->num : 16 };
}

/* ---- Garbage ---- */

static void put(struct fx *x, uint64_t gpa, const void *p, uint64_t len)
{
	/* Out of range: the guest wrote to nothing. */
	if (gmem_write(&x->mem, gpa, p, len)) {
	}
}

static void put16(struct fx *x, uint64_t gpa, uint16_t v)
{
	v = htole16(v);
	put(x, gpa, &v, 2);
}

static uint16_t pick_flags(struct rng *r)
{
	if (one_in(r, 8))
		return (uint16_t)rnd(r);
	return (one_in(r, 2) ? VIRTQ_DESC_F_NEXT : 0) | (one_in(r, 2) ? VIRTQ_DESC_F_WRITE : 0) |
	       (one_in(r, 6) ? VIRTQ_DESC_F_INDIRECT : 0);
}

static uint16_t pick_index(struct rng *r, uint16_t size)
{
	return one_in(r, 8) ? (uint16_t)pick_value(r) : (uint16_t)below(r, size);
}

static void put_desc(struct fx *x, uint64_t gpa, uint16_t size)
{
	struct rng *r = &x->rng;
	uint32_t len = pick_len(r);
	struct virtq_desc d = {
		htole64(pick_buf(x, len)), htole32(len), htole16(pick_flags(r)),
		htole16(pick_index(r, size)),
	};

	put(x, gpa, &d, sizeof(d));
}

/* An indirect table of random descriptors, and a descriptor pointing to
 * it (with the right length, mostly). */
static void put_indirect(struct fx *x, const struct ring *g)
{
	struct rng *r = &x->rng;
	unsigned n = one_in(r, 8) ? (unsigned)below(r, 300) : 1 + (unsigned)below(r, 8);
	uint64_t table = pick_buf(x, 16ull * n);

	for (unsigned i = 0; i < n; i++)
		put_desc(x, table + 16ull * i, (uint16_t)n);
	struct virtq_desc d = {
		htole64(table), htole32(one_in(r, 4) ? pick_len(r) : 16 * n),
		htole16(one_in(r, 4) ? pick_flags(r) : VIRTQ_DESC_F_INDIRECT), 0,
	};
	put(x, g->desc + 16ull * pick_index(r, g->size), &d, sizeof(d));
}

static void put_header(struct fx *x, uint64_t gpa)
{
	struct rng *r = &x->rng;
	static const uint32_t types[] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
	};
	uint32_t type = one_in(r, 6) ? (uint32_t)pick_value(r) : types[below(r, 4)];
	uint64_t sector = one_in(r, 4) ? pick_value(r) : below(r, SECTORS + 4);
	struct virtio_blk_outhdr h = { htole32(type), (uint32_t)rnd(r), htole64(sector) };

	put(x, gpa, &h, sizeof(h));
}

/* One random write into guest RAM, aimed at the rings most of the time. */
static void op_garbage(struct fx *x)
{
	struct rng *r = &x->rng;
	struct ring g = guest_ring(x);
	uint64_t avail_ring = g.avail + 4, used_ring = g.used + 4;
	uint8_t buf[64];

	switch (below(r, 10)) {
	case 0:
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)rnd(r);
		put(x, pick_gpa(x), buf, 1 + below(r, sizeof(buf)));
		break;
	case 1:
	case 2:
		put_desc(x, g.desc + 16ull * pick_index(r, g.size), g.size);
		break;
	case 3:   /* one more available, a few more, or a jump */
		put16(x, g.avail + 2, one_in(r, 3) ? (uint16_t)pick_value(r) :
			  (uint16_t)(x->t.vq[0].avail_shadow + below(r, 4)));
		break;
	case 4:
		put16(x, avail_ring + 2ull * pick_index(r, g.size), pick_index(r, g.size));
		break;
	case 5:   /* flags, or used_event */
		put16(x, one_in(r, 2) ? g.avail : avail_ring + 2ull * g.size,
		      (uint16_t)pick_value(r));
		break;
	case 6:   /* the device must never trust what it wrote */
		put16(x, one_in(r, 2) ? g.used + 2 : used_ring + 8ull * pick_index(r, g.size),
		      (uint16_t)pick_value(r));
		break;
	case 7:
		put_indirect(x, &g);
		break;
	default:
		put_header(x, pick_buf(x, 16));
		break;
	}
}

/* A driver's view of a live queue, taking up where the ring is now. */
static struct vdrv ring_driver(struct fx *x, const struct virtq *q)
{
	struct vdrv d = { .mem = &x->mem, .size = q->size, .desc = q->desc_gpa,
			  .avail = q->avail_gpa, .used = q->used_gpa };

	d.next_desc = (uint16_t)below(&x->rng, q->size);
	d.avail_idx = le16toh(q->avail->idx);
	return d;
}

#define LONG_CHAIN (BLK_SEG_MAX + 8)

/* A request's buffers: header, data one way, status, now and then one
 * turned round; sometimes more segments than seg_max. Returns how many. */
static unsigned pick_bufs(struct fx *x, struct vdrv_buf *bufs)
{
	struct rng *r = &x->rng;
	bool lots = one_in(r, 16);
	unsigned n = lots ? LONG_CHAIN : 1 + (unsigned)below(r, one_in(r, 8) ? 12 : 4);
	bool in = one_in(r, 2);
	uint64_t hdr = pick_buf(x, 16);

	put_header(x, hdr);
	bufs[0] = (struct vdrv_buf){ hdr, one_in(r, 4) ? pick_len(r) : 16, false };
	for (unsigned i = 1; i < n; i++) {
		bool w = i == n - 1 || in;
		if (lots) {   /* all valid, or the chain never gets that far */
			bufs[i] = (struct vdrv_buf){ G_DATA + below(r, 0x10000),
						     1 + (uint32_t)below(r, BLK_SECTOR), w };
			continue;
		}
		uint32_t len = one_in(r, 2) ? (uint32_t)BLK_SECTOR << below(r, 4) : pick_len(r);
		bufs[i] = (struct vdrv_buf){ pick_buf(x, len), len, one_in(r, 16) ? !w : w };
	}
	return n;
}

/* A request that is nearly right: built the way a driver builds one, then
 * (sometimes) one field spoiled. Only on a live ring, where vdrv's writes
 * land inside RAM. */
static void op_request(struct fx *x, const struct virtq *q)
{
	struct rng *r = &x->rng;
	struct vdrv d = ring_driver(x, q);
	struct vdrv_buf bufs[LONG_CHAIN];
	unsigned n = pick_bufs(x, bufs);
	uint16_t head;

	if (q->indirect && one_in(r, 3))
		head = vdrv_chain_indirect(&d, G_TABLE + 16 * below(r, 64), bufs, n);
	else
		head = vdrv_chain(&d, bufs, n);
	if (one_in(r, 6))
		put_desc(x, d.desc + 16ull * pick_index(r, q->size), q->size);
	vdrv_publish(&d, one_in(r, 16) ? pick_index(r, q->size) : head);
}

/* One valid read made available many times at once: with enough of them
 * in flight the device runs out of requests, stalls, and must resume as
 * the backend completes them. */
static void op_flood(struct fx *x, const struct virtq *q)
{
	struct rng *r = &x->rng;
	struct vdrv d = ring_driver(x, q);
	struct virtio_blk_outhdr h = { htole32(VIRTIO_BLK_T_IN), 0, htole64(below(r, SECTORS)) };
	struct vdrv_buf b[] = {
		{ G_HDR, 16, false }, { G_DATA, BLK_SECTOR, true }, { G_STATUS, 1, true },
	};

	put(x, G_HDR, &h, sizeof(h));
	uint16_t head = vdrv_chain(&d, b, 3);
	for (uint64_t n = 1 + below(r, q->size); n; n--)
		vdrv_publish(&d, head);
}

/* ---- Registers ---- */

static const uint32_t reg_offs[] = {
	VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_VERSION, VIRTIO_MMIO_DEVICE_ID,
	VIRTIO_MMIO_VENDOR_ID, VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_DEVICE_FEATURES_SEL,
	VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
	VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
	VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_INTERRUPT_ACK,
	VIRTIO_MMIO_STATUS, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
	VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
	VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, VIRTIO_MMIO_SHM_SEL,
	VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_SHM_BASE_HIGH, VIRTIO_MMIO_CONFIG_GENERATION,
	VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_CONFIG + 8, VIRTIO_MMIO_CONFIG + 0x3c,
};

static void mmio_wr(struct fx *x, uint64_t off, uint32_t v)
{
	uint8_t d[4];

	memcpy(d, &v, 4);
	fz_check(x, bus_write(&x->bus, MMIO_BASE + off, d, 4));
}

static uint32_t mmio_rd(struct fx *x, uint64_t off)
{
	uint8_t d[4];
	uint32_t v;

	fz_check(x, bus_read(&x->bus, MMIO_BASE + off, d, 4));
	memcpy(&v, d, 4);
	return v;
}

static uint64_t pick_off(struct rng *r)
{
	switch (below(r, 8)) {
	case 0:   /* around and beyond the device's range */
		return below(r, VIRTIO_MMIO_SIZE + 0x80) - 0x40;
	case 1:
		return VIRTIO_MMIO_CONFIG + below(r, 0x100);
	default:
		return reg_offs[below(r, sizeof(reg_offs) / sizeof(reg_offs[0]))] +
		       (one_in(r, 8) ? below(r, 4) : 0);
	}
}

static uint64_t pick_status(struct rng *r)
{
	static const uint8_t v[] = {
		0x01, 0x03, 0x0b, 0x0f, 0x07, 0x04, 0x08, 0x40, 0x80, 0xff, 0x4f, 0x8f, 0x0c,
	};

	if (one_in(r, 40))
		return 0;                     /* reset: rarer, it undoes everything */
	return one_in(r, 4) ? pick_value(r) | 1 : v[below(r, sizeof(v))];
}

static uint64_t pick_features(struct fx *x)
{
	struct rng *r = &x->rng;
	uint64_t f = x->t.device_features;

	if (one_in(r, 8))
		return rnd(r);
	return (f & rnd(r)) | (one_in(r, 8) ? 0 : VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

static uint64_t pick_reg_value(struct fx *x, uint64_t off)
{
	struct rng *r = &x->rng;

	switch (off) {
	case VIRTIO_MMIO_STATUS:
		return pick_status(r);
	case VIRTIO_MMIO_QUEUE_SEL:
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		return below(r, 3) ? below(r, 2) : pick_value(r);
	case VIRTIO_MMIO_QUEUE_NUM:
		return pick_qsize(r);
	case VIRTIO_MMIO_QUEUE_READY:
		return below(r, 3) ? 1 : pick_value(r);
	case VIRTIO_MMIO_DRIVER_FEATURES:
		return pick_features(x) >> (x->t.drv_feat_sel == 1 ? 32 : 0);
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return pick_gpa(x);
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return one_in(r, 2) ? 0 : pick_gpa(x) >> 32;
	default:
		return pick_value(r);
	}
}

static unsigned pick_width(struct rng *r)
{
	return below(r, 4) ? 4 : 1u << below(r, 4);
}

/* The bus takes an access iff it lies wholly inside the device. */
static bool mmio_inside(uint64_t off, unsigned len)
{
	return off < VIRTIO_MMIO_SIZE && len <= VIRTIO_MMIO_SIZE - off;
}

static void op_reg_write(struct fx *x)
{
	uint64_t off = pick_off(&x->rng);
	unsigned len = pick_width(&x->rng);
	uint64_t v = pick_reg_value(x, off);
	uint8_t d[8];

	memcpy(d, &v, 8);
	fz_check(x, bus_write(&x->bus, MMIO_BASE + off, d, len) == mmio_inside(off, len));
}

/* Reads have no side effects a guest could abuse; the identity
 * registers must say the same whatever happened. */
static void op_reg_read(struct fx *x)
{
	uint64_t off = pick_off(&x->rng);
	unsigned len = pick_width(&x->rng);
	uint8_t d[8];
	uint32_t v;

	fz_check(x, bus_read(&x->bus, MMIO_BASE + off, d, len) == mmio_inside(off, len));
	if (len != 4)
		return;
	memcpy(&v, d, 4);
	if (off == VIRTIO_MMIO_MAGIC_VALUE)
		fz_check(x, v == VIRTIO_MMIO_MAGIC);
	else if (off == VIRTIO_MMIO_VERSION)
		fz_check(x, v == 2);
	else if (off == VIRTIO_MMIO_DEVICE_ID)
		fz_check(x, v == VIRTIO_ID_BLOCK);
	else if (off == VIRTIO_MMIO_STATUS)
		fz_check(x, v == x->t.status);
	else if (off == VIRTIO_MMIO_QUEUE_NUM_MAX)
		fz_check(x, v == (x->t.queue_sel == 0 ? BLK_QUEUE_SIZE : 0));
}

/* What a driver does to bring the device up, each step skipped or spoiled
 * now and then: the only way random registers reach a live queue. */
static void op_setup(struct fx *x)
{
	struct rng *r = &x->rng;
	uint32_t size = pick_qsize(r);
	uint64_t f = pick_features(x);
	struct ring g = ring_at(pick_ring_base(x, (uint16_t)size), (uint16_t)size);

	if (!one_in(r, 4))
		mmio_wr(x, VIRTIO_MMIO_STATUS, 0);
	mmio_wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	if (!one_in(r, 10))
		mmio_wr(x, VIRTIO_MMIO_STATUS, 0x0b);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_SEL, one_in(r, 10) ? (uint32_t)pick_value(r) : 0);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_NUM, size);
	if (one_in(r, 8))
		*(one_in(r, 2) ? &g.desc : one_in(r, 2) ? &g.avail : &g.used) = pick_gpa(x);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)g.desc);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(g.desc >> 32));
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)g.avail);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(g.avail >> 32));
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)g.used);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(g.used >> 32));
	if (one_in(r, 2)) {
		/* A driver zeroes its rings; this one, half the time. */
		uint8_t zero[4] = { 0 };
		put(x, g.avail, zero, sizeof(zero));
		put(x, g.used, zero, sizeof(zero));
	}
	if (!one_in(r, 10))
		mmio_wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	if (!one_in(r, 10))
		mmio_wr(x, VIRTIO_MMIO_STATUS, 0x0f);
}

/* What the event loop would run, or a notification through the bus. */
static void op_notify(struct fx *x)
{
	struct rng *r = &x->rng;
	uint64_t v;

	switch (below(r, 5)) {
	case 0:
		mmio_wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, below(r, 4) ? 0 : (uint32_t)pick_value(r));
		/* fall through */
	case 1:
		virtio_mmio_poll_notify(&x->t, 0);
		break;
	case 2:
		virtio_mmio_poll_notify(&x->t, (unsigned)pick_value(r));
		fz_check(x, virtio_mmio_notify_fd(&x->t, (unsigned)pick_value(r)) >= -1);
		break;
	case 3:
		blk_poll(x->b);
		break;
	default:
		if (read(x->irq.fd, &v, sizeof(v)) < 0) {
		}
		mmio_wr(x, VIRTIO_MMIO_INTERRUPT_ACK, (uint32_t)pick_value(r));
		break;
	}
}

/* ---- Invariants ---- */

/* A live queue: a size it may have, rings resolved inside guest RAM. */
static void check_queue(struct fx *x, const struct virtq *q, unsigned max)
{
	if (!q->ready)
		return;
	fz_check(x, q->size && !(q->size & (q->size - 1)) && q->size <= max);
	fz_check(x, gmem_ptr(&x->mem, q->desc_gpa, VIRTQ_DESC_BYTES(q->size)) == q->desc);
	fz_check(x, gmem_ptr(&x->mem, q->avail_gpa, VIRTQ_AVAIL_BYTES(q->size)) == q->avail);
	fz_check(x, gmem_ptr(&x->mem, q->used_gpa, VIRTQ_USED_BYTES(q->size)) == q->used);
}

/* Every request is either free or with the backend: none leaked, none
 * freed twice (a loop in the free list would exceed the count). */
static void check_requests(struct fx *x)
{
	unsigned nfree = 0;
	unsigned busy = backend_busy(x);

	for (const struct blk_req *r = x->b->free; r; r = r->next_free) {
		fz_check(x, r >= x->b->reqs && r < x->b->reqs + BLK_QUEUE_SIZE);
		fz_check(x, ++nfree <= BLK_QUEUE_SIZE);
	}
	fz_check(x, nfree + busy == BLK_QUEUE_SIZE);
}

static void check_invariants(struct fx *x)
{
	const struct virtio_mmio *t = &x->t;

	fz_check(x, t->status <= 0xff);
	fz_check(x, (t->isr & ~(uint32_t)(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG)) == 0);
	fz_check(x, t->active == !!(t->status & VIRTIO_STATUS_DRIVER_OK));
	fz_check(x, (x->b->vq != NULL) == t->active);
	for (unsigned i = 0; i < VIRTIO_MMIO_MAX_QUEUES; i++) {
		fz_check(x, i < blk_virtio_ops.num_queues || !t->vq[i].ready);
		check_queue(x, &t->vq[i], BLK_QUEUE_SIZE);
	}
	check_requests(x);
}

/* ---- A good driver ---- */

struct good {
	struct vdrv d;
	uint64_t hdr, status, data;
	bool indirect;
};

/* Place the ring and buffers: region 0 as usual, or at region edges, the
 * status byte then being the very last byte below UINT64_MAX. */
static void good_place(struct fx *x, struct good *g)
{
	struct rng *r = &x->rng;
	const struct gmem_region *r1 = &x->mem.r[1], *r2 = &x->mem.r[2];
	uint64_t end1 = r1->gpa + r1->size, end2 = r2->gpa + r2->size;
	uint64_t rings[] = { G_RING, r1->gpa, r2->gpa };
	uint64_t ring = rings[below(r, 3)];
	/* Chains are capped at the queue size: 4 holds a whole request. */
	uint16_t size = (uint16_t)(4u << below(r, 7));

	g->hdr = one_in(r, 2) ? G_HDR : end1 - 16;
	g->status = one_in(r, 2) ? G_STATUS : end2 - 1;
	switch (below(r, 3)) {
	case 0:
		g->data = G_DATA + below(r, 4096);
		break;
	case 1:
		g->data = end2 - 1 - G_MAXLEN;
		break;
	default:
		g->data = end1 - 16 - G_MAXLEN;
		break;
	}
	vdrv_init(&g->d, &x->mem, size, ring);
}

static void good_up(struct fx *x, struct good *g)
{
	struct rng *r = &x->rng;
	uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		     (one_in(r, 2) ? VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC) : 0) |
		     (one_in(r, 2) ? VIRTIO_BIT(VIRTQ_F_EVENT_IDX) : 0);

	mmio_wr(x, VIRTIO_MMIO_STATUS, 0);
	fz_check(x, mmio_rd(x, VIRTIO_MMIO_STATUS) == 0);
	good_place(x, g);
	g->indirect = f & VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC);
	mmio_wr(x, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mmio_wr(x, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
	mmio_wr(x, VIRTIO_MMIO_STATUS, 0x0b);
	fz_check(x, mmio_rd(x, VIRTIO_MMIO_STATUS) == 0x0b);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_SEL, 0);
	fz_check(x, mmio_rd(x, VIRTIO_MMIO_QUEUE_READY) == 0);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_NUM, g->d.size);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)g->d.desc);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(g->d.desc >> 32));
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)g->d.avail);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(g->d.avail >> 32));
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)g->d.used);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(g->d.used >> 32));
	mmio_wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	mmio_wr(x, VIRTIO_MMIO_STATUS, 0x0f);
	fz_check(x, mmio_rd(x, VIRTIO_MMIO_STATUS) == 0x0f);
	virtio_mmio_poll_notify(&x->t, 0);
}

/* Reap the backend until the next used entry appears, as the evloop would. */
static void good_wait(struct fx *x, struct good *g, uint16_t head, uint32_t *len)
{
	uint32_t id;

	for (int i = 0; i < 1000; i++) {
		if (vdrv_get_used(&g->d, &id, len)) {
			fz_check(x, id == head);
			return;
		}
		/* A file backend's completions arrive through the loop (0:
		 * io_uring's task work interrupted the wait). */
		if (x->fake)
			blk_poll(x->b);
		else
			fz_check(x, evloop_poll(&x->loop, 10000) >= 0);
	}
	ck_abort_msg("seed %llu: no used entry", (unsigned long long)x->seed);
}

/* Header, data (if len), status: one request, waited for. Its status. */
static uint8_t good_req(struct fx *x, struct good *g, uint32_t type, uint64_t sector,
			uint32_t len, uint32_t *used_len)
{
	struct virtio_blk_outhdr h = { htole32(type), 0, htole64(sector) };
	struct vdrv_buf b[] = {
		{ g->hdr, 16, false }, { g->data, len, type != VIRTIO_BLK_T_OUT },
		{ g->status, 1, true },
	};
	uint8_t st = 0xee;
	uint16_t head;

	put(x, g->hdr, &h, sizeof(h));
	put(x, g->status, &st, 1);
	if (!len)
		b[1] = b[2];
	if (g->indirect && one_in(&x->rng, 2))
		head = vdrv_chain_indirect(&g->d, G_TABLE, b, len ? 3 : 2);
	else
		head = vdrv_chain(&g->d, b, len ? 3 : 2);
	vdrv_publish(&g->d, head);
	mmio_wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_poll_notify(&x->t, 0);
	good_wait(x, g, head, used_len);
	fz_check(x, gmem_read(&x->mem, g->status, &st, 1) == 0);
	return st;
}

/* Write random sectors, read them back, flush, ask the id, and have an
 * out-of-range read refused without harm to the device. */
static void good_phase(struct fx *x)
{
	struct rng *r = &x->rng;
	struct good g;
	uint8_t want[G_MAXLEN], got[G_MAXLEN];
	uint32_t len;

	if (x->fake)
		x->fake->hostile = false;
	good_up(x, &g);
	for (unsigned i = 0; i < 4; i++) {
		uint32_t n = 1 + (uint32_t)below(r, G_MAXLEN / BLK_SECTOR);
		uint64_t sector = below(r, SECTORS - n + 1);
		for (uint32_t k = 0; k < n * BLK_SECTOR; k++)
			want[k] = (uint8_t)rnd(r);
		put(x, g.data, want, n * BLK_SECTOR);
		fz_check(x, good_req(x, &g, VIRTIO_BLK_T_OUT, sector, n * BLK_SECTOR, &len) ==
			    VIRTIO_BLK_S_OK && len == 1);
		memset(got, 0x5a, sizeof(got));
		put(x, g.data, got, n * BLK_SECTOR);
		fz_check(x, good_req(x, &g, VIRTIO_BLK_T_IN, sector, n * BLK_SECTOR, &len) ==
			    VIRTIO_BLK_S_OK && len == n * BLK_SECTOR + 1);
		fz_check(x, gmem_read(&x->mem, g.data, got, n * BLK_SECTOR) == 0);
		fz_check(x, memcmp(want, got, n * BLK_SECTOR) == 0);
	}
	fz_check(x, good_req(x, &g, VIRTIO_BLK_T_FLUSH, 0, 0, &len) == VIRTIO_BLK_S_OK);
	fz_check(x, good_req(x, &g, VIRTIO_BLK_T_GET_ID, 0, BLK_ID_BYTES, &len) ==
		    VIRTIO_BLK_S_OK && len == BLK_ID_BYTES + 1);
	fz_check(x, gmem_read(&x->mem, g.data, got, 5) == 0 && memcmp(got, "fuzz", 5) == 0);
	fz_check(x, good_req(x, &g, VIRTIO_BLK_T_IN, SECTORS, BLK_SECTOR, &len) ==
		    VIRTIO_BLK_S_IOERR);
	fz_check(x, !(x->t.status & VIRTIO_STATUS_NEEDS_RESET));
	check_invariants(x);
}

/* ---- The hostile guest ---- */

static void one_op(struct fx *x, bool *hostile_be)
{
	struct rng *r = &x->rng;
	unsigned k = (unsigned)below(r, 100);

	if (k < 20)
		op_reg_write(x);
	else if (k < 28)
		op_reg_read(x);
	else if (k < 31)
		op_setup(x);
	else if (k < 55)
		op_garbage(x);
	else if (k < 66 && x->t.vq[0].ready)
		op_request(x, &x->t.vq[0]);
	else if (k < 70 && x->t.vq[0].ready)
		op_flood(x, &x->t.vq[0]);
	else if (k < 98)
		op_notify(x);
	else if (k < 99 || !one_in(r, 50))
		mmio_wr(x, VIRTIO_MMIO_STATUS, 0);
	else
		good_phase(x);
	if (x->fake && one_in(r, 500))
		*hostile_be = !*hostile_be;
}

static void fuzz_blk(uint64_t seed, enum disk kind, unsigned ops)
{
	struct fx *x = fx_dev(seed, kind);
	bool hostile_be = true;

	for (x->op = 0; x->op < ops; x->op++) {
		if (x->fake)
			x->fake->hostile = hostile_be;
		one_op(x, &hostile_be);
		check_invariants(x);
	}
	/* Whatever the guest did, a reset gives it a working device back. */
	if (x->fake)
		x->fake->hostile = false;
	x->op = ops;
	mmio_wr(x, VIRTIO_MMIO_STATUS, 0);
	check_invariants(x);
	fz_check(x, backend_busy(x) == 0);
	good_phase(x);
	fx_free(x);
}

START_TEST(blk_fake_backend)
{
	fuzz_blk(first_seed + (unsigned)_i, DISK_FAKE, nr_ops);
}
END_TEST

START_TEST(blk_image)
{
	fuzz_blk(first_seed + (unsigned)_i, DISK_IMAGE, (nr_ops + 3) / 4);
}
END_TEST

START_TEST(blk_ephemeral)
{
	fuzz_blk(first_seed + (unsigned)_i, DISK_EPHEMERAL, (nr_ops + 3) / 4);
}
END_TEST

/* ---- The virtqueue alone: all sizes up to VIRTQ_SIZE_MAX ---- */

/* A popped chain: inside guest RAM, readable segments first, sums right. */
static void check_chain(struct fx *x, const struct virtq *q, const struct virtq_chain *c)
{
	uint64_t rl = 0, wl = 0;

	fz_check(x, c->head < q->size);
	fz_check(x, c->nseg >= 1 && c->nseg <= q->size && c->nread <= c->nseg);
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];
		fz_check(x, gmem_ptr(&x->mem, s->gpa, s->len) == s->host);
		fz_check(x, in_ram(x, s->host, s->len));
		fz_check(x, s->write == (i >= c->nread));
		*(s->write ? &wl : &rl) += s->len;
	}
	fz_check(x, rl == c->read_len && wl == c->write_len);
}

/* Bring x->t.vq[0] up directly, bypassing the transport, so that
 * guest_ring() and op_garbage() aim at it. */
static void vq_enable(struct fx *x, struct virtq *q)
{
	struct rng *r = &x->rng;
	uint32_t size = one_in(r, 3) ? pick_qsize(r) : 1u << below(r, 11);
	struct ring g = ring_at(pick_ring_base(x, (uint16_t)size), (uint16_t)size);
	uint8_t zero[4] = { 0 };

	if (one_in(r, 8))
		*(one_in(r, 2) ? &g.desc : one_in(r, 2) ? &g.avail : &g.used) = pick_gpa(x);
	int err = virtq_enable(q, (uint16_t)size, g.desc, g.avail, g.used, rnd(r));
	fz_check(x, err == 0 || err == -EINVAL || err == -EFAULT);
	fz_check(x, q->ready == (err == 0));
	if (err)
		return;
	check_queue(x, q, VIRTQ_SIZE_MAX);
	put(x, g.avail, zero, 4);
}

static void vq_pop(struct fx *x, struct virtq *q, struct virtq_chain *c, uint16_t *heads,
		   unsigned *nheads)
{
	bool broken = q->broken;
	int n = virtq_pop(q, c);

	if (broken)
		fz_check(x, n == -EIO);
	else if (n < 0)
		fz_check(x, q->broken && (n == -EINVAL || n == -EFAULT));
	if (n != 1)
		return;
	check_chain(x, q, c);
	if (*nheads < 64)
		heads[(*nheads)++] = c->head;
}

static void vq_push(struct fx *x, struct virtq *q, uint16_t *heads, unsigned *nheads)
{
	struct rng *r = &x->rng;
	uint16_t head = *nheads && !one_in(r, 4) ? heads[--*nheads] : (uint16_t)pick_value(r);
	int err = virtq_push(q, head, (uint32_t)pick_value(r));

	if (q->broken || !q->ready)
		fz_check(x, err == -EIO);
	else
		fz_check(x, err == (head < q->size ? 0 : -EINVAL));
	if (!err && one_in(r, 2))
		virtq_should_notify(q);
}

START_TEST(virtq_hostile)
{
	struct fx *x = fx_ram(first_seed + (unsigned)_i);
	struct virtq *q = &x->t.vq[0];
	struct virtq_chain *c = malloc(sizeof(*c));
	uint16_t heads[64];
	unsigned nheads = 0;

	ck_assert_ptr_nonnull(c);
	virtq_init(q, &x->mem);
	for (x->op = 0; x->op < nr_ops; x->op++) {
		unsigned k = (unsigned)below(&x->rng, 100);
		if (k < 3 || (!q->ready && k < 20)) {
			vq_enable(x, q);
			nheads = 0;
		} else if (k < 40) {
			op_garbage(x);
		} else if (k < 60 && q->ready) {
			op_request(x, q);
		} else if (k < 80) {
			vq_pop(x, q, c, heads, &nheads);
		} else if (k < 97) {
			vq_push(x, q, heads, &nheads);
		} else {
			virtq_reset(q);
			fz_check(x, !q->ready && !q->broken && virtq_pop(q, c) == 0);
		}
	}
	free(c);
	fx_free(x);
}
END_TEST

/* ---- Guest memory against a reference ---- */

struct ref_region {
	uint64_t gpa, size;
	uint8_t *host;
};

/* gmem_add's contract, in 128-bit arithmetic that cannot wrap. */
static int ref_add(struct ref_region *rr, unsigned n, uint64_t gpa, uint64_t size)
{
	if (n >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	if (size == 0 || (unsigned __int128)gpa + size > UINT64_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		if ((unsigned __int128)gpa < (unsigned __int128)rr[i].gpa + rr[i].size &&
		    rr[i].gpa < (unsigned __int128)gpa + size)
			return -EINVAL;
	return 0;
}

/* Could p be gmem_ptr(gpa, len)? NULL only if no region holds the range. */
static bool ref_ptr_ok(const struct ref_region *rr, unsigned n, uint64_t gpa, uint64_t len,
		       const uint8_t *p)
{
	bool any = false;

	for (unsigned i = 0; i < n; i++) {
		if (gpa < rr[i].gpa ||
		    (unsigned __int128)gpa + len > (unsigned __int128)rr[i].gpa + rr[i].size)
			continue;
		any = true;
		if (p == rr[i].host + (gpa - rr[i].gpa))
			return true;
	}
	return !any && !p;
}

static uint64_t pick_region_gpa(struct fx *x, const struct ref_region *rr, unsigned n)
{
	struct rng *r = &x->rng;

	if (n && one_in(r, 2)) {
		const struct ref_region *o = &rr[below(r, n)];
		/* Just before, at, or just after another region's ends. */
		return o->gpa + (one_in(r, 2) ? o->size : 0) + below(r, 32) - 16;
	}
	return one_in(r, 2) ? UINT64_MAX - below(r, 0x20000) : pick_value(r) & ~0xfffull;
}

static void gmem_round(struct fx *x, uint8_t *pool, size_t slot)
{
	struct rng *r = &x->rng;
	struct gmem m = { .nr = 0 };
	struct ref_region rr[GMEM_MAX_REGIONS];
	unsigned n = 0;

	for (unsigned i = 0; i < 8; i++) {
		uint64_t gpa = pick_region_gpa(x, rr, n);
		uint64_t size = one_in(r, 10) ? pick_value(r) : 1 + below(r, slot);
		if (size > slot)
			size = one_in(r, 2) ? 0 : slot;   /* the host buffers are this big */
		int want = ref_add(rr, n, gpa, size);
		uint8_t *host = pool + slot * (n < GMEM_MAX_REGIONS ? n : 0);
		fz_check(x, gmem_add(&m, gpa, size, host) == want);
		if (!want)
			rr[n++] = (struct ref_region){ gpa, size, host };
	}
	for (unsigned i = 0; i < 2000; i++) {
		uint64_t gpa = one_in(r, 4) ? pick_value(r) : pick_region_gpa(x, rr, n);
		uint64_t len = one_in(r, 3) ? pick_value(r) : below(r, 64);
		uint8_t *p = gmem_ptr(&m, gpa, len);
		fz_check(x, ref_ptr_ok(rr, n, gpa, len, p));
		uint8_t buf[64];
		if (len <= sizeof(buf))
			fz_check(x, gmem_read(&m, gpa, buf, len) == (p ? 0 : -EFAULT));
	}
	uint64_t total = 0, end = 0;
	for (unsigned i = 0; i < n; i++) {
		total += rr[i].size;
		end = rr[i].gpa + rr[i].size > end ? rr[i].gpa + rr[i].size : end;
	}
	fz_check(x, gmem_total(&m) == total && gmem_end(&m) == end);
}

START_TEST(gmem_reference)
{
	struct fx *x = fx_ram(first_seed + (unsigned)_i);
	const size_t slot = 64 * 1024;
	uint8_t *pool = malloc(slot * GMEM_MAX_REGIONS);

	ck_assert_ptr_nonnull(pool);
	/* One round (8 regions, 2,000 accesses) per 400 steps: the default
	 * 20,000 steps give 50 rounds, and MOTE_FUZZ_OPS scales them. */
	for (x->op = 0; x->op < (nr_ops + 399) / 400; x->op++)
		gmem_round(x, pool, slot);
	free(pool);
	fx_free(x);
}
END_TEST

int main(void)
{
	fuzz_env_load();

	Suite *s = suite_create("hostile-virtio");
	TCase *mem = tcase_create("gmem");
	TCase *vq = tcase_create("virtq");
	TCase *blk = tcase_create("blk");
	TCase *img = tcase_create("blk-image");

	tcase_add_loop_test(mem, gmem_reference, 0, (int)nr_seeds);
	tcase_add_loop_test(vq, virtq_hostile, 0, (int)nr_seeds);
	tcase_add_loop_test(blk, blk_fake_backend, 0, (int)nr_seeds);
	tcase_add_loop_test(img, blk_image, 0, (int)(nr_seeds + 9) / 10);
	tcase_add_loop_test(img, blk_ephemeral, 0, (int)(nr_seeds + 9) / 10);
	tcase_set_timeout(vq, 120);
	tcase_set_timeout(blk, 120);
	tcase_set_timeout(img, 120);
	/* Tagged: qemu-user has no io_uring, so the arm64 run (tools/arm64.mk)
	 * leaves these out with CK_EXCLUDE_TAGS=io_uring. */
	tcase_set_tags(img, "io_uring");
	suite_add_tcase(s, fuzz_env_tcase());
	suite_add_tcase(s, mem);
	suite_add_tcase(s, vq);
	suite_add_tcase(s, blk);
	suite_add_tcase(s, img);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
