#include "vmm/base/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus_init(struct bus *b, const char *name, uint8_t fill)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	b->fill = fill;
}

void bus_release(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->nr = b->cap = 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	size_t i;

	if (len == 0 || base + len < base || !ops)
		return -EINVAL;
	/* First range that ends after base: the insertion point. */
	for (i = 0; i < b->nr && b->ranges[i].base + b->ranges[i].len <= base; i++)
		;
	if (i < b->nr && b->ranges[i].base < base + len)
		return -EEXIST;
	if (b->nr == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct bus_range *r = realloc(b->ranges, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		b->ranges = r;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i], (b->nr - i) * sizeof(*b->ranges));
	b->ranges[i] = (struct bus_range){ base, len, ops, opaque, name };
	b->nr++;
	return 0;
}

static const struct bus_range *lookup(const struct bus *b, uint64_t addr, unsigned len)
{
	size_t lo = 0, hi = b->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->ranges[mid];
		if (addr < r->base)
			hi = mid;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return len <= r->len - (addr - r->base) ? r : NULL;
	}
	return NULL;
}

static void count_unhandled(struct bus *b, uint64_t addr, bool write)
{
	/* Relaxed counters: the numbers are diagnostics only. */
	__atomic_add_fetch(write ? &b->unhandled_writes : &b->unhandled_reads, 1,
			   __ATOMIC_RELAXED);
	__atomic_store_n(&b->last_unhandled_addr, addr, __ATOMIC_RELAXED);
}

bool bus_read(struct bus *b, uint64_t addr, uint8_t *data, unsigned len)
{
	const struct bus_range *r = lookup(b, addr, len);

	memset(data, 0, len);
	if (!r) {
		memset(data, b->fill, len);
		count_unhandled(b, addr, false);
		return false;
	}
	if (r->ops->read)
		r->ops->read(r->opaque, addr - r->base, data, len);
	return true;
}

bool bus_write(struct bus *b, uint64_t addr, const uint8_t *data, unsigned len)
{
	const struct bus_range *r = lookup(b, addr, len);

	if (!r) {
		count_unhandled(b, addr, true);
		return false;
	}
	if (r->ops->write)
		r->ops->write(r->opaque, addr - r->base, data, len);
	return true;
}
