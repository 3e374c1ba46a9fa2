/*
 * linux_load(): synthetic bzImages and ELF vmlinuxes (valid and broken),
 * loaded into guest memory over malloc'ed or sparse mmap'ed buffers. The
 * zero page is read back by raw offsets from boot.rst/zero-page.rst, not
 * through mote's own struct, so a wrong struct layout shows up here.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <glob.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "boot/x86/layout.h"
#include "boot/x86/linux.h"
#include "vmm/base/gmem.h"

#define MIB            (1024ULL * 1024)
#define RAM_SIZE       (64 * MIB)
#define PAYLOAD_SIZE   0x3000
#define ZP             LAYOUT_ZERO_PAGE

struct fixture {
	struct gmem mem;
	void *ram[2];
	size_t ramsz[2];
	char dir[64];
	char err[256];
	struct linux_entry e;
};

/* Options for a synthetic bzImage. */
struct bz {
	uint8_t setup_sects;
	uint16_t version;
	uint16_t xloadflags;
	uint32_t init_size;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	size_t truncate_to;          /* 0: full size */
};

static const struct bz bz_default = {
	.setup_sects = 4, .version = 0x020f, .xloadflags = 0x1,
	.init_size = 4 * MIB, .initrd_addr_max = 0x7fffffff, .cmdline_size = 2047,
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t rd8(struct fixture *f, uint64_t gpa)
{
	uint8_t v = 0;
	ck_assert_int_eq(gmem_read(&f->mem, gpa, &v, 1), 0);
	return v;
}

static uint16_t rd16(struct fixture *f, uint64_t gpa)
{
	uint16_t v = 0;
	ck_assert_int_eq(gmem_read(&f->mem, gpa, &v, 2), 0);
	return v;
}

static uint32_t rd32(struct fixture *f, uint64_t gpa)
{
	uint32_t v = 0;
	ck_assert_int_eq(gmem_read(&f->mem, gpa, &v, 4), 0);
	return v;
}

static uint64_t rd64(struct fixture *f, uint64_t gpa)
{
	uint64_t v = 0;
	ck_assert_int_eq(gmem_read(&f->mem, gpa, &v, 8), 0);
	return v;
}

static void fixture_init(struct fixture *f, uint64_t low, uint64_t high)
{
	memset(f, 0, sizeof(*f));
	f->ramsz[0] = low;
	f->ramsz[1] = high;
	for (int i = 0; i < 2; i++) {
		if (!f->ramsz[i])
			continue;
		/* Sparse: only the pages the loader touches are backed. */
		f->ram[i] = mmap(NULL, f->ramsz[i], PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ck_assert_ptr_ne(f->ram[i], MAP_FAILED);
		ck_assert_int_eq(gmem_add(&f->mem, i ? LAYOUT_4G : 0, f->ramsz[i],
					  f->ram[i]), 0);
	}
	strcpy(f->dir, "/tmp/mote-test-linux-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
}

static void fixture_fini(struct fixture *f)
{
	char cmd[128];

	for (int i = 0; i < 2; i++)
		if (f->ram[i])
			munmap(f->ram[i], f->ramsz[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Write len bytes to <dir>/<name> and return the path (static storage per call site). */
static const char *write_file(struct fixture *f, const char *name,
			      const void *data, size_t len, char *path, size_t plen)
{
	FILE *fp;

	snprintf(path, plen, "%s/%s", f->dir, name);
	fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
	return path;
}

/* A bzImage: setup sectors with a header, then a patterned payload. */
static size_t make_bzimage(const struct bz *o, uint8_t **out)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (sects + 1) * 512, len = setup + PAYLOAD_SIZE;
	uint8_t *b = calloc(1, len);

	ck_assert_ptr_nonnull(b);
	b[0x1f1] = o->setup_sects;
	put32(b + 0x1f4, PAYLOAD_SIZE / 16);
	put16(b + 0x1fa, 0xffff);
	put16(b + 0x1fe, 0xaa55);
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;            /* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, o->version);
	b[0x211] = 0x01;            /* LOADED_HIGH */
	put32(b + 0x22c, o->initrd_addr_max);
	put32(b + 0x230, 2 * MIB);
	b[0x234] = 1;
	put16(b + 0x236, o->xloadflags);
	put32(b + 0x238, o->cmdline_size);
	put64(b + 0x258, 16 * MIB);
	put32(b + 0x260, o->init_size);
	b[0x26c] = 0x5a;            /* past the header: must not be copied */
	for (size_t i = 0; i < PAYLOAD_SIZE; i++)
		b[setup + i] = (uint8_t)(i * 7 + 3);
	*out = b;
	return o->truncate_to ? o->truncate_to : len;
}

static int load_bz(struct fixture *f, const struct bz *o, const char *cmdline,
		   const char *initrd, char *kpath)
{
	uint8_t *img;
	size_t len = make_bzimage(o, &img);
	struct linux_boot_cfg cfg = {
		.kernel_path = write_file(f, "bzImage", img, len, kpath, 128),
		.initrd_path = initrd, .cmdline = cmdline, .rsdp_gpa = LAYOUT_ACPI,
	};

	free(img);
	return linux_load(&f->mem, &cfg, &f->e, f->err, sizeof(f->err));
}

START_TEST(bzimage_loads_and_fills_zero_page)
{
	struct fixture f;
	char kpath[128], cmd[64];

	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &bz_default, "console=ttyS0 quiet", NULL, kpath), 0);
	ck_assert_str_eq(f.err, "");
	for (size_t i = 0; i < PAYLOAD_SIZE; i += 0x101)
		ck_assert_uint_eq(rd8(&f, LAYOUT_HIMEM + i), (uint8_t)(i * 7 + 3));
	ck_assert_uint_eq(f.e.rip, LAYOUT_HIMEM + 0x200);
	ck_assert_uint_eq(f.e.rsi, ZP);
	/* Copied from the image. */
	ck_assert_uint_eq(rd16(&f, ZP + 0x1fe), 0xaa55);
	ck_assert_uint_eq(rd32(&f, ZP + 0x202), 0x53726448);
	ck_assert_uint_eq(rd16(&f, ZP + 0x206), 0x020f);
	ck_assert_uint_eq(rd32(&f, ZP + 0x260), 4 * MIB);
	ck_assert_uint_eq(rd8(&f, ZP + 0x26c), 0);
	ck_assert_uint_eq(rd8(&f, ZP + 0x1ef), 0);   /* sentinel */
	/* Set by the loader. */
	ck_assert_uint_eq(rd8(&f, ZP + 0x210), 0xff);
	ck_assert_uint_eq(rd8(&f, ZP + 0x211), 0x81);
	ck_assert_uint_eq(rd16(&f, ZP + 0x224), 0xde00);
	ck_assert_uint_eq(rd32(&f, ZP + 0x228), LAYOUT_CMDLINE);
	ck_assert_uint_eq(rd32(&f, ZP + 0x0c8), 0);
	ck_assert_uint_eq(rd64(&f, ZP + 0x070), LAYOUT_ACPI);
	ck_assert_uint_eq(rd32(&f, ZP + 0x218), 0);  /* no initrd */
	ck_assert_uint_eq(rd32(&f, ZP + 0x21c), 0);
	ck_assert_int_eq(gmem_read(&f.mem, LAYOUT_CMDLINE, cmd, 20), 0);
	ck_assert_str_eq(cmd, "console=ttyS0 quiet");
	fixture_fini(&f);
}
END_TEST

START_TEST(bzimage_setup_sects_zero_means_four)
{
	struct fixture f;
	struct bz o = bz_default;
	char kpath[128];

	o.setup_sects = 0;
	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &o, "", NULL, kpath), 0);
	ck_assert_uint_eq(rd8(&f, LAYOUT_HIMEM + 1), 10);
	fixture_fini(&f);
}
END_TEST

/* Each broken image: the errno and a fragment of the message. */
static void expect_bz_error(const struct bz *o, int err, const char *frag)
{
	struct fixture f;
	char kpath[128];

	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, o, "", NULL, kpath), err);
	ck_assert_msg(strstr(f.err, frag), "'%s' lacks '%s'", f.err, frag);
	ck_assert_msg(strstr(f.err, kpath), "'%s' lacks the path", f.err);
	fixture_fini(&f);
}

