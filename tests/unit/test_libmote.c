/*
 * Unit tests for libmote's public API (vmm/api/mote.h) where no KVM is
 * needed: configs from JSON, files, code and the command line; error
 * texts; the result's JSON and the atomic result file; a VM's life cycle
 * up to (not including) building it: stops before the start end the run
 * at once, and a start that fails still writes the result file.
 * They run in a scratch directory holding a stand-in kernel file.
 */
#include "vmm/api/mote.h"
#include "vmm/api/result.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MOTE_VERSION
#define MOTE_VERSION "unknown"
#endif

/* A config from code with the scratch kernel: valid as it stands. */
static struct mote_config *kernel_config(void)
{
	struct mote_config *cfg = mote_config_new();

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(mote_config_set_kernel(cfg, "vmlinuz"), 0);
	return cfg;
}

/* How many directory entries start with prefix. */
static int count_files(const char *prefix)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static json_t *load_json_file(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	ck_assert_msg(j != NULL, "%s: %s", path, jerr.text);
	return j;
}

/* ---- configs ---- */

START_TEST(json_text_errors)
{
	char err[256] = "";

	ck_assert_ptr_null(mote_config_from_json("{\"boot-source\": ", err, sizeof(err)));
	ck_assert_msg(strncmp(err, "config:1:", 9) == 0, "err: %s", err);
	ck_assert_ptr_null(mote_config_from_json(
		"{\"machine-config\": {\"turbo\": 1}}", err, sizeof(err)));
	ck_assert_msg(strstr(err, "machine-config.turbo") != NULL, "err: %s", err);
	ck_assert_ptr_null(mote_config_from_json(NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "no JSON given");
	/* err may be left out. */
	ck_assert_ptr_null(mote_config_from_json("[", NULL, 0));
}
END_TEST

START_TEST(json_text_ok_then_validated)
{
	char err[256] = "";
	struct mote_config *cfg = mote_config_from_json(
		"{\"boot-source\": {\"kernel_image_path\": \"vmlinuz\"},"
		" \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 64}}",
		err, sizeof(err));

	ck_assert_msg(cfg != NULL, "err: %s", err);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	/* Code overrides the file; the validator then names the flag. */
	ck_assert_int_eq(mote_config_set_kernel(cfg, "missing-kernel"), 0);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "--kernel missing-kernel") != NULL, "err: %s", err);
	mote_config_free(cfg);

	cfg = mote_config_from_json("{}", err, sizeof(err));
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "config: boot-source.kernel_image_path: missing");
	mote_config_free(cfg);
}
END_TEST

START_TEST(json_file)
{
	char err[256] = "";
	FILE *f = fopen("vm.json", "w");

	ck_assert_ptr_nonnull(f);
	fputs("{\"boot-source\": {\"kernel_image_path\": \"vmlinuz\"}}\n", f);
	fclose(f);
	struct mote_config *cfg = mote_config_from_file("vm.json", err, sizeof(err));
	ck_assert_msg(cfg != NULL, "err: %s", err);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	mote_config_free(cfg);
	ck_assert_ptr_null(mote_config_from_file("no-such.json", err, sizeof(err)));
	ck_assert_msg(strstr(err, "no-such.json") != NULL, "err: %s", err);
}
END_TEST

