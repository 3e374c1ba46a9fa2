/* Unit tests for virtio/virtq.c: a split ring driven by a fake guest. */
#include "tests/unit/virtq_driver.c"
#include "virtio/virtq.h"
#include "vmm/base/gmem.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE  (256 * 1024)
#define QSZ       16
#define BUF       0x10000ull   /* data buffers live from here */
#define TABLE     0x20000ull   /* indirect tables */
#define F_IND     (1ull << VIRTQ_F_INDIRECT_DESC)
#define F_EVT     (1ull << VIRTQ_F_EVENT_IDX)

struct fx {
	uint8_t *ram;
	struct gmem mem;
	struct vdrv drv;
	struct virtq q;
	struct virtq_chain c;
};

static struct fx *fx_new(uint64_t features)
{
	struct fx *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	ck_assert_ptr_nonnull(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	ck_assert_int_eq(gmem_add(&f->mem, 0, RAM_SIZE, f->ram), 0);
	vdrv_init(&f->drv, &f->mem, QSZ, 0x1000);
	virtq_init(&f->q, &f->mem);
	ck_assert_int_eq(virtq_enable(&f->q, QSZ, f->drv.desc, f->drv.avail, f->drv.used,
				      features), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	free(f->ram);
	free(f);
}

START_TEST(pop_direct_chain)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false }, { BUF + 100, 512, true },
				{ BUF + 1000, 1, true } };

	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);   /* empty */
	uint16_t head = vdrv_add(&f->drv, b, 3);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.head, head);
	ck_assert_uint_eq(f->c.nseg, 3);
	ck_assert_uint_eq(f->c.nread, 1);
	ck_assert_uint_eq(f->c.read_len, 16);
	ck_assert_uint_eq(f->c.write_len, 513);
	ck_assert_ptr_eq(f->c.seg[1].host, f->ram + BUF + 100);
	ck_assert(f->c.seg[2].write && !f->c.seg[0].write);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);

	uint32_t id, len;
	ck_assert(!vdrv_get_used(&f->drv, &id, &len));
	ck_assert_int_eq(virtq_push(&f->q, head, 513), 0);
	ck_assert(!vdrv_get_used(&f->drv, &id, &len));   /* not published yet */
	virtq_publish(&f->q);
	ck_assert(vdrv_get_used(&f->drv, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 513);
	fx_free(f);
}
END_TEST

START_TEST(pop_indirect_chain)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[] = { { BUF, 16, false }, { BUF + 16, 4096, false },
				{ BUF + 8192, 1, true } };

	uint16_t head = vdrv_chain_indirect(&f->drv, TABLE, b, 3);
	vdrv_publish(&f->drv, head);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.head, head);
	ck_assert_uint_eq(f->c.nseg, 3);
	ck_assert_uint_eq(f->c.nread, 2);
	ck_assert_uint_eq(f->c.read_len, 4112);
	ck_assert_uint_eq(f->c.seg[2].gpa, BUF + 8192);
	fx_free(f);
}
END_TEST

/* A direct descriptor followed by an indirect one is legal. */
START_TEST(direct_then_indirect)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf t[] = { { BUF + 16, 512, true }, { BUF + 600, 1, true } };

	vdrv_chain_indirect(&f->drv, TABLE, t, 2);           /* descriptor 0 */
	vdrv_set_desc(&f->drv, 5, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	vdrv_publish(&f->drv, 5);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.nseg, 3);
	ck_assert_uint_eq(f->c.nread, 1);
	ck_assert_uint_eq(f->c.write_len, 513);
	fx_free(f);
}
END_TEST

/* Each malformed ring: pop fails with err, then the queue stays broken. */
static void expect_broken(struct fx *f, int err)
{
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), err);
	ck_assert(f->q.broken);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), -EIO);
	ck_assert_int_eq(virtq_push(&f->q, 0, 0), -EIO);
}

