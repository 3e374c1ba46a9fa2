/*
 * boot/arm64/loader.c: the placement rules (device tree at the top of RAM,
 * 8-byte aligned and at most 2 MiB; the initrd 2 MiB aligned right below
 * it; both above the kernel's image_size) checked against numbers worked
 * out here, then a whole load of a synthetic Image and initrd into guest
 * memory, read back through libfdt. Bad inputs fail with one line.
 */
#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/arm64/loader.h"
#include "vmm/base/gmem.h"

#define MIB       (1024ULL * 1024)
#define RAM_BASE  0x40000000ULL
#define RAM_SIZE  (64 * MIB)

static const struct arm64_ram ram = { RAM_BASE, RAM_SIZE };

/* A kernel at RAM's start using 20 MiB. */
static const struct arm64_image img20 = {
	.image_size = 20 * MIB, .load_addr = RAM_BASE, .end = RAM_BASE + 20 * MIB,
};

START_TEST(tree_at_top_initrd_below)
{
	struct arm64_boot_layout l;
	char err[256] = "";

	ck_assert_int_eq(arm64_boot_place(&ram, &img20, 5 * MIB + 3, 3001, &l, err,
					  sizeof(err)), 0);
	ck_assert_uint_eq(l.kernel, RAM_BASE);
	ck_assert_uint_eq(l.kernel_end, RAM_BASE + 20 * MIB);
	/* 64 MiB - 3001 rounded down to 8: 0x43fff440. */
	ck_assert_uint_eq(l.dtb, 0x43fff440ULL);
	ck_assert_uint_eq(l.dtb_size, 3001);
	ck_assert_uint_le(l.dtb + l.dtb_size, RAM_BASE + RAM_SIZE);
	/* below 0x43fff440 - (5 MiB + 3), 2 MiB aligned: 0x43a00000 */
	ck_assert_uint_eq(l.initrd, 0x43a00000ULL);
	ck_assert_uint_eq(l.initrd_end, 0x43a00000ULL + 5 * MIB + 3);
	ck_assert_uint_le(l.initrd_end, l.dtb);
}
END_TEST

