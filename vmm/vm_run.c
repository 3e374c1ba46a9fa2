/*
 * Running a VM: vCPU threads in KVM_RUN, the event loop on the calling
 * thread for devices, signals and the timeout, and an orderly stop.
 */
#include "vmm/config.h"
#include "vmm/devices.h"
#include "vmm/log.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

struct run_fds {
	int sigfd;
	int timerfd;
	struct vm *vm;
};

static void on_signal(void *opaque, uint32_t events)
{
	struct run_fds *f = opaque;
	struct signalfd_siginfo si;

	if (read(f->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	char msg[64];
	snprintf(msg, sizeof(msg), "stopped by %s", strsignal((int)si.ssi_signo));
	vm_request_stop(f->vm, STOP_SIGNAL, 128 + (int)si.ssi_signo, msg);
}

static void on_timeout(void *opaque, uint32_t events)
{
	struct run_fds *f = opaque;
	char msg[64];

	snprintf(msg, sizeof(msg), "timed out after %g s", f->vm->cfg->timeout_s);
	vm_request_stop(f->vm, STOP_TIMEOUT, 124, msg);
}

/* SIGINT, SIGTERM and SIGHUP arrive as events; they are blocked in every
 * thread (see vm_block_signals) so only the signalfd sees them. */
static int watch_signals(struct run_fds *f)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	f->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (f->sigfd < 0)
		return -errno;
	return evloop_add(&f->vm->loop, f->sigfd, EPOLLIN, on_signal, f);
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

void vm_block_signals(void)
{
	struct sigaction sa;
	sigset_t set;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;   /* no SA_RESTART: KVM_RUN must return */
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void stop_vcpus(struct vm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		vcpu_join(&vm->vcpus[i]);
		if (vm->cfg->debug)
			vcpu_dump(&vm->vcpus[i]);
	}
}

static void close_run_fds(struct run_fds *f)
{
	if (f->sigfd >= 0) {
		evloop_del(&f->vm->loop, f->sigfd);
		close(f->sigfd);
	}
	if (f->timerfd >= 0) {
		evloop_del(&f->vm->loop, f->timerfd);
		close(f->timerfd);
	}
}

static int start(struct vm *vm, struct run_fds *f)
{
	int r = watch_signals(f);

	if (!r)
		r = watch_timeout(f);
	if (!r)
		r = devices_start(vm);
	for (unsigned i = 0; !r && i < vm->ncpus; i++)
		r = vcpu_start(&vm->vcpus[i]);
	return r;
}

int vm_run(struct vm *vm)
{
	struct run_fds f = { .sigfd = -1, .timerfd = -1, .vm = vm };
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
	close_run_fds(&f);
	devices_restore_tty(vm);
	if (vm->st.reason == STOP_ERROR && vm->st.message[0])
		log_err("%s", vm->st.message);
	return vm->st.status;
}
