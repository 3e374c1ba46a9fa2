/* The CMOS RTC: time registers in BCD and binary, status registers, RAM. */
#include "devices/x86/rtc.h"
#include "vmm/base/bus.h"

#include <check.h>
#include <stdlib.h>

/* 2026-11-23 18:04:59 UTC, a Monday. */
static time_t fixed_now(time_t *t)
{
	return 1795457099;
}

static uint8_t rd(struct rtc *r, uint8_t reg)
{
	uint8_t v = reg;
	rtc_bus_ops.write(r, 0, &v, 1);
	rtc_bus_ops.read(r, 1, &v, 1);
	return v;
}

static void wr(struct rtc *r, uint8_t reg, uint8_t val)
{
	rtc_bus_ops.write(r, 0, &reg, 1);
	rtc_bus_ops.write(r, 1, &val, 1);
}

START_TEST(time_in_bcd)
{
	struct rtc r;
	ck_assert_int_eq(rtc_init(&r), 0);
	r.now = fixed_now;
	ck_assert_uint_eq(rd(&r, 0x00), 0x59);
	ck_assert_uint_eq(rd(&r, 0x02), 0x04);
	ck_assert_uint_eq(rd(&r, 0x04), 0x18);
	ck_assert_uint_eq(rd(&r, 0x06), 0x02);   /* Monday: day 2 of the week */
	ck_assert_uint_eq(rd(&r, 0x07), 0x23);
	ck_assert_uint_eq(rd(&r, 0x08), 0x11);
	ck_assert_uint_eq(rd(&r, 0x09), 0x26);
	ck_assert_uint_eq(rd(&r, 0x32), 0x20);
	rtc_release(&r);
}
END_TEST

START_TEST(time_in_binary_and_status)
{
	struct rtc r;
	ck_assert_int_eq(rtc_init(&r), 0);
	r.now = fixed_now;
	ck_assert_uint_eq(rd(&r, 0x0a) & 0x80, 0);   /* never update-in-progress */
	ck_assert_uint_eq(rd(&r, 0x0d), 0x80);       /* valid time */
	wr(&r, 0x0b, 0x04 | 0x40);                   /* binary, try to enable PIE */
	ck_assert_uint_eq(rd(&r, 0x0b), 0x06);       /* binary + 24 h, no PIE */
	ck_assert_uint_eq(rd(&r, 0x00), 59);
	ck_assert_uint_eq(rd(&r, 0x09), 26);
	ck_assert_uint_eq(rd(&r, 0x0c), 0);
	rtc_release(&r);
}
END_TEST

START_TEST(ram_index_and_clock_writes)
{
	struct rtc r;
	ck_assert_int_eq(rtc_init(&r), 0);
	r.now = fixed_now;
	wr(&r, 0x40, 0xab);
	ck_assert_uint_eq(rd(&r, 0x40), 0xab);
	wr(&r, 0x00, 0x11);                          /* the host clock is not set */
	ck_assert_uint_eq(rd(&r, 0x00), 0x59);
	/* Bit 7 of the index is the NMI mask: 0xc0 selects 0x40. */
	ck_assert_uint_eq(rd(&r, 0xc0), 0xab);
	rtc_release(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rtc");
	TCase *t = tcase_create("rtc");
	tcase_add_test(t, time_in_bcd);
	tcase_add_test(t, time_in_binary_and_status);
	tcase_add_test(t, ram_index_and_clock_writes);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
