/*
 * vCPU threads and the generic half of exit handling: MMIO to the MMIO
 * bus, system events, KVM's failures. Exits only one architecture has
 * (x86's port I/O, its triple fault) go to arch_vcpu_exit.
 */
#include "vmm/core/vcpu.h"
#include "vmm/core/arch.h"
#include "vmm/core/kvm.h"
#include "vmm/core/seccomp.h"
#include "vmm/base/bus.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int vcpu_init(struct vcpu *c, const struct vcpu_env *env, unsigned id)
{
	memset(c, 0, sizeof(*c));
	c->env = env;
	c->id = id;
	c->fd = KVM_IOCTL(env->vm_fd, KVM_CREATE_VCPU, id);
	if (c->fd < 0)
		return c->fd;
	c->run_size = env->run_size;
	c->run = mmap(NULL, c->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		int err = -errno;
		c->run = NULL;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	return arch_vcpu_init(c);
}

static void handle_mmio(struct vcpu *c)
{
	struct kvm_run *r = c->run;
	unsigned len = r->mmio.len;

	if (len == 0 || len > sizeof(r->mmio.data))
		return;
	if (r->mmio.is_write)
		bus_write(c->env->mmio, r->mmio.phys_addr, r->mmio.data, len);
	else
		bus_read(c->env->mmio, r->mmio.phys_addr, r->mmio.data, len);
}

static void handle_system_event(struct vcpu *c)
{
	switch (c->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		c->env->stop(c->env->opaque, STOP_POWEROFF, 0, NULL);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		c->env->stop(c->env->opaque, STOP_REBOOT, 0, NULL);
		break;
	default: {
		char msg[64];
		snprintf(msg, sizeof(msg), "vCPU %u: system event %u", c->id,
			 c->run->system_event.type);
		c->env->stop(c->env->opaque, STOP_ERROR, 1, msg);
	}
	}
}

static void stop_with_error(struct vcpu *c, const char *what)
{
	char msg[160];
	struct kvm_run *r = c->run;

	if (r->exit_reason == KVM_EXIT_FAIL_ENTRY)
		snprintf(msg, sizeof(msg), "vCPU %u: %s (hardware reason 0x%llx)", c->id,
			 what, (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
	else if (r->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(msg, sizeof(msg), "vCPU %u: %s (suberror %u)", c->id, what,
			 r->internal.suberror);
	else
		snprintf(msg, sizeof(msg), "vCPU %u: %s (exit reason %u)", c->id, what,
			 r->exit_reason);
	c->env->stop(c->env->opaque, STOP_ERROR, 1, msg);
}

/* Returns false when the loop must end. */
static bool handle_exit(struct vcpu *c)
{
	switch (c->run->exit_reason) {
	case KVM_EXIT_MMIO:
		handle_mmio(c);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(c);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		stop_with_error(c, "KVM could not enter the guest");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		stop_with_error(c, "KVM internal error");
		return false;
	}
	switch (arch_vcpu_exit(c)) {
	case ARCH_EXIT_CONTINUE:
		return true;
	case ARCH_EXIT_STOPPED:
		return false;
	default:
		stop_with_error(c, "unexpected exit");
		return false;
	}
}

static bool stopping(struct vcpu *c)
{
	return c->env->stopping(c->env->opaque);
}

/* Before the first KVM_RUN, so the guest never runs unfiltered. */
static bool filter_self(struct vcpu *c)
{
	int err = seccomp_apply(SECCOMP_VCPU, (enum config_seccomp)c->env->seccomp);
	char msg[96];

	if (!err)
		return true;
	snprintf(msg, sizeof(msg), "vCPU %u: loading its seccomp filter: %s", c->id,
		 strerror(-err));
	c->env->stop(c->env->opaque, STOP_ERROR, 1, msg);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	char name[16];
	sigset_t kick;

	snprintf(name, sizeof(name), "vcpu%u", c->id);
	pthread_setname_np(pthread_self(), name);
	/* Only vCPU threads take the kick signal; others keep it blocked. */
	sigemptyset(&kick);
	sigaddset(&kick, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
	if (c->id == 0 && c->env->first_run)
		c->env->first_run(c->env->opaque);
	if (!filter_self(c))
		return NULL;
	while (!stopping(c)) {
		int r = kvm_ioctl_raw(c->fd, KVM_RUN, 0);
		if (r == -EINTR || r == -EAGAIN) {
			/* Kicked: immediate_exit is re-armed by vcpu_kick only. */
			continue;
		}
		if (r < 0) {
			char msg[96];
			snprintf(msg, sizeof(msg), "vCPU %u: KVM_RUN: %s", c->id, strerror(-r));
			c->env->stop(c->env->opaque, STOP_ERROR, 1, msg);
			break;
		}
		if (!handle_exit(c))
			break;
	}
	return NULL;
}

/*
 * Below 2 MiB, so no transparent huge page can back the stack: with THP
 * "always" an 8 MiB default stack whose top sits in an aligned 2 MiB
 * range costs 2 MiB of RAM for a few KiB of use (measured: it was half of
 * mote's memory overhead). The deepest path, an MMIO exit into a device,
 * needs a few KiB.
 */
#define VCPU_STACK_SIZE (1u << 20)

int vcpu_start(struct vcpu *c)
{
	pthread_attr_t attr;
	int r = pthread_attr_init(&attr);

	if (r)
		return -r;
	r = pthread_attr_setstacksize(&attr, VCPU_STACK_SIZE);
	if (!r)
		r = pthread_create(&c->thread, &attr, vcpu_thread, c);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	c->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *c)
{
	/* immediate_exit covers a kick that lands just before KVM_RUN; the
	 * signal interrupts one already inside it. */
	__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (c->started)
		pthread_kill(c->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *c)
{
	if (c->started) {
		pthread_join(c->thread, NULL);
		c->started = false;
	}
}

void vcpu_dump(struct vcpu *c)
{
	arch_vcpu_dump(c);
}

void vcpu_release(struct vcpu *c)
{
	vcpu_join(c);
	if (c->run)
		munmap(c->run, c->run_size);
	if (c->fd >= 0)
		close(c->fd);
	c->run = NULL;
	c->fd = -1;
}
