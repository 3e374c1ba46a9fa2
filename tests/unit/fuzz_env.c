/*
 * The hostile-guest tests' knobs (included by tests/unit/test_hostile_*.c):
 * MOTE_FUZZ_SEEDS runs per test, MOTE_FUZZ_SEED the first seed, and
 * MOTE_FUZZ_OPS the steps per run. Each is read strictly: a value that is
 * not a whole number in range ends the test binary with one line and a
 * failure, so that a typo cannot register zero cases, or runs of zero
 * steps, that then "pass". Unset or empty means the default.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs per test and steps per run. Globals because Check's test bodies
 * take no argument; main() sets them once, before any test runs. */
static unsigned nr_seeds = 50, first_seed = 1, nr_ops = 20000;

#define FUZZ_MAX_SEEDS 1000000u       /* far beyond any useful run */
#define FUZZ_MAX_OPS   100000000u

/* NAME's value, or dflt; exits (a failure) when it is not in [lo, hi]. */
static unsigned fuzz_env_uint(const char *name, unsigned dflt, unsigned lo, unsigned hi)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return dflt;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || *s == '+' || v < lo || v > hi) {
		fprintf(stderr, "%s='%s': want a whole number from %u to %u\n", name, s, lo, hi);
		exit(EXIT_FAILURE);
	}
	return (unsigned)v;
}

static void fuzz_env_load(void)
{
	nr_seeds = fuzz_env_uint("MOTE_FUZZ_SEEDS", nr_seeds, 1, FUZZ_MAX_SEEDS);
	first_seed = fuzz_env_uint("MOTE_FUZZ_SEED", first_seed, 0, UINT_MAX);
	nr_ops = fuzz_env_uint("MOTE_FUZZ_OPS", nr_ops, 1, FUZZ_MAX_OPS);
}

/* Each bad value ends the process with a failure (a Check exit test runs
 * in its own child, so setenv stays there; its expected complaint is kept
 * out of the test log). */
static void fuzz_env_bad(const char *name, const char *value)
{
	if (!freopen("/dev/null", "w", stderr))
		exit(EXIT_SUCCESS);   /* cannot quiet it: let the test fail */
	setenv(name, value, 1);
	fuzz_env_load();
	exit(EXIT_SUCCESS);        /* accepted: the exit test fails */
}

START_TEST(fuzz_env_seeds_zero)    { fuzz_env_bad("MOTE_FUZZ_SEEDS", "0"); }
END_TEST
START_TEST(fuzz_env_seeds_garbage) { fuzz_env_bad("MOTE_FUZZ_SEEDS", "lots"); }
END_TEST
START_TEST(fuzz_env_seeds_trailing) { fuzz_env_bad("MOTE_FUZZ_SEEDS", "12x"); }
END_TEST
START_TEST(fuzz_env_seeds_negative) { fuzz_env_bad("MOTE_FUZZ_SEEDS", "-1"); }
END_TEST
START_TEST(fuzz_env_seeds_huge)    { fuzz_env_bad("MOTE_FUZZ_SEEDS", "99999999999"); }
END_TEST
START_TEST(fuzz_env_ops_zero)      { fuzz_env_bad("MOTE_FUZZ_OPS", "0"); }
END_TEST
START_TEST(fuzz_env_seed_garbage)  { fuzz_env_bad("MOTE_FUZZ_SEED", "0x10"); }
END_TEST

/* Good values are taken as given. */
START_TEST(fuzz_env_good)
{
	setenv("MOTE_FUZZ_SEEDS", "3", 1);
	setenv("MOTE_FUZZ_SEED", "0", 1);
	setenv("MOTE_FUZZ_OPS", "7", 1);
	fuzz_env_load();
	ck_assert_uint_eq(nr_seeds, 3);
	ck_assert_uint_eq(first_seed, 0);
	ck_assert_uint_eq(nr_ops, 7);
}
END_TEST

static TCase *fuzz_env_tcase(void)
{
	TCase *tc = tcase_create("env");

	tcase_add_exit_test(tc, fuzz_env_seeds_zero, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_seeds_garbage, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_seeds_trailing, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_seeds_negative, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_seeds_huge, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_ops_zero, EXIT_FAILURE);
	tcase_add_exit_test(tc, fuzz_env_seed_garbage, EXIT_FAILURE);
	tcase_add_test(tc, fuzz_env_good);
	return tc;
}