START_TEST(config_from_code)
{
	struct mote_config *cfg = mote_config_new();
	const char *job[] = { "sh", "-c", "exit 3", NULL };
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	char err[256] = "";

	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "--kernel is required");
	ck_assert_int_eq(mote_config_set_kernel(cfg, NULL), -EINVAL);
	ck_assert_int_eq(mote_config_set_kernel(cfg, "vmlinuz"), 0);
	ck_assert_int_eq(mote_config_set_initrd(cfg, "vmlinuz"), 0);
	ck_assert_int_eq(mote_config_set_initrd(cfg, NULL), 0);
	ck_assert_int_eq(mote_config_set_cmdline(cfg, "console=ttyS0 quiet"), 0);
	ck_assert_int_eq(mote_config_set_cpus(cfg, 0), -EINVAL);
	ck_assert_int_eq(mote_config_set_cpus(cfg, 256), -EINVAL);
	ck_assert_int_eq(mote_config_set_cpus(cfg, 2), 0);
	ck_assert_int_eq(mote_config_set_mem_mib(cfg, 15), -EINVAL);
	ck_assert_int_eq(mote_config_set_mem_mib(cfg, 128), 0);
	ck_assert_int_eq(mote_config_set_timeout(cfg, -1), -EINVAL);
	ck_assert_int_eq(mote_config_set_timeout(cfg, 1.0 / 0.0), -EINVAL);
	ck_assert_int_eq(mote_config_set_timeout(cfg, 2.5), 0);
	ck_assert_int_eq(mote_config_set_job(cfg, job), 0);
	ck_assert_int_eq(mote_config_set_result_file(cfg, "r.json"), 0);
	ck_assert_int_eq(mote_config_set_console_log(cfg, "console.log"), 0);
	ck_assert_int_eq(mote_config_set_debug(cfg, 0), 0);
	ck_assert_int_eq(mote_config_set_kernel_cache(cfg, 0), 0);
	ck_assert_int_eq(mote_config_set_kernel_cache(NULL, 1), -EINVAL);
	ck_assert_int_eq(mote_config_add_drive(cfg, "disk.img", 1u << 7), -EINVAL);
	ck_assert_int_eq(mote_config_add_drive(cfg, NULL, 0), -EINVAL);
	ck_assert_int_eq(mote_config_add_net(cfg, NULL, mac), -EINVAL);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	/* Two root drives are refused by the validator, naming the flag. */
	ck_assert_int_eq(mote_config_add_drive(cfg, "disk.img", MOTE_DRIVE_ROOT), 0);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(mote_config_add_drive(cfg, "disk.img",
					       MOTE_DRIVE_ROOT | MOTE_DRIVE_READ_ONLY), 0);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "--rootfs") != NULL, "err: %s", err);
	mote_config_free(cfg);
	mote_config_free(NULL);
}
END_TEST

/* Network interfaces from code: user-mode with forwards, a TAP, the
 * 16-device limit, and what the getters report. */
START_TEST(nets_from_code)
{
	struct mote_config *cfg = mote_config_new();
	const char *good[] = { "tcp:127.0.0.1:18080-:80", "udp::5353-:53", NULL };
	const char *bad[] = { "tcp:127.0.0.1:18081-:81", "tcp:1.2.3:80-:22", NULL };
	char err[256] = "";

	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(mote_config_cpus(cfg), 1);
	ck_assert_uint_eq(mote_config_mem_mib(cfg), 256);
	ck_assert_int_eq(mote_config_set_kernel(cfg, "vmlinuz"), 0);
	ck_assert_int_eq(mote_config_add_user_net(cfg, NULL, good), 0);
	/* A bad forward adds nothing, not even the good one before it. */
	ck_assert_int_eq(mote_config_add_user_net(cfg, NULL, bad), -EINVAL);
	const char *again[] = { "tcp:127.0.0.1:18081-:81", NULL };
	ck_assert_int_eq(mote_config_add_user_net(cfg, NULL, again), 0);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	/* The good forwards were recorded: the same host port twice is
	 * refused. */
	struct mote_config *dup = mote_config_new();
	const char *clash[] = { "tcp:127.0.0.1:18080-:81", NULL };
	ck_assert_int_eq(mote_config_set_kernel(dup, "vmlinuz"), 0);
	ck_assert_int_eq(mote_config_add_user_net(dup, NULL, good), 0);
	ck_assert_int_eq(mote_config_add_user_net(dup, NULL, clash), 0);
	ck_assert_int_eq(mote_config_validate(dup, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "18080") != NULL, "err: %s", err);
	mote_config_free(dup);
	for (int i = 2; i < 16; i++)
		ck_assert_int_eq(mote_config_add_net(cfg, "tap0", NULL), 0);
	ck_assert_int_eq(mote_config_add_net(cfg, "tap0", NULL), -ENOSPC);
	ck_assert_int_eq(mote_config_add_user_net(cfg, NULL, NULL), -ENOSPC);
	ck_assert_int_eq(mote_config_add_drive(cfg, "disk.img", 0), -ENOSPC);
	/* Fourteen interfaces on one TAP: the validator names the clash. */
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "tap0") != NULL, "err: %s", err);
	mote_config_free(cfg);
}
END_TEST

