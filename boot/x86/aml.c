/*
 * AML encoding. A package's PkgLength counts itself and its body, and its
 * own size (1 to 4 bytes) depends on the total, so packages are emitted
 * body first: aml_close() measures the body, then slides it up to make
 * room for the shortest PkgLength that can hold the total.
 */
#include "boot/x86/aml.h"

#include <errno.h>
#include <string.h>

#define AML_ZERO          0x00
#define AML_ONE           0x01
#define AML_NAME_OP       0x08
#define AML_BYTE_PREFIX   0x0a
#define AML_WORD_PREFIX   0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX  0x0e
#define AML_SCOPE_OP      0x10
#define AML_BUFFER_OP     0x11
#define AML_PACKAGE_OP    0x12
#define AML_EXT_PREFIX    0x5b
#define AML_DEVICE_OP     0x82       /* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR     '\\'
#define AML_DUAL_PREFIX   0x2e
#define AML_MULTI_PREFIX  0x2f
#define AML_PKGLEN_MAX    0x0fffffffU  /* 28 bits */

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		byte(a, (uint8_t)(v >> (8 * i)));
}

static int seg_ok(const char *s)
{
	for (int i = 0; i < 4; i++) {
		char ch = s[i];
		int alpha = (ch >= 'A' && ch <= 'Z') || ch == '_';
		if (!alpha && !(i > 0 && ch >= '0' && ch <= '9'))
			return 0;
	}
	return s[4] == '\0' || s[4] == '.';
}

void aml_namestring(struct aml *a, const char *path)
{
	unsigned nseg = 0;

	if (*path == AML_ROOT_CHAR) {
		byte(a, AML_ROOT_CHAR);
		path++;
	}
	for (const char *s = path; ; s += 5) {
		if (!seg_ok(s) || nseg == 255) {
			fail(a, -EINVAL);
			return;
		}
		nseg++;
		if (s[4] == '\0')
			break;
	}
	if (nseg == 2)
		byte(a, AML_DUAL_PREFIX);
	else if (nseg > 2) {
		byte(a, AML_MULTI_PREFIX);
		byte(a, nseg);
	}
	for (unsigned i = 0; i < nseg; i++)
		aml_bytes(a, path + 5 * i, 4);
}

void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0 || v == 1) {
		byte(a, v ? AML_ONE : AML_ZERO);
	} else if (v <= 0xff) {
		byte(a, AML_BYTE_PREFIX);
		le(a, v, 1);
	} else if (v <= 0xffff) {
		byte(a, AML_WORD_PREFIX);
		le(a, v, 2);
	} else if (v <= 0xffffffffULL) {
		byte(a, AML_DWORD_PREFIX);
		le(a, v, 4);
	} else {
		byte(a, AML_QWORD_PREFIX);
		le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Three letters in 5 bits each, then four hex digits. 0 if malformed. */
static uint32_t eisaid_value(const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7)
		return 0;
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			return 0;
		v = v << 5 | (uint32_t)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		if (hexval(id[i]) < 0)
			return 0;
		v = v << 4 | (uint32_t)hexval(id[i]);
	}
	return v;
}

/* The compressed id is stored big-endian in the 32-bit integer. */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = eisaid_value(id);

	if (!v) {
		fail(a, -EINVAL);
		return;
	}
	aml_integer(a, __builtin_bswap32(v));
}

void aml_name(struct aml *a, const char *path)
{
	byte(a, AML_NAME_OP);
	aml_namestring(a, path);
}

static void open_pkg(struct aml *a)
{
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_scope(struct aml *a, const char *path)
{
	byte(a, AML_SCOPE_OP);
	open_pkg(a);
	aml_namestring(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	byte(a, AML_EXT_PREFIX);
	byte(a, AML_DEVICE_OP);
	open_pkg(a);
	aml_namestring(a, path);
}

void aml_package(struct aml *a, uint8_t nelems)
{
	byte(a, AML_PACKAGE_OP);
	open_pkg(a);
	byte(a, nelems);
}

/* Bytes a PkgLength needs when the body (without it) is body bytes long. */
static unsigned pkglen_size(size_t body)
{
	if (body + 1 < 0x40)
		return 1;
	if (body + 2 < 1U << 12)
		return 2;
	if (body + 3 < 1U << 20)
		return 3;
	return 4;
}

static void pkglen_encode(uint8_t *p, unsigned n, uint32_t v)
{
	if (n == 1) {
		p[0] = (uint8_t)v;
		return;
	}
	p[0] = (uint8_t)((n - 1) << 6 | (v & 0xf));
	for (unsigned i = 1; i < n; i++)
		p[i] = (uint8_t)(v >> (4 + 8 * (i - 1)));
}

void aml_close(struct aml *a)
{
	size_t start, body;
	unsigned n;

	if (a->depth == 0) {
		fail(a, -EINVAL);
		return;
	}
	start = a->open[--a->depth];
	if (a->err)
		return;
	body = a->len - start;
	n = pkglen_size(body);
	if (body + n > AML_PKGLEN_MAX) {
		fail(a, -ENOSPC);
		return;
	}
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	pkglen_encode(a->buf + start, n, (uint32_t)(body + n));
	a->len += n;
}

void aml_name_buffer(struct aml *a, const char *path, const void *bytes, size_t n)
{
	aml_name(a, path);
	byte(a, AML_BUFFER_OP);
	open_pkg(a);
	aml_integer(a, n);
	aml_bytes(a, bytes, n);
	aml_close(a);
}

long aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		a->err = -EINVAL;
	return a->err ? a->err : (long)a->len;
}

unsigned aml_pkglen_decode(const uint8_t *p, size_t avail, uint32_t *value)
{
	unsigned n;
	uint32_t v;

	if (avail == 0)
		return 0;
	n = (p[0] >> 6) + 1;
	if (n > avail)
		return 0;
	if (n == 1) {
		*value = p[0] & 0x3f;
		return 1;
	}
	if (p[0] & 0x30)
		return 0;  /* bits 5:4 must be zero in multi-byte form */
	v = p[0] & 0xf;
	for (unsigned i = 1; i < n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*value = v;
	return n;
}
