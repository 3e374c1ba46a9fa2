/*
 * arm64_fdt_build(): the blob is read back with libfdt's own read functions
 * (fdt_path_offset, fdt_getprop, ...) and the cells compared with values
 * worked out here from the bindings, not from mote's code; Debian's dtc
 * must accept it without a warning. Missing dtc fails the test.
 */
#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/arm64/fdt.h"

#define MIB         (1024ULL * 1024)
#define RAM_BASE    0x80000000ULL
#define RAM_SIZE    (256 * MIB)
#define UART_BASE   0x09000000ULL
#define UART_INTID  33
#define EXIT_BASE   0x09001000ULL
#define TIMER_BASE  0x09002000ULL
#define VIRTIO_BASE 0x0a000000ULL
#define VIRTIO_SIZE 0x200ULL
#define VIRTIO_SPI0 48
#define INITRD_A    (RAM_BASE + 128 * MIB)
#define INITRD_B    (INITRD_A + 3 * MIB + 5)

struct fx {
	struct arm64_fdt_desc d;
	struct arm64_fdt_mmio virtio[ARM64_FDT_MAX_VIRTIO + 1];
	char err[256];
	void *blob;
	int size;
};

static void desc(struct fx *f, unsigned ncpus, unsigned nvirtio)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < ARM64_FDT_MAX_VIRTIO + 1; i++)
		f->virtio[i] = (struct arm64_fdt_mmio){
			{ VIRTIO_BASE + i * VIRTIO_SIZE, VIRTIO_SIZE }, VIRTIO_SPI0 + i };
	f->d = (struct arm64_fdt_desc){
		.ram = { RAM_BASE, RAM_SIZE },
		.ncpus = ncpus,
		.gic = { ARM64_GIC_V3, { 0x08000000, 0x10000 },
			 { 0x080a0000, ncpus * 0x20000ULL } },
		.timer = { 29, 30, 27, 26 },
		.uart = { { UART_BASE, 0x1000 }, UART_INTID },
		.uart_clock_hz = 1843200,
		.exit_dev = { EXIT_BASE, 0x1000 },
		.boot_timer = { TIMER_BASE, 0x1000 },
		.virtio = f->virtio, .nvirtio = nvirtio,
		.bootargs = "console=ttyS0 earlycon panic=-1",
		.initrd_start = INITRD_A, .initrd_end = INITRD_B,
	};
}

/* Build into a buffer of exactly arm64_fdt_size_bound() bytes. */
static void build(struct fx *f)
{
	size_t n = arm64_fdt_size_bound(&f->d);

	f->blob = malloc(n);
	ck_assert_ptr_nonnull(f->blob);
	f->size = arm64_fdt_build(&f->d, f->blob, n, f->err, sizeof(f->err));
	ck_assert_msg(f->size > 0, "build: %d %s", f->size, f->err);
	ck_assert_uint_le((size_t)f->size, n);
	ck_assert_int_eq(fdt_check_header(f->blob), 0);
	ck_assert_int_eq((int)fdt_totalsize(f->blob), f->size);
}

static int node(const struct fx *f, const char *path)
{
	int off = fdt_path_offset(f->blob, path);

	ck_assert_msg(off >= 0, "%s: %s", path, fdt_strerror(off));
	return off;
}

static const void *getprop(const struct fx *f, int off, const char *name,
			   int want_len)
{
	int len;
	const void *p = fdt_getprop(f->blob, off, name, &len);

	ck_assert_msg(p, "property %s missing", name);
	if (want_len >= 0)
		ck_assert_msg(len == want_len, "%s: %d bytes, want %d", name, len,
			      want_len);
	return p;
}

static uint32_t u32(const struct fx *f, int off, const char *name)
{
	return fdt32_to_cpu(*(const fdt32_t *)getprop(f, off, name, 4));
}

static uint32_t cell(const void *p, unsigned i)
{
	fdt32_t c;

	memcpy(&c, (const char *)p + 4 * i, 4);
	return fdt32_to_cpu(c);
}

