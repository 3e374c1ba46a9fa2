/*
 * The JSON config loader and the validator: the input is a config file
 * (Firecracker's schema plus mote's keys), loaded with config_json_loads
 * and, if it loads, validated and turned into a kernel command line.
 *
 * The validator opens and stats the paths a config names: every path is
 * confined to a private temporary directory first (fz_confine), which
 * holds a kernel, an initrd, disk images (one read-only), a directory and
 * a FIFO under the names the seed corpus uses.
 */
#include "tests/fuzz/fuzz.h"
#include "vmm/config/config.h"

#include <errno.h>

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
	return 0;
}

static void confine_all(struct vm_config *c)
{
	fz_confine(c->kernel);
	fz_confine(c->initrd);
	fz_confine(c->console_log);
	fz_confine(c->result_path);
	fz_confine(c->log_path);
	fz_confine(c->metrics_path);
	for (size_t i = 0; i < c->ndrives; i++)
		fz_confine(c->drives[i].path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char err[512] = "";
	struct vm_config c;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	config_init(&c);
	int r = config_json_loads(&c, "vm.json", text, err, sizeof(err));
	free(text);
	FZ_CHECK(r == 0 || err[0]);   /* a refusal always says why */
	FZ_CHECK(!strpbrk(err, "\n\r\x1b"));   /* on one line, no escapes */
	FZ_CHECK(c.ndrives + c.nnets <= CONFIG_MAX_DEVICES);
	if (r == 0) {
		confine_all(&c);
		err[0] = '\0';
		r = config_validate(&c, 0, err, sizeof(err));
		FZ_CHECK(r == 0 || err[0]);
		FZ_CHECK(!strpbrk(err, "\n\r\x1b"));
	}
	/* To see what a corpus file does: FUZZ_VERBOSE=1 fuzz_config FILE. */
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_config: %s\n", r ? err : "ok");
	if (r == 0) {
		char *line = config_kernel_cmdline(&c);
		FZ_CHECK(line && strlen(line) < CONFIG_CMDLINE_MAX);
		free(line);
	}
	config_release(&c);
	return 0;
}
