/*
 * The virtio-mmio register file with virtio-blk behind it, over a fake
 * backend (tests/fuzz/fake_blk.h). The input is a list of operations,
 * 8 bytes each, then an image of guest RAM:
 *
 *   u8 number of operations
 *   per operation: u8 code, u8 a, u16 offset, u32 value (see enum op)
 *   the rest: guest RAM from address 0
 *
 * Operations are what a guest does (register reads and writes of any
 * width at any offset, queue notifies, stores to its RAM), what the host
 * does (complete backend requests in any order, with errors; refuse a
 * submission), and two shortcuts a coverage-guided search would take long
 * to find: a driver that brings the device up, and a well-formed request.
 *
 * What must hold: no sanitizer report; the device never runs without
 * FEATURES_OK and never on features it did not offer; every request the
 * backend sees is inside guest RAM and the disk (fake_blk.h); after the
 * transport is released no request is left in flight or lost.
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
#define RING      0x1000ull
#define HDR       0x10000ull
#define DATA      0x20000ull
#define STATUS    0x3f000ull

enum op {
	OP_WRITE, OP_READ, OP_NOTIFY, OP_COMPLETE, OP_POLL, OP_POKE, OP_DRIVER_UP,
	OP_REQUEST, OP_SUBMIT_FAIL, OP_RESET, OP_COUNT
};

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct irq_line irq;
	struct evloop loop;
	struct virtio_mmio t;
	struct blk *b;
	struct fake_blk *f;
	struct blk_backend be;
	struct vdrv drv;
	bool drv_up;
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

static void check_state(struct fx *x)
{
	const struct virtio_mmio *t = &x->t;

	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		FZ_CHECK(t->status & VIRTIO_STATUS_FEATURES_OK);
	if (t->active) {
		FZ_CHECK(t->status & VIRTIO_STATUS_FEATURES_OK);
		FZ_CHECK(!(t->driver_features & ~t->device_features));
		FZ_CHECK(t->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
	}
	FZ_CHECK(x->f->npending <= BLK_QUEUE_SIZE);
}

/* The Linux driver's sequence, with the features the input picks. */
static void driver_up(struct fx *x, uint8_t a, uint32_t want)
{
	uint32_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	uint16_t qsz = (uint16_t)(1u << (a % 9));

	wr(x, VIRTIO_MMIO_STATUS, 0);
	wr(x, VIRTIO_MMIO_STATUS, s);
	wr(x, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint32_t lo = rd(x, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, lo & want);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(x, VIRTIO_MMIO_DRIVER_FEATURES, 1);     /* VERSION_1 */
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK);
	vdrv_init(&x->drv, &x->mem, qsz, RING);
	wr(x, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(x, VIRTIO_MMIO_QUEUE_NUM, qsz);
	wr(x, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)x->drv.desc);
	wr(x, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)x->drv.avail);
	wr(x, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)x->drv.used);
	wr(x, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(x, VIRTIO_MMIO_STATUS, s | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	x->drv_up = true;
}

/* A request as a driver lays it out: header, data in 1..4 pieces, status. */
static void request(struct fx *x, uint8_t a, uint16_t off, uint32_t v)
{
	static const uint32_t types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
		VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, 2, 0xffffffff };
	struct virtio_blk_outhdr h = { types[a % 6], 0, off % 160 };
	uint32_t len = (v & 0xffff) * (a & 0x40 ? 1 : BLK_SECTOR) % 0x10000;
	unsigned pieces = 1 + ((v >> 16) & 3);
	bool write = h.type == VIRTIO_BLK_T_OUT;
	struct vdrv_buf bufs[6];
	unsigned n = 0;

	if (!x->drv_up)
		return;
	FZ_CHECK(gmem_write(&x->mem, HDR, &h, sizeof(h)) == 0);
	bufs[n++] = (struct vdrv_buf){ HDR, sizeof(h), false };
	for (unsigned i = 0; i < pieces && len; i++) {
		uint32_t part = i + 1 == pieces ? len - len / pieces * i : len / pieces;
		bufs[n++] = (struct vdrv_buf){ DATA + len / pieces * i, part, !write };
	}
	bufs[n++] = (struct vdrv_buf){ STATUS, 1, true };
	if (a & 0x80)
		vdrv_publish(&x->drv, vdrv_chain_indirect(&x->drv, 0x8000, bufs, n));
	else
		vdrv_add(&x->drv, bufs, n);
	wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_mmio_poll_notify(&x->t, 0);
}

/* Complete n pending requests, picked by v, some failing. */
static void complete(struct fx *x, uint8_t a, uint32_t v)
{
	for (unsigned n = 1 + (a & 7); n && x->f->npending; n--, v = v * 1103515245u + 12345u)
		fake_blk_complete(x->f, (v >> 8) % x->f->npending, v & 0x80 ? -EIO : 0);
}