static uint64_t cell2(const void *p, unsigned i)
{
	return (uint64_t)cell(p, i) << 32 | cell(p, i + 1);
}

static void str_is(const struct fx *f, int off, const char *name, const char *s)
{
	const char *p = getprop(f, off, name, (int)strlen(s) + 1);

	ck_assert_str_eq(p, s);
}

/* reg with 2 address and 2 size cells. */
static void reg_is(const struct fx *f, int off, unsigned n, const uint64_t *v)
{
	const void *p = getprop(f, off, "reg", (int)(16 * n));

	for (unsigned i = 0; i < 2 * n; i++)
		ck_assert_uint_eq(cell2(p, 2 * i), v[i]);
}

/* interrupts = <0 (intid - 32) 1>: an edge-rising SPI. */
static void spi_is(const struct fx *f, int off, uint32_t intid)
{
	const void *p = getprop(f, off, "interrupts", 12);

	ck_assert_uint_eq(cell(p, 0), 0);
	ck_assert_uint_eq(cell(p, 1), intid - 32);
	ck_assert_uint_eq(cell(p, 2), 1);
}

static void done(struct fx *f)
{
	free(f->blob);
}

START_TEST(root_memory_psci_and_gic)
{
	struct fx f;
	int root, gic, mem;

	desc(&f, 2, 3);
	build(&f);
	root = node(&f, "/");
	ck_assert_uint_eq(u32(&f, root, "#address-cells"), 2);
	ck_assert_uint_eq(u32(&f, root, "#size-cells"), 2);
	str_is(&f, root, "compatible", "mote,virt");

	mem = node(&f, "/memory@80000000");
	str_is(&f, mem, "device_type", "memory");
	reg_is(&f, mem, 1, (uint64_t[]){ RAM_BASE, RAM_SIZE });

	str_is(&f, node(&f, "/psci"), "compatible", "arm,psci-0.2");
	str_is(&f, node(&f, "/psci"), "method", "hvc");

	gic = node(&f, "/intc@8000000");
	str_is(&f, gic, "compatible", "arm,gic-v3");
	getprop(&f, gic, "interrupt-controller", 0);
	ck_assert_uint_eq(u32(&f, gic, "#interrupt-cells"), 3);
	reg_is(&f, gic, 2, (uint64_t[]){ 0x08000000, 0x10000, 0x080a0000, 0x40000 });
	/* the root's interrupt-parent is the GIC, by phandle */
	ck_assert_uint_ne(fdt_get_phandle(f.blob, gic), 0);
	ck_assert_uint_eq(u32(&f, root, "interrupt-parent"),
			  fdt_get_phandle(f.blob, gic));
	ck_assert_int_eq(fdt_node_offset_by_phandle(f.blob,
						    u32(&f, root, "interrupt-parent")), gic);
	ck_assert_int_eq(fdt_node_offset_by_compatible(f.blob, -1, "arm,gic-v3"), gic);
	done(&f);
}
END_TEST

/* The four PPIs in the binding's order: secure, non-secure physical,
 * virtual, hypervisor; <1 (intid - 16) level-high>. */
START_TEST(timer_ppis)
{
	static const uint32_t ppi[4] = { 13, 14, 11, 10 };
	struct fx f;
	const void *p;
	int t;

	desc(&f, 1, 0);
	build(&f);
	t = node(&f, "/timer");
	str_is(&f, t, "compatible", "arm,armv8-timer");
	getprop(&f, t, "always-on", 0);
	p = getprop(&f, t, "interrupts", 48);
	for (unsigned i = 0; i < 4; i++) {
		ck_assert_uint_eq(cell(p, 3 * i), 1);
		ck_assert_uint_eq(cell(p, 3 * i + 1), ppi[i]);
		ck_assert_uint_eq(cell(p, 3 * i + 2), 4);
	}
	done(&f);
}
END_TEST

/* The MPIDR KVM assigns vCPU i: Aff0 = i % 16, Aff1 = i / 16. */
static uint32_t kvm_mpidr(unsigned i)
{
	return (i % 16) | (i / 16) << 8;
}

