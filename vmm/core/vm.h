/*
 * The VM object: owns /dev/kvm's fds, guest RAM, the buses, the event loop,
 * the vCPUs and the devices. Everything mote allocates for a VM hangs off
 * this struct and is released by vm_release(), in reverse order of setup.
 */
#ifndef MOTE_VM_H
#define MOTE_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/base/bus.h"
#include "vmm/base/evloop.h"
#include "vmm/base/gmem.h"
#include "vmm/base/stop.h"
#include "vmm/core/vcpu.h"

struct arch_vm;
struct vm_config;
struct vm_devices;

/* Where the serial console goes: in_fd is read (-1: no input), guest
 * output goes to sink if set, else to out_fd (-1: discarded). fds are not
 * owned. The sink has devices/console.h's console_sink_fn contract. */
struct vm_io {
	int in_fd, out_fd;
	void (*sink)(void *opaque, const uint8_t *buf, size_t len);
	void *sink_opaque;
};

/* mote's status when a VM given a job ends without the job's status:
 * poweroff, reboot, panic or a triple fault before the exit device. */
#define VM_STATUS_NO_JOB_STATUS 125

/* The steps of a run that mote times (the result's timeline). */
enum vm_mark {
	VM_MARK_BUILT,          /* vm_create finished */
	VM_MARK_FIRST_RUN,      /* vCPU 0's first KVM_RUN */
	VM_MARK_FIRST_CONSOLE,  /* the first byte on the serial console */
	VM_MARK_KERNEL_INIT,    /* the kernel printed "Run /init as init process" */
	VM_MARK_GUEST_READY,    /* the guest's init wrote the boot timer */
	VM_MARK_JOB_START,      /* ... and again as its job started */
	VM_MARK_JOB_END,        /* the job's status reached the exit device */
	VM_NMARKS
};

struct vm_stop_state {
	pthread_mutex_t lock;
	enum stop_reason reason;  /* STOP_NONE while running */
	int status;               /* mote's exit status */
	char message[256];        /* for STOP_ERROR */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd;
	int run_size;
	struct gmem mem;
	void *ram;                /* one reservation: low RAM, then high RAM */
	uint64_t ram_size;
	struct bus pio, mmio;
	struct evloop loop;
	unsigned ncpus;
	struct vcpu *vcpus;
	struct vcpu_env vcpu_env; /* what the vcpus see of this VM */
	struct vm_devices *devs;
	struct stop_hook stop;    /* what devices call; points at this VM */
	struct vm_stop_state st;
	int init_done;            /* how many vm_steps[] ran, for unwinding */
	struct arch_vm *arch;     /* the architecture's state (vmm/core/arch.h) */
	uint64_t boot_ns;         /* CLOCK_MONOTONIC at vm_create */
	uint64_t marks[VM_NMARKS]; /* CLOCK_MONOTONIC of each step; 0: not
				    * reached. Atomic; see vm_mark. */
	int64_t startup_cpu_us;   /* the process's CPU time at the first
				   * KVM_RUN; -1: not measured */
	bool panicked;            /* the guest kernel printed a panic. Atomic. */
	struct vm_io io;
};

/*
 * Build a VM from a validated config: KVM, memory, devices, boot image.
 * io is copied; NULL means stdin and stdout. On failure returns -errno
 * with one line in err; nothing is left behind.
 */
int vm_create(struct vm *vm, const struct vm_config *cfg, const struct vm_io *io,
	      char *err, size_t errlen) __attribute__((warn_unused_result));

/* Run until the guest, the timeout or vm_request_stop() ends it; the
 * event loop runs on the calling thread. Returns mote's exit status.
 * With cfg->seccomp on, each vCPU thread and the calling thread load
 * their filters (vmm/core/seccomp.h; seccomp_prepare() must have run), so
 * the calling thread can do little else afterwards. */
int vm_run(struct vm *vm);

/* Install the vCPU kick handler (VCPU_KICK_SIGNAL, no SA_RESTART) unless
 * the process already has another handler for it: then -EBUSY. */
int vm_setup_kick_signal(void) __attribute__((warn_unused_result));

/* End the VM from any thread (first request wins). */
void vm_request_stop(struct vm *vm, enum stop_reason why, int status, const char *msg);

void vm_release(struct vm *vm);

/* Record now as the time of step m, unless it already has one. Any
 * thread; lock-free. */
void vm_mark(struct vm *vm, enum vm_mark m);

#endif
