#!/bin/bash
# libmote from a program of our own (built here against libmote.so): two
# VMs at once in one process (B boots while A's job runs; booting both at
# the same instant has crashed the sandbox's own kernel), each console
# callback seeing only its own guest; B stopped with mote_vm_stop() from
# its console callback (reason stopped, 143), A from the main thread with
# mote_vm_stop_signal(SIGINT) (reason signal, 130; a later stop changes
# nothing); mote_vm_fd() readable once each VM ends; mote_vm_result()
# -EBUSY while a VM runs; a second mote_vm_start() -EALREADY.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
LIBDIR=$(cd "$(dirname "$MOTE")" && pwd)
[ -e "$LIBDIR/libmote.so" ] || { fail "$LIBDIR/libmote.so is missing (make all)"; exit 1; }

PROG=$T_OUT/lib-api
cat >"$PROG.c" <<'C'
#define _GNU_SOURCE
#include <mote.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CAP (1u << 20)

struct cap {
	struct mote_vm *vm;
	char *buf;
	size_t len;
	const char *mark;     /* when this shows up on the console... */
	int notify_fd;        /* ...write a byte here, if >= 0 */
	int stop;             /* ...and stop the VM from the callback */
	int seen;
};

static void on_console(void *opaque, const char *data, size_t len)
{
	struct cap *c = opaque;
	size_t n = len < CAP - c->len ? len : CAP - c->len;
	size_t from = c->len > 64 ? c->len - 64 : 0;

	memcpy(c->buf + c->len, data, n);
	c->len += n;
	if (c->seen || !memmem(c->buf + from, c->len - from, c->mark, strlen(c->mark)))
		return;
	c->seen = 1;
	if (c->notify_fd >= 0 && write(c->notify_fd, "x", 1) != 1)
		fprintf(stderr, "lib-api: notify failed\n");
	if (c->stop)
		mote_vm_stop(c->vm);
}

static struct mote_vm *make(char **argv, const char *const *job, const char *result,
			    struct cap *c)
{
	struct mote_config *cfg = mote_config_new();
	char err[512] = "";
	struct mote_vm *vm;

	if (!cfg || mote_config_set_kernel(cfg, argv[1]) || mote_config_set_initrd(cfg, argv[2]) ||
	    mote_config_set_job(cfg, job) || mote_config_set_result_file(cfg, result)) {
		fprintf(stderr, "lib-api: config failed\n");
		exit(2);
	}
	vm = mote_vm_create(cfg, err, sizeof(err));
	mote_config_free(cfg);
	c->buf = malloc(CAP);
	if (!vm || !c->buf) {
		fprintf(stderr, "lib-api: create: %s\n", err);
		exit(2);
	}
	c->vm = vm;
	if (mote_vm_set_console_callback(vm, on_console, c)) {
		fprintf(stderr, "lib-api: set_console_callback failed\n");
		exit(2);
	}
	return vm;
}

/* Wait until fd is readable; 0 if poll failed. */
static int readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			return 0;
	return (p.revents & POLLIN) != 0;
}

static void report(const char *name, struct mote_vm *vm, int status, struct cap *c,
		   const char *file)
{
	struct mote_result res;
	FILE *f = fopen(file, "w");

	if (mote_vm_result(vm, &res) == 0)
		printf("lib-api: %s status %d wait %d reason %s\n", name, res.status, status,
		       mote_reason_name(res.reason));
	else
		printf("lib-api: %s no result after wait\n", name);
	if (f) {
		fwrite(c->buf, 1, c->len, f);
		fclose(f);
	}
}

/*
 * A boots and sleeps; once its job has spoken, B boots (so both run at
 * once, but only one boots at a time) and is stopped by its own console
 * callback when its job speaks; then A is stopped from this thread with
 * SIGINT's reason while it still runs.
 */
