/*
 * arm64_image_parse(): synthetic Image headers, written byte by byte at
 * the offsets booting.rst gives (not through mote's own constants), good
 * and broken, and a seeded random sweep that checks the placement
 * invariants for whatever the parser accepts.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/arm64/image.h"

#define MIB       (1024ULL * 1024)
#define RAM_BASE  0x80000000ULL
#define RAM_SIZE  (256 * MIB)

struct hdr {
	uint64_t text_offset, image_size, flags;
	uint32_t magic, res5;
};

static const struct hdr good = {
	.text_offset = 0, .image_size = 40 * MIB,
	.flags = 0x2 | 0x8,                 /* 4 KiB pages, anywhere */
	.magic = 0x644d5241, .res5 = 0x40,
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void make(uint8_t h[64], const struct hdr *x)
{
	memset(h, 0, 64);
	put_le(h + 0x00, 0x91005a4d, 4);    /* code0: "MZ" + an add, as EFI stubs have */
	put_le(h + 0x04, 0x14000000, 4);    /* code1: a branch */
	put_le(h + 0x08, x->text_offset, 8);
	put_le(h + 0x10, x->image_size, 8);
	put_le(h + 0x18, x->flags, 8);
	put_le(h + 0x38, x->magic, 4);
	put_le(h + 0x3c, x->res5, 4);
}

static const struct arm64_ram ram = { RAM_BASE, RAM_SIZE };

static int parse(const struct hdr *x, uint64_t file_size,
		 const struct arm64_ram *r, struct arm64_image *out, char *err)
{
	uint8_t h[64];

	make(h, x);
	err[0] = 0;
	return arm64_image_parse(h, sizeof(h), file_size, r, out, err, 256);
}

START_TEST(good_header)
{
	struct arm64_image im;
	char err[256];

	ck_assert_int_eq(parse(&good, 30 * MIB, &ram, &im, err), 0);
	ck_assert_uint_eq(im.text_offset, 0);
	ck_assert_uint_eq(im.image_size, 40 * MIB);
	ck_assert_uint_eq(im.load_addr, RAM_BASE);
	ck_assert_uint_eq(im.end, RAM_BASE + 40 * MIB);
	ck_assert_uint_eq(im.page_kib, 4);
	ck_assert(im.phys_anywhere);
	ck_assert(!im.legacy);
	ck_assert_uint_eq(im.pe_offset, 0x40);
}
END_TEST

START_TEST(text_offset_above_an_unaligned_base)
{
	struct arm64_ram r = { RAM_BASE + 0x100000, RAM_SIZE };
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	x.text_offset = 0x80000;
	ck_assert_int_eq(parse(&x, 30 * MIB, &r, &im, err), 0);
	/* the base is the next 2 MiB boundary, not RAM's start */
	ck_assert_uint_eq(im.load_addr, RAM_BASE + 2 * MIB + 0x80000);
	ck_assert_uint_eq((im.load_addr - im.text_offset) % (2 * MIB), 0);
	ck_assert_uint_eq(im.end, im.load_addr + 40 * MIB);
}
END_TEST

START_TEST(page_size_and_placement_flags)
{
	static const unsigned kib[4] = { 0, 4, 16, 64 };
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	for (unsigned i = 0; i < 4; i++) {
		x.flags = i << 1;
		ck_assert_int_eq(parse(&x, 30 * MIB, &ram, &im, err), 0);
		ck_assert_uint_eq(im.page_kib, kib[i]);
		ck_assert(!im.phys_anywhere);
	}
}
END_TEST

/* image_size 0 (before v3.17): text_offset is 0x80000 whatever the
 * header says, and the image is the file. */
START_TEST(legacy_header)
{
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	x.image_size = 0;
	x.text_offset = 0x1234567;
	x.flags = 0;
	ck_assert_int_eq(parse(&x, 9 * MIB, &ram, &im, err), 0);
	ck_assert(im.legacy);
	ck_assert_uint_eq(im.text_offset, 0x80000);
	ck_assert_uint_eq(im.image_size, 9 * MIB);
	ck_assert_uint_eq(im.load_addr, RAM_BASE + 0x80000);
}
END_TEST

