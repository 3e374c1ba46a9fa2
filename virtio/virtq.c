#include "virtio/virtq.h"

#include "vmm/base/gmem.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Ring fields are aligned (checked at enable), so these are single
 * accesses: the guest can change a field, never tear it. */
static uint16_t load16(const uint16_t *p)
{
	return le16toh(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static uint16_t *used_event(const struct virtq *q)
{
	return &q->avail->ring[q->size];
}

static uint16_t *avail_event(const struct virtq *q)
{
	return (uint16_t *)&q->used->ring[q->size];
}

void virtq_init(struct virtq *q, const struct gmem *mem)
{
	memset(q, 0, sizeof(*q));
	q->mem = mem;
}

void virtq_reset(struct virtq *q)
{
	virtq_init(q, q->mem);
}

static bool host_aligned(const void *p, uintptr_t align)
{
	return ((uintptr_t)p & (align - 1)) == 0;
}

int virtq_enable(struct virtq *q, uint16_t size, uint64_t desc, uint64_t avail,
		 uint64_t used, uint64_t features)
{
	virtq_reset(q);
	if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1)))
		return -EINVAL;
	if ((desc & 15) || (avail & 1) || (used & 3))
		return -EINVAL;
	void *d = gmem_ptr(q->mem, desc, VIRTQ_DESC_BYTES(size));
	void *a = gmem_ptr(q->mem, avail, VIRTQ_AVAIL_BYTES(size));
	void *u = gmem_ptr(q->mem, used, VIRTQ_USED_BYTES(size));
	if (!d || !a || !u)
		return -EFAULT;
	/* Guest alignment carries over only if the mapping is aligned too;
	 * the 16-bit atomics below need it. */
	if (!host_aligned(d, 16) || !host_aligned(a, 2) || !host_aligned(u, 4))
		return -EINVAL;
	q->size = size;
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->event_idx = features & (1ull << VIRTQ_F_EVENT_IDX);
	q->indirect = features & (1ull << VIRTQ_F_INDIRECT_DESC);
	q->ready = true;
	return 0;
}

static int fail(struct virtq *q, int err)
{
	q->broken = true;
	return err;
}

/* Read avail->idx once and check it. 1 if entries wait, 0 if none. */
static int read_avail_idx(struct virtq *q)
{
	uint16_t idx = load16(&q->avail->idx);

	/* A driver can never have more than size entries outstanding. */
	if ((uint16_t)(idx - q->last_avail) > q->size)
		return fail(q, -EINVAL);
	q->avail_shadow = idx;
	/* Acquire: pairs with the driver's write barrier between filling
	 * descriptors and ring entries and bumping idx, so what we read next
	 * is at least as new as this idx. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return idx != q->last_avail;
}

static int avail_pending(struct virtq *q)
{
	if (q->avail_shadow != q->last_avail)
		return 1;
	int n = read_avail_idx(q);
	if (n != 0 || !q->event_idx)
		return n;
	/* Empty: ask for a notification on the next buffer, then look again.
	 * Full barrier: the driver stores idx then reads avail_event; we store
	 * avail_event then read idx. With a full barrier on both sides at
	 * least one sees the other's store, so no buffer is left unnoticed. */
	store16(avail_event(q), q->last_avail);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return read_avail_idx(q);
}

/* Copy one descriptor out of guest memory (src may be unaligned inside an
 * indirect table). Only the copy is checked and used. */