START_TEST(job_is_copied)
{
	struct mote_config *cfg = kernel_config();
	char arg[] = "exit 7";
	const char *job[] = { "sh", "-c", arg, NULL };
	char err[256];

	ck_assert_int_eq(mote_config_set_job(cfg, job), 0);
	arg[0] = ' ';
	ck_assert_int_eq(mote_config_set_job(cfg, NULL), 0);
	ck_assert_int_eq(mote_config_set_job(cfg, job), 0);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	mote_config_free(cfg);
}
END_TEST

START_TEST(cli_parse)
{
	char *help[] = { "mote", "--help", NULL };
	char *version[] = { "mote", "--version", NULL };
	char *nokernel[] = { "mote", "run", "--cpus", "2", NULL };
	char *run[] = { "mote", "run", "--kernel", "vmlinuz", "--", "true", NULL };
	struct mote_config *cfg = (struct mote_config *)1;
	enum mote_command cmd;
	char err[256] = "";

	ck_assert_int_eq(mote_cli_parse(2, help, &cmd, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd, MOTE_COMMAND_HELP);
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(mote_cli_parse(2, version, &cmd, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd, MOTE_COMMAND_VERSION);
	ck_assert_int_eq(mote_cli_parse(4, nokernel, &cmd, &cfg, err, sizeof(err)), 2);
	ck_assert_str_eq(err, "mote run: --kernel is required");
	ck_assert_ptr_null(cfg);
	ck_assert_int_eq(mote_cli_parse(6, run, &cmd, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd, MOTE_COMMAND_RUN);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_int_eq(mote_config_validate(cfg, err, sizeof(err)), 0);
	mote_config_free(cfg);
}
END_TEST

/* Filters: off for a program's own config, on for the command's, the
 * file's "seccomp" key honoured, and a bad mode refused. */
START_TEST(seccomp_modes)
{
	char *run[] = { "mote", "run", "--kernel", "vmlinuz", NULL };
	char *off[] = { "mote", "run", "--kernel", "vmlinuz", "--seccomp=off", NULL };
	struct mote_config *cfg = mote_config_new();
	enum mote_command cmd;
	char err[256] = "";

	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_OFF);
	ck_assert_int_eq(mote_config_set_seccomp(cfg, MOTE_SECCOMP_LOG), 0);
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_LOG);
	ck_assert_int_eq(mote_config_set_seccomp(cfg, (enum mote_seccomp)7), -EINVAL);
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_LOG);
	mote_config_free(cfg);
	cfg = mote_config_from_json("{\"mote\": {}}", err, sizeof(err));
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_OFF);
	mote_config_free(cfg);
	cfg = mote_config_from_json("{\"mote\": {\"seccomp\": \"on\"}}", err, sizeof(err));
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_ON);
	mote_config_free(cfg);
	ck_assert_ptr_null(mote_config_from_json("{\"mote\": {\"seccomp\": \"yes\"}}",
						 err, sizeof(err)));
	ck_assert_str_eq(err, "config: mote.seccomp: must be \"on\", \"off\" or \"log\"");
	ck_assert_int_eq(mote_cli_parse(4, run, &cmd, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_ON);
	mote_config_free(cfg);
	ck_assert_int_eq(mote_cli_parse(5, off, &cmd, &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(mote_config_seccomp(cfg), MOTE_SECCOMP_OFF);
	mote_config_free(cfg);
}
END_TEST

/* ---- small things ---- */

START_TEST(strerror_and_names)
{
	ck_assert_str_eq(mote_strerror(-ENOENT), "No such file or directory");
	ck_assert_str_eq(mote_strerror(-EBUSY), "Device or resource busy");
	ck_assert_str_eq(mote_strerror(0), "unknown error");
	ck_assert_str_eq(mote_strerror(EINVAL), "unknown error");
	ck_assert_str_eq(mote_strerror(-100000), "unknown error");
	ck_assert_str_eq(mote_version(), MOTE_VERSION);
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_GUEST_EXIT), "guest-exit");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_POWEROFF), "poweroff");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_REBOOT), "reboot");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_TIMEOUT), "timeout");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_SIGNAL), "signal");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_ERROR), "error");
	ck_assert_str_eq(mote_reason_name(MOTE_REASON_STOPPED), "stopped");
	ck_assert_str_eq(mote_reason_name((enum mote_reason)99), "unknown");
}
END_TEST