START_TEST(indirect_needs_feature)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, 1));
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(indirect_bad_length)
{
	static const uint32_t lens[] = { 0, 8, 17, 33 };

	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct fx *f = fx_new(F_IND);
		vdrv_set_desc(&f->drv, 0, TABLE, lens[i], VIRTQ_DESC_F_INDIRECT, 0);
		vdrv_publish(&f->drv, 0);
		expect_broken(f, -EINVAL);
		fx_free(f);
	}
}
END_TEST

START_TEST(indirect_outside_ram)
{
	struct fx *f = fx_new(F_IND);

	vdrv_set_desc(&f->drv, 0, RAM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vdrv_publish(&f->drv, 0);
	expect_broken(f, -EFAULT);
	fx_free(f);
}
END_TEST

START_TEST(indirect_nested)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[] = { { BUF, 16, false }, { BUF + 16, 16, false } };

	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, 2));
	/* Turn the table's second entry into another indirect descriptor. */
	uint16_t flags = VIRTQ_DESC_F_INDIRECT;
	ck_assert_int_eq(gmem_write(&f->mem, TABLE + 16 + 12, &flags, 2), 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(indirect_with_next)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	vdrv_chain_indirect(&f->drv, TABLE, b, 1);           /* descriptor 0 */
	vdrv_set_desc(&f->drv, 0, TABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	vdrv_publish(&f->drv, 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(indirect_next_out_of_table)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[] = { { BUF, 16, false }, { BUF + 16, 16, false } };

	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, 2));
	uint16_t next = 2;                                   /* table has 2 */
	ck_assert_int_eq(gmem_write(&f->mem, TABLE + 14, &next, 2), 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

/* An indirect table may not make the chain longer than the queue. */
START_TEST(indirect_longer_than_queue)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[QSZ + 1];

	for (unsigned i = 0; i <= QSZ; i++)
		b[i] = (struct vdrv_buf){ BUF + 16 * i, 16, false };
	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, QSZ));
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.nseg, QSZ);
	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, QSZ + 1));
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

/* An indirect table's loop ends at the chain cap too. */
START_TEST(indirect_loop)
{
	struct fx *f = fx_new(F_IND);
	struct vdrv_buf b[] = { { BUF, 16, false }, { BUF + 16, 16, false } };

	vdrv_publish(&f->drv, vdrv_chain_indirect(&f->drv, TABLE, b, 2));
	uint16_t flags = VIRTQ_DESC_F_NEXT, next = 0;        /* entry 1 -> 0 */
	ck_assert_int_eq(gmem_write(&f->mem, TABLE + 16 + 12, &flags, 2), 0);
	ck_assert_int_eq(gmem_write(&f->mem, TABLE + 16 + 14, &next, 2), 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(buffer_past_ram)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false }, { RAM_SIZE - 8, 16, true } };

	vdrv_add(&f->drv, b, 2);
	expect_broken(f, -EFAULT);
	fx_free(f);
}
END_TEST

START_TEST(buffer_entirely_outside)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { 1ull << 40, 16, false } };

	vdrv_add(&f->drv, b, 1);
	expect_broken(f, -EFAULT);
	fx_free(f);
}
END_TEST

START_TEST(length_wraps)
{
	struct fx *f = fx_new(0);

	/* gpa + len overflows 64 bits; must not look like a small range. */
	vdrv_set_desc(&f->drv, 0, UINT64_MAX - 15, 0xffffffff, 0, 0);
	vdrv_publish(&f->drv, 0);
	expect_broken(f, -EFAULT);
	fx_free(f);
}
END_TEST

