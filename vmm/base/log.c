#include "vmm/base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf so lines from vCPU threads do not interleave. */
	fprintf(stderr, "%s%s\n", prefix, line);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("mote: ", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("mote: debug: ", fmt, ap);
	va_end(ap);
}

/* Length of the UTF-8 sequence at s (1..4) that a terminal shows as a
 * printable character, or 0 when it is malformed or a C1 control
 * (U+0080..U+009F), which some terminals obey as escapes. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] < 0xc2 || s[0] > 0xf4 || (s[0] == 0xc2 && s[1] < 0xa0))
		return 0;
	/* The second byte's range rules out overlong forms and surrogates. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* The escaped form of the byte or sequence at s, in out (at most 5
 * bytes); returns how many bytes of s it covers. */
static size_t escape_one(const unsigned char *s, char *out)
{
	size_t n;

	if (*s == '\\' || *s == '\n' || *s == '\r' || *s == '\t') {
		out[0] = '\\';
		out[1] = *s == '\\' ? '\\' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : 't';
		out[2] = '\0';
		return 1;
	}
	if (*s >= 0x20 && *s < 0x7f) {
		out[0] = (char)*s;
		out[1] = '\0';
		return 1;
	}
	n = *s >= 0x80 ? utf8_len(s) : 0;
	if (n) {
		memcpy(out, s, n);
		out[n] = '\0';
		return n;
	}
	snprintf(out, 5, "\\x%02x", *s);
	return 1;
}

struct log_str log_str(const char *s)
{
	struct log_str r;
	const char *ell = "...";
	size_t used = 0, cut = 0, room = sizeof(r.s) - strlen(ell) - 1;
	char piece[8];

	if (!s)
		s = "(null)";
	while (*s) {
		size_t step = escape_one((const unsigned char *)s, piece);
		size_t len = strlen(piece);

		if (used + len > sizeof(r.s) - 1) {
			/* Back to the last whole piece that leaves room for "...". */
			memcpy(r.s + cut, ell, strlen(ell));
			used = cut + strlen(ell);
			break;
		}
		memcpy(r.s + used, piece, len);
		used += len;
		s += step;
		if (used <= room)
			cut = used;
	}
	r.s[used] = '\0';
	return r;
}