START_TEST(bzimage_refuses_broken_images)
{
	struct bz o = bz_default;

	o.truncate_to = 1024;
	expect_bz_error(&o, -EINVAL,
			"truncated (setup_sects says 2560 bytes, file has 1024)");
	o.truncate_to = 2560 + 16;
	expect_bz_error(&o, -EINVAL, "truncated (syssize says");
	o = bz_default;
	o.version = 0x0204;
	expect_bz_error(&o, -ENOEXEC, "boot protocol 2.04 is too old");
	o.version = 0x020a;
	expect_bz_error(&o, -ENOEXEC, "no 64-bit entry point");
	o = bz_default;
	o.xloadflags = 0;
	expect_bz_error(&o, -ENOEXEC, "XLF_KERNEL_64 not set");
	o = bz_default;
	o.init_size = 100 * MIB;
	expect_bz_error(&o, -ENOMEM, "needs guest RAM up to 0x7400000");
}
END_TEST

static void expect_file_error(const void *data, size_t len, int err,
			      const char *frag)
{
	struct fixture f;
	char kpath[128];
	struct linux_boot_cfg cfg = { .cmdline = "" };

	fixture_init(&f, RAM_SIZE, 0);
	cfg.kernel_path = write_file(&f, "kernel", data, len, kpath, sizeof(kpath));
	ck_assert_int_eq(linux_load(&f.mem, &cfg, &f.e, f.err, sizeof(f.err)), err);
	ck_assert_msg(strstr(f.err, frag), "'%s' lacks '%s'", f.err, frag);
	ck_assert_msg(strstr(f.err, kpath), "'%s' lacks the path", f.err);
	fixture_fini(&f);
}