START_TEST(descriptor_loop)
{
	struct fx *f = fx_new(0);

	vdrv_set_desc(&f->drv, 0, BUF, 16, VIRTQ_DESC_F_NEXT, 1);
	vdrv_set_desc(&f->drv, 1, BUF, 16, VIRTQ_DESC_F_NEXT, 0);
	vdrv_publish(&f->drv, 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(self_loop)
{
	struct fx *f = fx_new(0);

	vdrv_set_desc(&f->drv, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 3);
	vdrv_publish(&f->drv, 3);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(next_out_of_range)
{
	struct fx *f = fx_new(0);

	vdrv_set_desc(&f->drv, 0, BUF, 16, VIRTQ_DESC_F_NEXT, QSZ);
	vdrv_publish(&f->drv, 0);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(head_out_of_range)
{
	struct fx *f = fx_new(0);

	vdrv_publish(&f->drv, QSZ);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(readable_after_writable)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 1, true }, { BUF + 16, 16, false } };

	vdrv_add(&f->drv, b, 2);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(zero_length_buffers)
{
	struct fx *f = fx_new(0);
	/* Zero-length, even at the very end of RAM, is inside it. */
	struct vdrv_buf b[] = { { BUF, 0, false }, { RAM_SIZE, 0, true }, { BUF, 1, true } };

	vdrv_add(&f->drv, b, 3);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.nseg, 3);
	ck_assert_uint_eq(f->c.read_len, 0);
	ck_assert_uint_eq(f->c.write_len, 1);
	fx_free(f);
}
END_TEST

START_TEST(avail_idx_jump)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	/* Exactly a full ring is fine. */
	for (unsigned i = 0; i < QSZ; i++)
		vdrv_add(&f->drv, b, 1);
	for (unsigned i = 0; i < QSZ; i++)
		ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	/* One more than the ring holds is not. */
	vdrv_set_avail_idx(&f->drv, f->drv.avail_idx + QSZ + 1);
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(avail_idx_backwards)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	vdrv_add(&f->drv, b, 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	vdrv_set_avail_idx(&f->drv, 0);         /* "65535 new entries" */
	expect_broken(f, -EINVAL);
	fx_free(f);
}
END_TEST

START_TEST(reset_clears_broken)
{
	struct fx *f = fx_new(0);

	vdrv_publish(&f->drv, QSZ);
	expect_broken(f, -EINVAL);
	virtq_reset(&f->q);
	ck_assert(!f->q.broken && !f->q.ready);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	fx_free(f);
}
END_TEST

START_TEST(push_bad_head)
{
	struct fx *f = fx_new(0);

	ck_assert_int_eq(virtq_push(&f->q, QSZ, 0), -EINVAL);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 0);
	fx_free(f);
}
END_TEST

START_TEST(enable_checks)
{
	struct fx *f = fx_new(0);
	struct vdrv *d = &f->drv;
	struct virtq *q = &f->q;

	ck_assert_int_eq(virtq_enable(q, 0, d->desc, d->avail, d->used, 0), -EINVAL);
	ck_assert_int_eq(virtq_enable(q, 12, d->desc, d->avail, d->used, 0), -EINVAL);
	ck_assert_int_eq(virtq_enable(q, 2048, d->desc, d->avail, d->used, 0), -EINVAL);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc + 8, d->avail, d->used, 0), -EINVAL);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc, d->avail + 1, d->used, 0), -EINVAL);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc, d->avail, d->used + 2, 0), -EINVAL);
	ck_assert(!q->ready);
	/* Each part must fit, whole, inside RAM. */
	ck_assert_int_eq(virtq_enable(q, QSZ, RAM_SIZE - 16 * QSZ + 16, d->avail, d->used, 0),
			 -EFAULT);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc, RAM_SIZE - 36, d->used, 0), -EFAULT);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc, d->avail, RAM_SIZE - 132, 0), -EFAULT);
	ck_assert_int_eq(virtq_enable(q, QSZ, d->desc, d->avail, RAM_SIZE - 136, 0), 0);
	ck_assert_int_eq(virtq_enable(q, QSZ, UINT64_MAX - 15, d->avail, d->used, 0), -EFAULT);
	ck_assert_int_eq(virtq_enable(q, 1, d->desc, d->avail, d->used, 0), 0);
	ck_assert_int_eq(virtq_pop(q, &f->c), 0);
	fx_free(f);
}
END_TEST

