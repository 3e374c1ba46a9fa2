/*
 * arm64's placement hooks (vmm/core/arch.h) and the machine they make:
 * RAM in one region at 1 GiB, the console, exit device and boot timer on
 * the MMIO bus at the addresses the guest's device tree gives (and the
 * guest's mote-exit looks for), virtio windows and their interrupts. The
 * numbers are QEMU virt's, written out here, not taken from layout.h, so
 * a change to the map fails the test. Also the arm64 default command
 * line. Built only for arm64 (make ARCH=arm64, make arm64-unit-check).
 */
#include "boot/arm64/fdt.h"
#include "devices/exit_port.h"
#include "vmm/base/bus.h"
#include "vmm/config/config.h"
#include "vmm/core/arch.h"
#include "vmm/core/arm64/arm64.h"

#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

START_TEST(ram_is_one_region_at_1g)
{
	struct arch_ram_region r[ARCH_RAM_REGIONS_MAX];

	ck_assert_uint_eq(arch_ram_layout(256 * MIB, r), 1);
	ck_assert_uint_eq(r[0].gpa, 0x40000000);
	ck_assert_uint_eq(r[0].size, 256 * MIB);
	ck_assert_uint_eq(arch_ram_layout(8 * GIB, r), 1);
	ck_assert_uint_eq(r[0].size, 8 * GIB);
}
END_TEST

START_TEST(platform_devices_on_mmio)
{
	const struct arch_platform_map *m = arch_platform_map();

	ck_assert_int_eq(m->console.bus, ARCH_BUS_MMIO);
	ck_assert_uint_eq(m->console.base, 0x09000000);
	ck_assert_uint_eq(m->console.irq, 1);          /* GSI 1: SPI 1, INTID 33 */
	ck_assert_int_eq(m->exit.bus, ARCH_BUS_MMIO);
	ck_assert_uint_eq(m->exit.base, 0x09010000);
	ck_assert_int_eq(m->boot_timer.bus, ARCH_BUS_MMIO);
	ck_assert_uint_eq(m->boot_timer.base, 0x09020000);
}
END_TEST

/* 32 windows 4 KiB apart from 0x0a000000, GSIs 16.. (INTIDs 48..79, as
 * QEMU virt's virtio-mmio), none the UART's, all below the 128 interrupts
 * the GIC is given and below RAM. */
START_TEST(virtio_windows_and_gsis)
{
	uint64_t base;
	uint32_t gsi;
	unsigned n;

	for (n = 0; arch_virtio_place(n, &base, &gsi) == 0; n++) {
		ck_assert_uint_eq(base, 0x0a000000 + n * 0x1000ULL);
		ck_assert_uint_eq(gsi, 16 + n);
		ck_assert_uint_ne(gsi, arch_platform_map()->console.irq);
		ck_assert_uint_lt(gsi + 32, 128);
		ck_assert_uint_le(base + 0x1000, 0x40000000);
	}
	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(arch_virtio_place(n, &base, &gsi), -ENOSPC);
	ck_assert_int_eq(arch_virtio_place(1000, &base, &gsi), -ENOSPC);
	/* the config allows fewer devices than there are windows */
	ck_assert_uint_le(CONFIG_MAX_DEVICES, n);
}
END_TEST

/* The same as x86's in effect (a console, panic reboots, which ends the
 * VM), with nothing x86's (reboot=k, pci=off, acpi=). */
START_TEST(default_cmdline)
{
	struct vm_config c;

	config_init(&c);
	char *line = config_kernel_cmdline(&c);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, "console=ttyS0 earlycon panic=-1");
	ck_assert_ptr_null(strstr(line, "reboot="));
	ck_assert_ptr_null(strstr(line, "pci="));
	ck_assert_ptr_null(strstr(line, "acpi"));
	free(line);
	config_release(&c);
}
END_TEST

/* The exit device on arm64's MMIO bus, one byte at the map's address as
 * the device manager registers it: only a one-byte write at offset 0 ends
 * the VM; wider or other writes in its window do nothing, reads give 0. */
struct stops {
	int n, status;
	enum stop_reason why;
};

static void on_stop(void *opaque, enum stop_reason why, int status, const char *msg)
{
	struct stops *s = opaque;

	s->n++;
	s->why = why;
	s->status = status;
}

START_TEST(exit_device_on_mmio)
{
	const struct arch_platform_map *m = arch_platform_map();
	struct stops st = { 0 };
	struct stop_hook hook = { on_stop, &st };
	struct exit_port ep;
	struct bus mmio;
	uint8_t v[8] = { 7, 7, 7, 7, 7, 7, 7, 7 };

	bus_init(&mmio, "mmio", 0);
	exit_port_init(&ep, &hook);
	ck_assert_int_eq(bus_register(&mmio, m->exit.base, 1, &exit_port_bus_ops, &ep, "exit"), 0);
	bus_write(&mmio, m->exit.base, v, 4);
	bus_write(&mmio, m->exit.base, v, 8);
	bus_write(&mmio, m->exit.base + 1, v, 1);
	bus_write(&mmio, m->exit.base + 0xfff, v, 1);
	ck_assert_int_eq(st.n, 0);
	memset(v, 0xff, sizeof(v));
	bus_read(&mmio, m->exit.base, v, 1);
	ck_assert_uint_eq(v[0], 0);
	bus_read(&mmio, m->exit.base, v, 8);
	ck_assert_uint_eq(v[7], 0);
	v[0] = 42;
	bus_write(&mmio, m->exit.base, v, 1);
	ck_assert_int_eq(st.n, 1);
	ck_assert_int_eq(st.why, STOP_GUEST_EXIT);
	ck_assert_int_eq(st.status, 42);
	bus_release(&mmio);
}
END_TEST

