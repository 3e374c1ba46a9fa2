/* Unit tests for the small platform devices (i8042, exit port, boot timer,
 * ACPI sleep and reset registers) and stop_reason_name(), with a fake stop hook. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/x86/layout.h"
#include "devices/x86/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/exit_port.h"
#include "devices/x86/i8042.h"
#include "vmm/base/bus.h"
#include "vmm/base/stop.h"

struct stop_log {
	unsigned calls;
	enum stop_reason why;
	int status;
	const char *msg;
};

static void record_stop(void *opaque, enum stop_reason why, int status, const char *msg)
{
	struct stop_log *s = opaque;

	s->calls++;
	s->why = why;
	s->status = status;
	s->msg = msg;
}

static uint8_t rd(const struct bus_ops *ops, void *dev, unsigned off)
{
	uint8_t b = 0;

	ops->read(dev, off, &b, 1);
	return b;
}

static void wr(const struct bus_ops *ops, void *dev, unsigned off, uint8_t v)
{
	ops->write(dev, off, &v, 1);
}

/* ---- i8042 ---- */

struct kbc {
	struct i8042 dev;
	struct stop_log log;
};

static void kbc_init(struct kbc *k)
{
	memset(k, 0, sizeof(*k));
	struct stop_hook hook = { record_stop, &k->log };
	ck_assert_int_eq(i8042_init(&k->dev, &hook), 0);
}

static uint8_t kbc_status(struct kbc *k)
{
	return rd(&i8042_bus_ops, &k->dev, 4);
}

static void kbc_cmd(struct kbc *k, uint8_t cmd)
{
	/* Like Linux's i8042_wait_write: the input buffer is never full. */
	ck_assert_uint_eq(kbc_status(k) & 0x02, 0);
	wr(&i8042_bus_ops, &k->dev, 4, cmd);
}

static void kbc_data(struct kbc *k, uint8_t v)
{
	wr(&i8042_bus_ops, &k->dev, 0, v);
}

/* Like Linux's i8042_wait_read: the answer is there at once. */
static uint8_t kbc_answer(struct kbc *k)
{
	ck_assert_uint_eq(kbc_status(k) & 0x01, 0x01);
	return rd(&i8042_bus_ops, &k->dev, 0);
}

START_TEST(i8042_probe)
{
	struct kbc k;

	kbc_init(&k);
	ck_assert_uint_eq(kbc_status(&k) & 0x01, 0);
	ck_assert(kbc_status(&k) & 0x10);   /* keyboard not inhibited */
	kbc_cmd(&k, 0xaa);
	ck_assert_uint_eq(kbc_answer(&k), 0x55);
	ck_assert_uint_eq(kbc_status(&k) & 0x01, 0);
	ck_assert(kbc_status(&k) & 0x04);   /* system flag */
	kbc_cmd(&k, 0x20);
	uint8_t ctr = kbc_answer(&k);
	kbc_cmd(&k, 0x60);
	kbc_data(&k, ctr & ~0x01);
	kbc_cmd(&k, 0x20);
	ck_assert_uint_eq(kbc_answer(&k), ctr & ~0x01);
	kbc_cmd(&k, 0xab);
	ck_assert_uint_eq(kbc_answer(&k), 0x00);
	ck_assert_uint_eq(k.log.calls, 0);
	i8042_release(&k.dev);
}
END_TEST

START_TEST(i8042_no_mouse)
{
	struct kbc k;

	kbc_init(&k);
	/* The aux loop test answers without the aux-data bit: it fails at
	 * once instead of timing out. */
	kbc_cmd(&k, 0xd3);
	kbc_data(&k, 0x5a);
	ck_assert_uint_eq(kbc_status(&k) & 0x21, 0x01);
	ck_assert_uint_eq(kbc_answer(&k), 0x5a);
	kbc_cmd(&k, 0xa9);
	ck_assert_uint_eq(kbc_answer(&k), 0x01);
	i8042_release(&k.dev);
}
END_TEST

