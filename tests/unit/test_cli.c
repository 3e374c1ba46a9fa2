/*
 * Unit tests for the command line: every bad flag gets its one exact
 * line and exit status 2; flags override a --config file; "validate"
 * checks a file as "run" would. Run in a scratch directory with small
 * stand-in kernel and image files.
 */
#include "vmm/config/cli.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CPUS 4
#define MAX_ARGS 48

/* args: NULL-terminated, without the program name. */
static int parse(const char *const *args, struct cli_cmd *cmd, char *err, size_t n)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;

	argv[argc++] = "mote";
	while (*args && argc <= MAX_ARGS)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return cli_parse(argc, argv, MAX_CPUS, cmd, err, n);
}

/* Also used before the tests run, so no ck_assert here. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

struct bad_flags {
	const char *args[16];
	const char *msg;
};

#define RUN "run", "--kernel", "k"

static const struct bad_flags bad[] = {
	{ { NULL }, "mote: no command given (see mote --help)" },
	{ { "start" }, "mote: unknown command 'start' (see mote --help)" },
	{ { "--foo" }, "mote: unknown option '--foo' (see mote --help)" },
	{ { "--version", "x" }, "mote: unexpected argument 'x' after --version" },
	{ { "run" }, "mote run: --kernel is required" },
	{ { RUN, "--foo" }, "mote: unknown option '--foo' (see mote --help)" },
	{ { RUN, "--foo=1" }, "mote: unknown option '--foo' (see mote --help)" },
	{ { RUN, "-x" }, "mote: unknown option '-x' (see mote --help)" },
	{ { RUN, "stray" }, "mote: unexpected argument 'stray' (job arguments go after --)" },
	{ { "run", "--kernel" }, "mote: --kernel needs a value" },
	{ { "run", "--kernel", "--cpus", "2" }, "mote: --kernel needs a value" },
	{ { "run", "--kernel=" }, "mote: --kernel needs a value" },
	{ { RUN, "--debug=yes" }, "mote: --debug takes no value" },
	{ { RUN, "--ephemeral=yes" }, "mote: --ephemeral takes no value" },
	{ { "run", "--kernel", "/nope" }, "mote: --kernel /nope: No such file or directory" },
	{ { "run", "--kernel", "dir" }, "mote: --kernel dir: Is a directory" },
	{ { RUN, "--initrd", "/nope" }, "mote: --initrd /nope: No such file or directory" },
	{ { RUN, "--mem", "1K" }, "mote: --mem 1K: at least 16 MiB required" },
	{ { RUN, "--mem", "15" }, "mote: --mem 15: at least 16 MiB required" },
	{ { RUN, "--mem", "12Q" }, "mote: --mem 12Q: not a size" },
	{ { RUN, "--mem", "-256" }, "mote: --mem -256: not a size" },
	{ { RUN, "--mem", "1.5G" }, "mote: --mem 1.5G: not a size" },
	{ { RUN, "--mem", "99999999999999999999G" }, "mote: --mem 99999999999999999999G: not a size" },
	{ { RUN, "--mem", "16385K" }, "mote: --mem 16385K: not a whole number of MiB" },
	{ { RUN, "--mem", "2T" }, "mote: --mem 2T: at most 1048576 MiB supported" },
	{ { RUN, "--cpus", "0" }, "mote: --cpus 0: out of range 1..4" },
	{ { RUN, "--cpus", "5" }, "mote: --cpus 5: out of range 1..4" },
	{ { RUN, "--cpus", "two" }, "mote: --cpus two: not a number" },
	{ { RUN, "--cpus", "-1" }, "mote: --cpus -1: not a number" },
	{ { RUN, "--cpus", "2x" }, "mote: --cpus 2x: not a number" },
	{ { RUN, "--rootfs", "/nope" }, "mote: --rootfs /nope: No such file or directory" },
	{ { RUN, "--drive", "dir" }, "mote: --drive dir: Is a directory" },
	{ { RUN, "--drive", "d.img,fast" }, "mote: --drive d.img,fast: unknown option 'fast' "
	  "(ro, rw, ephemeral, cache=unsafe|writeback, io=sync|async)" },
	{ { RUN, "--drive", ",ro" }, "mote: --drive ,ro: no image path" },
	{ { RUN, "--drive", "d.img", "--drive", "d.img" },
	  "mote: --drive d.img: the same file as drive 'drive1', and one is writable" },
	{ { RUN, "--rootfs", "d.img,ro", "--drive", "d.img" },
	  "mote: --drive d.img: the same file as drive 'rootfs', and one is writable" },
	{ { RUN, "--drive", "d.img,ro,ephemeral" },
	  "mote: --drive d.img: read-only and ephemeral exclude each other" },
	{ { RUN, "--timeout", "soon" }, "mote: --timeout soon: not a number of seconds" },
	{ { RUN, "--timeout", "-1" }, "mote: --timeout -1: not a number of seconds" },
	{ { RUN, "--timeout", "inf" }, "mote: --timeout inf: not a number of seconds" },
	{ { RUN, "--timeout", "2e9" }, "mote: --timeout 2e9: more than 1000000000 seconds" },
	{ { RUN, "--console-log", "/nonexistent/c.log" },
	  "mote: --console-log /nonexistent/c.log: No such file or directory" },
	{ { RUN, "--result", "dir" }, "mote: --result dir: Is a directory" },
	/* --tap NAME is --net tap=NAME; the validator names --net. */
	{ { RUN, "--tap", "tap0,mac=zz" },
	  "mote: --tap tap0,mac=zz: not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ { RUN, "--tap", "tap0,speed=10" },
	  "mote: --tap tap0,speed=10: unknown option 'speed=10' (mac=, create)" },
	{ { RUN, "--tap", "tap0,mac=01:00:5e:00:00:01" },
	  "mote: --net mac=01:00:5e:00:00:01: a multicast address" },
	{ { RUN, "--tap", "tap0", "--tap", "tap0" },
	  "mote: --net tap=tap0: already used by interface 'eth0'" },
	{ { RUN, "--tap", "a-name-far-too-long" }, "mote: --net tap=a-name-far-too-long: not a "
	  "network interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ { RUN, "--net", "tap=tap0,mac=zz" },
	  "mote: --net tap=tap0,mac=zz: not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ { RUN, "--net", "user,mac=aa:fc:00:00:01" },
	  "mote: --net user,mac=aa:fc:00:00:01: not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ { RUN, "--net", "user,mac=01:00:5e:00:00:01" },
	  "mote: --net mac=01:00:5e:00:00:01: a multicast address" },
	{ { RUN, "--net", "user,mac=00:00:00:00:00:00" },
	  "mote: --net mac=00:00:00:00:00:00: the all-zero address" },
	{ { RUN, "--net", "user,mac=02:00:00:00:00:01", "--net", "tap=t0,mac=02:00:00:00:00:01" },
	  "mote: --net mac=02:00:00:00:00:01: already used by interface 'eth0'" },
	{ { RUN, "--net", "tap=tap0,speed=10" },
	  "mote: --net tap=tap0,speed=10: unknown option 'speed=10' (mac=, create)" },
	{ { RUN, "--net", "user,create" },
	  "mote: --net user,create: 'create' is only for tap=NAME" },
	{ { RUN, "--net", "tap=tap0,hostfwd=tcp::80-:80" },
	  "mote: --net tap=tap0,hostfwd=tcp::80-:80: 'hostfwd' is only for user" },
	{ { RUN, "--net", "user,tap=tap0" },
	  "mote: --net user,tap=tap0: unknown option 'tap=tap0' (mac=, hostfwd=)" },
	{ { RUN, "--net", "slirp" },
	  "mote: --net slirp: unknown backend 'slirp' (tap=NAME or user)" },
	{ { RUN, "--net", "mac=02:00:00:00:00:01" },
	  "mote: --net mac=02:00:00:00:00:01: unknown backend 'mac=02:00:00:00:00:01' "
	  "(tap=NAME or user)" },
	{ { RUN, "--net", ",user" }, "mote: --net ,user: no backend (tap=NAME or user)" },
	{ { RUN, "--net", "tap" }, "mote: --net tap: no TAP name (tap=NAME)" },
	{ { RUN, "--net", "tap=,create" }, "mote: --net tap=,create: no TAP name (tap=NAME)" },
	{ { RUN, "--net" }, "mote: --net needs a value" },
	{ { RUN, "--net=" }, "mote: --net needs a value" },
	{ { RUN, "--net", "tap=tap/0" }, "mote: --net tap=tap/0: not a network interface "
	  "name (1..15 of letters, digits, '-', '_', '.')" },
	{ { RUN, "--net", "tap=tap:0" }, "mote: --net tap=tap:0: not a network interface "
	  "name (1..15 of letters, digits, '-', '_', '.')" },
	{ { RUN, "--net", "tap=tap%d,create" }, "mote: --net tap=tap%d: not a network "
	  "interface name (1..15 of letters, digits, '-', '_', '.')" },
	{ { RUN, "--net", "tap=tap0,create", "--net", "tap=tap0" },
	  "mote: --net tap=tap0: already used by interface 'eth0'" },
	{ { RUN, "--net", "user,hostfwd=tcp:1.2.3:80-:22" },
	  "mote: --net user,hostfwd=tcp:1.2.3:80-:22: bad host address \"1.2.3\"" },
	{ { RUN, "--net", "user,hostfwd=tcp::0-:22" },
	  "mote: --net user,hostfwd=tcp::0-:22: bad host port \"0\" (1..65535)" },
	{ { RUN, "--net", "user,hostfwd=tcp::22-:65536" },
	  "mote: --net user,hostfwd=tcp::22-:65536: bad guest port \"65536\" (1..65535)" },
	{ { RUN, "--net", "user,hostfwd=icmp::22-:22" },
	  "mote: --net user,hostfwd=icmp::22-:22: bad protocol \"icmp\" (tcp or udp)" },
	{ { RUN, "--net", "user,hostfwd=tcp::2222-10.0.2.15:22" },
	  "mote: --net user,hostfwd=tcp::2222-10.0.2.15:22: guest address \"10.0.2.15\": "
	  "leave it out, forwards go to the guest's DHCP address" },
	{ { RUN, "--net", "user,hostfwd=" },
	  "mote: --net user,hostfwd=: expected tcp|udp:[HOSTADDR]:HOSTPORT-:GUESTPORT" },
	{ { RUN, "--net", "user,hostfwd=tcp::2222-:22,hostfwd=tcp:127.0.0.1:2222-:23" },
	  "mote: --net hostfwd=tcp:127.0.0.1:2222-:23: host port 2222 already forwarded by "
	  "interface 'eth0'" },
	{ { RUN, "--net", "user,hostfwd=udp::53-:53", "--net", "user,hostfwd=udp:0.0.0.0:53-:53" },
	  "mote: --net hostfwd=udp:0.0.0.0:53-:53: host port 53 already forwarded by "
	  "interface 'eth0'" },
	{ { RUN, "--config", "fifo" }, "mote: fifo: not a regular file" },
	{ { "validate", "fifo" }, "mote: fifo: not a regular file" },
	{ { "validate", "net17.json" }, "mote: net17.json: network-interfaces[0]: too many "
	  "devices: at most 16 drives and network interfaces in all" },
	{ { RUN, "--", "echo", "a\nb" },
	  "mote: job argument 'a\\nb': contains a line break; the kernel command line cannot "
	  "carry it" },
	{ { RUN, "--", "say\"hi" },
	  "mote: job argument 'say\"hi': contains a double quote; the kernel command line "
	  "cannot carry it" },
	{ { RUN, "--", "" },
	  "mote: job argument '': empty; the kernel command line cannot carry it" },
	{ { RUN, "--config", "/nope.json" }, "mote: /nope.json: No such file or directory" },
	{ { RUN, "--config", "turbo.json" }, "mote: turbo.json: machine-config.turbo: unknown key" },
	{ { "validate" }, "mote validate: FILE is required" },
	{ { "validate", "a.json", "b.json" }, "mote validate: unexpected argument 'b.json'" },
	{ { "validate", "turbo.json" }, "mote: turbo.json: machine-config.turbo: unknown key" },
	{ { "validate", "nokernel.json" },
	  "mote: nokernel.json: boot-source.kernel_image_path: missing" },
	{ { "validate", "cpus0.json" },
	  "mote: cpus0.json: machine-config.vcpu_count: 0 is out of range 1..4" },
	{ { "validate", "badkernel.json" },
	  "mote: badkernel.json: boot-source.kernel_image_path: /x: No such file or directory" },
	{ { "validate", "dir" }, "mote: dir: Is a directory" },
	/* The user's strings are escaped: a newline or a terminal escape in
	 * one cannot break the line or forge another ("vm.json: ok"). */
	{ { "ru\x1b[2Jn" }, "mote: unknown command 'ru\\x1b[2Jn' (see mote --help)" },
	{ { RUN, "--bogus\x1b]0;t\a" }, "mote: unknown option '--bogus\\x1b]0;t\\x07' "
	  "(see mote --help)" },
	{ { RUN, "--cpus", "1\nvm.json: ok" }, "mote: --cpus 1\\nvm.json: ok: not a number" },
	{ { RUN, "--drive", "d.img,r\to" }, "mote: --drive d.img,r\\to: unknown option "
	  "'r\\to' (ro, rw, ephemeral, cache=unsafe|writeback, io=sync|async)" },
	{ { "run", "--kernel", "/nope\nvm.json: ok" },
	  "mote: --kernel /nope\\nvm.json: ok: No such file or directory" },
	{ { RUN, "--console-log", "/nope/\r\x1b[Kx" },
	  "mote: --console-log /nope/\\r\\x1b[Kx: No such file or directory" },
	{ { "validate", "/nope\n.json" }, "mote: /nope\\n.json: No such file or directory" },
	{ { "validate", "/nope\xc2\x9b" "2J\xff\\\xc3\xa9.json" },
	  "mote: /nope\\xc2\\x9b2J\\xff\\\\\xc3\xa9.json: No such file or directory" },
};