START_TEST(cpus_count_and_mpidrs)
{
	static const unsigned counts[] = { 1, 2, 17, 40 };

	for (unsigned c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		struct fx f;
		unsigned n = 0;
		int cpus, sub;

		desc(&f, counts[c], 1);
		build(&f);
		cpus = node(&f, "/cpus");
		ck_assert_uint_eq(u32(&f, cpus, "#address-cells"), 1);
		ck_assert_uint_eq(u32(&f, cpus, "#size-cells"), 0);
		fdt_for_each_subnode(sub, f.blob, cpus) {
			char name[32];

			snprintf(name, sizeof(name), "cpu@%x", kvm_mpidr(n));
			ck_assert_str_eq(fdt_get_name(f.blob, sub, NULL), name);
			ck_assert_uint_eq(u32(&f, sub, "reg"), kvm_mpidr(n));
			str_is(&f, sub, "device_type", "cpu");
			str_is(&f, sub, "enable-method", "psci");
			n++;
		}
		ck_assert_uint_eq(n, counts[c]);
		done(&f);
	}
}
END_TEST

/* MPIDRs as KVM_GET_ONE_REG reads them (bit 31 RES1) name the cpus. */
START_TEST(cpus_from_given_mpidrs)
{
	static const uint64_t mpidr[3] = { 0x80000000, 0x80000101, 0x80020003 };
	static const char *const names[3] = { "cpu@0", "cpu@101", "cpu@20003" };
	struct fx f;
	unsigned n = 0;
	int sub;

	desc(&f, 3, 1);
	f.d.mpidr = mpidr;
	build(&f);
	fdt_for_each_subnode(sub, f.blob, node(&f, "/cpus")) {
		ck_assert_str_eq(fdt_get_name(f.blob, sub, NULL), names[n]);
		ck_assert_uint_eq(u32(&f, sub, "reg"), mpidr[n] & 0xffffff);
		n++;
	}
	ck_assert_uint_eq(n, 3);
	done(&f);
}
END_TEST

START_TEST(boot_timer_node_only_when_given)
{
	struct fx f;
	int t;

	desc(&f, 1, 0);
	build(&f);
	t = node(&f, "/boot-timer@9002000");
	str_is(&f, t, "compatible", "mote,boot-timer");
	reg_is(&f, t, 1, (uint64_t[]){ TIMER_BASE, 0x1000 });
	ck_assert(!fdt_getprop(f.blob, t, "interrupts", NULL));
	done(&f);

	desc(&f, 1, 0);
	f.d.boot_timer.size = 0;
	build(&f);
	ck_assert_int_lt(fdt_path_offset(f.blob, "/boot-timer@9002000"), 0);
	ck_assert_int_ge(fdt_node_offset_by_compatible(f.blob, -1, "mote,exit"), 0);
	ck_assert_int_lt(fdt_node_offset_by_compatible(f.blob, -1, "mote,boot-timer"), 0);
	done(&f);
}
END_TEST

START_TEST(uart_exit_and_chosen)
{
	struct fx f;
	const char *path;
	const void *p;
	int uart, ex, ch;

	desc(&f, 1, 0);
	build(&f);
	uart = node(&f, "/uart@9000000");
	str_is(&f, uart, "compatible", "ns16550a");
	reg_is(&f, uart, 1, (uint64_t[]){ UART_BASE, 0x1000 });
	spi_is(&f, uart, UART_INTID);
	ck_assert_uint_eq(u32(&f, uart, "clock-frequency"), 1843200);

	ex = node(&f, "/exit@9001000");
	str_is(&f, ex, "compatible", "mote,exit");
	reg_is(&f, ex, 1, (uint64_t[]){ EXIT_BASE, 0x1000 });

	ch = node(&f, "/chosen");
	str_is(&f, ch, "bootargs", "console=ttyS0 earlycon panic=-1");
	p = getprop(&f, ch, "linux,initrd-start", 8);
	ck_assert_uint_eq(cell2(p, 0), INITRD_A);
	p = getprop(&f, ch, "linux,initrd-end", 8);
	ck_assert_uint_eq(cell2(p, 0), INITRD_B);
	path = getprop(&f, ch, "stdout-path", -1);
	ck_assert_int_eq(fdt_path_offset(f.blob, path), uart);
	done(&f);
}
END_TEST

