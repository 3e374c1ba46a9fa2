/*
 * The command line: the input is argv (after argv[0]), one argument per
 * NUL-terminated piece, parsed and validated by cli_parse as mote's main
 * does. Paths are confined to a private temporary directory (every '/'
 * becomes '_' before parsing), which holds the files the seed corpus
 * names: a kernel, an initrd, disk images, a directory, a FIFO, and
 * vm.json, a valid config for --config and validate.
 */
#include "tests/fuzz/fuzz.h"
#include "vmm/config/cli.h"

#define MAX_ARGS 4096

static const char vm_json[] =
	"{ \"boot-source\": { \"kernel_image_path\": \"vmlinuz\", \"initrd_path\": \"initrd.gz\","
	" \"boot_args\": \"console=ttyS0 quiet\" },"
	" \"drives\": [ { \"drive_id\": \"rootfs\", \"path_on_host\": \"rootfs.ext4\","
	" \"is_root_device\": true, \"is_read_only\": false } ],"
	" \"machine-config\": { \"vcpu_count\": 2, \"mem_size_mib\": 128 } }";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_enter_tmpdir();
	fz_file("vmlinuz", 4096, 'k', 0644);
	fz_file("initrd.gz", 512, 'i', 0644);
	fz_file("rootfs.ext4", 8192, 0, 0644);
	fz_file("data.img", 8192, 0, 0644);
	fz_file("ro.img", 8192, 0, 0444);
	mkdir("dir", 0755);
	mkfifo("fifo", 0644);
	FILE *f = fopen("vm.json", "w");
	if (!f || fputs(vm_json, f) < 0 || fclose(f) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	char **argv = calloc(MAX_ARGS + 2, sizeof(*argv));
	char err[1024] = "";
	struct cli_cmd cmd;
	int argc = 1;

	if (!buf || !argv) {
		free(buf);
		free(argv);
		return 0;
	}
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (size_t i = 0; i < size; i++)
		if (buf[i] == '/')
			buf[i] = '_';
	argv[0] = "mote";
	/* Pieces between NULs; the last one needs no terminator. */
	for (size_t at = 0; size && at <= size && argc <= MAX_ARGS;) {
		argv[argc++] = buf + at;
		at += strlen(buf + at) + 1;
	}
	argv[argc] = NULL;
	int r = cli_parse(argc, argv, 0, &cmd, err, sizeof(err));
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_cli: %s\n", r ? err : "ok");
	FZ_CHECK(r == 0 || r == CLI_EXIT_USAGE || r == 1);
	FZ_CHECK(r == 0 || strncmp(err, "mote", 4) == 0);
	FZ_CHECK(!strpbrk(err, "\n\r\x1b"));   /* one line, no escapes */
	if (r == 0 && (cmd.command == CLI_RUN || cmd.command == CLI_VALIDATE)) {
		char *line = config_kernel_cmdline(&cmd.config);
		FZ_CHECK(line && strlen(line) < CONFIG_CMDLINE_MAX);
		free(line);
	}
	cli_release(&cmd);
	free(argv);
	free(buf);
	return 0;
}