START_TEST(i8042_reset_pulse)
{
	struct kbc k;

	kbc_init(&k);
	kbc_cmd(&k, 0xff);                  /* pulse no line */
	ck_assert_uint_eq(k.log.calls, 0);
	kbc_cmd(&k, 0xfe);                  /* Linux's reboot=k */
	ck_assert_uint_eq(k.log.calls, 1);
	ck_assert_int_eq(k.log.why, STOP_REBOOT);
	ck_assert_str_eq(k.log.msg, "guest rebooted (keyboard controller reset)");
	ck_assert_int_eq(k.log.status, 0);
	i8042_release(&k.dev);
}
END_TEST

START_TEST(i8042_output_port_reset)
{
	struct kbc k;

	kbc_init(&k);
	kbc_cmd(&k, 0xd0);
	uint8_t outp = kbc_answer(&k);
	ck_assert(outp & 0x01);
	kbc_cmd(&k, 0xd1);
	kbc_data(&k, outp);
	ck_assert_uint_eq(k.log.calls, 0);
	kbc_cmd(&k, 0xd1);
	kbc_data(&k, outp & ~0x01);
	ck_assert_uint_eq(k.log.calls, 1);
	ck_assert_int_eq(k.log.why, STOP_REBOOT);
	ck_assert_str_eq(k.log.msg, "guest rebooted (keyboard controller reset)");
	i8042_release(&k.dev);
}
END_TEST

START_TEST(i8042_hostile_guest)
{
	struct kbc k;
	uint8_t wide[8];

	kbc_init(&k);
	/* Every command with every data byte: no crash, bounded queue, and
	 * a flush (Linux's i8042_flush) always empties it. */
	for (unsigned cmd = 0; cmd < 256; cmd++) {
		if (cmd >= 0xf0 || cmd == 0xd1)
			continue;               /* resets, tested above */
		wr(&i8042_bus_ops, &k.dev, 4, (uint8_t)cmd);
		kbc_data(&k, (uint8_t)(cmd * 7));
	}
	unsigned n = 0;
	while ((kbc_status(&k) & 0x01) && n < 100) {
		rd(&i8042_bus_ops, &k.dev, 0);
		n++;
	}
	ck_assert_uint_le(n, I8042_OUT_MAX);
	i8042_bus_ops.read(&k.dev, 2, wide, 2);
	i8042_bus_ops.write(&k.dev, 3, wide, 1);
	ck_assert_uint_eq(k.log.calls, 0);
	i8042_release(&k.dev);
}
END_TEST

START_TEST(i8042_port_61_toggles)
{
	struct kbc k;

	kbc_init(&k);
	wr(&i8042_bus_ops, &k.dev, 1, 0x03);
	uint8_t a = rd(&i8042_bus_ops, &k.dev, 1);
	uint8_t b = rd(&i8042_bus_ops, &k.dev, 1);
	ck_assert_uint_eq(a & 0x0f, 0x03);
	ck_assert_uint_eq((a ^ b) & 0x20, 0x20);
	i8042_release(&k.dev);
}
END_TEST

/* ---- exit port ---- */

START_TEST(exit_port_status)
{
	struct stop_log log = { 0 };
	struct stop_hook hook = { record_stop, &log };
	struct exit_port p;

	struct bus pio;
	uint8_t b = 0xee;

	exit_port_init(&p, &hook);
	bus_init(&pio, "pio", 0xff);
	ck_assert_int_eq(bus_register(&pio, PORT_EXIT, 1, &exit_port_bus_ops, &p, "exit"), 0);
	ck_assert(bus_read(&pio, PORT_EXIT, &b, 1));
	ck_assert_uint_eq(b, 0);
	ck_assert_uint_eq(log.calls, 0);
	bus_release(&pio);
	for (unsigned v = 0; v < 256; v++) {
		wr(&exit_port_bus_ops, &p, 0, (uint8_t)v);
		ck_assert_uint_eq(log.calls, v + 1);
		ck_assert_int_eq(log.why, STOP_GUEST_EXIT);
		ck_assert_int_eq(log.status, (int)v);
	}
	uint8_t wide[4] = { 7, 1, 1, 1 };
	exit_port_bus_ops.write(&p, 0, wide, 4);
	ck_assert_int_eq(log.status, 7);
}
END_TEST