START_TEST(truncated_header)
{
	uint8_t h[64];
	struct arm64_image im;
	char err[256];

	make(h, &good);
	for (size_t len = 0; len < 64; len++) {
		err[0] = 0;
		ck_assert_int_eq(arm64_image_parse(h, len, len, &ram, &im, err,
						   sizeof(err)), -ENOEXEC);
		ck_assert_msg(strstr(err, "truncated"), "len %zu: %s", len, err);
	}
}
END_TEST

START_TEST(garbage_magic)
{
	static const uint32_t magics[] = { 0, 0x654d5241, 0x41524d64, 0xffffffff };
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	for (unsigned i = 0; i < sizeof(magics) / sizeof(magics[0]); i++) {
		x.magic = magics[i];
		ck_assert_int_eq(parse(&x, 30 * MIB, &ram, &im, err), -ENOEXEC);
		ck_assert_msg(strstr(err, "not an arm64 Image"), "%s", err);
	}
}
END_TEST

START_TEST(big_endian_refused)
{
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	x.flags |= 1;
	ck_assert_int_eq(parse(&x, 30 * MIB, &ram, &im, err), -ENOEXEC);
	ck_assert_msg(strstr(err, "big-endian"), "%s", err);
}
END_TEST

START_TEST(too_big_for_ram)
{
	struct { uint64_t text_offset, image_size, ram_size; } cases[] = {
		{ 0, RAM_SIZE + 1, RAM_SIZE },
		{ 0x80000, RAM_SIZE - 0x40000, RAM_SIZE },
		{ UINT64_MAX - 10, 40 * MIB, RAM_SIZE },     /* the sum wraps */
		{ 0, UINT64_MAX, RAM_SIZE },
		{ 0, 40 * MIB, MIB },
	};
	struct arm64_image im;
	char err[256];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arm64_ram r = { RAM_BASE, cases[i].ram_size };
		struct hdr x = good;

		x.text_offset = cases[i].text_offset;
		x.image_size = cases[i].image_size;
		ck_assert_int_eq(parse(&x, 64, &r, &im, err), -EFBIG);
		ck_assert_msg(strstr(err, "RAM"), "case %u: %s", i, err);
	}
}
END_TEST

/* RAM that ends at the first 2 MiB boundary above its start has no base
 * for the kernel, however small the kernel. */
START_TEST(no_aligned_base_in_ram)
{
	struct arm64_ram r = { RAM_BASE + MIB, MIB };
	struct hdr x = good;
	struct arm64_image im;
	char err[256];

	x.image_size = 64 * 1024;
	ck_assert_int_eq(parse(&x, 64, &r, &im, err), -EFBIG);
}
END_TEST

START_TEST(image_size_below_file_size)
{
	struct arm64_image im;
	char err[256];

	ck_assert_int_eq(parse(&good, 41 * MIB, &ram, &im, err), -ENOEXEC);
	ck_assert_msg(strstr(err, "smaller than the file"), "%s", err);
}
END_TEST

/* An EFI stub's PE/COFF headers at 0x40 (as Debian's kernels have them):
 * "PE\0\0", a COFF header with two sections and no optional header, then
 * the section table; each section's SizeOfRawData at +16 and
 * PointerToRawData at +20 (the PE/COFF specification). */
static size_t make_pe(uint8_t *h, size_t cap, uint64_t text_end, uint64_t data_end)
{
	const size_t pe = 0x40, table = pe + 24;

	memset(h, 0, cap);
	make(h, &good);
	memcpy(h + pe, "PE\0\0", 4);
	put_le(h + pe + 4, 0xaa64, 2);          /* Machine: arm64 */
	put_le(h + pe + 6, 2, 2);               /* NumberOfSections */
	put_le(h + table + 16, text_end - 0x10000, 4);
	put_le(h + table + 20, 0x10000, 4);
	put_le(h + table + 40 + 16, data_end - 0x100000, 4);
	put_le(h + table + 40 + 20, 0x100000, 4);
	return table + 2 * 40;
}