START_TEST(need_event_wraps)
{
	ck_assert(virtq_need_event(0, 1, 0));
	ck_assert(!virtq_need_event(1, 1, 0));
	ck_assert(virtq_need_event(5, 10, 0));
	ck_assert(!virtq_need_event(10, 10, 0));
	ck_assert(!virtq_need_event(3, 10, 5));          /* already past it */
	/* Across the 16-bit wrap. */
	ck_assert(virtq_need_event(65535, 2, 65534));
	ck_assert(virtq_need_event(0, 2, 65534));
	ck_assert(!virtq_need_event(2, 2, 65534));
	ck_assert(!virtq_need_event(65533, 2, 65534));
}
END_TEST

static void cycle(struct fx *f, unsigned n)
{
	struct vdrv_buf b[] = { { BUF, 16, false } };
	uint32_t id, len;

	for (unsigned i = 0; i < n; i++) {
		vdrv_add(&f->drv, b, 1);
		ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
		ck_assert_int_eq(virtq_push(&f->q, f->c.head, 0), 0);
		virtq_publish(&f->q);
		ck_assert(vdrv_get_used(&f->drv, &id, &len));
	}
}

START_TEST(event_idx_notify)
{
	struct fx *f = fx_new(F_EVT);

	ck_assert(!virtq_should_notify(&f->q));   /* nothing pushed */
	cycle(f, 1);
	ck_assert(virtq_should_notify(&f->q));    /* used_event 0 crossed */
	ck_assert(!virtq_should_notify(&f->q));
	vdrv_set_used_event(&f->drv, 3);          /* "interrupt after entry 3" */
	cycle(f, 2);                              /* used idx 1 -> 3 */
	ck_assert(!virtq_should_notify(&f->q));
	cycle(f, 1);                              /* 3 -> 4 crosses it */
	ck_assert(virtq_should_notify(&f->q));
	cycle(f, 1);
	ck_assert(!virtq_should_notify(&f->q));
	fx_free(f);
}
END_TEST

START_TEST(event_idx_wraps)
{
	struct fx *f = fx_new(F_EVT);

	cycle(f, 65534);                          /* used idx 65534 */
	ck_assert(virtq_should_notify(&f->q));
	vdrv_set_used_event(&f->drv, 0);          /* wants the one after 65535 */
	cycle(f, 1);                              /* -> 65535 */
	ck_assert(!virtq_should_notify(&f->q));
	cycle(f, 2);                              /* -> 1, crossed 0 */
	ck_assert(virtq_should_notify(&f->q));
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 1);
	/* The flag is ignored once EVENT_IDX is negotiated. */
	vdrv_set_avail_flags(&f->drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	vdrv_set_used_event(&f->drv, 1);
	cycle(f, 1);
	ck_assert(virtq_should_notify(&f->q));
	fx_free(f);
}
END_TEST

START_TEST(no_interrupt_flag)
{
	struct fx *f = fx_new(0);

	cycle(f, 1);
	ck_assert(virtq_should_notify(&f->q));
	vdrv_set_avail_flags(&f->drv, VIRTQ_AVAIL_F_NO_INTERRUPT);
	cycle(f, 1);
	ck_assert(!virtq_should_notify(&f->q));
	vdrv_set_avail_flags(&f->drv, 0);
	ck_assert(!virtq_should_notify(&f->q));   /* nothing new since */
	cycle(f, 1);
	ck_assert(virtq_should_notify(&f->q));
	fx_free(f);
}
END_TEST

START_TEST(avail_event_published)
{
	struct fx *f = fx_new(F_EVT);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	ck_assert_uint_eq(vdrv_avail_event(&f->drv), 0);
	vdrv_add(&f->drv, b, 1);
	vdrv_add(&f->drv, b, 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	/* Busy: still the old value, so the driver need not notify. */
	ck_assert_uint_eq(vdrv_avail_event(&f->drv), 0);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	/* Empty: the next buffer (index 2) must be notified. */
	ck_assert_uint_eq(vdrv_avail_event(&f->drv), 2);
	fx_free(f);
}
END_TEST

START_TEST(used_idx_wraps)
{
	struct fx *f = fx_new(0);

	cycle(f, 70000);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 70000 & 0xffff);
	ck_assert(!f->q.broken);
	fx_free(f);
}
END_TEST