START_TEST(bad_flag_rejected)
{
	const struct bad_flags *b = &bad[_i];
	struct cli_cmd cmd;
	char err[512] = "";
	int r = parse(b->args, &cmd, err, sizeof(err));

	ck_assert_msg(r == CLI_EXIT_USAGE, "case %d: status %d", _i, r);
	ck_assert_msg(strcmp(err, b->msg) == 0, "case %d: got '%s', want '%s'", _i, err, b->msg);
	for (const char *e = err; *e; e++)
		ck_assert_msg((unsigned char)*e >= 0x20 && *e != 0x7f,
			      "case %d: control character 0x%02x in the line", _i, *e);
	cli_release(&cmd);
}
END_TEST

START_TEST(help_and_version)
{
	static const char *const help[][4] = {
		{ "--help" }, { "-h" }, { "help" }, { "run", "-h" },
		{ "run", "--cpus", "0", "--help" }, { "validate", "--help" },
	};
	struct cli_cmd cmd;
	char err[256], *text = NULL;
	size_t len;
	FILE *f;

	for (size_t i = 0; i < sizeof(help) / sizeof(*help); i++) {
		ck_assert_int_eq(parse(help[i], &cmd, err, sizeof(err)), 0);
		ck_assert_int_eq(cmd.command, CLI_HELP);
		cli_release(&cmd);
	}
	ck_assert_int_eq(parse((const char *[]){ "--version", NULL }, &cmd, err, sizeof(err)), 0);
	ck_assert_int_eq(cmd.command, CLI_VERSION);
	cli_release(&cmd);
	f = open_memstream(&text, &len);
	cli_print_help(f, MAX_CPUS);
	fclose(f);
	/* Every flag is listed, with the defaults config_init sets. */
	static const char *const flags[] = {
		"--kernel", "--initrd", "--cmdline", "--cpus", "--mem", "--rootfs", "--drive",
		"--net", "--tap", "tap=NAME", "user", "hostfwd=", "create", "--ephemeral", "--config", "--timeout", "--console-log", "--result",
		"--debug", "--no-kernel-cache", "$XDG_CACHE_HOME/mote/", "--help", "1..4 (default: 1)", "(default: 256M)", "at most 16 MiB",
		CONFIG_DEFAULT_CMDLINE,
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(*flags); i++)
		ck_assert_msg(strstr(text, flags[i]), "help lacks '%s'", flags[i]);
	free(text);
}
END_TEST

