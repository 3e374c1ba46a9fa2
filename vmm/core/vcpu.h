/*
 * vCPUs: one KVM vCPU and one thread each. The thread runs KVM_RUN and turns
 * each exit into one bus access; anything it cannot handle stops the VM
 * with the exit's reason.
 */
#ifndef MOTE_VCPU_H
#define MOTE_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/stop.h"

struct arch_vm;
struct bus;
struct gmem;
struct kvm_run;

/* What a vCPU needs of its VM; owned by the VM, shared by its vCPUs. */
struct vcpu_env {
	int vm_fd;
	size_t run_size;                 /* of each struct kvm_run mapping */
	unsigned ncpus;
	struct bus *pio, *mmio;
	const struct gmem *mem;
	const struct arch_vm *arch;      /* the VM's, for arch_vcpu_init */
	/* End the VM (first request wins); has it been asked to end? */
	void (*stop)(void *opaque, enum stop_reason why, int status, const char *msg);
	bool (*stopping)(void *opaque);
	/* vCPU 0 is about to enter the guest for the first time (before its
	 * seccomp filter, so it may measure); NULL: nothing to do. */
	void (*first_run)(void *opaque);
	void *opaque;
	int seccomp;       /* enum config_seccomp: each thread filters itself */
};

struct vcpu {
	const struct vcpu_env *env;
	unsigned id;           /* KVM's vCPU id (x86: also its APIC ID) */
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/* Create vCPU id and give it the architecture's reset state
 * (arch_vcpu_init: on x86 CPUID, MSRs, FPU and LAPIC). */
int vcpu_init(struct vcpu *c, const struct vcpu_env *env, unsigned id)
	__attribute__((warn_unused_result));
/* Start the vCPU's thread. */
int vcpu_start(struct vcpu *c) __attribute__((warn_unused_result));
/* Make a running vCPU leave KVM_RUN and its loop; returns at once. */
void vcpu_kick(struct vcpu *c);
/* Wait for the thread to leave its loop (after vcpu_kick). */
void vcpu_join(struct vcpu *c);
/* Log the vCPU's main registers (debug aid; the thread must be stopped). */
void vcpu_dump(struct vcpu *c);
/* Join if needed and release everything. */
void vcpu_release(struct vcpu *c);

/* The signal used to kick vCPU threads out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

#endif