START_TEST(garbage_empty_and_missing_kernels)
{
	uint8_t junk[4096];
	struct fixture f;
	struct linux_boot_cfg cfg = { .cmdline = "" };

	memset(junk, 0x90, sizeof(junk));
	expect_file_error(junk, sizeof(junk), -ENOEXEC,
			  "not a bzImage or ELF vmlinux (bad magic)");
	expect_file_error(junk, 10, -ENOEXEC, "bad magic");
	expect_file_error(junk, 0, -ENOEXEC, "empty file");
	expect_file_error("\177ELF", 4, -EINVAL, "truncated ELF header");

	fixture_init(&f, RAM_SIZE, 0);
	cfg.kernel_path = "/nonexistent/vmlinuz";
	ck_assert_int_eq(linux_load(&f.mem, &cfg, &f.e, f.err, sizeof(f.err)),
			 -ENOENT);
	ck_assert_str_eq(f.err, "kernel /nonexistent/vmlinuz: No such file or directory");
	cfg.kernel_path = f.dir;
	ck_assert_int_eq(linux_load(&f.mem, &cfg, &f.e, f.err, sizeof(f.err)),
			 -EISDIR);
	fixture_fini(&f);
}
END_TEST

START_TEST(cmdline_limit_comes_from_the_header)
{
	struct fixture f;
	struct bz o = bz_default;
	char kpath[128], got[20];

	o.cmdline_size = 16;
	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &o, "0123456789abcdef", NULL, kpath), 0);
	ck_assert_int_eq(gmem_read(&f.mem, LAYOUT_CMDLINE, got, 17), 0);
	ck_assert_str_eq(got, "0123456789abcdef");
	ck_assert_int_eq(load_bz(&f, &o, "0123456789abcdefg", NULL, kpath), -E2BIG);
	ck_assert_str_eq(f.err, "command line is 17 bytes, the kernel accepts at most 16");
	fixture_fini(&f);
}
END_TEST

START_TEST(cmdline_limit_is_capped_by_layout)
{
	struct fixture f;
	struct bz o = bz_default;
	char kpath[128];
	size_t n = LAYOUT_CMDLINE_MAX;
	char *big = malloc(n + 1);

	memset(big, 'x', n);
	big[n] = '\0';
	o.cmdline_size = 0xffffffff;
	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &o, big, NULL, kpath), -E2BIG);
	big[n - 1] = '\0';
	ck_assert_int_eq(load_bz(&f, &o, big, NULL, kpath), 0);
	ck_assert_uint_eq(rd8(&f, LAYOUT_CMDLINE + n - 1), 0);
	free(big);
	fixture_fini(&f);
}
END_TEST

