/*
 * A driver-side split-ring builder for unit tests: lays out a descriptor
 * table, avail and used ring in fake guest memory the way a guest driver
 * would, adds chains (direct or through an indirect table), and reads
 * back used entries. Also pokes raw fields to build malformed rings.
 * Not part of libmote: virtio tests #include "tests/unit/virtq_driver.c".
 */
#ifndef MOTE_TESTS_VIRTQ_DRIVER_H
#define MOTE_TESTS_VIRTQ_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

struct gmem;

struct vdrv_buf {
	uint64_t gpa;
	uint32_t len;
	bool write;          /* device-writable */
};

struct vdrv {
	const struct gmem *mem;
	uint16_t size;
	uint64_t desc, avail, used;  /* ring GPAs */
	uint16_t next_desc;          /* bump allocator over the table, wraps */
	uint16_t avail_idx;          /* driver's copy of avail->idx */
	uint16_t last_used;          /* next used entry to read */
};

/* Lay out a ring of size entries at base (desc, then avail, then used on
 * a 4-byte boundary) and zero it. Returns the first byte after it. */
uint64_t vdrv_init(struct vdrv *d, const struct gmem *mem, uint16_t size, uint64_t base);

/* Write descriptor i verbatim. */
void vdrv_set_desc(struct vdrv *d, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next);

/* Write a chain of n direct descriptors; returns its head (not published). */
uint16_t vdrv_chain(struct vdrv *d, const struct vdrv_buf *bufs, unsigned n);

/* Write bufs as an indirect table at table_gpa and one descriptor pointing
 * to it; returns that descriptor's index (not published). */
uint16_t vdrv_chain_indirect(struct vdrv *d, uint64_t table_gpa,
			     const struct vdrv_buf *bufs, unsigned n);

/* Make head available: ring[idx % size] = head, then bump avail->idx. */
void vdrv_publish(struct vdrv *d, uint16_t head);

/* vdrv_chain() + vdrv_publish(); returns the head. */
uint16_t vdrv_add(struct vdrv *d, const struct vdrv_buf *bufs, unsigned n);

/* Raw ring fields. */
void vdrv_set_avail_idx(struct vdrv *d, uint16_t idx);
void vdrv_set_avail_flags(struct vdrv *d, uint16_t flags);
void vdrv_set_used_event(struct vdrv *d, uint16_t v);
uint16_t vdrv_avail_event(const struct vdrv *d);
uint16_t vdrv_used_idx(const struct vdrv *d);

/* Next used element, if the device produced one. */
bool vdrv_get_used(struct vdrv *d, uint32_t *id, uint32_t *len);

#endif
