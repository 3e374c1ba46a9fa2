/*
 * Unit tests for log_str(), the one escaping helper every error line uses
 * for the user's strings: control characters, DEL, C1 controls and bytes
 * that are not UTF-8 are escaped, valid UTF-8 is kept, long text is cut
 * with "..." and never overflows.
 */
#include "vmm/base/log.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

struct esc_case {
	const char *in, *want;
};

static const struct esc_case cases[] = {
	{ "plain/path.img", "plain/path.img" },
	{ "", "" },
	{ "a\nvm.json: ok", "a\\nvm.json: ok" },
	{ "\r\t\x1b[2J\x7f\x01", "\\r\\t\\x1b[2J\\x7f\\x01" },
	{ "back\\slash", "back\\\\slash" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80" },
	{ "\xc2\x9b" "31m", "\\xc2\\x9b" "31m" },        /* C1 CSI as UTF-8 */
	{ "\x9b" "31m", "\\x9b" "31m" },                 /* 8-bit CSI */
	{ "\xc0\xaf", "\\xc0\\xaf" },                    /* overlong '/' */
	{ "\xed\xa0\x80", "\\xed\\xa0\\x80" },           /* a surrogate */
	{ "\xe2\x82", "\\xe2\\x82" },                    /* cut short */
	{ "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },  /* above U+10FFFF */
};

START_TEST(escapes)
{
	ck_assert_str_eq(log_str(cases[_i].in).s, cases[_i].want);
}
END_TEST

START_TEST(null_shown)
{
	ck_assert_str_eq(log_str(NULL).s, "(null)");
}
END_TEST

/* Text that fits is whole; text that does not ends in "..." within the
 * buffer, and an escape is never cut in half. */
START_TEST(long_text_cut)
{
	char in[2 * LOG_STR_MAX];
	struct log_str r;

	memset(in, 'a', LOG_STR_MAX - 1);
	in[LOG_STR_MAX - 1] = '\0';
	ck_assert_str_eq(log_str(in).s, in);
	memset(in, '\n', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	r = log_str(in);
	ck_assert_uint_lt(strlen(r.s), LOG_STR_MAX);
	ck_assert_str_eq(r.s + strlen(r.s) - 5, "\\n...");
	ck_assert_uint_eq(strlen(r.s) % 2, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, escapes, 0, sizeof(cases) / sizeof(*cases));
	tcase_add_test(tc, null_shown);
	tcase_add_test(tc, long_text_cut);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