START_TEST(pe_sections_past_the_file_are_truncation)
{
	uint8_t h[512];
	size_t len = make_pe(h, sizeof(h), 0x100000, 30 * MIB);
	struct arm64_image im;
	char err[256] = "";

	ck_assert_int_eq(arm64_image_parse(h, len, 30 * MIB, &ram, &im, err, sizeof(err)), 0);
	ck_assert_int_eq(arm64_image_parse(h, len, 8192, &ram, &im, err, sizeof(err)), -ENOEXEC);
	ck_assert_msg(strstr(err, "truncated") && strstr(err, "0x1e00000"), "%s", err);
	ck_assert_int_eq(arm64_image_parse(h, len, 30 * MIB - 1, &ram, &im, err, sizeof(err)),
			 -ENOEXEC);
}
END_TEST

START_TEST(pe_headers_not_all_given_are_not_judged)
{
	uint8_t h[512];
	size_t len = make_pe(h, sizeof(h), 0x100000, 30 * MIB);
	struct arm64_image im;
	char err[256] = "";

	/* The section table runs past len: the header alone decides. */
	ck_assert_int_eq(arm64_image_parse(h, len - 1, 8192, &ram, &im, err, sizeof(err)), 0);
	/* No PE signature: not an EFI stub, nothing to check. */
	h[0x40] = 'X';
	ck_assert_int_eq(arm64_image_parse(h, len, 8192, &ram, &im, err, sizeof(err)), 0);
}
END_TEST

START_TEST(bad_arguments)
{
	struct arm64_ram wraps = { UINT64_MAX - MIB, 2 * MIB };
	uint8_t h[64];
	struct arm64_image im;
	char err[256];

	make(h, &good);
	ck_assert_int_eq(arm64_image_parse(h, 64, 63, &ram, &im, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(arm64_image_parse(h, 64, 64, &wraps, &im, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(arm64_image_parse(NULL, 0, 64, &ram, &im, err, sizeof(err)),
			 -EINVAL);
	/* no error buffer is fine */
	ck_assert_int_eq(arm64_image_parse(h, 10, 10, &ram, &im, NULL, 0), -ENOEXEC);
}
END_TEST

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random headers (magic kept, so the checks past it run): whatever is
 * accepted lies in RAM, above a 2 MiB boundary by text_offset. */
START_TEST(random_headers_keep_the_invariants)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	unsigned accepted = 0;

	for (unsigned n = 0; n < 200000; n++) {
		struct hdr x = {
			.text_offset = next(&seed) >> (next(&seed) % 64),
			.image_size = next(&seed) >> (next(&seed) % 64),
			.flags = next(&seed) & 0x1f, .magic = 0x644d5241,
		};
		struct arm64_ram r = { next(&seed) >> (next(&seed) % 64),
				       next(&seed) >> (next(&seed) % 64) };
		uint64_t fsize = 64 + (next(&seed) >> (next(&seed) % 63 + 1));
		struct arm64_image im;
		char err[256];
		int ret;

		if (r.base + r.size < r.base)
			r.size = UINT64_MAX - r.base;
		ret = parse(&x, fsize, &r, &im, err);
		if (ret < 0) {
			ck_assert(ret == -ENOEXEC || ret == -EFBIG);
			ck_assert(err[0]);
			continue;
		}
		accepted++;
		ck_assert_uint_ge(im.load_addr, r.base);
		ck_assert_uint_le(im.end, r.base + r.size);
		ck_assert_uint_eq(im.end - im.load_addr, im.image_size);
		ck_assert_uint_ge(im.image_size, fsize);
		ck_assert_uint_eq((im.load_addr - im.text_offset) % (2 * MIB), 0);
	}
	ck_assert_uint_gt(accepted, 100);   /* the sweep reaches the success path */
}
END_TEST

static Suite *image_suite(void)
{
	Suite *s = suite_create("arm64_image");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, good_header);
	tcase_add_test(tc, text_offset_above_an_unaligned_base);
	tcase_add_test(tc, page_size_and_placement_flags);
	tcase_add_test(tc, legacy_header);
	tcase_add_test(tc, truncated_header);
	tcase_add_test(tc, garbage_magic);
	tcase_add_test(tc, big_endian_refused);
	tcase_add_test(tc, too_big_for_ram);
	tcase_add_test(tc, no_aligned_base_in_ram);
	tcase_add_test(tc, image_size_below_file_size);
	tcase_add_test(tc, pe_sections_past_the_file_are_truncation);
	tcase_add_test(tc, pe_headers_not_all_given_are_not_judged);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, random_headers_keep_the_invariants);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(image_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