/* ---- ACPI sleep/reset registers ---- */

#define SLP_EN    0x20
#define WAK_STS   0x80

struct pm {
	struct acpi_pm dev;
	struct stop_log log;
};

static void pm_init(struct pm *p)
{
	memset(p, 0, sizeof(*p));
	struct stop_hook hook = { record_stop, &p->log };
	acpi_pm_init(&p->dev, &hook);
}

START_TEST(acpi_s5_powers_off)
{
	struct pm p;

	pm_init(&p);
	wr(&acpi_pm_bus_ops, &p.dev, 1, WAK_STS);   /* Linux clears WAK_STS first */
	wr(&acpi_pm_bus_ops, &p.dev, 0, ACPI_S5_SLP_TYP << 2);
	ck_assert_uint_eq(p.log.calls, 0);          /* no SLP_EN, no sleep */
	wr(&acpi_pm_bus_ops, &p.dev, 0, (ACPI_S5_SLP_TYP << 2) | SLP_EN);
	ck_assert_uint_eq(p.log.calls, 1);
	ck_assert_int_eq(p.log.why, STOP_POWEROFF);
	ck_assert_ptr_null(p.log.msg);
	ck_assert_int_eq(p.log.status, 0);
}
END_TEST

START_TEST(acpi_other_sleep_wakes_at_once)
{
	struct pm p;

	pm_init(&p);
	ck_assert_uint_eq(rd(&acpi_pm_bus_ops, &p.dev, 1), 0);
	wr(&acpi_pm_bus_ops, &p.dev, 0, (3 << 2) | SLP_EN);
	ck_assert_uint_eq(p.log.calls, 0);
	ck_assert_uint_eq(p.dev.ignored_sleeps, 1);
	/* Linux's wait loop on WAK_STS ends. */
	ck_assert_uint_eq(rd(&acpi_pm_bus_ops, &p.dev, 1) & WAK_STS, WAK_STS);
	wr(&acpi_pm_bus_ops, &p.dev, 1, WAK_STS);
	ck_assert_uint_eq(rd(&acpi_pm_bus_ops, &p.dev, 1), 0);
	for (unsigned v = 0; v < 256; v++) {
		if ((v & SLP_EN) && ((v >> 2) & 7) == ACPI_S5_SLP_TYP)
			continue;
		wr(&acpi_pm_bus_ops, &p.dev, 0, (uint8_t)v);
	}
	ck_assert_uint_eq(p.log.calls, 0);
	ck_assert_uint_eq(rd(&acpi_pm_bus_ops, &p.dev, 0), 0);
}
END_TEST

struct mark_log {
	unsigned calls[BOOT_TIMER_NCODES];
};

static void record_mark(void *opaque, enum boot_timer_code code)
{
	struct mark_log *l = opaque;

	l->calls[code]++;
}

/* Each known code is timed once, at its first write; anything else is
 * counted and ignored; reads give 0. Through the port bus, as the guest
 * reaches it. */
START_TEST(boot_timer_marks_once)
{
	struct mark_log log = { { 0 } };
	struct boot_timer t;
	struct bus pio;
	uint8_t v;

	boot_timer_init(&t, &(struct boot_timer_host){ record_mark, &log });
	bus_init(&pio, "pio", 0xff);
	ck_assert_int_eq(bus_register(&pio, PORT_BOOT_TIMER, 1, &boot_timer_bus_ops, &t,
				      "boot-timer"), 0);
	for (unsigned i = 0; i < 3; i++) {
		v = BOOT_TIMER_READY;
		ck_assert(bus_write(&pio, PORT_BOOT_TIMER, &v, 1));
	}
	ck_assert_uint_eq(log.calls[BOOT_TIMER_READY], 1);
	ck_assert_uint_eq(log.calls[BOOT_TIMER_JOB_START], 0);
	v = BOOT_TIMER_JOB_START;
	ck_assert(bus_write(&pio, PORT_BOOT_TIMER, &v, 1));
	ck_assert_uint_eq(log.calls[BOOT_TIMER_JOB_START], 1);
	for (unsigned code = 0; code < 256; code++) {
		if (code == BOOT_TIMER_READY || code == BOOT_TIMER_JOB_START)
			continue;
		v = (uint8_t)code;
		ck_assert(bus_write(&pio, PORT_BOOT_TIMER, &v, 1));
	}
	ck_assert_uint_eq(t.ignored, 254);
	ck_assert_uint_eq(log.calls[0], 0);
	v = 0xff;
	ck_assert(bus_read(&pio, PORT_BOOT_TIMER, &v, 1));
	ck_assert_uint_eq(v, 0);
	bus_release(&pio);
}
END_TEST