/* ---- the result's JSON and file ---- */

START_TEST(result_json_format)
{
	struct mote_result r = { .status = 3, .reason = MOTE_REASON_GUEST_EXIT,
				 .message = "guest exited with status 3", .boot_ms = 812,
				 .total_ms = 1290, .peak_rss_kib = 48120,
				 .timeline = { 4, 5, 90, 700, 812, 830, 1200, 3100 } };
	char *text = mote_result_to_json(&r);

	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "{\"status\": 3, \"reason\": \"guest-exit\", \"message\": "
			 "\"guest exited with status 3\", \"boot_ms\": 812, \"total_ms\": "
			 "1290, \"peak_rss_kib\": 48120, \"mote_version\": \"" MOTE_VERSION
			 "\", \"timeline\": {\"vm_built_ms\": 4, \"first_run_ms\": 5, "
			 "\"first_console_ms\": 90, \"kernel_init_ms\": 700, "
			 "\"guest_ready_ms\": 812, \"job_start_ms\": 830, \"job_end_ms\": 1200}, "
			 "\"startup_cpu_us\": 3100}");
	free(text);
	/* Unknown boot time is null; messages are escaped. */
	r = (struct mote_result){ .status = 1, .reason = MOTE_REASON_ERROR,
				  .message = "bad \"kernel\"\n", .boot_ms = -1,
				  .timeline = { 3, -1, -1, -1, -1, -1, -1, -1 } };
	text = mote_result_to_json(&r);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"boot_ms\": null") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"vm_built_ms\": 3, \"first_run_ms\": null") != NULL,
		      "%s", text);
	ck_assert_msg(strstr(text, "\"startup_cpu_us\": null}") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"message\": \"bad \\\"kernel\\\"\\n\"") != NULL, "%s",
		      text);
	ck_assert_msg(strstr(text, "\"reason\": \"error\"") != NULL, "%s", text);
	free(text);
	ck_assert_ptr_null(mote_result_to_json(NULL));
}
END_TEST

START_TEST(result_file_atomic)
{
	struct mote_result r = { .status = 124, .reason = MOTE_REASON_TIMEOUT,
				 .message = "timed out after 5 s", .boot_ms = -1,
				 .total_ms = 5001, .peak_rss_kib = 1 };
	char err[256] = "";

	/* An existing file is replaced whole. */
	FILE *f = fopen("res.json", "w");
	ck_assert_ptr_nonnull(f);
	fputs("old contents, longer than the new ones will be ......................"
	      "............................................................\n", f);
	fclose(f);
	ck_assert_int_eq(result_write("res.json", &r, err, sizeof(err)), 0);
	json_t *j = load_json_file("res.json");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 124);
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "timeout");
	ck_assert(json_is_null(json_object_get(j, "boot_ms")));
	ck_assert_int_eq(json_integer_value(json_object_get(j, "total_ms")), 5001);
	json_decref(j);
	ck_assert_int_eq(count_files("res.json"), 1);   /* no temp file left */
	unlink("res.json");

	/* A directory that does not exist: an error, and nothing left. */
	ck_assert_int_eq(result_write("nodir/res.json", &r, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "nodir/res.json") != NULL, "err: %s", err);
	/* A directory in the way of the rename: the temp file is removed. */
	ck_assert_int_eq(mkdir("busy.json", 0755), 0);
	ck_assert_int_lt(result_write("busy.json", &r, err, sizeof(err)), 0);
	ck_assert_int_eq(count_files("busy.json"), 1);
	rmdir("busy.json");
}
END_TEST