START_TEST(chosen_without_initrd_or_bootargs)
{
	struct fx f;
	int ch;

	desc(&f, 1, 0);
	f.d.bootargs = NULL;
	f.d.initrd_start = f.d.initrd_end = 0;
	build(&f);
	ch = node(&f, "/chosen");
	ck_assert_ptr_null(fdt_getprop(f.blob, ch, "bootargs", NULL));
	ck_assert_ptr_null(fdt_getprop(f.blob, ch, "linux,initrd-start", NULL));
	ck_assert_ptr_null(fdt_getprop(f.blob, ch, "linux,initrd-end", NULL));
	getprop(&f, ch, "stdout-path", -1);
	done(&f);
}
END_TEST

START_TEST(one_node_per_virtio_device)
{
	struct fx f;
	unsigned n = 0;
	int off;

	desc(&f, 2, 5);
	f.virtio[3].intid = 100;     /* not simply consecutive */
	build(&f);
	for (unsigned i = 0; i < 5; i++) {
		char path[64];
		int v;

		snprintf(path, sizeof(path), "/virtio@%llx",
			 (unsigned long long)(VIRTIO_BASE + i * VIRTIO_SIZE));
		v = node(&f, path);
		str_is(&f, v, "compatible", "virtio,mmio");
		reg_is(&f, v, 1, (uint64_t[]){ VIRTIO_BASE + i * VIRTIO_SIZE,
					       VIRTIO_SIZE });
		spi_is(&f, v, i == 3 ? 100 : VIRTIO_SPI0 + i);
		getprop(&f, v, "dma-coherent", 0);
		/* inherits the root's interrupt-parent */
		ck_assert_ptr_null(fdt_getprop(f.blob, v, "interrupt-parent", NULL));
	}
	for (off = fdt_node_offset_by_compatible(f.blob, -1, "virtio,mmio");
	     off >= 0;
	     off = fdt_node_offset_by_compatible(f.blob, off, "virtio,mmio"))
		n++;
	ck_assert_uint_eq(n, 5);
	done(&f);
}
END_TEST

START_TEST(gicv2_cpu_interface_and_ppi_mask)
{
	char buf[8192];
	struct fx f;
	const void *p;
	int gic;

	desc(&f, 4, 1);
	f.d.gic.version = ARM64_GIC_V2;
	f.d.gic.redist_or_cpu = (struct arm64_fdt_region){ 0x08010000, 0x10000 };
	build(&f);
	gic = node(&f, "/intc@8000000");
	str_is(&f, gic, "compatible", "arm,cortex-a15-gic");
	reg_is(&f, gic, 2, (uint64_t[]){ 0x08000000, 0x10000, 0x08010000, 0x10000 });
	p = getprop(&f, node(&f, "/timer"), "interrupts", 48);
	ck_assert_uint_eq(cell(p, 2), 0x0f04);   /* CPUs 0-3, level-high */
	done(&f);

	desc(&f, 9, 1);
	f.d.gic.version = ARM64_GIC_V2;
	f.d.gic.redist_or_cpu = (struct arm64_fdt_region){ 0x08010000, 0x10000 };
	ck_assert_int_eq(arm64_fdt_build(&f.d, buf, sizeof(buf), f.err,
					 sizeof(f.err)), -EINVAL);
	ck_assert_msg(strstr(f.err, "GICv2"), "%s", f.err);
}
END_TEST