START_TEST(acpi_reset_register)
{
	struct pm p;

	pm_init(&p);
	wr(&acpi_pm_bus_ops, &p.dev, 2, ACPI_RESET_VALUE + 1);
	ck_assert_uint_eq(p.log.calls, 0);
	ck_assert_uint_eq(rd(&acpi_pm_bus_ops, &p.dev, 2), 0);
	wr(&acpi_pm_bus_ops, &p.dev, 2, ACPI_RESET_VALUE);
	ck_assert_uint_eq(p.log.calls, 1);
	ck_assert_int_eq(p.log.why, STOP_REBOOT);
	ck_assert_str_eq(p.log.msg, "guest rebooted (ACPI reset register)");
	ck_assert_int_eq(p.log.status, 0);
}
END_TEST

START_TEST(acpi_pm_on_a_bus)
{
	struct pm p;
	struct bus pio;
	uint8_t v = ACPI_RESET_VALUE;

	pm_init(&p);
	bus_init(&pio, "pio", 0xff);
	ck_assert_int_eq(bus_register(&pio, PORT_ACPI_SLEEP_CTL, ACPI_PM_NR_PORTS,
				      &acpi_pm_bus_ops, &p.dev, "acpi-pm"), 0);
	ck_assert(bus_write(&pio, PORT_ACPI_RESET, &v, 1));
	ck_assert_int_eq(p.log.why, STOP_REBOOT);
	ck_assert_str_eq(p.log.msg, "guest rebooted (ACPI reset register)");
	bus_release(&pio);
}
END_TEST

/* ---- stop reasons ---- */

START_TEST(stop_names)
{
	ck_assert_str_eq(stop_reason_name(STOP_NONE), "none");
	ck_assert_str_eq(stop_reason_name(STOP_GUEST_EXIT), "guest-exit");
	ck_assert_str_eq(stop_reason_name(STOP_POWEROFF), "poweroff");
	ck_assert_str_eq(stop_reason_name(STOP_REBOOT), "reboot");
	ck_assert_str_eq(stop_reason_name(STOP_TIMEOUT), "timeout");
	ck_assert_str_eq(stop_reason_name(STOP_SIGNAL), "signal");
	ck_assert_str_eq(stop_reason_name(STOP_ERROR), "error");
	ck_assert_str_eq(stop_reason_name((enum stop_reason)99), "unknown");
	ck_assert_str_eq(stop_reason_name((enum stop_reason)-1), "unknown");
}
END_TEST

static Suite *platform_suite(void)
{
	Suite *s = suite_create("platform");
	TCase *kbc = tcase_create("i8042");
	TCase *ports = tcase_create("ports");

	tcase_add_test(kbc, i8042_probe);
	tcase_add_test(kbc, i8042_no_mouse);
	tcase_add_test(kbc, i8042_reset_pulse);
	tcase_add_test(kbc, i8042_output_port_reset);
	tcase_add_test(kbc, i8042_hostile_guest);
	tcase_add_test(kbc, i8042_port_61_toggles);
	tcase_add_test(ports, exit_port_status);
	tcase_add_test(ports, acpi_s5_powers_off);
	tcase_add_test(ports, acpi_other_sleep_wakes_at_once);
	tcase_add_test(ports, acpi_reset_register);
	tcase_add_test(ports, boot_timer_marks_once);
	tcase_add_test(ports, acpi_pm_on_a_bus);
	tcase_add_test(ports, stop_names);
	suite_add_tcase(s, kbc);
	suite_add_tcase(s, ports);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(platform_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
