/*
 * The driver-side ring builder. Not a test itself and not in libmote: each
 * virtio test #includes this file (so tests/unit/module.mk needs no rule),
 * hence the drv_ prefix on its static helpers.
 */
#include "tests/unit/virtq_driver.h"

#include "virtio/virtq.h"
#include "vmm/base/gmem.h"

#include <assert.h>
#include <string.h>

static void drv_wr(const struct vdrv *d, uint64_t gpa, const void *p, uint64_t len)
{
	int err = gmem_write(d->mem, gpa, p, len);
	assert(err == 0);
	(void)err;
}

static void drv_rd(const struct vdrv *d, uint64_t gpa, void *p, uint64_t len)
{
	int err = gmem_read(d->mem, gpa, p, len);
	assert(err == 0);
	(void)err;
}

static void drv_wr16(const struct vdrv *d, uint64_t gpa, uint16_t v)
{
	drv_wr(d, gpa, &v, 2);
}

static uint16_t drv_rd16(const struct vdrv *d, uint64_t gpa)
{
	uint16_t v;

	drv_rd(d, gpa, &v, 2);
	return v;
}

uint64_t vdrv_init(struct vdrv *d, const struct gmem *mem, uint16_t size, uint64_t base)
{
	static const uint8_t zero[4096];

	memset(d, 0, sizeof(*d));
	d->mem = mem;
	d->size = size;
	d->desc = (base + 15) & ~15ull;
	d->avail = d->desc + VIRTQ_DESC_BYTES(size);
	d->used = (d->avail + VIRTQ_AVAIL_BYTES(size) + 3) & ~3ull;
	uint64_t end = d->used + VIRTQ_USED_BYTES(size);
	for (uint64_t a = d->desc; a < end; a += sizeof(zero)) {
		uint64_t n = end - a < sizeof(zero) ? end - a : sizeof(zero);
		drv_wr(d, a, zero, n);
	}
	return end;
}

static void drv_put_desc(const struct vdrv *d, uint64_t gpa, uint64_t addr, uint32_t len,
		     uint16_t flags, uint16_t next)
{
	struct virtq_desc v = { addr, len, flags, next };

	drv_wr(d, gpa, &v, sizeof(v));
}

void vdrv_set_desc(struct vdrv *d, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	drv_put_desc(d, d->desc + 16ull * i, addr, len, flags, next);
}

static uint16_t drv_alloc_desc(struct vdrv *d)
{
	uint16_t i = d->next_desc;

	d->next_desc = (uint16_t)((i + 1) % d->size);
	return i;
}

static uint16_t drv_buf_flags(const struct vdrv_buf *b, bool more)
{
	return (b->write ? VIRTQ_DESC_F_WRITE : 0) | (more ? VIRTQ_DESC_F_NEXT : 0);
}

uint16_t vdrv_chain(struct vdrv *d, const struct vdrv_buf *bufs, unsigned n)
{
	uint16_t head = drv_alloc_desc(d), cur = head;

	for (unsigned i = 0; i < n; i++) {
		bool more = i + 1 < n;
		uint16_t next = more ? drv_alloc_desc(d) : 0;
		vdrv_set_desc(d, cur, bufs[i].gpa, bufs[i].len, drv_buf_flags(&bufs[i], more), next);
		cur = next;
	}
	return head;
}

uint16_t vdrv_chain_indirect(struct vdrv *d, uint64_t table_gpa,
			     const struct vdrv_buf *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool more = i + 1 < n;
		drv_put_desc(d, table_gpa + 16ull * i, bufs[i].gpa, bufs[i].len,
			 drv_buf_flags(&bufs[i], more), more ? i + 1 : 0);
	}
	uint16_t head = drv_alloc_desc(d);
	vdrv_set_desc(d, head, table_gpa, 16 * n, VIRTQ_DESC_F_INDIRECT, 0);
	return head;
}

void vdrv_publish(struct vdrv *d, uint16_t head)
{
	drv_wr16(d, d->avail + 4 + 2ull * (d->avail_idx % d->size), head);
	d->avail_idx++;
	vdrv_set_avail_idx(d, d->avail_idx);
}

uint16_t vdrv_add(struct vdrv *d, const struct vdrv_buf *bufs, unsigned n)
{
	uint16_t head = vdrv_chain(d, bufs, n);

	vdrv_publish(d, head);
	return head;
}

void vdrv_set_avail_idx(struct vdrv *d, uint16_t idx)
{
	d->avail_idx = idx;
	drv_wr16(d, d->avail + 2, idx);
}

void vdrv_set_avail_flags(struct vdrv *d, uint16_t flags)
{
	drv_wr16(d, d->avail, flags);
}

void vdrv_set_used_event(struct vdrv *d, uint16_t v)
{
	drv_wr16(d, d->avail + 4 + 2ull * d->size, v);
}

uint16_t vdrv_avail_event(const struct vdrv *d)
{
	return drv_rd16(d, d->used + 4 + 8ull * d->size);
}

uint16_t vdrv_used_idx(const struct vdrv *d)
{
	return drv_rd16(d, d->used + 2);
}

bool vdrv_get_used(struct vdrv *d, uint32_t *id, uint32_t *len)
{
	if (vdrv_used_idx(d) == d->last_used)
		return false;
	struct virtq_used_elem e;
	drv_rd(d, d->used + 4 + 8ull * (d->last_used % d->size), &e, sizeof(e));
	d->last_used++;
	*id = e.id;
	*len = e.len;
	return true;
}
