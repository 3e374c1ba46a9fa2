/*
 * embed-example: a program that embeds libmote, using only <mote.h>.
 *
 *   embed-example [--timeout SECONDS] KERNEL INITRD [JOB ARGS...]
 *
 * Builds a config in code (KERNEL, INITRD, the job after them), captures
 * the guest's console through a callback, runs the VM to its end, then
 * prints what it captured followed by three summary lines:
 *
 *   embed-example: console-bytes N
 *   embed-example: reason guest-exit
 *   embed-example: status N
 *
 * and exits with the VM's status (2 on a usage or setup error).
 *
 * Build: cc embed-example.c $(pkg-config --cflags --libs mote)
 */
#include <mote.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPTURE_MAX (1u << 20)   /* keep at most this much console */

struct capture {
	char *buf;
	size_t len;
	size_t total;              /* every byte seen, kept or not */
};

/* Runs on one of the VM's threads, one call at a time. */
static void on_console(void *opaque, const char *data, size_t len)
{
	struct capture *c = opaque;
	size_t room = CAPTURE_MAX - c->len;
	size_t n = len < room ? len : room;

	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->total += len;
}

static struct mote_config *make_config(const char *kernel, const char *initrd,
				       char **job, double timeout)
{
	struct mote_config *cfg = mote_config_new();
	int r;

	if (!cfg)
		return NULL;
	r = mote_config_set_kernel(cfg, kernel);
	if (!r)
		r = mote_config_set_initrd(cfg, initrd);
	if (!r)
		r = mote_config_set_job(cfg, (const char *const *)job);
	if (!r)
		r = mote_config_set_timeout(cfg, timeout);
	if (r) {
		fprintf(stderr, "embed-example: config: %s\n", mote_strerror(r));
		mote_config_free(cfg);
		return NULL;
	}
	return cfg;
}

static int run(struct mote_config *cfg, struct capture *cap)
{
	struct mote_result res;
	char err[512];
	struct mote_vm *vm = mote_vm_create(cfg, err, sizeof(err));
	int status;

	if (!vm) {
		fprintf(stderr, "embed-example: %s\n", err);
		return 2;
	}
	if (mote_vm_set_console_callback(vm, on_console, cap) != 0) {
		mote_vm_free(vm);
		return 2;
	}
	status = mote_vm_run(vm);
	/* The callback has run for the last time once mote_vm_run returns. */
	fwrite(cap->buf, 1, cap->len, stdout);
	if (mote_vm_result(vm, &res) == 0) {
		printf("\nembed-example: console-bytes %zu\n", cap->total);
		printf("embed-example: reason %s\n", mote_reason_name(res.reason));
		printf("embed-example: status %d\n", res.status);
		if (res.reason == MOTE_REASON_ERROR)
			fprintf(stderr, "embed-example: %s\n", res.message);
	}
	mote_vm_free(vm);
	return status < 0 ? 2 : status;
}

int main(int argc, char **argv)
{
	struct capture cap = { 0 };
	double timeout = 0;
	int i = 1, status;

	if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
		timeout = atof(argv[2]);
		i = 3;
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: embed-example [--timeout SECONDS] KERNEL INITRD "
			"[JOB ARGS...]\n");
		return 2;
	}
	struct mote_config *cfg = make_config(argv[i], argv[i + 1], argv + i + 2, timeout);
	cap.buf = malloc(CAPTURE_MAX);
	if (!cfg || !cap.buf) {
		mote_config_free(cfg);
		free(cap.buf);
		return 2;
	}
	status = run(cfg, &cap);
	mote_config_free(cfg);
	free(cap.buf);
	return status;
}
