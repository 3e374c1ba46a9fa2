/*
 * Unit tests for flavors: the built-in table, loading good and bad files
 * (exact messages), replacement, and that a bad file changes nothing.
 * Files are written as "flavors.json" in a scratch directory that is the
 * working directory, so messages start with that name.
 */
#include "vmm/sched/flavor.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_NAME "flavors.json"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Defaults, then text as FILE_NAME; the load's result, message in err. */
static int load_text(struct flavor_set *s, const char *text, char *err, size_t n)
{
	ck_assert_int_eq(flavor_defaults(s), 0);
	write_text(FILE_NAME, text);
	err[0] = '\0';
	return flavor_load(s, FILE_NAME, err, n);
}

static void assert_flavor(const struct flavor_set *s, const char *name, unsigned vcpus,
			  uint64_t mem_mib, bool dedicated)
{
	const struct flavor *f = flavor_find(s, name);

	ck_assert_msg(f != NULL, "flavor %s missing", name);
	ck_assert_str_eq(f->name, name);
	ck_assert_uint_eq(f->vcpus, vcpus);
	ck_assert_uint_eq(f->mem_mib, mem_mib);
	ck_assert_int_eq(f->dedicated, dedicated);
}

START_TEST(defaults_are_the_documented_ones)
{
	struct flavor_set s;

	ck_assert_int_eq(flavor_defaults(&s), 0);
	ck_assert_uint_eq(s.n, 5);
	assert_flavor(&s, "tiny", 1, 128, false);
	assert_flavor(&s, "small", 1, 512, false);
	assert_flavor(&s, "medium", 2, 2048, false);
	assert_flavor(&s, "large", 4, 8192, false);
	assert_flavor(&s, "dedicated-2", 2, 2048, true);
	ck_assert_ptr_null(flavor_find(&s, "huge"));
	ck_assert_ptr_null(flavor_find(&s, ""));
	ck_assert_ptr_null(flavor_find(&s, NULL));
	flavor_release(&s);
	ck_assert_ptr_null(s.v);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_null(flavor_find(&s, "tiny"));
}
END_TEST

