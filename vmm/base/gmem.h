/*
 * Guest physical memory: a small set of host mappings, each backing one
 * contiguous guest-physical range. This is the only way devices and boot
 * code reach guest RAM, and every access is bounds-checked here, so a
 * guest-supplied address or length can never reach outside a mapping.
 *
 * Knows nothing of KVM: unit tests build one over a malloc'ed buffer.
 */
#ifndef MOTE_GMEM_H
#define MOTE_GMEM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define GMEM_MAX_REGIONS 4

struct gmem_region {
	uint64_t gpa;   /* guest-physical start */
	uint64_t size;  /* bytes */
	uint8_t *host;  /* host mapping of the whole range */
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned nr;
};

/* Add a region; regions must not overlap. Returns 0 or -EINVAL/-ENOSPC. */
int gmem_add(struct gmem *m, uint64_t gpa, uint64_t size, void *host)
	__attribute__((warn_unused_result));

/*
 * Host pointer for [gpa, gpa+len) if the whole range lies inside one
 * region, else NULL. len 0 is valid (returns the pointer if gpa is inside
 * or at the end of a region). Overflow-safe for any 64-bit inputs.
 */
void *gmem_ptr(const struct gmem *m, uint64_t gpa, uint64_t len);

/* Copy out of / into guest memory. Return 0, or -EFAULT when out of range. */
int gmem_read(const struct gmem *m, uint64_t gpa, void *buf, uint64_t len);
int gmem_write(const struct gmem *m, uint64_t gpa, const void *buf, uint64_t len);

/* Total bytes of guest RAM. */
uint64_t gmem_total(const struct gmem *m);

/* Highest guest-physical address + 1 covered by any region. */
uint64_t gmem_end(const struct gmem *m);

/*
 * size bytes of private anonymous memory (MAP_NORESERVE) whose start is a
 * multiple of align (a power of two, at least the page size), for munmap
 * (ptr, size) to release. KVM maps guest RAM with huge pages only where
 * guest-physical and host addresses agree modulo the huge page size: an
 * unaligned mapping makes every 4 KiB page of the guest its own nested
 * page fault. NULL with errno set on failure.
 */
void *gmem_map_aligned(uint64_t size, uint64_t align)
	__attribute__((warn_unused_result));

#endif