START_TEST(run_flags)
{
	static const char *const args[] = {
		"run", "--kernel=k", "--initrd", "k", "--cmdline", "quiet", "--cpus=3",
		"--mem", "1G", "--rootfs", "root.img", "--drive", "d.img,ro,cache=writeback",
		"--drive=e.img,ephemeral,io=async", "--net", "tap=tap0,mac=aa:fc:00:00:00:01",
		"--timeout", "1.5", "--console-log", "c.log", "--result", "r.json", "--debug",
		"--no-kernel-cache", "--", "/bin/sh", "-c", "ls", NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "", *line;
	const struct vm_config *c = &cmd.config;

	ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cmd.command, CLI_RUN);
	ck_assert_ptr_null(c->source);
	ck_assert_str_eq(c->kernel, "k");
	ck_assert_str_eq(c->initrd, "k");
	ck_assert_uint_eq(c->cpus, 3);
	ck_assert_uint_eq(c->mem_mib, 1024);
	ck_assert_uint_eq(c->ndrives, 3);
	ck_assert_str_eq(c->drives[0].id, "rootfs");
	ck_assert(c->drives[0].root && !c->drives[0].read_only);
	ck_assert_str_eq(c->drives[1].id, "drive1");
	ck_assert(c->drives[1].read_only);
	ck_assert_int_eq(c->drives[1].cache, DRIVE_CACHE_WRITEBACK);
	ck_assert_str_eq(c->drives[2].id, "drive2");
	ck_assert(c->drives[2].ephemeral);
	ck_assert_int_eq(c->drives[2].io, DRIVE_IO_ASYNC);
	ck_assert_uint_eq(c->nnets, 1);
	ck_assert_str_eq(c->nets[0].id, "eth0");
	ck_assert(c->nets[0].has_mac && c->nets[0].mac[0] == 0xaa);
	ck_assert(c->timeout_s == 1.5);
	ck_assert_str_eq(c->console_log, "c.log");
	ck_assert_str_eq(c->result_path, "r.json");
	ck_assert(c->debug);
	ck_assert(!c->kernel_cache);
	line = config_kernel_cmdline(c);
	ck_assert_str_eq(line, "quiet console=ttyS0 root=/dev/vda rw -- /bin/sh -c ls");
	free(line);
	cli_release(&cmd);
}
END_TEST

