/*
 * virtio-blk request parsing (virtio/blk.c) over a fake backend
 * (tests/fuzz/fake_blk.h), behind a transport a well-behaved driver has
 * already brought up. The input is the negotiation, then descriptor
 * chains as a hostile driver would post them:
 *
 *   u8 flags: 1 FLUSH, 2 INDIRECT_DESC, 4 EVENT_IDX, 8 the read-only disk
 *   u8 log2 of the queue size (mod 9)
 *   per chain:
 *     u8  segments (1 + n % 8), 0x80: through an indirect table
 *     per segment: u8 flags (1: device-writable), u16 (address - BUFS) / 4,
 *                  u16 length
 *     u32 type, u32 reserved, u64 sector: written at the first segment
 *     u8  then: 1 notify, 2 complete everything, 4 complete some with errors
 *
 * Segments may overlap each other or run past RAM (not the rings: the
 * used-ring check below reads them). What must
 * hold: no sanitizer report; the backend sees only requests inside guest
 * RAM and the disk; no used element reports more bytes than its chain
 * could take; after the reset no request is in flight or lost.
 */
#include "tests/fuzz/fake_blk.h"
#include "tests/unit/virtq_driver.c"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/irq.h"

#define RAM_SIZE  0x40000ull
#define RING      0x0ull
#define TABLE     0x8000ull
#define BUFS      0x9000ull       /* segments from here: never on the rings */
#define MAX_SEGS  8

struct dev {
	struct blk *b;
	struct fake_blk *f;
	struct blk_backend be;
};

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct dev dev[2];           /* writable, read-only */
	struct dev *d;
	struct vdrv drv;
	/* Per head, for the used-ring check: the writable bytes of the chain
	 * posted there, how many of its posts are not back yet, and whether
	 * a later chain overwrote a descriptor (or the indirect table) it
	 * still needed, after which its size is unknown. */
	uint64_t wlen[VIRTQ_SIZE_MAX];
	unsigned npend[VIRTQ_SIZE_MAX];
	bool tainted[VIRTQ_SIZE_MAX];
	uint16_t owner[VIRTQ_SIZE_MAX];         /* per descriptor: its chain's head */
	int last_indirect;                      /* head using TABLE, or -1 */
};

static struct fx *fixed;

static void wr(struct fx *x, uint64_t off, uint32_t v)
{
	virtio_mmio_bus_ops.write(&x->t, off, (const uint8_t *)&v, 4);
}

static void driver_up(struct fx *x, uint8_t flags, uint16_t qsz)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint32_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     (flags & 1 ? VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) : 0) |
		     (flags & 2 ? VIRTIO_BIT(VIRTQ_F_INDIRECT_DESC) : 0) |
		     (flags & 4 ? VIRTIO_BIT(VIRTQ_F_EVENT_IDX) : 0) |
		     (flags & 8 ? VIRTIO_BIT(VIRTIO_BLK_F_RO) : 0);

	wr(x, VIRTIO_MMIO_STATUS, s);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, f);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, 1);     /* VERSION_1 */
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	vdrv_init(&x->drv, &x->mem, qsz, RING);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, qsz);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)x->drv.desc);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)x->drv.avail);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)x->drv.used);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	FZ_CHECK(x->t.active);
}

static void post_chain(struct fx *x, struct fin *in)
{
	struct vdrv_buf bufs[MAX_SEGS];
	uint8_t n = fin_u8(in);
	unsigned nseg = 1 + (n & 7);
	uint64_t wlen = 0;
	uint8_t hdr[16];
	uint16_t head;

	for (unsigned i = 0; i < nseg; i++) {
		uint8_t fl = fin_u8(in);
		bufs[i].gpa = BUFS + (uint64_t)fin_u16(in) * 4;
		bufs[i].len = fin_u16(in);
		bufs[i].write = fl & 1;
		wlen += bufs[i].write ? bufs[i].len : 0;
	}
	fin_bytes(in, hdr, sizeof(hdr));
	if (bufs[0].gpa + sizeof(hdr) <= RAM_SIZE)
		memcpy(x->ram + bufs[0].gpa, hdr, sizeof(hdr));
	unsigned ndesc = n & 0x80 ? 1 : nseg;
	for (unsigned i = 0; i < ndesc; i++) {
		uint16_t o = x->owner[(x->drv.next_desc + i) % x->drv.size];
		if (x->npend[o])
			x->tainted[o] = true;
	}
	if ((n & 0x80) && x->last_indirect >= 0 && x->npend[x->last_indirect])
		x->tainted[x->last_indirect] = true;
	if (n & 0x80)
		head = vdrv_chain_indirect(&x->drv, TABLE, bufs, nseg);
	else
		head = vdrv_chain(&x->drv, bufs, nseg);
	for (unsigned i = 0; i < ndesc; i++)
		x->owner[(head + i) % x->drv.size] = head;
	if (n & 0x80)
		x->last_indirect = head;
	vdrv_publish(&x->drv, head);
	x->tainted[head] = x->npend[head] > 0 && (x->tainted[head] || x->wlen[head] != wlen);
	x->wlen[head] = wlen;
	x->npend[head]++;
}