START_TEST(good_file_adds_and_replaces)
{
	struct flavor_set s;
	char err[256];

	ck_assert_int_eq(load_text(&s,
		"{\"flavors\": [\n"
		"  {\"name\": \"ci\", \"vcpus\": 2, \"mem_mib\": 1024, \"dedicated\": false},\n"
		"  {\"name\": \"small\", \"vcpus\": 2, \"mem_mib\": 768},\n"
		"  {\"dedicated\": true, \"mem_mib\": 16, \"vcpus\": 255, \"name\": \"a.b_c-9\"},\n"
		"  {\"name\": \"x234567890123456789012345678901\", \"vcpus\": 1, \"mem_mib\": 1048576}\n"
		"]}\n", err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(s.n, 8);
	assert_flavor(&s, "ci", 2, 1024, false);
	assert_flavor(&s, "small", 2, 768, false);
	assert_flavor(&s, "a.b_c-9", 255, 16, true);
	assert_flavor(&s, "x234567890123456789012345678901", 1, 1048576, false);
	assert_flavor(&s, "tiny", 1, 128, false);
	/* Replaced in place: the order of the set stays. */
	ck_assert_str_eq(s.v[1].name, "small");
	flavor_release(&s);
}
END_TEST

START_TEST(empty_list_changes_nothing)
{
	struct flavor_set s;
	char err[256];

	ck_assert_int_eq(load_text(&s, "{\"flavors\": []}", err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 5);
	flavor_release(&s);
}
END_TEST

START_TEST(load_into_empty_set)
{
	struct flavor_set s = { NULL, 0 };
	char err[256];

	write_text(FILE_NAME, "{\"flavors\": [{\"name\": \"one\", \"vcpus\": 1, \"mem_mib\": 64}]}");
	ck_assert_int_eq(flavor_load(&s, FILE_NAME, err, sizeof(err)), 0);
	ck_assert_uint_eq(s.n, 1);
	assert_flavor(&s, "one", 1, 64, false);
	flavor_release(&s);
}
END_TEST

static const struct {
	const char *text;
	const char *err;
} bad[] = {
	{ "[]", "flavors.json: expected an object, got an array" },
	{ "{}", "flavors.json: flavors: missing" },
	{ "{\"flavors\": {}}", "flavors.json: flavors: expected an array, got an object" },
	{ "{\"flavors\": [], \"extra\": 1}", "flavors.json: extra: unknown key" },
	/* The file's strings are escaped: the message stays one line. */
	{ "{\"flavors\": [], \"x\\nflavors.json: ok\\u001b[2J\": 1}",
	  "flavors.json: x\\nflavors.json: ok\\x1b[2J: unknown key" },
	{ "{\"flavors\": [{\"name\": \"a\\rb\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: \"a\\rb\" is not 1 to 31 characters of a-z, 0-9, "
	  "'.', '_', '-'" },
	{ "{\"flavors\": [1]}", "flavors.json: flavors[0]: expected an object, got an integer" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 64},"
	  " {\"name\": \"b\", \"vcpus\": 1, \"mem_mib\": 64},"
	  " {\"name\": \"c\", \"turbo\": true}]}",
	  "flavors.json: flavors[2].turbo: unknown key" },
	{ "{\"flavors\": [{\"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: missing" },
	{ "{\"flavors\": [{\"name\": \"a\", \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].vcpus: missing" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1}]}",
	  "flavors.json: flavors[0].mem_mib: missing" },
	{ "{\"flavors\": [{\"name\": \"Big\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: \"Big\" is not 1 to 31 characters of a-z, 0-9, '.', '_', '-'" },
	{ "{\"flavors\": [{\"name\": \"\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: \"\" is not 1 to 31 characters of a-z, 0-9, '.', '_', '-'" },
	{ "{\"flavors\": [{\"name\": \"x2345678901234567890123456789012\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: \"x2345678901234567890123456789012\" is not 1 to 31 "
	  "characters of a-z, 0-9, '.', '_', '-'" },
	{ "{\"flavors\": [{\"name\": \"a/b\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: \"a/b\" is not 1 to 31 characters of a-z, 0-9, '.', '_', '-'" },
	{ "{\"flavors\": [{\"name\": \"a\\u0000b\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: line 1 column 32: \\\\u0000 is not allowed without JSON_ALLOW_NUL near "
	  "'\"a\\\\u0000b\"'" },
	{ "{\"flavors\": [{\"name\": 7, \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].name: expected a string, got an integer" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 0, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].vcpus: 0 is out of range 1..255" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 256, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].vcpus: 256 is out of range 1..255" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1.5, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].vcpus: expected an integer, got a real number" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": \"2\", \"mem_mib\": 64}]}",
	  "flavors.json: flavors[0].vcpus: expected an integer, got a string" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 15}]}",
	  "flavors.json: flavors[0].mem_mib: 15 is out of range 16..1048576" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 1048577}]}",
	  "flavors.json: flavors[0].mem_mib: 1048577 is out of range 16..1048576" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": -1}]}",
	  "flavors.json: flavors[0].mem_mib: -1 is out of range 16..1048576" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 64, \"dedicated\": 1}]}",
	  "flavors.json: flavors[0].dedicated: expected a boolean, got an integer" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 64, \"dedicated\": null}]}",
	  "flavors.json: flavors[0].dedicated: expected a boolean, got null" },
	{ "{\"flavors\": [{\"name\": \"a\", \"vcpus\": 1, \"mem_mib\": 64},"
	  " {\"name\": \"a\", \"vcpus\": 2, \"mem_mib\": 64}]}",
	  "flavors.json: flavors[1].name: \"a\" is already flavors[0]" },
	{ "{\"flavors\": [{\"name\": \"a\", \"name\": \"b\", \"vcpus\": 1, \"mem_mib\": 64}]}",
	  "flavors.json: line 1 column 33: duplicate object key near '\"name\"'" },
	{ "{\"flavors\": [\n  {\"name\": \"a\",}\n]}",
	  "flavors.json: line 2 column 16: string or '}' expected near '}'" },
	{ "", "flavors.json: line 1 column 0: '[' or '{' expected near end of file" },
};

