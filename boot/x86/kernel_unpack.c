/*
 * kunpack_bzimage(): find the compressed vmlinux in a bzImage and
 * decompress it with Debian's libraries into a buffer of exactly the size
 * the kernel's build appended to the payload. Everything in the image is
 * untrusted: every offset is checked against the file, the output is
 * bounded, and a decoder that wants to write past the buffer fails.
 */
#include "boot/x86/kernel_unpack.h"
#include "boot/x86/linux_priv.h"

#include <elf.h>
#include <errno.h>
#include <lz4.h>
#include <lzma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "boot/x86/bootparam.h"

#define PROTO_PAYLOAD     0x0208   /* payload_offset/length from 2.08 on */
#define LZ4_LEGACY_MAGIC  0x184c2102u
#define LZ4_LEGACY_BLOCK  (8u << 20)  /* each legacy block unpacks to <= 8 MiB */
#define XZ_MEMLIMIT       (256u << 20)
#define MIN_OUT           sizeof(Elf64_Ehdr)

struct payload {
	const uint8_t *p;   /* the compressed stream */
	size_t n;           /* its length, the appended size excluded */
	size_t olen;        /* the appended uncompressed size */
};

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *kunpack_format_name(enum kunpack_format f)
{
	static const char *const names[] = {
		[KUNPACK_GZIP] = "gzip", [KUNPACK_XZ] = "xz",
		[KUNPACK_ZSTD] = "zstd", [KUNPACK_LZ4] = "lz4",
	};
	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

static int detect(const uint8_t *p, size_t n, enum kunpack_format *f)
{
	static const struct { const char *m; size_t len; enum kunpack_format f; } tab[] = {
		{ "\x1f\x8b", 2, KUNPACK_GZIP },
		{ "\xfd\x37\x7a\x58\x5a\x00", 6, KUNPACK_XZ },
		{ "\x28\xb5\x2f\xfd", 4, KUNPACK_ZSTD },
		{ "\x02\x21\x4c\x18", 4, KUNPACK_LZ4 },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (n >= tab[i].len && !memcmp(p, tab[i].m, tab[i].len)) {
			*f = tab[i].f;
			return 0;
		}
	return -ENOEXEC;
}

/* The payload's place in the file, from the setup header (all untrusted). */
static int find_payload(const uint8_t *img, size_t len, struct payload *pl,
			char *err, size_t errlen)
{
	struct setup_header h;
	uint64_t start, end;

	if (len < 0x202 + 0x60 || img[0x1fe] != 0x55 || img[0x1ff] != 0xaa ||
	    memcmp(img + 0x202, "HdrS", 4))
		return linux_errf(err, errlen, -ENOEXEC, "not a bzImage");
	memcpy(&h, img + BP_SETUP_HDR_OFF, sizeof(h));
	if (h.version < PROTO_PAYLOAD)
		return linux_errf(err, errlen, -ENOEXEC, "boot protocol %u.%02u has no "
			    "payload fields", h.version >> 8, h.version & 0xff);
	start = (uint64_t)((h.setup_sects ? h.setup_sects : BP_DEFAULT_SETUP_SECTS) + 1)
		* BP_SECTOR + h.payload_offset;
	end = start + h.payload_length;
	if (h.payload_length < 8 || end > len)
		return linux_errf(err, errlen, -EINVAL, "payload 0x%llx+0x%x is outside "
			    "the %zu-byte file", (unsigned long long)start,
			    h.payload_length, len);
	pl->p = img + start;
	pl->n = h.payload_length - 4;
	pl->olen = le32(img + end - 4);
	if (pl->olen < MIN_OUT)
		return linux_errf(err, errlen, -EINVAL, "payload says its kernel is "
			    "%zu bytes", pl->olen);
	if (pl->olen > KUNPACK_MAX_OUT)
		return linux_errf(err, errlen, -EFBIG, "payload says its kernel is "
			    "%zu bytes, over the %u MiB bound", pl->olen,
			    KUNPACK_MAX_OUT >> 20);
	return 0;
}

/* gzip keeps the size in its own trailer, so the stream is the whole payload. */
static int unpack_gzip(const struct payload *pl, uint8_t *out)
{
	z_stream s;
	int zr;

	memset(&s, 0, sizeof(s));
	if (inflateInit2(&s, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	s.next_in = (Bytef *)pl->p;
	s.avail_in = pl->n + 4;
	s.next_out = out;
	s.avail_out = pl->olen;
	zr = inflate(&s, Z_FINISH);
	inflateEnd(&s);
	if (zr == Z_MEM_ERROR)
		return -ENOMEM;
	return zr == Z_STREAM_END && s.total_out == pl->olen ? 0 : -EINVAL;
}

static int unpack_xz(const struct payload *pl, uint8_t *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret lr;

	if (lzma_stream_decoder(&s, XZ_MEMLIMIT, 0) != LZMA_OK)
		return -ENOMEM;
	s.next_in = pl->p;
	s.avail_in = pl->n;
	s.next_out = out;
	s.avail_out = pl->olen;
	lr = lzma_code(&s, LZMA_FINISH);
	lzma_end(&s);
	if (lr == LZMA_MEM_ERROR || lr == LZMA_MEMLIMIT_ERROR)
		return -ENOMEM;
	return lr == LZMA_STREAM_END && s.total_out == pl->olen ? 0 : -EINVAL;
}

static int unpack_zstd(const struct payload *pl, uint8_t *out)
{
	size_t r = ZSTD_decompress(out, pl->olen, pl->p, pl->n);

	return !ZSTD_isError(r) && r == pl->olen ? 0 : -EINVAL;
}

/*
 * LZ4 legacy: the magic, then blocks of (u32 LE compressed size, data),
 * each unpacking to at most 8 MiB; lz4 may repeat the magic between
 * concatenated streams. The input must be used up exactly.
 */
static int unpack_lz4(const struct payload *pl, uint8_t *out)
{
	size_t in = 4, done = 0;

	while (in < pl->n) {
		uint32_t csize;
		int r;

		if (pl->n - in < 4)
			return -EINVAL;
		csize = le32(pl->p + in);
		in += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;
		if (csize == 0 || csize > (uint32_t)LZ4_compressBound(LZ4_LEGACY_BLOCK) ||
		    csize > pl->n - in)
			return -EINVAL;
		size_t room = pl->olen - done;
		r = LZ4_decompress_safe((const char *)pl->p + in, (char *)out + done,
					(int)csize, room < LZ4_LEGACY_BLOCK
					? (int)room : (int)LZ4_LEGACY_BLOCK);
		if (r < 0)
			return -EINVAL;
		in += csize;
		done += r;
	}
	return done == pl->olen ? 0 : -EINVAL;
}

static int check_elf(const uint8_t *p, size_t n)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)p;

	if (n < sizeof(*eh) || memcmp(p, ELFMAG, SELFMAG) ||
	    p[EI_CLASS] != ELFCLASS64 || p[EI_DATA] != ELFDATA2LSB)
		return -EINVAL;
	return eh->e_machine == EM_X86_64 ? 0 : -EINVAL;
}

int kunpack_bzimage(const uint8_t *img, size_t len, uint8_t **out,
		    size_t *outlen, enum kunpack_format *fmt,
		    char *err, size_t errlen)
{
	static int (*const unpack[])(const struct payload *, uint8_t *) = {
		[KUNPACK_GZIP] = unpack_gzip, [KUNPACK_XZ] = unpack_xz,
		[KUNPACK_ZSTD] = unpack_zstd, [KUNPACK_LZ4] = unpack_lz4,
	};
	struct payload pl;
	uint8_t *buf;
	int ret = find_payload(img, len, &pl, err, errlen);

	if (ret)
		return ret;
	if (detect(pl.p, pl.n, fmt))
		return linux_errf(err, errlen, -ENOEXEC, "payload format unknown "
			    "(magic %02x %02x %02x %02x)", pl.p[0], pl.p[1],
			    pl.p[2], pl.p[3]);
	buf = malloc(pl.olen);
	if (!buf)
		return linux_errf(err, errlen, -ENOMEM, "out of memory for a %zu-byte "
			    "kernel", pl.olen);
	ret = unpack[*fmt](&pl, buf);
	if (!ret && check_elf(buf, pl.olen))
		ret = linux_errf(err, errlen, -EINVAL, "%s payload is not an ELF64 "
			   "x86-64 kernel", kunpack_format_name(*fmt));
	else if (ret)
		linux_errf(err, errlen, ret, "%s payload: %s", kunpack_format_name(*fmt),
		     ret == -ENOMEM ? "out of memory" : "corrupt or truncated");
	if (ret) {
		free(buf);
		return ret;
	}
	*out = buf;
	*outlen = pl.olen;
	return 0;
}
