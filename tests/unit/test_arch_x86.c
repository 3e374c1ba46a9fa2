/*
 * x86's placement hooks (vmm/core/arch.h): the guest RAM regions around
 * the 32-bit hole, the fixed ports of the devices every VM has, and each
 * virtio device's window and GSI, as the machine looked before the
 * architecture split (the DSDT and the guests' command lines rely on it).
 */
#include "boot/x86/layout.h"
#include "vmm/core/arch.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>

#define MIB (1ULL << 20)

START_TEST(ram_below_the_hole_is_one_region)
{
	struct arch_ram_region r[ARCH_RAM_REGIONS_MAX];

	ck_assert_uint_eq(arch_ram_layout(512 * MIB, r), 1);
	ck_assert_uint_eq(r[0].gpa, 0);
	ck_assert_uint_eq(r[0].size, 512 * MIB);
	ck_assert_uint_eq(arch_ram_layout(LAYOUT_MMIO_HOLE, r), 1);
	ck_assert_uint_eq(r[0].size, LAYOUT_MMIO_HOLE);
}
END_TEST

START_TEST(ram_past_the_hole_continues_at_4g)
{
	struct arch_ram_region r[ARCH_RAM_REGIONS_MAX];

	ck_assert_uint_eq(arch_ram_layout(4096 * MIB, r), 2);
	ck_assert_uint_eq(r[0].gpa, 0);
	ck_assert_uint_eq(r[0].size, LAYOUT_MMIO_HOLE);
	ck_assert_uint_eq(r[1].gpa, LAYOUT_4G);
	ck_assert_uint_eq(r[1].size, 4096 * MIB - LAYOUT_MMIO_HOLE);
}
END_TEST

START_TEST(platform_devices_at_their_ports)
{
	const struct arch_platform_map *m = arch_platform_map();

	ck_assert_int_eq(m->console.bus, ARCH_BUS_PIO);
	ck_assert_uint_eq(m->console.base, PORT_COM1);
	ck_assert_uint_eq(m->console.irq, IRQ_COM1);
	ck_assert_int_eq(m->exit.bus, ARCH_BUS_PIO);
	ck_assert_uint_eq(m->exit.base, PORT_EXIT);
	ck_assert_int_eq(m->boot_timer.bus, ARCH_BUS_PIO);
	ck_assert_uint_eq(m->boot_timer.base, PORT_BOOT_TIMER);
}
END_TEST

/* GSIs 5, 6, 7, then 9..: never COM1's 4 or the RTC's 8, all on the
 * IOAPIC, each used once; windows 4 KiB apart from LAYOUT_VIRTIO_MMIO. */
START_TEST(virtio_windows_and_gsis)
{
	static const uint32_t want[] = { 5, 6, 7, 9, 10, 11, 12, 13,
					 14, 15, 16, 17, 18, 19, 20, 21 };
	uint64_t base;
	uint32_t irq;

	for (unsigned n = 0; n < sizeof(want) / sizeof(want[0]); n++) {
		ck_assert_int_eq(arch_virtio_place(n, &base, &irq), 0);
		ck_assert_uint_eq(base, LAYOUT_VIRTIO_MMIO + n * LAYOUT_VIRTIO_STRIDE);
		ck_assert_uint_eq(irq, want[n]);
		ck_assert_uint_le(irq, IRQ_MAX);
	}
	ck_assert_int_eq(arch_virtio_place(16, &base, &irq), -ENOSPC);
	ck_assert_int_eq(arch_virtio_place(~0u, &base, &irq), -ENOSPC);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arch_x86");
	TCase *t = tcase_create("placement");
	tcase_add_test(t, ram_below_the_hole_is_one_region);
	tcase_add_test(t, ram_past_the_hole_continues_at_4g);
	tcase_add_test(t, platform_devices_at_their_ports);
	tcase_add_test(t, virtio_windows_and_gsis);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