static const char *make_initrd(struct fixture *f, size_t len, char *path)
{
	uint8_t *d = malloc(len);

	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(i ^ (i >> 8));
	write_file(f, "initrd", d, len, path, 128);
	free(d);
	return path;
}

START_TEST(initrd_is_high_aligned_and_below_the_limit)
{
	struct fixture f;
	struct bz o = bz_default;
	char kpath[128], ipath[128];
	size_t len = MIB + 123;
	uint32_t img, size;

	fixture_init(&f, RAM_SIZE, 0);
	make_initrd(&f, len, ipath);
	ck_assert_int_eq(load_bz(&f, &o, "", ipath, kpath), 0);
	img = rd32(&f, ZP + 0x218);
	size = rd32(&f, ZP + 0x21c);
	ck_assert_uint_eq(size, len);
	ck_assert_uint_eq(img % 4096, 0);
	ck_assert_uint_le(img + size, RAM_SIZE);
	ck_assert_uint_gt(img + size, RAM_SIZE - 4096);  /* as high as possible */
	ck_assert_uint_ge(img, 16 * MIB + o.init_size);  /* above the kernel */
	for (size_t i = 0; i < len; i += 4099)
		ck_assert_uint_eq(rd8(&f, img + i), (uint8_t)(i ^ (i >> 8)));

	o.initrd_addr_max = 32 * MIB - 1;
	ck_assert_int_eq(load_bz(&f, &o, "", ipath, kpath), 0);
	img = rd32(&f, ZP + 0x218);
	ck_assert_uint_le(img + len, 32 * MIB);
	ck_assert_uint_gt(img + len, 32 * MIB - 4096);
	fixture_fini(&f);
}
END_TEST

START_TEST(initrd_errors_name_the_file)
{
	struct fixture f;
	char kpath[128], ipath[128];

	fixture_init(&f, RAM_SIZE, 0);
	snprintf(ipath, sizeof(ipath), "%s/missing.img", f.dir);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", ipath, kpath), -ENOENT);
	ck_assert_msg(strstr(f.err, ipath) && strstr(f.err, "No such file"),
		      "%s", f.err);
	/* 64 MiB RAM, kernel up to 20 MiB: 45 MiB cannot fit. */
	make_initrd(&f, 45 * MIB, ipath);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", ipath, kpath), -ENOMEM);
	ck_assert_msg(strstr(f.err, "initrd ") && strstr(f.err, ipath) &&
		      strstr(f.err, "47185920 bytes does not fit in guest RAM below 0x4000000"),
		      "%s", f.err);
	fixture_fini(&f);
}
END_TEST

/* e820 rules: sorted, non-overlapping, no RAM in the hole, RAM adds up. */
static void check_e820(struct fixture *f)
{
	unsigned n = rd8(f, ZP + 0x1e8);
	uint64_t ram = 0, prev_end = 0, reserved = 0;

	ck_assert_uint_ge(n, 3);
	ck_assert_uint_le(n, 128);
	for (unsigned i = 0; i < n; i++) {
		uint64_t e = ZP + 0x2d0 + 20 * i;
		uint64_t addr = rd64(f, e), size = rd64(f, e + 8);
		uint32_t type = rd32(f, e + 16);
		ck_assert_uint_gt(size, 0);
		ck_assert_uint_ge(addr, prev_end);
		prev_end = addr + size;
		ck_assert(type == 1 || type == 2);
		if (type == 1) {
			ram += size;
			ck_assert(addr + size <= LAYOUT_MMIO_HOLE || addr >= LAYOUT_4G);
			ck_assert(addr + size <= LAYOUT_EBDA || addr >= LAYOUT_HIMEM);
		} else {
			reserved += size;
		}
	}
	ck_assert_uint_eq(rd64(f, ZP + 0x2d0), 0);
	ck_assert_uint_eq(ram + reserved, gmem_total(&f->mem));
	ck_assert_uint_eq(reserved, LAYOUT_HIMEM - LAYOUT_EBDA);
}