/* Run dtc on the blob: exit 0 and nothing on stderr (no warnings). */
static void dtc_accepts(const struct fx *f)
{
	char in[] = "/tmp/mote-fdt-XXXXXX", cmd[256], out[4096] = "";
	FILE *e;
	size_t n;
	int fd, rc;

	ck_assert_msg(system("command -v dtc >/dev/null 2>&1") == 0,
		      "dtc not found: install Debian's device-tree-compiler "
		      "(tools/install-deps.sh)");
	fd = mkstemp(in);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, f->blob, f->size), f->size);
	close(fd);
	snprintf(cmd, sizeof(cmd), "dtc -I dtb -O dts -o /dev/null %s 2>&1", in);
	e = popen(cmd, "r");
	ck_assert_ptr_nonnull(e);
	n = fread(out, 1, sizeof(out) - 1, e);
	out[n] = 0;
	rc = pclose(e);
	unlink(in);
	ck_assert_msg(rc == 0 && n == 0, "dtc (status %d): %s", rc, out);
}

START_TEST(dtc_accepts_the_blob)
{
	struct fx f;

	desc(&f, 4, 8);
	build(&f);
	dtc_accepts(&f);
	done(&f);
	desc(&f, 2, 1);
	f.d.gic.version = ARM64_GIC_V2;
	f.d.gic.redist_or_cpu = (struct arm64_fdt_region){ 0x08010000, 0x10000 };
	f.d.bootargs = NULL;
	f.d.initrd_start = f.d.initrd_end = 0;
	build(&f);
	dtc_accepts(&f);
	done(&f);
}
END_TEST

/* The largest description fits its bound; every smaller buffer is refused
 * cleanly (ASan checks that nothing is written past it). */
START_TEST(size_bound_holds_and_small_buffers_fail)
{
	static char args[ARM64_FDT_BOOTARGS_MAX];
	struct fx f;

	memset(args, 'a', sizeof(args) - 1);
	args[sizeof(args) - 1] = 0;
	desc(&f, ARM64_FDT_MAX_CPUS, ARM64_FDT_MAX_VIRTIO);
	f.d.gic.redist_or_cpu = (struct arm64_fdt_region){
		0x40000000, ARM64_FDT_MAX_CPUS * ARM64_FDT_GICR_STRIDE };
	f.d.bootargs = args;
	build(&f);
	dtc_accepts(&f);
	done(&f);

	desc(&f, 3, 4);
	build(&f);
	for (int len = 0; len < f.size; len += 13) {
		void *b = malloc(len ? len : 1);

		f.err[0] = 0;
		ck_assert_int_eq(arm64_fdt_build(&f.d, b, len, f.err, sizeof(f.err)),
				 -ENOSPC);
		ck_assert_msg(strstr(f.err, "does not fit"), "%d: %s", len, f.err);
		free(b);
	}
	done(&f);
}
END_TEST

/* Each breaks one rule of the description. */
static void no_cpus(struct fx *f) { f->d.ncpus = 0; }
static void too_many_cpus(struct fx *f) { f->d.ncpus = ARM64_FDT_MAX_CPUS + 1; }
static void too_many_virtio(struct fx *f) { f->d.nvirtio = ARM64_FDT_MAX_VIRTIO + 1; }
static void virtio_null(struct fx *f) { f->d.virtio = NULL; }
static void virtio_on_uart(struct fx *f) { f->virtio[1].reg.base = UART_BASE + 0x800; }
static void virtio_in_ram(struct fx *f) { f->virtio[0].reg.base = RAM_BASE + RAM_SIZE - 1; }
static void exit_on_gic(struct fx *f) { f->d.exit_dev.base = 0x080a0000 + 0x1000; }
static void region_wraps(struct fx *f) { f->virtio[0].reg.base = UINT64_MAX - 0x10; }
static void empty_region(struct fx *f) { f->d.exit_dev.size = 0; }
static void ppi_as_spi(struct fx *f) { f->virtio[0].intid = 31; }
static void spi_too_big(struct fx *f) { f->d.uart.intid = 1020; }
static void shared_spi(struct fx *f) { f->virtio[1].intid = UART_INTID; }
static void timer_not_ppi(struct fx *f) { f->d.timer.virt = 32; }
static void gic_v4(struct fx *f) { f->d.gic.version = 4; }
static void redist_small(struct fx *f) { f->d.gic.redist_or_cpu.size = 0x20000; }
static void no_clock(struct fx *f) { f->d.uart_clock_hz = 0; }
static void initrd_backwards(struct fx *f) { f->d.initrd_end = INITRD_A - 1; }
static void initrd_past_ram(struct fx *f) { f->d.initrd_end = RAM_BASE + RAM_SIZE + 1; }
static void initrd_below_ram(struct fx *f) { f->d.initrd_start = RAM_BASE - 4096; }
static void timer_on_exit(struct fx *f) { f->d.boot_timer.base = EXIT_BASE + 0x800; }
static void mpidr_aff3(struct fx *f)
{
	static const uint64_t m[2] = { 0x80000000, 0x100000001ULL };

	f->d.mpidr = m;
}
static void mpidr_twice(struct fx *f)
{
	static const uint64_t m[2] = { 0x80000001, 0x1 };

	f->d.mpidr = m;
}
static void bootargs_too_long(struct fx *f)
{
	static char args[ARM64_FDT_BOOTARGS_MAX + 1];

	memset(args, 'x', ARM64_FDT_BOOTARGS_MAX);
	f->d.bootargs = args;
}

