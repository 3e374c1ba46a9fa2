#include "vmm/config/size.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>

/* The multiplier a unit suffix names, or 0 if it names none. */
static uint64_t unit_of(const char *u, uint64_t bare_unit)
{
	static const char prefixes[] = "kmgt";
	int shift = 0;

	if (*u == '\0')
		return bare_unit;
	for (int i = 0; prefixes[i]; i++)
		if (tolower((unsigned char)*u) == prefixes[i])
			shift = 10 * (i + 1);
	if (shift) {
		u++;
		if (*u == '\0' || strcasecmp(u, "ib") == 0 || strcasecmp(u, "b") == 0)
			return 1ULL << shift;
		return 0;
	}
	return strcasecmp(u, "b") == 0 ? 1 : 0;
}

int size_parse(const char *s, uint64_t bare_unit, uint64_t *bytes)
{
	uint64_t n = 0, unit;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		uint64_t d = (uint64_t)(*s - '0');
		if (n > (UINT64_MAX - d) / 10)
			return -ERANGE;
		n = n * 10 + d;
	}
	unit = unit_of(s, bare_unit);
	if (unit == 0)
		return -EINVAL;
	if (n > UINT64_MAX / unit)
		return -ERANGE;
	*bytes = n * unit;
	return 0;
}