START_TEST(e820_single_region)
{
	struct fixture f;
	char kpath[128];

	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", NULL, kpath), 0);
	ck_assert_uint_eq(rd8(&f, ZP + 0x1e8), 3);
	check_e820(&f);
	fixture_fini(&f);
}
END_TEST

START_TEST(e820_two_regions_around_the_hole)
{
	struct fixture f;
	char kpath[128], ipath[128];
	unsigned n;

	fixture_init(&f, LAYOUT_MMIO_HOLE, 1024 * MIB);
	make_initrd(&f, 3 * MIB, ipath);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", ipath, kpath), 0);
	n = rd8(&f, ZP + 0x1e8);
	ck_assert_uint_eq(n, 4);
	check_e820(&f);
	ck_assert_uint_eq(rd64(&f, ZP + 0x2d0 + 20 * 3), LAYOUT_4G);
	ck_assert_uint_eq(rd64(&f, ZP + 0x2d0 + 20 * 3 + 8), 1024 * MIB);
	/* initrd_addr_max 0x7fffffff wins over the end of low RAM. */
	ck_assert_uint_le(rd32(&f, ZP + 0x218) + 3 * MIB, 0x80000000ULL);
	ck_assert_uint_gt(rd32(&f, ZP + 0x218) + 3 * MIB, 0x80000000ULL - 4096);
	fixture_fini(&f);
}
END_TEST

START_TEST(guest_ram_layout_is_checked)
{
	struct fixture f;
	char kpath[128];
	void *ram = malloc(RAM_SIZE);

	fixture_init(&f, 0, 0);
	ck_assert_int_eq(gmem_add(&f.mem, 16 * MIB, RAM_SIZE, ram), 0);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", NULL, kpath), -EINVAL);
	ck_assert_msg(strstr(f.err, "must start at 0"), "%s", f.err);
	free(ram);
	fixture_fini(&f);
}
END_TEST

START_TEST(page_tables_gdt_and_entry_state)
{
	struct fixture f;
	char kpath[128];

	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_bz(&f, &bz_default, "", NULL, kpath), 0);
	ck_assert_uint_eq(rd64(&f, LAYOUT_PML4), (LAYOUT_PML4 + 0x1000) | 3);
	for (unsigned i = 1; i < 512; i++)
		ck_assert_uint_eq(rd64(&f, LAYOUT_PML4 + 8 * i), 0);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(rd64(&f, LAYOUT_PML4 + 0x1000 + 8 * i),
				  (LAYOUT_PML4 + 0x2000 + 0x1000 * i) | 3);
	ck_assert_uint_eq(rd64(&f, LAYOUT_PML4 + 0x1000 + 8 * 4), 0);
	for (uint64_t k = 0; k < 2048; k++)  /* 4 PDs back to back */
		ck_assert_uint_eq(rd64(&f, LAYOUT_PML4 + 0x2000 + 8 * k),
				  (k << 21) | 0x83);

	ck_assert_uint_eq(rd64(&f, LAYOUT_GDT), 0);
	ck_assert_uint_eq(rd64(&f, LAYOUT_GDT + 0x10), 0x00af9b000000ffffULL);
	ck_assert_uint_eq(rd64(&f, LAYOUT_GDT + 0x18), 0x00cf93000000ffffULL);
	ck_assert_uint_eq(f.e.gdt_base, LAYOUT_GDT);
	ck_assert_uint_ge(f.e.gdt_limit, 0x1f);
	ck_assert_uint_eq(f.e.code_sel, 0x10);
	ck_assert_uint_eq(f.e.data_sel, 0x18);
	ck_assert_uint_eq(f.e.code_desc, 0x00af9b000000ffffULL);
	ck_assert_uint_eq(f.e.data_desc, 0x00cf93000000ffffULL);
	ck_assert_uint_eq(f.e.cr0 & 0x80010033ULL, 0x80010033ULL);
	ck_assert_uint_eq(f.e.cr3, LAYOUT_PML4);
	ck_assert_uint_eq(f.e.cr4 & 0x20, 0x20);
	ck_assert_uint_eq(f.e.efer & 0x500, 0x500);
	ck_assert_uint_eq(f.e.rsp, LAYOUT_BOOT_STACK);
	fixture_fini(&f);
}
END_TEST

