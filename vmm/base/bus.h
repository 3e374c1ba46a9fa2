/*
 * An address-range bus: port I/O and MMIO each have one, owned by the VM.
 * Devices claim ranges once, before any vCPU runs; after that the bus is
 * read-only, so vCPU threads look it up without locks. Devices serialise
 * their own state.
 *
 * Handlers receive the offset into their range, never the absolute address.
 */
#ifndef MOTE_BUS_H
#define MOTE_BUS_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

struct bus_ops {
	/* Fill data[0..len) (already zeroed by the bus). len is 1, 2, 4 or 8. */
	void (*read)(void *opaque, uint64_t off, uint8_t *data, unsigned len);
	void (*write)(void *opaque, uint64_t off, const uint8_t *data, unsigned len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;        /* "pio" or "mmio", for messages */
	uint8_t fill;            /* byte returned by unclaimed reads */
	struct bus_range *ranges; /* sorted by base, non-overlapping */
	size_t nr, cap;
	/* Accesses that hit no device; read by the debug summary. */
	uint64_t unhandled_reads, unhandled_writes;
	uint64_t last_unhandled_addr;
};

/* fill: 0xff for port I/O (an empty ISA bus floats high), 0 for MMIO. */
void bus_init(struct bus *b, const char *name, uint8_t fill);
void bus_release(struct bus *b);

/* Claim [base, base+len). -EEXIST on overlap, -EINVAL on an empty or
 * wrapping range, -ENOMEM. */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
	__attribute__((warn_unused_result));

/* Dispatch an access. Reads of unclaimed addresses return zeroes (all ones
 * for port I/O, like an empty ISA bus); both are counted. Returns true if
 * a device handled it. Accesses straddling a range end are unhandled. */
bool bus_read(struct bus *b, uint64_t addr, uint8_t *data, unsigned len);
bool bus_write(struct bus *b, uint64_t addr, const uint8_t *data, unsigned len);

#endif
