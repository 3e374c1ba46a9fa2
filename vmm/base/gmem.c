#include "vmm/base/gmem.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void *gmem_map_aligned(uint64_t size, uint64_t align)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (size == 0 || align < page || (align & (align - 1)) ||
	    size > SIZE_MAX - align || size % page) {
		errno = EINVAL;
		return NULL;
	}
	/* Map align - page bytes more, then give back what lies outside. */
	size_t len = (size_t)(size + align - page);
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	uint8_t *start = p + ((align - (uintptr_t)p % align) % align);
	size_t head = (size_t)(start - p), tail = len - head - (size_t)size;
	if (head)
		munmap(p, head);
	if (tail)
		munmap(start + size, tail);
	return start;
}

int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *host)
{
	if (m->nr >= GMEM_MAX_REGIONS)
		return -ENOSPC;
	if (size == 0 || gpa + size < gpa || !host)
		return -EINVAL;
	for (unsigned i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EINVAL;
	}
	m->r[m->nr++] = (struct gmem_region){ gpa, size, host };
	return 0;
}

void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct gmem_region *r = &m->r[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		/* Written as subtractions so no sum can wrap. */
		if (off > r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

int gmem_read(const struct gmem *m, uint64_t gpa, void *buf, uint64_t len)
{
	const void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int gmem_write(const struct gmem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	void *p = gmem_ptr(m, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(p, buf, len);
	return 0;
}

uint64_t gmem_total(const struct gmem *m)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < m->nr; i++)
		t += m->r[i].size;
	return t;
}

uint64_t gmem_end(const struct gmem *m)
{
	uint64_t end = 0;

	for (unsigned i = 0; i < m->nr; i++)
		if (m->r[i].gpa + m->r[i].size > end)
			end = m->r[i].gpa + m->r[i].size;
	return end;
}