/* An ELF64 vmlinux with a text segment and a data+bss segment. */
static size_t make_elf(uint8_t **out, uint64_t entry, uint16_t machine,
		       uint64_t paddr)
{
	size_t len = 0x3000;
	uint8_t *b = calloc(1, len);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)b;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof(*eh));
	const uint64_t vbase = 0xffffffff81000000ULL;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = machine;
	eh->e_version = EV_CURRENT;
	eh->e_entry = entry;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = 3;
	ph[0] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_X, 0x1000, vbase, paddr,
			      0x1000, 0x1000, 0x200000 };
	ph[1] = (Elf64_Phdr){ PT_LOAD, PF_R | PF_W, 0x2000, vbase + 0x200000,
			      paddr + 0x200000, 0x800, 0x5000, 0x200000 };
	ph[2] = (Elf64_Phdr){ PT_NOTE, PF_R, 0x2800, 0, 0, 0x10, 0x10, 4 };
	memset(b + 0x1000, 0xc3, 0x1000);
	memset(b + 0x2000, 0x77, 0x800);
	*out = b;
	return len;
}

static int load_elf(struct fixture *f, uint64_t entry, uint16_t machine,
		    uint64_t paddr)
{
	uint8_t *img;
	char kpath[128];
	size_t len = make_elf(&img, entry, machine, paddr);
	struct linux_boot_cfg cfg = { .cmdline = "root=/dev/vda" };
	int ret;

	cfg.kernel_path = write_file(f, "vmlinux", img, len, kpath, sizeof(kpath));
	free(img);
	ret = linux_load(&f->mem, &cfg, &f->e, f->err, sizeof(f->err));
	return ret;
}

START_TEST(elf_vmlinux_loads_segments)
{
	struct fixture f;
	const uint64_t pa = 16 * MIB;

	fixture_init(&f, RAM_SIZE, 0);
	memset((uint8_t *)f.ram[0] + pa + 0x200000, 0xaa, 0x6000);  /* stale bss */
	ck_assert_int_eq(load_elf(&f, pa + 0x10, EM_X86_64, pa), 0);
	ck_assert_uint_eq(f.e.rip, pa + 0x10);
	ck_assert_uint_eq(rd8(&f, pa), 0xc3);
	ck_assert_uint_eq(rd8(&f, pa + 0xfff), 0xc3);
	ck_assert_uint_eq(rd8(&f, pa + 0x200000), 0x77);
	ck_assert_uint_eq(rd8(&f, pa + 0x2007ff), 0x77);
	ck_assert_uint_eq(rd8(&f, pa + 0x200800), 0);   /* bss zeroed */
	ck_assert_uint_eq(rd8(&f, pa + 0x204fff), 0);
	ck_assert_uint_eq(rd8(&f, pa + 0x205000), 0xaa);
	ck_assert_uint_eq(rd16(&f, ZP + 0x1fe), 0xaa55);
	ck_assert_uint_eq(rd32(&f, ZP + 0x202), 0x53726448);
	ck_assert_uint_ge(rd16(&f, ZP + 0x206), 0x0206);
	ck_assert_uint_eq(rd8(&f, ZP + 0x210), 0xff);
	ck_assert_uint_eq(rd32(&f, ZP + 0x228), LAYOUT_CMDLINE);
	check_e820(&f);

	/* A virtual entry point goes through its segment's mapping. */
	ck_assert_int_eq(load_elf(&f, 0xffffffff81000020ULL, EM_X86_64, pa), 0);
	ck_assert_uint_eq(f.e.rip, pa + 0x20);
	fixture_fini(&f);
}
END_TEST