static void read_desc(const uint8_t *src, struct virtq_desc *d)
{
	memcpy(d, src, sizeof(*d));
	/* Compiler barrier: forbids re-reading src in place of the copy, so
	 * the guest cannot change a field between our check and our use. */
	__asm__ __volatile__("" ::: "memory");
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

static int add_seg(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;

	/* Longer than the queue: a loop, or a driver breaking the spec. */
	if (c->nseg >= q->size)
		return -EINVAL;
	/* Readable after writable breaks the spec's chain layout. */
	if (!w && c->nseg > c->nread)
		return -EINVAL;
	uint8_t *host = gmem_ptr(q->mem, d->addr, d->len);
	if (!host)
		return -EFAULT;
	c->seg[c->nseg++] = (struct virtq_seg){ d->addr, host, d->len, w };
	if (w) {
		c->write_len += d->len;
	} else {
		c->nread++;
		c->read_len += d->len;
	}
	return 0;
}

static int walk_indirect(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *ind)
{
	/* The spec forbids INDIRECT together with NEXT. */
	if (!q->indirect || (ind->flags & VIRTQ_DESC_F_NEXT))
		return -EINVAL;
	if (ind->len == 0 || ind->len % sizeof(struct virtq_desc))
		return -EINVAL;
	const uint8_t *table = gmem_ptr(q->mem, ind->addr, ind->len);
	if (!table)
		return -EFAULT;
	uint32_t n = ind->len / sizeof(struct virtq_desc), i = 0;
	for (;;) {
		struct virtq_desc d;
		read_desc(table + (uint64_t)i * sizeof(d), &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EINVAL;          /* nested tables are forbidden */
		int err = add_seg(q, c, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EINVAL;
		i = d.next;
	}
}

/* Terminates: add_seg() fails once the chain reaches the queue size. */
static int walk(struct virtq *q, struct virtq_chain *c, uint16_t head)
{
	uint16_t i = head;

	for (;;) {
		struct virtq_desc d;
		read_desc((const uint8_t *)&q->desc[i], &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return walk_indirect(q, c, &d);
		int err = add_seg(q, c, &d);
		if (err)
			return err;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= q->size)
			return -EINVAL;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	if (q->broken)
		return -EIO;
	if (!q->ready)
		return 0;
	int n = avail_pending(q);
	if (n <= 0)
		return n;
	uint16_t head = load16(&q->avail->ring[q->last_avail & (q->size - 1)]);
	if (head >= q->size)
		return fail(q, -EINVAL);
	c->head = head;
	c->nseg = c->nread = 0;
	c->read_len = c->write_len = 0;
	int err = walk(q, c, head);
	if (err)
		return fail(q, err);
	q->last_avail++;
	if (q->outstanding < q->size)
		q->outstanding++;
	return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
	if (q->broken || !q->ready)
		return -EIO;
	if (head >= q->size)
		return -EINVAL;
	/* A full ring pending: the next element would land on one the driver
	 * has not seen yet. Only a driver re-publishing heads gets here. */
	if ((uint16_t)(q->used_idx - q->published_used) >= q->size)
		virtq_publish(q);
	struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, htole32(head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(written), __ATOMIC_RELAXED);
	/* No barrier here: the element stays invisible until virtq_publish()
	 * moves used->idx past it, and the barrier there covers the batch. */
	q->used_idx++;
	if (q->outstanding)
		q->outstanding--;
	return 0;
}

void virtq_publish(struct virtq *q)
{
	if (!q->ready || q->published_used == q->used_idx)
		return;
	/* Release: the elements, and whatever the device wrote into their
	 * buffers, must be visible before the index that publishes them;
	 * pairs with the driver's read barrier after it reads used->idx.
	 * One barrier and one store for the whole batch. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	store16(&q->used->idx, q->used_idx);
	q->published_used = q->used_idx;
}

int virtq_unpop(struct virtq *q, uint16_t n)
{
	if (q->broken || !q->ready)
		return -EIO;
	if (n > q->outstanding)
		return -EINVAL;
	/* avail_shadow stays: the entries are still there, so the next pop
	 * takes them without re-reading avail->idx. The ring entries and the
	 * descriptors are read and checked again, as for any pop. */
	q->last_avail = (uint16_t)(q->last_avail - n);
	q->outstanding = (uint16_t)(q->outstanding - n);
	return 0;
}

bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	/* Did [old_idx, new_idx) cross event? Modulo 2^16, so wrap-safe. */
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_should_notify(struct virtq *q)
{
	if (!q->ready)
		return false;
	virtq_publish(q);
	/* Both start at 0 on enable, so old is exact from the first call. */
	uint16_t old = q->signalled_used, new_idx = q->published_used;

	q->signalled_used = new_idx;
	/* Full barrier: our used->idx store must be visible before we read
	 * used_event or the flags. The driver mirrors this (stores
	 * used_event, full barrier, re-reads used->idx); without it both
	 * sides could miss each other and the guest would sleep on work. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (old == new_idx)
		return false;
	if (!q->event_idx)
		return !(load16(&q->avail->flags) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	return virtq_need_event(load16(used_event(q)), new_idx, old);
}