int main(int argc, char **argv)
{
	static const char *const job_a[] = { "sh", "-c", "echo vm-a-$((40 + 2)); sleep 1000", NULL };
	static const char *const job_b[] = { "sh", "-c", "echo vm-b-$((40 + 2)); sleep 1000", NULL };
	struct cap a = { .mark = "vm-a-42", .notify_fd = -1 };
	struct cap b = { .mark = "vm-b-42", .notify_fd = -1, .stop = 1 };
	struct mote_result res;
	struct mote_vm *va, *vb;
	int pipefd[2], sa, sb;
	char x;

	if (argc != 7) {
		fprintf(stderr, "usage: lib-api KERNEL INITRD RES_A RES_B CON_A CON_B\n");
		return 2;
	}
	if (pipe(pipefd)) {
		perror("lib-api: pipe");
		return 2;
	}
	a.notify_fd = pipefd[1];
	va = make(argv, job_a, argv[3], &a);
	vb = make(argv, job_b, argv[4], &b);
	if (mote_vm_start(va)) {
		fprintf(stderr, "lib-api: start A failed\n");
		return 2;
	}
	printf("lib-api: running result %s\n", mote_vm_result(va, &res) == -EBUSY ? "EBUSY" : "other");
	printf("lib-api: start again %s\n", mote_vm_start(va) == -EALREADY ? "EALREADY" : "other");
	fflush(stdout);
	if (!readable(pipefd[0]) || read(pipefd[0], &x, 1) != 1) {
		fprintf(stderr, "lib-api: A's job never spoke\n");
		mote_vm_free(va);
		return 2;
	}
	if (mote_vm_start(vb)) {
		fprintf(stderr, "lib-api: start B failed\n");
		return 2;
	}
	printf("lib-api: B fd readable %d\n", readable(mote_vm_fd(vb)));
	sb = mote_vm_wait(vb);
	printf("lib-api: A still running %s\n", mote_vm_result(va, &res) == -EBUSY ? "yes" : "no");
	mote_vm_stop_signal(va, SIGINT);
	mote_vm_stop(va);   /* the first reason wins */
	printf("lib-api: A fd readable %d\n", readable(mote_vm_fd(va)));
	sa = mote_vm_wait(va);
	mote_vm_stop(vb);   /* after the end: ignored */
	report("A", va, sa, &a, argv[5]);
	report("B", vb, sb, &b, argv[6]);
	printf("lib-api: B stopped from its callback %d\n", b.seen);
	mote_vm_free(va);
	mote_vm_free(vb);
	free(a.buf);
	free(b.buf);
	return 0;
}
C
if ! cc -std=gnu11 -Wall -Wextra -Werror -I"$TOP/vmm/api" -o "$PROG" "$PROG.c" \
	-L"$LIBDIR" -lmote -Wl,-rpath,"$LIBDIR" >"$T_OUT/cc.log" 2>&1; then
	fail "the test program does not build against libmote"
	show_tail "$T_OUT/cc.log"
	exit 1
fi

RES_A=$T_OUT/a.json
RES_B=$T_OUT/b.json
CON_A=$T_OUT/console-a
CON_B=$T_OUT/console-b
BG_TIMEOUT=$((2 * BOOT_TIMEOUT))
bg_exec "$PROG" "$KERNEL" "$INITRD" "$RES_A" "$RES_B" "$CON_A" "$CON_B"
bg_wait
expect_status 0
if [ -s "$STDERR" ]; then show_tail "$STDERR" 5; fi
expect_console '^lib-api: running result EBUSY$'
expect_console '^lib-api: start again EALREADY$'
expect_console '^lib-api: B fd readable 1$'
expect_console '^lib-api: A still running yes$'
expect_console '^lib-api: A fd readable 1$'
expect_console '^lib-api: A status 130 wait 130 reason signal$'
expect_console '^lib-api: B status 143 wait 143 reason stopped$'
expect_console '^lib-api: B stopped from its callback 1$'
expect_result_file "$RES_A"
expect_result "$RES_A" reason signal
expect_result "$RES_A" status 130
expect_result_file "$RES_B"
expect_result "$RES_B" reason stopped
expect_result "$RES_B" status 143

# Each callback saw its own guest only.
for f in "$CON_A" "$CON_B"; do tr -d '\r' <"$f" >"$f.txt"; done
grep -q '^mote guest: kernel ' "$CON_A.txt" || fail "A's callback missed A's banner"
grep -q '^vm-a-42$' "$CON_A.txt" || fail "A's callback missed A's job line"
! grep -q 'vm-b-' "$CON_A.txt" || fail "A's callback saw B's output"
grep -q '^mote guest: kernel ' "$CON_B.txt" || fail "B's callback missed B's banner"
grep -q '^vm-b-42$' "$CON_B.txt" || fail "B's callback missed B's job line"
! grep -q 'vm-a-' "$CON_B.txt" || fail "B's callback saw A's output"
! grep -q '^mote-job-status:' "$CON_A.txt" "$CON_B.txt" || fail "a job ended by itself"