START_TEST(elf_vmlinux_errors)
{
	struct fixture f;

	fixture_init(&f, RAM_SIZE, 0);
	ck_assert_int_eq(load_elf(&f, 16 * MIB, EM_386, 16 * MIB), -ENOEXEC);
	ck_assert_msg(strstr(f.err, "not x86-64"), "%s", f.err);
	ck_assert_int_eq(load_elf(&f, 100 * MIB, EM_X86_64, 100 * MIB), -ENOMEM);
	ck_assert_msg(strstr(f.err, "outside guest RAM"), "%s", f.err);
	ck_assert_int_eq(load_elf(&f, 0x1234, EM_X86_64, 16 * MIB), -ENOEXEC);
	ck_assert_msg(strstr(f.err, "entry 0x1234 is outside"), "%s", f.err);
	fixture_fini(&f);
}
END_TEST

/*
 * A real distribution kernel: MOTE_TEST_KERNEL (make unit-check sets it to
 * the default guest's kernel, which make builds), else the build's default
 * guest, else one in /boot. None is a failure, not a test left out.
 */
static const char *find_real_kernel(char *buf, size_t len)
{
	const char *env = getenv("MOTE_TEST_KERNEL");
	glob_t g;

	if (env && *env)
		return env;            /* named: it must be there */
	if (access("build/guest/vmlinuz", R_OK) == 0)
		return "build/guest/vmlinuz";
	if (glob("/boot/vmlinuz-*", 0, NULL, &g) != 0)
		return NULL;
	for (size_t i = 0; i < g.gl_pathc; i++)
		if (access(g.gl_pathv[i], R_OK) == 0) {
			snprintf(buf, len, "%s", g.gl_pathv[i]);
			globfree(&g);
			return buf;
		}
	globfree(&g);
	return NULL;
}

/* A bzImage enters at 1 MiB + 0x200; an x86-64 vmlinux says where. */
static uint64_t real_kernel_entry(const char *path)
{
	uint8_t h[sizeof(Elf64_Ehdr)] = { 0 };
	uint64_t entry;
	FILE *fp = fopen(path, "rb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fread(h, 1, sizeof(h), fp), sizeof(h));
	fclose(fp);
	if (memcmp(h, ELFMAG, SELFMAG))
		return LAYOUT_HIMEM + 0x200;
	memcpy(&entry, h + offsetof(Elf64_Ehdr, e_entry), sizeof(entry));
	return entry;
}

START_TEST(real_kernel)
{
	struct fixture f;
	char buf[256];
	const char *k = find_real_kernel(buf, sizeof(buf));
	struct linux_boot_cfg cfg = { .kernel_path = k, .cmdline = "console=ttyS0" };

	ck_assert_msg(k, "no real kernel: set MOTE_TEST_KERNEL or run make guest");
	ck_assert_msg(access(k, R_OK) == 0, "kernel %s: %s", k, strerror(errno));
	fixture_init(&f, 512 * MIB, 0);
	ck_assert_msg(linux_load(&f.mem, &cfg, &f.e, f.err, sizeof(f.err)) == 0,
		      "%s: %s", k, f.err);
	ck_assert_uint_eq(f.e.rip, real_kernel_entry(k));
	ck_assert_uint_ge(rd16(&f, ZP + 0x206), 0x020c);
	ck_assert_uint_eq(rd16(&f, ZP + 0x236) & 1, 1);
	check_e820(&f);
	fixture_fini(&f);
}
END_TEST

static Suite *linux_suite(void)
{
	Suite *s = suite_create("linux");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bzimage_loads_and_fills_zero_page);
	tcase_add_test(tc, bzimage_setup_sects_zero_means_four);
	tcase_add_test(tc, bzimage_refuses_broken_images);
	tcase_add_test(tc, garbage_empty_and_missing_kernels);
	tcase_add_test(tc, cmdline_limit_comes_from_the_header);
	tcase_add_test(tc, cmdline_limit_is_capped_by_layout);
	tcase_add_test(tc, initrd_is_high_aligned_and_below_the_limit);
	tcase_add_test(tc, initrd_errors_name_the_file);
	tcase_add_test(tc, e820_single_region);
	tcase_add_test(tc, e820_two_regions_around_the_hole);
	tcase_add_test(tc, guest_ram_layout_is_checked);
	tcase_add_test(tc, page_tables_gdt_and_entry_state);
	tcase_add_test(tc, elf_vmlinux_loads_segments);
	tcase_add_test(tc, elf_vmlinux_errors);
	tcase_add_test(tc, real_kernel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(linux_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