START_TEST(flags_override_file)
{
	static const char *const args[] = {
		"run", "--cpus", "3", "--kernel", "k2", "--config", "vm.json", "--mem", "64",
		"--rootfs", "e.img,ro", "--drive", "d.img,ro", "--cmdline", "", "--timeout", "0",
		NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "", *line;
	const struct vm_config *c = &cmd.config;

	write_file("vm.json", "{\"boot-source\": {\"kernel_image_path\": \"k\","
		   " \"boot_args\": \"panic=1\"},"
		   " \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"root.img\","
		   " \"is_root_device\": true}, {\"drive_id\": \"drive1\", \"path_on_host\":"
		   " \"e.img\", \"is_read_only\": true}],"
		   " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 512},"
		   " \"mote\": {\"timeout_s\": 30}}");
	ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c->source, "vm.json");
	ck_assert_str_eq(c->kernel, "k2");
	ck_assert_uint_eq(c->cpus, 3);
	ck_assert_uint_eq(c->mem_mib, 64);
	ck_assert(c->timeout_s == 0);
	/* --rootfs replaced the file's root drive; --drive was added to the
	 * file's drives under a free name. */
	ck_assert_uint_eq(c->ndrives, 3);
	ck_assert_str_eq(c->drives[0].path, "e.img");
	ck_assert(c->drives[0].root && c->drives[0].read_only);
	ck_assert_int_eq(c->drives[0].from, CONFIG_FROM_CLI);
	ck_assert_str_eq(c->drives[1].id, "drive1");
	ck_assert_int_eq(c->drives[1].from, CONFIG_FROM_FILE);
	ck_assert_str_eq(c->drives[2].id, "drive2");
	ck_assert_str_eq(c->drives[2].path, "d.img");
	line = config_kernel_cmdline(c);
	ck_assert_str_eq(line, "console=ttyS0 root=/dev/vda ro");
	free(line);
	cli_release(&cmd);
}
END_TEST