static void then(struct fx *x, uint8_t what, uint32_t pick)
{
	struct fake_blk *f = x->d->f;

	if (what & 1)
		virtio_mmio_poll_notify(&x->t, 0);
	if (what & 2)
		blk_poll(x->d->b);
	for (unsigned n = what & 4 ? (what >> 4) + 1 : 0; n && f->npending; n--) {
		pick = pick * 1103515245u + 12345u;
		fake_blk_complete(f, (pick >> 8) % f->npending, pick & 0x100 ? -EIO : 0);
	}
	if (what & 4)
		blk_poll(x->d->b);
}

static void check_used(struct fx *x)
{
	uint32_t id, len;

	while (vdrv_get_used(&x->drv, &id, &len)) {
		FZ_CHECK(id < x->drv.size);
		FZ_CHECK(x->tainted[id] || len <= x->wlen[id]);
		if (x->npend[id] && --x->npend[id] == 0)
			x->tainted[id] = false;
	}
}

static void dev_init(struct fx *x, struct dev *d, bool ro)
{
	d->f = calloc(1, sizeof(*d->f));
	d->f->ram = x->ram;
	d->f->ram_size = RAM_SIZE;
	d->be = (struct blk_backend){ &fake_blk_ops, d->f, FAKE_DISK, ro };
	d->b = calloc(1, sizeof(*d->b));
	FZ_CHECK(blk_init(d->b, &d->be, "fuzz-blk-id-twenty-b") == 0);
}

/* RAM and the devices live across inputs (see fuzz_mmio_blk.c). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct fx *x = calloc(1, sizeof(*x));

	x->ram = fz_ram_alloc(RAM_SIZE);
	FZ_CHECK(gmem_add(&x->mem, 0, RAM_SIZE, x->ram) == 0);
	dev_init(x, &x->dev[0], false);
	dev_init(x, &x->dev[1], true);
	fixed = x;
	return 0;
}

static unsigned free_reqs(const struct blk *b)
{
	unsigned n = 0;

	for (const struct blk_req *r = b->free; r; r = r->next_free)
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct fx *x = fixed;
	uint8_t flags = fin_u8(&in);
	uint16_t qsz = (uint16_t)(1u << (fin_u8(&in) % 9));

	memset(x->ram, 0, RAM_SIZE);
	memset(x->wlen, 0, sizeof(x->wlen));
	memset(x->npend, 0, sizeof(x->npend));
	memset(x->tainted, 0, sizeof(x->tainted));
	memset(x->owner, 0, sizeof(x->owner));
	x->last_indirect = -1;
	x->d = &x->dev[flags & 8 ? 1 : 0];
	FZ_CHECK(irq_line_init(&x->irq, 5) == 0);
	FZ_CHECK(evloop_init(&x->loop) == 0);
	FZ_CHECK(virtio_mmio_init(&x->t, &x->mem, &x->irq, &blk_virtio_ops, x->d->b) == 0);
	FZ_CHECK(virtio_mmio_attach(&x->t, &x->loop) == 0);
	driver_up(x, flags, qsz);
	while (in.n) {
		post_chain(x, &in);
		uint8_t what = fin_u8(&in);
		then(x, what, fin_u8(&in));
		check_used(x);
	}
	then(x, 1 | 2, 0);
	check_used(x);

	virtio_mmio_release(&x->t);
	FZ_CHECK(x->d->f->npending == 0);
	FZ_CHECK(free_reqs(x->d->b) == BLK_QUEUE_SIZE);
	FZ_CHECK(!x->d->b->vq && !x->d->b->stalled);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	return 0;
}