/* ---- VM life cycle without KVM ---- */

START_TEST(vm_create_checks_config)
{
	struct mote_config *cfg = mote_config_new();
	char err[256] = "";

	ck_assert_ptr_null(mote_vm_create(cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "--kernel is required");
	ck_assert_ptr_null(mote_vm_create(NULL, err, sizeof(err)));
	mote_config_free(cfg);
}
END_TEST

START_TEST(vm_holds_config)
{
	struct mote_config *cfg = kernel_config();
	char err[256] = "";
	struct mote_vm *vm = mote_vm_create(cfg, err, sizeof(err));
	struct mote_result res;

	ck_assert_msg(vm != NULL, "err: %s", err);
	/* In use: no changes. The VM keeps it alive after the owner lets go. */
	ck_assert_int_eq(mote_config_set_cpus(cfg, 2), -EBUSY);
	ck_assert_int_eq(mote_config_set_kernel(cfg, "x"), -EBUSY);
	ck_assert_int_eq(mote_config_set_job(cfg, NULL), -EBUSY);
	ck_assert_int_eq(mote_vm_result(vm, &res), -EBUSY);
	ck_assert_int_eq(mote_vm_wait(vm), -EINVAL);
	ck_assert_int_eq(mote_vm_set_console_fds(vm, -5, 1), -EBADF);
	ck_assert_int_eq(mote_vm_set_console_fds(vm, -1, 1000000), -EBADF);
	ck_assert_int_eq(mote_vm_set_console_fds(vm, -1, -1), 0);
	ck_assert_int_ge(mote_vm_fd(vm), 0);
	mote_vm_free(vm);
	ck_assert_int_eq(mote_config_set_cpus(cfg, 2), 0);
	vm = mote_vm_create(cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(vm);
	mote_config_free(cfg);
	mote_vm_free(vm);
}
END_TEST

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static void ignore_console(void *opaque, const char *data, size_t len)
{
}

START_TEST(stop_before_start)
{
	struct mote_config *cfg = kernel_config();
	char err[256] = "";
	struct mote_result res;

	ck_assert_int_eq(mote_config_set_result_file(cfg, "stop.json"), 0);
	struct mote_vm *vm = mote_vm_create(cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(vm);
	ck_assert(!readable(mote_vm_fd(vm)));
	mote_vm_stop(vm);
	mote_vm_stop_signal(vm, SIGINT);   /* the first stop wins */
	ck_assert_int_eq(mote_vm_start(vm), 0);
	ck_assert(readable(mote_vm_fd(vm)));
	ck_assert_int_eq(mote_vm_wait(vm), MOTE_STATUS_STOPPED);
	ck_assert_int_eq(mote_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.reason, MOTE_REASON_STOPPED);
	ck_assert_int_eq(res.status, 143);
	ck_assert_int_eq(res.boot_ms, -1);
	ck_assert_int_ge(res.total_ms, 0);
	ck_assert_int_gt(res.peak_rss_kib, 0);
	ck_assert_str_eq(res.message, "stopped by mote_vm_stop()");
	/* A VM runs once; nothing can be changed after the start. */
	ck_assert_int_eq(mote_vm_start(vm), -EALREADY);
	ck_assert_int_eq(mote_vm_run(vm), -EALREADY);
	ck_assert_int_eq(mote_vm_set_console_fds(vm, -1, -1), -EBUSY);
	ck_assert_int_eq(mote_vm_set_console_callback(vm, ignore_console, NULL), -EBUSY);
	json_t *j = load_json_file("stop.json");
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "stopped");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 143);
	json_decref(j);
	unlink("stop.json");
	mote_vm_free(vm);
	mote_config_free(cfg);
}
END_TEST

START_TEST(signal_stop_before_run)
{
	struct mote_config *cfg = kernel_config();
	struct mote_vm *vm = mote_vm_create(cfg, NULL, 0);
	struct mote_result res;

	ck_assert_ptr_nonnull(vm);
	mote_vm_stop_signal(vm, SIGTERM);
	ck_assert_int_eq(mote_vm_run(vm), 128 + SIGTERM);
	ck_assert_int_eq(mote_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.reason, MOTE_REASON_SIGNAL);
	ck_assert_str_eq(res.message, "stopped by SIGTERM");
	mote_vm_free(vm);
	mote_config_free(cfg);
}
END_TEST

static void someone_elses_handler(int sig)
{
}

/* A start that fails still ends the run with reason "error" and writes
 * the result file: here SIGUSR1 belongs to the program. */
START_TEST(failed_start_writes_result)
{
	struct mote_config *cfg = kernel_config();
	struct sigaction sa = { .sa_handler = someone_elses_handler };
	struct mote_result res;

	ck_assert_int_eq(mote_config_set_result_file(cfg, "fail.json"), 0);
	struct mote_vm *vm = mote_vm_create(cfg, NULL, 0);
	ck_assert_ptr_nonnull(vm);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	ck_assert_int_eq(mote_vm_start(vm), -EBUSY);
	ck_assert_int_eq(mote_vm_wait(vm), MOTE_STATUS_ERROR);
	ck_assert_int_eq(mote_vm_result(vm, &res), 0);
	ck_assert_int_eq(res.reason, MOTE_REASON_ERROR);
	ck_assert_msg(strstr(res.message, "SIGUSR1") != NULL, "%s", res.message);
	json_t *j = load_json_file("fail.json");
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")), "error");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 1);
	ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), "SIGUSR1"),
		      "message names the cause");
	json_decref(j);
	unlink("fail.json");
	/* The program's handler was left alone. */
	ck_assert_int_eq(sigaction(SIGUSR1, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, someone_elses_handler);
	mote_vm_free(vm);
	mote_config_free(cfg);
}
END_TEST