static const struct {
	void (*fn)(struct fx *);
	const char *msg;
} broken[] = {
	{ no_cpus, "vCPU count" }, { too_many_cpus, "vCPU count" },
	{ too_many_virtio, "virtio devices" }, { virtio_null, "virtio devices" },
	{ virtio_on_uart, "overlaps the UART" },
	{ virtio_in_ram, "overlaps the RAM" },
	{ exit_on_gic, "overlaps the GIC redistributors" },
	{ region_wraps, "wraps" }, { empty_region, "empty" },
	{ ppi_as_spi, "not an SPI" }, { spi_too_big, "not an SPI" },
	{ shared_spi, "two devices" }, { timer_not_ppi, "not a PPI" },
	{ gic_v4, "GIC version" }, { redist_small, "redistributor region" },
	{ no_clock, "clock-frequency" }, { initrd_backwards, "initrd" },
	{ initrd_past_ram, "initrd" }, { initrd_below_ram, "initrd" },
	{ bootargs_too_long, "command line" },
	{ timer_on_exit, "boot timer (0x9001800+0x1000) overlaps the exit device" },
	{ mpidr_aff3, "affinity beyond Aff2" }, { mpidr_twice, "share MPIDR" },
};

START_TEST(broken_descriptions_are_refused)
{
	struct fx f;
	char buf[65536];

	desc(&f, 2, 3);
	broken[_i].fn(&f);
	ck_assert_int_eq(arm64_fdt_build(&f.d, buf, sizeof(buf), f.err,
					 sizeof(f.err)), -EINVAL);
	ck_assert_msg(strstr(f.err, broken[_i].msg), "case %d: \"%s\" lacks \"%s\"",
		      _i, f.err, broken[_i].msg);
}
END_TEST

static Suite *fdt_suite(void)
{
	Suite *s = suite_create("arm64_fdt");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, root_memory_psci_and_gic);
	tcase_add_test(tc, timer_ppis);
	tcase_add_test(tc, cpus_count_and_mpidrs);
	tcase_add_test(tc, cpus_from_given_mpidrs);
	tcase_add_test(tc, boot_timer_node_only_when_given);
	tcase_add_test(tc, uart_exit_and_chosen);
	tcase_add_test(tc, chosen_without_initrd_or_bootargs);
	tcase_add_test(tc, one_node_per_virtio_device);
	tcase_add_test(tc, gicv2_cpu_interface_and_ppi_mask);
	tcase_add_test(tc, dtc_accepts_the_blob);
	tcase_add_test(tc, size_bound_holds_and_small_buffers_fail);
	tcase_add_loop_test(tc, broken_descriptions_are_refused, 0,
			    sizeof(broken) / sizeof(broken[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fdt_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