/* --ephemeral, wherever it stands, covers every writable drive, the
 * file's too; read-only drives stay read-only. */
START_TEST(ephemeral_flag)
{
	static const char *const args[] = {
		"run", "--kernel", "k", "--ephemeral", "--config", "vm.json", "--rootfs", "root.img",
		"--drive", "d.img,ro", NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "";
	const struct vm_config *c = &cmd.config;

	write_file("vm.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"},"
		   " \"drives\": [{\"drive_id\": \"data\", \"path_on_host\": \"e.img\","
		   " \"is_root_device\": false}]}");
	ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c->ndrives, 3);
	ck_assert_str_eq(c->drives[0].path, "root.img");
	ck_assert(c->drives[0].ephemeral && !c->drives[0].read_only);
	ck_assert_str_eq(c->drives[1].id, "data");
	ck_assert(c->drives[1].ephemeral);
	ck_assert_str_eq(c->drives[2].path, "d.img");
	ck_assert(c->drives[2].read_only && !c->drives[2].ephemeral);
	cli_release(&cmd);
	/* Without it, nothing is. */
	ck_assert_int_eq(parse((const char *[]){ "run", "--kernel", "k", "--rootfs", "root.img",
						 NULL }, &cmd, err, sizeof(err)), 0);
	ck_assert(!c->drives[0].ephemeral);
	cli_release(&cmd);
	/* One image on two drives is fine once both are ephemeral. */
	ck_assert_msg(parse((const char *[]){ "run", "--kernel", "k", "--drive", "d.img",
					      "--drive", "d.img", "--ephemeral", NULL },
			    &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert(c->drives[0].ephemeral && c->drives[1].ephemeral);
	cli_release(&cmd);
}
END_TEST

START_TEST(file_errors_name_the_flag_that_overrode)
{
	static const char *const args[] = {
		"run", "--config", "vm.json", "--initrd", "/nope", NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "";

	write_file("vm.json", "{\"boot-source\": {\"kernel_image_path\": \"k\","
		   " \"initrd_path\": \"k\"}}");
	ck_assert_int_eq(parse(args, &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: --initrd /nope: No such file or directory");
	cli_release(&cmd);
	/* The file's own value, not overridden, is named by its field. */
	write_file("vm.json", "{\"boot-source\": {\"kernel_image_path\": \"k\","
		   " \"initrd_path\": \"/nope\"}}");
	ck_assert_int_eq(parse((const char *[]){ "run", "--config", "vm.json", NULL },
			       &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: vm.json: boot-source.initrd_path: /nope: No such file or directory");
	cli_release(&cmd);
}
END_TEST

START_TEST(validate_ok)
{
	struct cli_cmd cmd;
	char err[512] = "", *out = NULL;
	size_t len;
	FILE *f;

	write_file("good.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"}}");
	ck_assert_msg(parse((const char *[]){ "validate", "good.json", NULL }, &cmd, err,
			    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cmd.command, CLI_VALIDATE);
	f = open_memstream(&out, &len);
	cli_print_ok(f, &cmd.config);
	fclose(f);
	ck_assert_str_eq(out, "good.json: ok\n");
	free(out);
	cli_release(&cmd);
	/* A name that would print a second line is escaped. */
	write_file("good\nbad.json: no.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"}}");
	ck_assert_msg(parse((const char *[]){ "validate", "good\nbad.json: no.json", NULL }, &cmd,
			    err, sizeof(err)) == 0, "%s", err);
	f = open_memstream(&out, &len);
	cli_print_ok(f, &cmd.config);
	fclose(f);
	ck_assert_str_eq(out, "good\\nbad.json: no.json: ok\n");
	free(out);
	unlink("good\nbad.json: no.json");
	cli_release(&cmd);
}
END_TEST

START_TEST(cli_and_file_share_defaults)
{
	struct cli_cmd a, b;
	char err[512] = "";

	write_file("min.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"}}");
	ck_assert_int_eq(parse((const char *[]){ "run", "--kernel", "k", NULL }, &a, err,
			       sizeof(err)), 0);
	ck_assert_int_eq(parse((const char *[]){ "run", "--config", "min.json", NULL }, &b, err,
			       sizeof(err)), 0);
	ck_assert_uint_eq(a.config.cpus, b.config.cpus);
	ck_assert_uint_eq(a.config.mem_mib, b.config.mem_mib);
	ck_assert_uint_eq(a.config.console_log_max, b.config.console_log_max);
	ck_assert(a.config.timeout_s == b.config.timeout_s);
	ck_assert_uint_eq(a.config.cpus, CONFIG_DEFAULT_CPUS);
	ck_assert_uint_eq(a.config.mem_mib, CONFIG_DEFAULT_MEM_MIB);
	cli_release(&a);
	cli_release(&b);
}
END_TEST

START_TEST(mem_sizes_accepted)
{
	static const struct { const char *s; uint64_t mib; } ok[] = {
		{ "16", 16 }, { "16M", 16 }, { "16384K", 16 }, { "512MiB", 512 },
		{ "2g", 2048 }, { "2GB", 2048 }, { "1T", 1048576 },
	};
	struct cli_cmd cmd;
	char err[512] = "";

	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		const char *args[] = { "run", "--kernel", "k", "--mem", ok[i].s, NULL };
		ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(cmd.config.mem_mib, ok[i].mib);
		cli_release(&cmd);
	}
}
END_TEST

START_TEST(net_flags)
{
	static const char *const args[] = {
		"run", "--kernel", "k", "--net", "tap=tap0,create",
		"--net", "user,mac=02:00:00:00:00:05,hostfwd=tcp::8080-:80,"
		"hostfwd=udp:0.0.0.0:5353-:53",
		"--tap", "tap1,mac=02:00:00:00:00:06", "--net", "user",
		"--net=user,,hostfwd=tcp:10.0.0.1:2222-:22,", NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "", text[CONFIG_HOSTFWD_STRLEN];
	const struct vm_config *c = &cmd.config;

	ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c->nnets, 5);
	for (size_t i = 0; i < c->nnets; i++) {
		char id[32];
		snprintf(id, sizeof(id), "eth%zu", i);
		ck_assert_str_eq(c->nets[i].id, id);
		ck_assert_int_eq(c->nets[i].from, CONFIG_FROM_CLI);
	}
	ck_assert_int_eq(c->nets[0].backend, NET_BACKEND_TAP);
	ck_assert_str_eq(c->nets[0].tap, "tap0");
	ck_assert(c->nets[0].create && !c->nets[0].has_mac);
	ck_assert_int_eq(c->nets[1].backend, NET_BACKEND_USER);
	ck_assert_ptr_null(c->nets[1].tap);
	ck_assert(c->nets[1].has_mac && c->nets[1].mac[5] == 5);
	ck_assert_uint_eq(c->nets[1].nfwds, 2);
	config_format_hostfwd(&c->nets[1].fwds[0], text, sizeof(text));
	ck_assert_str_eq(text, "tcp:127.0.0.1:8080-:80");
	config_format_hostfwd(&c->nets[1].fwds[1], text, sizeof(text));
	ck_assert_str_eq(text, "udp:0.0.0.0:5353-:53");
	ck_assert_int_eq(c->nets[2].backend, NET_BACKEND_TAP);
	ck_assert_str_eq(c->nets[2].tap, "tap1");
	ck_assert(!c->nets[2].create && c->nets[2].mac[5] == 6);
	ck_assert_int_eq(c->nets[3].backend, NET_BACKEND_USER);
	ck_assert_uint_eq(c->nets[3].nfwds, 0);
	ck_assert_uint_eq(c->nets[4].nfwds, 1);
	ck_assert_uint_eq(c->nets[4].fwds[0].host_port, 2222);
	cli_release(&cmd);
}
END_TEST

/* A flag's interface comes after the file's, under a free ethN. */
START_TEST(net_flags_after_file)
{
	static const char *const args[] = {
		"run", "--net", "user,hostfwd=tcp::2222-:22", "--config", "vm.json", NULL,
	};
	struct cli_cmd cmd;
	char err[512] = "";
	const struct vm_config *c = &cmd.config;

	write_file("vm.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"},"
		   " \"network-interfaces\": [{\"iface_id\": \"eth1\", \"mote\": {\"backend\":"
		   " \"user\", \"hostfwd\": [\"tcp::8080-:80\"]}}]}");
	ck_assert_msg(parse(args, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(c->nnets, 2);
	ck_assert_str_eq(c->nets[0].id, "eth1");
	ck_assert_int_eq(c->nets[0].from, CONFIG_FROM_FILE);
	ck_assert_str_eq(c->nets[1].id, "eth2");
	ck_assert_int_eq(c->nets[1].from, CONFIG_FROM_CLI);
	cli_release(&cmd);
	/* The same host port from the flag clashes with the file's. */
	ck_assert_int_eq(parse((const char *[]){ "run", "--config", "vm.json", "--net",
						 "user,hostfwd=tcp:127.0.0.1:8080-:81", NULL },
			       &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: --net hostfwd=tcp:127.0.0.1:8080-:81: host port 8080 "
			 "already forwarded by interface 'eth1'");
	cli_release(&cmd);
}
END_TEST

/* The 17th device is refused as its flag is applied: a huge argv of
 * --drive flags ends at once, not after a search per flag. */
START_TEST(seventeenth_device_refused_fast)
{
	const int n = 100000;
	char **argv = calloc((size_t)n * 2 + 8, sizeof(*argv)), err[512] = "";
	struct cli_cmd cmd;
	int argc = 0;

	argv[argc++] = "mote";
	argv[argc++] = "run";
	argv[argc++] = "--kernel";
	argv[argc++] = "k";
	for (int i = 0; i < n; i++) {
		argv[argc++] = "--drive";
		argv[argc++] = "d.img,ro";
	}
	ck_assert_int_eq(cli_parse(argc, argv, MAX_CPUS, &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: --drive d.img,ro: too many devices: at most 16 drives "
			 "and network interfaces in all");
	ck_assert_uint_eq(cmd.config.ndrives, 16);
	cli_release(&cmd);
	/* After 16 drives, an interface or a root drive is one too many;
	 * a --rootfs that replaces one is not. */
	argc = 4 + 2 * 16;
	argv[argc++] = "--net";
	argv[argc++] = "user";
	argv[argc] = NULL;
	ck_assert_int_eq(cli_parse(argc, argv, MAX_CPUS, &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: --net user: too many devices: at most 16 drives "
			 "and network interfaces in all");
	cli_release(&cmd);
	argv[argc - 2] = "--rootfs";
	argv[argc - 1] = "root.img";
	ck_assert_int_eq(cli_parse(argc, argv, MAX_CPUS, &cmd, err, sizeof(err)), CLI_EXIT_USAGE);
	ck_assert_str_eq(err, "mote: --rootfs root.img: too many devices: at most 16 drives "
			 "and network interfaces in all");
	cli_release(&cmd);
	argc = 4;
	for (int i = 0; i < n; i++) {
		argv[argc++] = "--rootfs";
		argv[argc++] = "root.img";
	}
	argv[argc] = NULL;
	ck_assert_msg(cli_parse(argc, argv, MAX_CPUS, &cmd, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cmd.config.ndrives, 1);
	cli_release(&cmd);
	free(argv);
}
END_TEST

/* 16 drives, then an interface: the 17th device. */
static void write_sixteen_drives(const char *path)
{
	char text[4096];
	size_t len = (size_t)snprintf(text, sizeof(text), "{\"boot-source\": "
				      "{\"kernel_image_path\": \"k\"}, \"drives\": [");

	for (int i = 0; i < 16; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s{\"drive_id\": \"d%d\","
					" \"path_on_host\": \"d.img\", \"is_read_only\": true}",
					i ? ", " : "", i);
	snprintf(text + len, sizeof(text) - len, "], \"network-interfaces\": [{\"iface_id\":"
		 " \"eth0\", \"mote\": {\"backend\": \"user\"}}]}");
	write_file(path, text);
}

/* ---- scratch directory ---- */

static const char *const scratch_files[] = {
	"k", "k2", "d.img", "e.img", "root.img",
};

static void make_scratch(char *dir)
{
	if (!mkdtemp(dir) || chdir(dir) < 0) {
		perror(dir);
		exit(1);
	}
	for (size_t i = 0; i < sizeof(scratch_files) / sizeof(*scratch_files); i++) {
		int fd = open(scratch_files[i], O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || ftruncate(fd, 4096) < 0)
			exit(1);
		close(fd);
	}
	if (mkdir("dir", 0755) < 0 || mkfifo("fifo", 0644) < 0)
		exit(1);
	write_file("turbo.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"},\n"
		   " \"machine-config\": {\"vcpu_count\": 2, \"turbo\": true}}");
	write_file("nokernel.json", "{\"machine-config\": {\"vcpu_count\": 2}}");
	write_file("cpus0.json", "{\"boot-source\": {\"kernel_image_path\": \"k\"},"
		   " \"machine-config\": {\"vcpu_count\": 0}}");
	write_file("badkernel.json", "{\"boot-source\": {\"kernel_image_path\": \"/x\"}}");
	write_sixteen_drives("net17.json");
}

static void remove_scratch(const char *dir)
{
	static const char *const more[] = {
		"turbo.json", "nokernel.json", "cpus0.json", "badkernel.json", "vm.json",
		"good.json", "min.json", "net17.json", "fifo",
	};

	for (size_t i = 0; i < sizeof(scratch_files) / sizeof(*scratch_files); i++)
		unlink(scratch_files[i]);
	for (size_t i = 0; i < sizeof(more) / sizeof(*more); i++)
		unlink(more[i]);
	rmdir("dir");
	if (chdir("/") == 0)
		rmdir(dir);
}

int main(void)
{
	char dir[] = "/tmp/mote-test-cli-XXXXXX";
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");
	SRunner *sr;
	int failed;

	make_scratch(dir);
	tcase_add_loop_test(tc, bad_flag_rejected, 0, sizeof(bad) / sizeof(*bad));
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, run_flags);
	tcase_add_test(tc, flags_override_file);
	tcase_add_test(tc, ephemeral_flag);
	tcase_add_test(tc, file_errors_name_the_flag_that_overrode);
	tcase_add_test(tc, validate_ok);
	tcase_add_test(tc, cli_and_file_share_defaults);
	tcase_add_test(tc, mem_sizes_accepted);
	tcase_add_test(tc, net_flags);
	tcase_add_test(tc, net_flags_after_file);
	tcase_add_test(tc, seventeenth_device_refused_fast);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_scratch(dir);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