START_TEST(bad_file_rejected_and_set_unchanged)
{
	struct flavor_set s;
	char err[256];

	/* The first flavor of some files is good: it must not land. */
	ck_assert_int_eq(load_text(&s, bad[_i].text, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, bad[_i].err);
	ck_assert_uint_eq(s.n, 5);
	ck_assert_ptr_null(flavor_find(&s, "a"));
	assert_flavor(&s, "small", 1, 512, false);
	flavor_release(&s);
}
END_TEST

START_TEST(bad_replacement_leaves_old_one)
{
	struct flavor_set s;
	char err[256];

	ck_assert_int_eq(load_text(&s,
		"{\"flavors\": [{\"name\": \"tiny\", \"vcpus\": 2, \"mem_mib\": 256},"
		" {\"name\": \"b\", \"vcpus\": 0, \"mem_mib\": 64}]}", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "flavors.json: flavors[1].vcpus: 0 is out of range 1..255");
	assert_flavor(&s, "tiny", 1, 128, false);
	flavor_release(&s);
}
END_TEST

START_TEST(file_errors)
{
	struct flavor_set s;
	char err[256];
	int fd;

	ck_assert_int_eq(flavor_defaults(&s), 0);
	ck_assert_int_eq(flavor_load(&s, "absent.json", err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "absent.json: No such file or directory");
	ck_assert_int_eq(flavor_load(&s, "dir", err, sizeof(err)), -EISDIR);
	ck_assert_str_eq(err, "dir: Is a directory");
	/* Opened without blocking: a FIFO with no writer must not hang. */
	ck_assert_int_eq(flavor_load(&s, "fifo", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "fifo: not a regular file");
	fd = open("big.json", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (1 << 20) + 1), 0);
	close(fd);
	ck_assert_int_eq(flavor_load(&s, "big.json", err, sizeof(err)), -EFBIG);
	ck_assert_str_eq(err, "big.json: larger than 1 MiB");
	ck_assert_uint_eq(s.n, 5);
	unlink("big.json");
	flavor_release(&s);
}
END_TEST

/* Exactly 1 MiB is allowed: the cap is inclusive. */
START_TEST(file_at_cap_is_read)
{
	struct flavor_set s;
	const char *body = "{\"flavors\": [{\"name\": \"cap\", \"vcpus\": 1, \"mem_mib\": 64}]}";
	size_t len = 1 << 20;
	char *text = malloc(len + 1), err[256];

	ck_assert_ptr_nonnull(text);
	memset(text, ' ', len);
	memcpy(text, body, strlen(body));
	text[len - 1] = '\n';
	text[len] = '\0';
	ck_assert_int_eq(load_text(&s, text, err, sizeof(err)), 0);
	assert_flavor(&s, "cap", 1, 64, false);
	free(text);
	flavor_release(&s);
}
END_TEST

static void make_scratch(char *dir)
{
	if (!mkdtemp(dir) || chdir(dir) < 0 || mkdir("dir", 0755) < 0 ||
	    mkfifo("fifo", 0644) < 0) {
		perror(dir);
		exit(1);
	}
}

static void remove_scratch(const char *dir)
{
	unlink(FILE_NAME);
	unlink("fifo");
	rmdir("dir");
	if (chdir("/") == 0)
		rmdir(dir);
}

int main(void)
{
	char dir[] = "/tmp/mote-test-flavor-XXXXXX";
	Suite *s = suite_create("flavor");
	TCase *tc = tcase_create("flavor");
	SRunner *sr;
	int failed;

	make_scratch(dir);
	tcase_add_test(tc, defaults_are_the_documented_ones);
	tcase_add_test(tc, good_file_adds_and_replaces);
	tcase_add_test(tc, empty_list_changes_nothing);
	tcase_add_test(tc, load_into_empty_set);
	tcase_add_loop_test(tc, bad_file_rejected_and_set_unchanged, 0, sizeof(bad) / sizeof(*bad));
	tcase_add_test(tc, bad_replacement_leaves_old_one);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, file_at_cap_is_read);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_scratch(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