/* The guest rewrites a descriptor after it was popped: the chain holds the
 * values that were checked. */
START_TEST(chain_is_a_copy)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, false } };

	uint16_t head = vdrv_add(&f->drv, b, 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	vdrv_set_desc(&f->drv, head, 1ull << 40, 1u << 31, 0, 0);
	ck_assert_uint_eq(f->c.seg[0].gpa, BUF);
	ck_assert_uint_eq(f->c.seg[0].len, 16);
	fx_free(f);
}
END_TEST

/* Pushes stay invisible until the batch is published, then all appear
 * with one used->idx store. */
START_TEST(publish_batches)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, true } };
	uint32_t id, len;

	for (unsigned i = 0; i < 3; i++)
		vdrv_add(&f->drv, b, 1);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
		ck_assert_int_eq(virtq_push(&f->q, f->c.head, 10 + i), 0);
		ck_assert_uint_eq(vdrv_used_idx(&f->drv), 0);
	}
	virtq_publish(&f->q);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 3);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert(vdrv_get_used(&f->drv, &id, &len));
		ck_assert_uint_eq(len, 10 + i);
	}
	/* Nothing pending: no store at all (a scribble by the guest stays). */
	uint16_t junk = 0x4242;
	ck_assert_int_eq(gmem_write(&f->mem, f->drv.used + 2, &junk, 2), 0);
	virtq_publish(&f->q);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 0x4242);
	fx_free(f);
}
END_TEST

/* virtq_should_notify() publishes first, and counts the whole batch. */
START_TEST(should_notify_publishes)
{
	struct fx *f = fx_new(F_EVT);
	struct vdrv_buf b[] = { { BUF, 16, true } };

	vdrv_set_used_event(&f->drv, 1);         /* wants entry 1 */
	for (unsigned i = 0; i < 3; i++) {
		vdrv_add(&f->drv, b, 1);
		ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
		ck_assert_int_eq(virtq_push(&f->q, f->c.head, 0), 0);
	}
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 0);
	ck_assert(virtq_should_notify(&f->q));  /* 0 -> 3 crossed 1 */
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 3);
	ck_assert(!virtq_should_notify(&f->q));
	fx_free(f);
}
END_TEST

/* A batch longer than the ring publishes itself rather than overwrite an
 * element the driver has not seen (a driver re-publishing one head). */
START_TEST(push_full_ring_publishes)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, true } };
	uint16_t head = vdrv_chain(&f->drv, b, 1);

	for (unsigned i = 0; i < QSZ; i++)
		ck_assert_int_eq(virtq_push(&f->q, head, i), 0);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), 0);
	ck_assert_int_eq(virtq_push(&f->q, head, QSZ), 0);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), QSZ);
	virtq_publish(&f->q);
	ck_assert_uint_eq(vdrv_used_idx(&f->drv), QSZ + 1);
	fx_free(f);
}
END_TEST

START_TEST(unpop_returns_chains)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b1[] = { { BUF, 16, true } }, b2[] = { { BUF + 64, 32, true } };

	uint16_t h1 = vdrv_add(&f->drv, b1, 1), h2 = vdrv_add(&f->drv, b2, 1);
	ck_assert_int_eq(virtq_unpop(&f->q, 1), -EINVAL);     /* nothing popped */
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	ck_assert_int_eq(virtq_unpop(&f->q, 3), -EINVAL);
	ck_assert_int_eq(virtq_unpop(&f->q, 2), 0);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.head, h1);
	/* Push the oldest, give back the newest: the usual RX pattern. */
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.head, h2);
	ck_assert_int_eq(virtq_push(&f->q, h1, 16), 0);
	ck_assert_int_eq(virtq_unpop(&f->q, 2), -EINVAL);     /* h1 was pushed */
	ck_assert_int_eq(virtq_unpop(&f->q, 1), 0);
	ck_assert_int_eq(virtq_unpop(&f->q, 1), -EINVAL);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->c.head, h2);
	ck_assert_uint_eq(f->c.write_len, 32);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	fx_free(f);
}
END_TEST

