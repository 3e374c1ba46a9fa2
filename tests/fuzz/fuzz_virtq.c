/*
 * The split virtqueue (virtio/virtq.c) under a hostile guest. The input
 * is a ring setup, a list of operations and an image of guest memory:
 *
 *   u8  log2 of the queue size (mod 11)
 *   u8  flags: 1 EVENT_IDX, 2 INDIRECT_DESC, 4 ring addresses follow
 *   [u32 desc, u32 avail, u32 used]      (flag 4; else packed from 0,
 *                                         as vdrv_init lays them out)
 *   u8  number of operations, then 4 bytes each (see enum op)
 *   the rest: guest RAM from address 0 (region 0, then region 1)
 *
 * Guest RAM has three regions: 64 KiB at 0, 4 KiB right after it in a
 * buffer of its own (nothing may straddle the two), and 4 KiB ending at
 * 2^64 - 1 (where gpa + len wraps). Every segment a pop returns must lie
 * inside one region; every byte of it is read or written, so ASan sees
 * any that does not.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/virtq_driver.c"
#include "virtio/virtq.h"
#include "vmm/base/gmem.h"

#include <errno.h>

#define RAM0      0x10000ull
#define RAM1      0x1000ull
#define HIGH_GPA  0xfffffffffffff000ull
#define HIGH_SIZE 0xfffull
#define TABLES    0x8000ull       /* where ADD puts indirect tables (past any ring) */

enum op {
	OP_POP, OP_PUSH, OP_PUSH_ANY, OP_UNPOP, OP_NOTIFY, OP_PUBLISH, OP_POKE,
	OP_ADD, OP_REENABLE, OP_AVAIL_IDX, OP_EVENT, OP_COUNT
};

struct fx {
	struct gmem mem;
	uint8_t *ram[3];
	uint64_t size[3];
	struct virtq q;
	struct vdrv drv;
	uint16_t qsize;
	uint64_t desc, avail, used, features;
	bool enabled;
	uint16_t out[VIRTQ_SIZE_MAX];   /* heads popped, not pushed: oldest first */
	unsigned nout;
};

static struct virtq_chain chain;   /* large: off the stack */

static bool seg_inside(const struct fx *x, const struct virtq_seg *s)
{
	for (unsigned i = 0; i < 3; i++)
		if (fz_inside(s->host, s->len, x->ram[i], x->size[i]))
			return true;
	return false;
}

static void check_chain(struct fx *x, const struct virtq_chain *c)
{
	uint64_t rl = 0, wl = 0;
	volatile uint8_t sink = 0;

	FZ_CHECK(c->head < x->qsize);
	FZ_CHECK(c->nseg >= 1 && c->nseg <= x->qsize && c->nread <= c->nseg);
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct virtq_seg *s = &c->seg[i];
		FZ_CHECK(s->write == (i >= c->nread));
		FZ_CHECK(seg_inside(x, s));
		FZ_CHECK(gmem_ptr(&x->mem, s->gpa, s->len) == s->host);
		if (s->write) {
			memset(s->host, 0xab, s->len);
			wl += s->len;
		} else {
			for (uint32_t k = 0; k < s->len; k++)
				sink ^= s->host[k];
			rl += s->len;
		}
	}
	FZ_CHECK(rl == c->read_len && wl == c->write_len);
	(void)sink;
}

static void enable(struct fx *x)
{
	x->nout = 0;
	x->enabled = virtq_enable(&x->q, x->qsize, x->desc, x->avail, x->used,
				  x->features) == 0;
	FZ_CHECK(x->enabled == x->q.ready);
	/* The driver's view of the same rings, for OP_ADD. */
	memset(&x->drv, 0, sizeof(x->drv));
	x->drv = (struct vdrv){ .mem = &x->mem, .size = x->qsize, .desc = x->desc,
				.avail = x->avail, .used = x->used };
}

static void op_pop(struct fx *x)
{
	bool was_broken = x->q.broken;
	int r = virtq_pop(&x->q, &chain);

	FZ_CHECK(r == 0 || r == 1 || r == -EINVAL || r == -EFAULT || r == -EIO);
	FZ_CHECK(!was_broken || r == -EIO);
	FZ_CHECK(r >= 0 || x->q.broken);
	if (r != 1)
		return;
	check_chain(x, &chain);
	/* A driver that keeps re-publishing heads lets the device pop more
	 * than a ring's worth: forget the oldest, as if leaked. */
	if (x->nout == VIRTQ_SIZE_MAX)
		memmove(x->out, x->out + 1, --x->nout * sizeof(x->out[0]));
	x->out[x->nout++] = chain.head;
}

static void op_push(struct fx *x, uint32_t written)
{
	if (!x->nout)
		return;
	int r = virtq_push(&x->q, x->out[0], written);
	FZ_CHECK(r == 0 || x->q.broken);
	memmove(x->out, x->out + 1, --x->nout * sizeof(x->out[0]));
}

