/*
 * Running a VM: vCPU threads in KVM_RUN, the event loop on the calling
 * thread for devices and the timeout, and an orderly stop.
 */
#include "vmm/config/config.h"
#include "vmm/core/devices.h"
#include "vmm/base/log.h"
#include "vmm/core/seccomp.h"
#include "vmm/core/vcpu.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct run_fds {
	int timerfd;
	struct vm *vm;
};

static void on_timeout(void *opaque, uint32_t events)
{
	struct run_fds *f = opaque;
	char msg[64];

	snprintf(msg, sizeof(msg), "timed out after %g s", f->vm->cfg->timeout_s);
	vm_request_stop(f->vm, STOP_TIMEOUT, 124, msg);
}

static int watch_timeout(struct run_fds *f)
{
	double t = f->vm->cfg->timeout_s;

	if (t <= 0)
		return 0;
	f->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (f->timerfd < 0)
		return -errno;
	struct itimerspec its = { 0 };
	its.it_value.tv_sec = (time_t)t;
	its.it_value.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
	if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
		its.it_value.tv_nsec = 1;
	if (timerfd_settime(f->timerfd, 0, &its, NULL) < 0)
		return -errno;
	return evloop_add(&f->vm->loop, f->timerfd, EPOLLIN, on_timeout, f);
}

static void kick_handler(int sig)
{
}

/* Signals other than the kick are the embedding program's business (the
 * mote command watches SIGINT, SIGTERM and SIGHUP itself). */
int vm_setup_kick_signal(void)
{
	struct sigaction old, sa;

	if (sigaction(VCPU_KICK_SIGNAL, NULL, &old) < 0)
		return -errno;
	if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == kick_handler)
		return 0;
	/* Someone else's handler would be silently replaced: refuse. */
	if ((old.sa_flags & SA_SIGINFO) ||
	    (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN))
		return -EBUSY;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN must return */
	sigemptyset(&sa.sa_mask);
	return sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static void stop_vcpus(struct vm *vm)
{
	devices_stopping(vm);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		vcpu_join(&vm->vcpus[i]);
		if (vm->cfg->debug)
			vcpu_dump(&vm->vcpus[i]);
	}
}

/* Guest accesses no device claimed: harmless probing, but worth a look
 * when a guest misbehaves, so counted and shown with --debug only. */
static void log_unhandled(const struct bus *b)
{
	if (b->unhandled_reads || b->unhandled_writes)
		log_debug("%s: %llu unhandled reads, %llu unhandled writes, last at 0x%llx",
			  b->name, (unsigned long long)b->unhandled_reads,
			  (unsigned long long)b->unhandled_writes,
			  (unsigned long long)b->last_unhandled_addr);
}

static void close_run_fds(struct run_fds *f)
{
	if (f->timerfd >= 0) {
		evloop_del(&f->vm->loop, f->timerfd);
		close(f->timerfd);
	}
}

static int start(struct vm *vm, struct run_fds *f)
{
	int r = watch_timeout(f);

	if (!r)
		r = devices_start(vm);
	for (unsigned i = 0; !r && i < vm->ncpus; i++)
		r = vcpu_start(&vm->vcpus[i]);
	/* After the vCPU threads exist (they filter themselves), before the
	 * loop serves a single device request. */
	if (!r)
		r = seccomp_apply(SECCOMP_LOOP, vm->cfg->seccomp);
	return r;
}

int vm_run(struct vm *vm)
{
	struct run_fds f = { .timerfd = -1, .vm = vm };
	int r = start(vm, &f);

	if (r) {
		char msg[96];
		snprintf(msg, sizeof(msg), "starting the VM: %s", strerror(-r));
		vm_request_stop(vm, STOP_ERROR, 1, msg);
	} else {
		r = evloop_run(&vm->loop);
		if (r) {
			char msg[96];
			snprintf(msg, sizeof(msg), "event loop: %s", strerror(-r));
			vm_request_stop(vm, STOP_ERROR, 1, msg);
		}
	}
	stop_vcpus(vm);
	if (vm->cfg->debug) {
		log_unhandled(&vm->pio);
		log_unhandled(&vm->mmio);
	}
	close_run_fds(&f);
	devices_restore_tty(vm);
	return vm->st.status;
}