START_TEST(no_initrd)
{
	struct arm64_boot_layout l;
	char err[256] = "";

	ck_assert_int_eq(arm64_boot_place(&ram, &img20, 0, 4096, &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.dtb, RAM_BASE + RAM_SIZE - 4096);
	ck_assert_uint_eq(l.initrd, l.initrd_end);
}
END_TEST

/* Just fits: the initrd's 2 MiB aligned start lands on the kernel's end. */
START_TEST(initrd_exactly_fits_and_one_more_byte_does_not)
{
	struct arm64_boot_layout l;
	char err[256] = "";
	uint64_t room = 42 * MIB;   /* 62 MiB (below the tree's 2 MiB) - 20 MiB */

	ck_assert_int_eq(arm64_boot_place(&ram, &img20, room, 2 * MIB, &l, err, sizeof(err)), 0);
	ck_assert_uint_eq(l.initrd, RAM_BASE + 20 * MIB);
	ck_assert_int_eq(arm64_boot_place(&ram, &img20, room + 1, 2 * MIB, &l, err, sizeof(err)),
			 -EFBIG);
	ck_assert_msg(strstr(err, "initrd of") && strstr(err, "--mem"), "%s", err);
}
END_TEST

START_TEST(bad_sizes_are_refused)
{
	struct arm64_boot_layout l;
	char err[256] = "";
	struct arm64_image full = img20;

	ck_assert_int_eq(arm64_boot_place(&ram, &img20, 0, 2 * MIB + 1, &l, err, sizeof(err)),
			 -EFBIG);
	ck_assert_msg(strstr(err, "device tree"), "%s", err);
	ck_assert_int_eq(arm64_boot_place(&ram, &img20, 0, 0, &l, err, sizeof(err)), -EFBIG);
	full.end = RAM_BASE + RAM_SIZE - 100;
	ck_assert_int_eq(arm64_boot_place(&ram, &full, 0, 4096, &l, err, sizeof(err)), -EFBIG);
	ck_assert_msg(strstr(err, "no room for the device tree"), "%s", err);
	full.end = RAM_BASE + RAM_SIZE + 1;
	ck_assert_int_eq(arm64_boot_place(&ram, &full, 0, 4096, &l, err, sizeof(err)), -EINVAL);
	/* huge sizes must not wrap round */
	ck_assert_int_eq(arm64_boot_place(&ram, &img20, UINT64_MAX, 4096, &l, err, sizeof(err)),
			 -EFBIG);
}
END_TEST

/* ---- a whole load ---- */

struct fx {
	struct gmem mem;
	uint8_t *ram;
	char kpath[64], ipath[64];
	struct arm64_fdt_desc d;
	struct arm64_fdt_mmio virtio[1];
	char err[256];
};

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void write_file(char *path, const char *tmpl, const uint8_t *data, size_t len)
{
	snprintf(path, 64, "%s", tmpl);
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* A 64 KiB Image (text_offset 0, image_size 1 MiB, 4 KiB pages) whose
 * bytes after the header are a pattern. */
static void kernel_file(struct fx *f, int gzip)
{
	static uint8_t k[65536];

	for (size_t i = 0; i < sizeof(k); i++)
		k[i] = (uint8_t)(i * 7 + 1);
	memset(k, 0, 64);
	put_le(k + 0x10, 1 * MIB, 8);
	put_le(k + 0x18, 0x2, 8);
	put_le(k + 0x38, 0x644d5241, 4);
	if (gzip) {
		k[0] = 0x1f;
		k[1] = 0x8b;
	}
	write_file(f->kpath, "/tmp/mote-a64k-XXXXXX", k, sizeof(k));
}

static void setup(struct fx *f)
{
	static const uint8_t initrd[3000] = { 'i', 'n', 'i', 't' };

	memset(f, 0, sizeof(*f));
	f->ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(f->ram);
	ck_assert_int_eq(gmem_add(&f->mem, RAM_BASE, RAM_SIZE, f->ram), 0);
	kernel_file(f, 0);
	write_file(f->ipath, "/tmp/mote-a64i-XXXXXX", initrd, sizeof(initrd));
	f->virtio[0] = (struct arm64_fdt_mmio){ { 0x0a000000, 0x200 }, 48 };
	f->d = (struct arm64_fdt_desc){
		.ncpus = 2,
		.gic = { ARM64_GIC_V3, { 0x08000000, 0x10000 }, { 0x080a0000, 2 * 0x20000ULL } },
		.timer = { 29, 30, 27, 26 },
		.uart = { { 0x09000000, 8 }, 33 },
		.uart_clock_hz = 1843200,
		.exit_dev = { 0x09010000, 0x1000 },
		.boot_timer = { 0x09020000, 0x1000 },
		.virtio = f->virtio, .nvirtio = 1,
		.bootargs = "console=ttyS0 earlycon",
	};
}

static void teardown(struct fx *f)
{
	unlink(f->kpath);
	unlink(f->ipath);
	free(f->ram);
}

static uint64_t prop64(const void *fdt, int off, const char *name)
{
	int len;
	const void *p = fdt_getprop(fdt, off, name, &len);
	fdt64_t v;

	ck_assert_msg(p && len == 8, "%s", name);
	memcpy(&v, p, sizeof(v));     /* properties are only 4-byte aligned */
	return fdt64_to_cpu(v);
}

START_TEST(load_kernel_initrd_and_tree)
{
	struct fx f;
	struct arm64_boot_cfg b;
	struct arm64_boot_entry e;

	setup(&f);
	b = (struct arm64_boot_cfg){ f.kpath, f.ipath, &f.d };
	ck_assert_int_eq(arm64_linux_load(&f.mem, &ram, &b, &e, f.err, sizeof(f.err)), 0);
	ck_assert_uint_eq(e.pc, RAM_BASE);
	ck_assert_uint_eq(e.dtb % 8, 0);
	ck_assert_uint_eq(f.ram[0x38], 0x41);            /* the header, copied */
	ck_assert_uint_eq(f.ram[1000], (uint8_t)(1000 * 7 + 1));

	const void *fdt = gmem_ptr(&f.mem, e.dtb, 64);
	ck_assert_ptr_nonnull(fdt);
	ck_assert_int_eq(fdt_check_header(fdt), 0);
	ck_assert_uint_le(e.dtb + fdt_totalsize(fdt), RAM_BASE + RAM_SIZE);
	int ch = fdt_path_offset(fdt, "/chosen");
	ck_assert_int_ge(ch, 0);
	uint64_t is = prop64(fdt, ch, "linux,initrd-start"), ie = prop64(fdt, ch, "linux,initrd-end");
	ck_assert_uint_eq(ie - is, 3000);
	ck_assert_uint_eq(is % (2 * MIB), 0);
	ck_assert_uint_ge(is, RAM_BASE + 1 * MIB);       /* above the kernel's image_size */
	ck_assert_uint_le(ie, e.dtb);
	ck_assert_int_eq(memcmp(f.ram + (is - RAM_BASE), "init", 4), 0);
	ck_assert_str_eq(fdt_getprop(fdt, ch, "bootargs", NULL), "console=ttyS0 earlycon");
	int mem = fdt_path_offset(fdt, "/memory@40000000");
	ck_assert_int_ge(mem, 0);
	teardown(&f);
}
END_TEST

START_TEST(compressed_missing_and_oversized_files)
{
	struct fx f;
	struct arm64_boot_cfg b;
	struct arm64_boot_entry e;
	const struct arm64_ram small = { RAM_BASE, 2 * MIB };

	setup(&f);
	b = (struct arm64_boot_cfg){ f.kpath, NULL, &f.d };
	/* the kernel's 1 MiB plus a 2 MiB aligned initrd do not fit in 2 MiB */
	b.initrd_path = f.ipath;
	ck_assert_int_eq(arm64_linux_load(&f.mem, &small, &b, &e, f.err, sizeof(f.err)), -EFBIG);
	ck_assert_msg(strstr(f.err, "initrd"), "%s", f.err);

	b.initrd_path = "/nonexistent/initrd";
	ck_assert_int_eq(arm64_linux_load(&f.mem, &ram, &b, &e, f.err, sizeof(f.err)), -ENOENT);
	ck_assert_msg(strstr(f.err, "/nonexistent/initrd"), "%s", f.err);

	b.initrd_path = NULL;
	b.kernel_path = "/";
	ck_assert_int_eq(arm64_linux_load(&f.mem, &ram, &b, &e, f.err, sizeof(f.err)), -EISDIR);

	unlink(f.kpath);
	kernel_file(&f, 1);
	b.kernel_path = f.kpath;
	ck_assert_int_eq(arm64_linux_load(&f.mem, &ram, &b, &e, f.err, sizeof(f.err)), -ENOEXEC);
	ck_assert_msg(strstr(f.err, "gzip"), "%s", f.err);
	teardown(&f);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("arm64_loader");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, tree_at_top_initrd_below);
	tcase_add_test(tc, no_initrd);
	tcase_add_test(tc, initrd_exactly_fits_and_one_more_byte_does_not);
	tcase_add_test(tc, bad_sizes_are_refused);
	tcase_add_test(tc, load_kernel_initrd_and_tree);
	tcase_add_test(tc, compressed_missing_and_oversized_files);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