static void op_unpop(struct fx *x, uint16_t n)
{
	int r = virtq_unpop(&x->q, n);

	if (r == 0) {
		FZ_CHECK(n <= x->nout);
		x->nout -= n;
	} else {
		FZ_CHECK(r == -EIO || n > x->q.outstanding);
	}
}

/* A well-formed chain from the driver: n buffers, or an indirect table. */
static void op_add(struct fx *x, uint8_t a, uint8_t b, uint8_t c)
{
	struct vdrv_buf bufs[4];
	unsigned n = 1 + (a & 3);

	if (!x->enabled || x->q.broken)
		return;
	for (unsigned i = 0; i < n; i++) {
		bufs[i].gpa = 0x9000ull + ((b + 37u * i) & 0xff) * 0x100ull;
		bufs[i].len = (uint32_t)c * 8 + i;
		bufs[i].write = i >= (unsigned)((a >> 2) & 3);
	}
	if (a & 0x80)
		vdrv_publish(&x->drv, vdrv_chain_indirect(&x->drv, TABLES + (b & 0xf) * 0x40,
							  bufs, n));
	else
		vdrv_add(&x->drv, bufs, n);
}

static void run_op(struct fx *x, uint8_t code, uint8_t a, uint8_t b, uint8_t c)
{
	uint16_t ab = (uint16_t)(a | b << 8);

	switch (code % OP_COUNT) {
	case OP_POP:      op_pop(x); break;
	case OP_PUSH:     op_push(x, ab); break;
	case OP_PUSH_ANY: {
		int r = virtq_push(&x->q, ab, c);
		FZ_CHECK(r == 0 || r == -EIO || (r == -EINVAL && ab >= x->qsize));
		break;
	}
	case OP_UNPOP:    op_unpop(x, a % 5); break;
	case OP_NOTIFY:   (void)virtq_should_notify(&x->q); break;
	case OP_PUBLISH:  virtq_publish(&x->q); break;
	case OP_POKE:     x->ram[0][ab % RAM0] = c; break;
	case OP_ADD:      op_add(x, a, b, c); break;
	case OP_REENABLE: enable(x); break;
	case OP_AVAIL_IDX:
		if (x->enabled)
			vdrv_set_avail_idx(&x->drv, ab);
		break;
	case OP_EVENT:
		if (x->enabled) {
			vdrv_set_used_event(&x->drv, ab);
			vdrv_set_avail_flags(&x->drv, c & 1);
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin in = { data, size };
	struct fx *x = calloc(1, sizeof(*x));
	static const uint64_t gpa[3] = { 0, RAM0, HIGH_GPA };

	x->size[0] = RAM0;
	x->size[1] = RAM1;
	x->size[2] = HIGH_SIZE;
	for (unsigned i = 0; i < 3; i++) {
		x->ram[i] = fz_ram_alloc(x->size[i]);
		FZ_CHECK(gmem_add(&x->mem, gpa[i], x->size[i], x->ram[i]) == 0);
	}
	x->qsize = (uint16_t)(1u << (fin_u8(&in) % 11));
	uint8_t flags = fin_u8(&in);
	x->features = (flags & 1 ? 1ull << VIRTQ_F_EVENT_IDX : 0) |
		      (flags & 2 ? 1ull << VIRTQ_F_INDIRECT_DESC : 0);
	/* Packed, so small queues sit in the first bytes of the image. */
	x->desc = 0;
	x->avail = VIRTQ_DESC_BYTES(x->qsize);
	x->used = (x->avail + VIRTQ_AVAIL_BYTES(x->qsize) + 3) & ~3ull;
	if (flags & 4) {
		x->desc = fin_u32(&in);
		x->avail = fin_u32(&in);
		x->used = fin_u32(&in);
		if (flags & 8)     /* the region at the top of the address space */
			x->desc |= HIGH_GPA, x->avail |= HIGH_GPA, x->used |= HIGH_GPA;
	}
	unsigned nops = fin_u8(&in);
	const uint8_t *ops = in.p;
	size_t opbytes = nops * 4u < in.n ? nops * 4u : in.n;
	in.p += opbytes;
	in.n -= opbytes;
	/* Whatever follows is guest RAM as the driver left it. */
	fin_bytes(&in, x->ram[0], RAM0);
	fin_bytes(&in, x->ram[1], RAM1);

	virtq_init(&x->q, &x->mem);
	enable(x);
	for (size_t i = 0; i + 4 <= opbytes; i += 4)
		run_op(x, ops[i], ops[i + 1], ops[i + 2], ops[i + 3]);
	/* Then drain whatever is left, as a device would. */
	for (unsigned i = 0; i < 2 * VIRTQ_SIZE_MAX && x->q.ready && !x->q.broken; i++) {
		unsigned before = x->nout;
		op_pop(x);
		if (x->nout == before)
			break;
		op_push(x, 1);
	}
	(void)virtq_should_notify(&x->q);
	for (unsigned i = 0; i < 3; i++)
		fz_ram_free(x->ram[i], x->size[i]);
	free(x);
	return 0;
}
