/* Sizes as people write them: "256", "512M", "1GiB", "2g". */
#ifndef MOTE_SIZE_H
#define MOTE_SIZE_H

#include <stdint.h>

/*
 * Parse decimal digits followed by an optional unit: K, M, G or T in
 * either case (powers of 1024: memory sizes are binary, so "MB" means
 * MiB too), optionally followed by "iB" or "B"; "B" alone means bytes. A
 * number without a unit counts bare_unit bytes each. No sign, spaces or
 * fractions. Returns 0, -EINVAL (not a size) or -ERANGE (over 64 bits).
 */
int size_parse(const char *s, uint64_t bare_unit, uint64_t *bytes)
	__attribute__((warn_unused_result));

#endif