/* An unpopped chain is checked again: a guest that breaks it meanwhile
 * breaks the queue, and unpop on a broken or reset queue fails. */
START_TEST(unpop_rechecks)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, true } };

	uint16_t h = vdrv_add(&f->drv, b, 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_unpop(&f->q, 1), 0);
	vdrv_set_desc(&f->drv, h, 1ull << 40, 16, VIRTQ_DESC_F_WRITE, 0);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), -EFAULT);
	ck_assert_int_eq(virtq_unpop(&f->q, 1), -EIO);
	virtq_reset(&f->q);
	ck_assert_int_eq(virtq_unpop(&f->q, 0), -EIO);
	fx_free(f);
}
END_TEST

/* Across the 16-bit wrap of the avail index. */
START_TEST(unpop_wraps)
{
	struct fx *f = fx_new(0);
	struct vdrv_buf b[] = { { BUF, 16, true } };

	cycle(f, 65535);
	vdrv_add(&f->drv, b, 1);
	vdrv_add(&f->drv, b, 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_uint_eq(f->q.last_avail, 1);
	ck_assert_int_eq(virtq_unpop(&f->q, 2), 0);
	ck_assert_uint_eq(f->q.last_avail, 65535);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 1);
	ck_assert_int_eq(virtq_pop(&f->q, &f->c), 0);
	ck_assert(!f->q.broken);
	fx_free(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtq");
	TCase *tc = tcase_create("virtq");

	tcase_add_test(tc, pop_direct_chain);
	tcase_add_test(tc, pop_indirect_chain);
	tcase_add_test(tc, direct_then_indirect);
	tcase_add_test(tc, indirect_needs_feature);
	tcase_add_test(tc, indirect_bad_length);
	tcase_add_test(tc, indirect_outside_ram);
	tcase_add_test(tc, indirect_nested);
	tcase_add_test(tc, indirect_with_next);
	tcase_add_test(tc, indirect_next_out_of_table);
	tcase_add_test(tc, indirect_longer_than_queue);
	tcase_add_test(tc, indirect_loop);
	tcase_add_test(tc, buffer_past_ram);
	tcase_add_test(tc, buffer_entirely_outside);
	tcase_add_test(tc, length_wraps);
	tcase_add_test(tc, descriptor_loop);
	tcase_add_test(tc, self_loop);
	tcase_add_test(tc, next_out_of_range);
	tcase_add_test(tc, head_out_of_range);
	tcase_add_test(tc, readable_after_writable);
	tcase_add_test(tc, zero_length_buffers);
	tcase_add_test(tc, avail_idx_jump);
	tcase_add_test(tc, avail_idx_backwards);
	tcase_add_test(tc, reset_clears_broken);
	tcase_add_test(tc, push_bad_head);
	tcase_add_test(tc, enable_checks);
	tcase_add_test(tc, need_event_wraps);
	tcase_add_test(tc, event_idx_notify);
	tcase_add_test(tc, event_idx_wraps);
	tcase_add_test(tc, no_interrupt_flag);
	tcase_add_test(tc, avail_event_published);
	tcase_add_test(tc, used_idx_wraps);
	tcase_add_test(tc, chain_is_a_copy);
	tcase_add_test(tc, publish_batches);
	tcase_add_test(tc, should_notify_publishes);
	tcase_add_test(tc, push_full_ring_publishes);
	tcase_add_test(tc, unpop_returns_chains);
	tcase_add_test(tc, unpop_rechecks);
	tcase_add_test(tc, unpop_wraps);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