/* ---- the device tree of the machine, from a devices_describe list ---- */

struct tree {
	struct arm64_fdt_mmio virtio[4];
	struct arm64_fdt_desc d;
	char blob[16384] __attribute__((aligned(8)));   /* fdt cells read in place */
	char err[256];
};

/* The console where the map says, then n virtio devices where
 * arch_virtio_place puts them, as the device manager lists them. */
static void machine(struct tree *t, unsigned ncpus, int gic, unsigned n)
{
	const struct arch_platform_map *m = arch_platform_map();
	struct arch_dev devs[5] = { { ARCH_DEV_UART, m->console.base, 8, m->console.irq } };

	for (unsigned i = 0; i < n; i++) {
		uint64_t base;
		uint32_t gsi;
		ck_assert_int_eq(arch_virtio_place(i, &base, &gsi), 0);
		devs[1 + i] = (struct arch_dev){ ARCH_DEV_VIRTIO_MMIO, base, 0x200, gsi };
	}
	arm64_machine_desc(devs, 1 + n, ncpus, gic, &t->d, t->virtio);
	t->d.ram = (struct arm64_fdt_region){ 0x40000000, 256 * MIB };
	ck_assert_msg(arm64_fdt_build(&t->d, t->blob, sizeof(t->blob), t->err, sizeof(t->err)) > 0,
		      "%s", t->err);
}

static const fdt32_t *prop(const struct tree *t, const char *path, const char *name, int len)
{
	int off = fdt_path_offset(t->blob, path), got;
	const fdt32_t *p;

	ck_assert_msg(off >= 0, "%s missing", path);
	p = fdt_getprop(t->blob, off, name, &got);
	ck_assert_msg(p && got == len, "%s %s: %d bytes", path, name, p ? got : -1);
	return p;
}

/* <0 spi 1>: SPI numbers are the GSIs irqfd raises (KVM: INTID gsi + 32). */
static void spi_is(const struct tree *t, const char *path, uint32_t spi)
{
	const fdt32_t *p = prop(t, path, "interrupts", 12);

	ck_assert_uint_eq(fdt32_to_cpu(p[0]), 0);
	ck_assert_uint_eq(fdt32_to_cpu(p[1]), spi);
	ck_assert_uint_eq(fdt32_to_cpu(p[2]), 1);
}

/* Entry i of n in reg = <base size ...>, two cells each. */
static void reg_is(const struct tree *t, const char *path, unsigned n, unsigned i, uint64_t base,
		   uint64_t size)
{
	const fdt32_t *p = prop(t, path, "reg", (int)(16 * n));

	ck_assert_uint_eq((uint64_t)fdt32_to_cpu(p[4 * i]) << 32 | fdt32_to_cpu(p[4 * i + 1]), base);
	ck_assert_uint_eq((uint64_t)fdt32_to_cpu(p[4 * i + 2]) << 32 | fdt32_to_cpu(p[4 * i + 3]),
			  size);
}

START_TEST(tree_of_the_machine_gicv3)
{
	struct tree t;

	machine(&t, 2, 3, 2);
	spi_is(&t, "/uart@9000000", 1);
	reg_is(&t, "/uart@9000000", 1, 0, 0x09000000, 8);
	spi_is(&t, "/virtio@a000000", 16);
	spi_is(&t, "/virtio@a001000", 17);
	reg_is(&t, "/virtio@a001000", 1, 0, 0x0a001000, 0x200);
	reg_is(&t, "/exit@9010000", 1, 0, 0x09010000, 0x1000);
	reg_is(&t, "/boot-timer@9020000", 1, 0, 0x09020000, 0x1000);
	reg_is(&t, "/intc@8000000", 2, 1, 0x080a0000, 2 * 0x20000);
	reg_is(&t, "/intc@8000000", 2, 0, 0x08000000, 0x10000);
	ck_assert_str_eq((const char *)prop(&t, "/intc@8000000", "compatible", 11), "arm,gic-v3");
	ck_assert_str_eq((const char *)prop(&t, "/chosen", "stdout-path", 14), "/uart@9000000");
}
END_TEST

START_TEST(tree_of_the_machine_gicv2)
{
	struct tree t;

	machine(&t, 8, 2, 0);
	reg_is(&t, "/intc@8000000", 2, 1, 0x08010000, 0x2000);
	ck_assert_str_eq((const char *)prop(&t, "/intc@8000000", "compatible", 19),
			 "arm,cortex-a15-gic");
	ck_assert_int_lt(fdt_path_offset(t.blob, "/virtio@a000000"), 0);
}
END_TEST

static Suite *arch_suite(void)
{
	Suite *s = suite_create("arch_arm64");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, ram_is_one_region_at_1g);
	tcase_add_test(tc, platform_devices_on_mmio);
	tcase_add_test(tc, virtio_windows_and_gsis);
	tcase_add_test(tc, default_cmdline);
	tcase_add_test(tc, exit_device_on_mmio);
	tcase_add_test(tc, tree_of_the_machine_gicv3);
	tcase_add_test(tc, tree_of_the_machine_gicv2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(arch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