static void reg_access(struct fx *x, bool write, uint8_t a, uint16_t off, uint32_t v)
{
	static const unsigned lens[] = { 4, 1, 2, 8 };
	unsigned len = lens[a & 3];
	uint8_t d[8];

	off %= VIRTIO_MMIO_SIZE;
	if (off + len > VIRTIO_MMIO_SIZE)
		len = 1;
	memcpy(d, &v, 4);
	memcpy(d + 4, &v, 4);
	if (write) {
		virtio_mmio_bus_ops.write(&x->t, off, d, len);
		return;
	}
	memset(d, 0, sizeof(d));
	virtio_mmio_bus_ops.read(&x->t, off, d, len);
	if (off == VIRTIO_MMIO_MAGIC_VALUE && len == 4)
		FZ_CHECK(memcmp(d, "virt", 4) == 0);
}

static void run_op(struct fx *x, uint8_t code, uint8_t a, uint16_t off, uint32_t v)
{
	switch (code % OP_COUNT) {
	case OP_WRITE:      reg_access(x, true, a, off, v); break;
	case OP_READ:       reg_access(x, false, a, off, v); break;
	case OP_NOTIFY:
		wr(x, VIRTIO_MMIO_QUEUE_NOTIFY, a & 1);
		virtio_mmio_poll_notify(&x->t, a & 1);
		break;
	case OP_COMPLETE:   complete(x, a, v); break;
	case OP_POLL:       blk_poll(x->b); break;
	case OP_POKE:       memcpy(x->ram + (uint64_t)off * 4 % (RAM_SIZE - 3), &v, 4); break;
	case OP_DRIVER_UP:  driver_up(x, a, v); break;
	case OP_REQUEST:    request(x, a, off, v); break;
	case OP_SUBMIT_FAIL: x->f->submit_err = a & 1 ? -EIO : -EAGAIN; break;
	case OP_RESET:      wr(x, VIRTIO_MMIO_STATUS, 0); x->drv_up = false; break;
	}
	check_state(x);
}

static unsigned free_reqs(const struct blk *b)
{
	unsigned n = 0;

	for (const struct blk_req *r = b->free; r; r = r->next_free)
		n++;
	return n;
}

/*
 * What lives across inputs, because allocating it costs page faults on
 * every run (blk_init's request table is half a megabyte): guest RAM
 * (zeroed per input) and the device with its backend. Each input ends
 * with the transport's release, after which the device must be back in
 * its reset state with every request free (checked), so no input leaves
 * anything for the next.
 */
static struct fx *fixed;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct fx *x = calloc(1, sizeof(*x));

	x->ram = fz_ram_alloc(RAM_SIZE);
	FZ_CHECK(gmem_add(&x->mem, 0, RAM_SIZE, x->ram) == 0);
	x->f = calloc(1, sizeof(*x->f));
	x->f->ram = x->ram;
	x->f->ram_size = RAM_SIZE;
	x->be = (struct blk_backend){ &fake_blk_ops, x->f, FAKE_DISK, false };
	x->b = calloc(1, sizeof(*x->b));
	FZ_CHECK(blk_init(x->b, &x->be, "fuzz-disk") == 0);
	fixed = x;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct fx *x = fixed;

	memset(x->ram, 0, RAM_SIZE);
	memset(x->f->disk, 0, sizeof(x->f->disk));
	x->f->submit_err = 0;
	x->drv_up = false;
	FZ_CHECK(irq_line_init(&x->irq, 5) == 0);
	FZ_CHECK(evloop_init(&x->loop) == 0);
	FZ_CHECK(virtio_mmio_init(&x->t, &x->mem, &x->irq, &blk_virtio_ops, x->b) == 0);
	FZ_CHECK(virtio_mmio_attach(&x->t, &x->loop) == 0);

	unsigned nops = fin_u8(&in);
	const uint8_t *ops = in.p;
	size_t opbytes = nops * 8u < in.n ? nops * 8u : in.n;
	in.p += opbytes;
	in.n -= opbytes;
	fin_bytes(&in, x->ram, RAM_SIZE);
	for (size_t i = 0; i + 8 <= opbytes; i += 8) {
		uint16_t off;
		uint32_t v;
		memcpy(&off, ops + i + 2, 2);
		memcpy(&v, ops + i + 4, 4);
		run_op(x, ops[i], ops[i + 1], off, v);
	}

	virtio_mmio_release(&x->t);
	/* The reset drained the backend; every request is free again. */
	FZ_CHECK(x->f->npending == 0);
	FZ_CHECK(free_reqs(x->b) == BLK_QUEUE_SIZE);
	FZ_CHECK(!x->b->vq && !x->b->stalled && x->b->features == 0);
	evloop_release(&x->loop);
	irq_line_release(&x->irq);
	return 0;
}