int main(void)
{
	char dir[] = "/tmp/mote-test-libmote-XXXXXX";
	Suite *s = suite_create("libmote");
	TCase *tc = tcase_create("libmote");
	SRunner *sr;
	int failed, fd;

	if (!mkdtemp(dir) || chdir(dir) < 0 ||
	    (fd = open("vmlinuz", O_CREAT | O_WRONLY, 0644)) < 0) {
		perror("scratch directory");
		return 1;
	}
	close(fd);
	fd = open("disk.img", O_CREAT | O_WRONLY, 0644);
	if (fd >= 0)
		close(fd);
	tcase_add_test(tc, json_text_errors);
	tcase_add_test(tc, json_text_ok_then_validated);
	tcase_add_test(tc, json_file);
	tcase_add_test(tc, config_from_code);
	tcase_add_test(tc, nets_from_code);
	tcase_add_test(tc, job_is_copied);
	tcase_add_test(tc, cli_parse);
	tcase_add_test(tc, seccomp_modes);
	tcase_add_test(tc, strerror_and_names);
	tcase_add_test(tc, result_json_format);
	tcase_add_test(tc, result_file_atomic);
	tcase_add_test(tc, vm_create_checks_config);
	tcase_add_test(tc, vm_holds_config);
	tcase_add_test(tc, stop_before_start);
	tcase_add_test(tc, signal_stop_before_run);
	tcase_add_test(tc, failed_start_writes_result);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	unlink("vmlinuz");
	unlink("disk.img");
	unlink("vm.json");
	if (chdir("/") == 0)
		rmdir(dir);
	return failed ? 1 : 0;
}
