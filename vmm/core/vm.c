/*
 * VM construction and teardown as an explicit table of steps, run in order
 * and unwound in reverse, and the run loop: vCPU threads plus the event
 * loop on the calling thread. What differs between architectures is
 * behind vmm/core/arch.h's hooks.
 */
#include "vmm/core/vm.h"
#include "vmm/config/config.h"
#include "vmm/core/arch.h"
#include "vmm/core/devices.h"
#include "vmm/core/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A huge page (x86, and arm64 with 4 KiB pages): KVM maps RAM with them. */
#define RAM_ALIGN (2ull << 20)

static int step_kvm(struct vm *vm, char *err, size_t errlen)
{
	vm->kvm_fd = kvm_open("/dev/kvm", err, errlen);
	if (vm->kvm_fd < 0)
		return vm->kvm_fd;
	unsigned max = kvm_max_vcpus(vm->kvm_fd);
	if (vm->ncpus > max) {
		snprintf(err, errlen, "--cpus %u: this host's KVM allows at most %u",
			 vm->ncpus, max);
		return -EINVAL;
	}
	vm->run_size = kvm_run_size(vm->kvm_fd);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE returned %d", vm->run_size);
		return -EINVAL;
	}
	return 0;
}

static void undo_kvm(struct vm *vm)
{
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->kvm_fd = -1;
}

static int step_vm_fd(struct vm *vm, char *err, size_t errlen)
{
	vm->vm_fd = KVM_IOCTL_ERR(vm->kvm_fd, KVM_CREATE_VM, arch_vm_type(vm->kvm_fd), err,
				  errlen);
	if (vm->vm_fd < 0)
		return vm->vm_fd;
	return arch_vm_init(vm, err, errlen);
}

static void undo_vm_fd(struct vm *vm)
{
	arch_vm_release(vm);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
}

static int map_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	int e = KVM_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);

	if (e < 0)
		return e;
	return gmem_add(&vm->mem, gpa, size, host);
}

/* One reservation, given to KVM in the architecture's regions. */
static int step_memory(struct vm *vm, char *err, size_t errlen)
{
	uint64_t size = vm->cfg->mem_mib << 20, off = 0;
	struct arch_ram_region reg[ARCH_RAM_REGIONS_MAX];
	unsigned n = arch_ram_layout(size, reg);
	int r = 0;

	/* NORESERVE: guest RAM is committed page by page as the guest uses
	 * it. Aligned to 2 MiB so KVM can map it with huge pages. */
	vm->ram = gmem_map_aligned(size, RAM_ALIGN);
	if (!vm->ram) {
		snprintf(err, errlen, "--mem %llu MiB: cannot map guest RAM: %s",
			 (unsigned long long)vm->cfg->mem_mib, strerror(errno));
		return -ENOMEM;
	}
	vm->ram_size = size;
	/* Fewer EPT/NPT misses; a hint the host may ignore. */
	madvise(vm->ram, size, MADV_HUGEPAGE);
	for (unsigned i = 0; !r && i < n; off += reg[i].size, i++)
		r = map_slot(vm, i, reg[i].gpa, reg[i].size, (uint8_t *)vm->ram + off);
	if (r)
		snprintf(err, errlen, "cannot give guest RAM to KVM: %s", strerror(-r));
	return r;
}

static void undo_memory(struct vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	vm->ram = NULL;
	memset(&vm->mem, 0, sizeof(vm->mem));
}

static int step_buses(struct vm *vm, char *err, size_t errlen)
{
	bus_init(&vm->pio, "pio", 0xff);
	bus_init(&vm->mmio, "mmio", 0);
	int r = evloop_init(&vm->loop);
	if (r)
		snprintf(err, errlen, "event loop: %s", strerror(-r));
	return r;
}

static void undo_buses(struct vm *vm)
{
	evloop_release(&vm->loop);
	bus_release(&vm->pio);
	bus_release(&vm->mmio);
}

static int step_devices(struct vm *vm, char *err, size_t errlen)
{
	return devices_create(vm, err, errlen);
}

static void undo_devices(struct vm *vm)
{
	devices_release(vm);
}

static int step_boot(struct vm *vm, char *err, size_t errlen)
{
	return arch_load_guest(vm, err, errlen);
}

static int step_irqs(struct vm *vm, char *err, size_t errlen)
{
	return devices_wire_irqs(vm, err, errlen);
}

static void undo_nothing(struct vm *vm)
{
}

static void vcpu_stop_cb(void *opaque, enum stop_reason why, int status, const char *msg)
{
	vm_request_stop(opaque, why, status, msg);
}

static bool vcpu_stopping_cb(void *opaque)
{
	struct vm *vm = opaque;

	return __atomic_load_n(&vm->st.reason, __ATOMIC_ACQUIRE) != STOP_NONE;
}

/* mote's own start-up cost, as Firecracker states its own: the CPU the
 * process used from exec until the guest first runs. */
static void vcpu_first_run_cb(void *opaque)
{
	struct vm *vm = opaque;
	struct rusage ru;

	vm_mark(vm, VM_MARK_FIRST_RUN);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		vm->startup_cpu_us = (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
				     ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int step_vcpus(struct vm *vm, char *err, size_t errlen)
{
	vm->vcpus = calloc(vm->ncpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].fd = -1;
	vm->vcpu_env = (struct vcpu_env){
		.vm_fd = vm->vm_fd, .run_size = vm->run_size, .ncpus = vm->ncpus,
		.pio = &vm->pio, .mmio = &vm->mmio, .mem = &vm->mem, .arch = vm->arch,
		.stop = vcpu_stop_cb, .stopping = vcpu_stopping_cb,
		.first_run = vcpu_first_run_cb, .opaque = vm,
		.seccomp = vm->cfg->seccomp,
	};
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int r = vcpu_init(&vm->vcpus[i], &vm->vcpu_env, i);
		if (r) {
			snprintf(err, errlen, "creating vCPU %u: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void undo_vcpus(struct vm *vm)
{
	if (!vm->vcpus)
		return;
	for (unsigned i = 0; i < vm->ncpus; i++)
		vcpu_release(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
}

static const struct {
	const char *name;
	int (*init)(struct vm *vm, char *err, size_t errlen);
	void (*exit)(struct vm *vm);
} vm_steps[] = {
	{ "kvm", step_kvm, undo_kvm },
	{ "vm", step_vm_fd, undo_vm_fd },
	{ "memory", step_memory, undo_memory },
	{ "buses", step_buses, undo_buses },
	{ "devices", step_devices, undo_devices },
	{ "vcpus", step_vcpus, undo_vcpus },
	{ "boot", step_boot, undo_nothing },
	{ "interrupts", step_irqs, undo_nothing },
};
#define NSTEPS (sizeof(vm_steps) / sizeof(vm_steps[0]))

static void stop_hook_cb(void *opaque, enum stop_reason why, int status, const char *msg)
{
	vm_request_stop(opaque, why, status, msg);
}

int vm_create(struct vm *vm, const struct vm_config *cfg, const struct vm_io *io,
	      char *err, size_t errlen)
{
	struct timespec ts;

	memset(vm, 0, sizeof(*vm));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	vm->boot_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	vm->cfg = cfg;
	vm->io = io ? *io : (struct vm_io){ .in_fd = STDIN_FILENO, .out_fd = STDOUT_FILENO };
	vm->ncpus = cfg->cpus;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->loop.epfd = vm->loop.wakefd = -1;
	vm->stop = (struct stop_hook){ stop_hook_cb, vm };
	vm->startup_cpu_us = -1;
	pthread_mutex_init(&vm->st.lock, NULL);
	err[0] = 0;
	for (size_t i = 0; i < NSTEPS; i++) {
		int r = vm_steps[i].init(vm, err, errlen);
		vm->init_done = i + 1;
		if (r) {
			if (!err[0])
				snprintf(err, errlen, "%s: %s", vm_steps[i].name, strerror(-r));
			vm_release(vm);
			return r;
		}
	}
	vm_mark(vm, VM_MARK_BUILT);
	return 0;
}

void vm_release(struct vm *vm)
{
	devices_restore_tty(vm);
	while (vm->init_done > 0)
		vm_steps[--vm->init_done].exit(vm);
	pthread_mutex_destroy(&vm->st.lock);
}

/* A poweroff or reboot: how it is told, and whether it cost the job its
 * status. A VM given a job ends well only through the exit device; one
 * that powers off, reboots or panics first gives VM_STATUS_NO_JOB_STATUS,
 * so a CI job that never ran to the end is never taken for a pass. */
static int guest_end(struct vm *vm, enum stop_reason why, int status, const char *msg)
{
	bool job = config_has_job(vm->cfg);
	const char *what = msg ? msg : why == STOP_POWEROFF ? "guest powered off"
							    : "guest rebooted";

	if (__atomic_load_n(&vm->panicked, __ATOMIC_RELAXED))
		what = why == STOP_POWEROFF ? "guest kernel panicked, then powered off"
					    : "guest kernel panicked, then rebooted";
	snprintf(vm->st.message, sizeof(vm->st.message), "%s%s", what,
		 job ? " before its job reported a status" : "");
	return job ? VM_STATUS_NO_JOB_STATUS : status;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_mark(struct vm *vm, enum vm_mark m)
{
	uint64_t unset = 0;

	if (m < VM_NMARKS)
		__atomic_compare_exchange_n(&vm->marks[m], &unset, mono_ns(), false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void vm_request_stop(struct vm *vm, enum stop_reason why, int status, const char *msg)
{
	if (why == STOP_GUEST_EXIT)
		vm_mark(vm, VM_MARK_JOB_END);
	pthread_mutex_lock(&vm->st.lock);
	if (vm->st.reason == STOP_NONE) {
		vm->st.status = status;
		if (why == STOP_POWEROFF || why == STOP_REBOOT)
			vm->st.status = guest_end(vm, why, status, msg);
		else if (msg)
			snprintf(vm->st.message, sizeof(vm->st.message), "%s", msg);
		__atomic_store_n(&vm->st.reason, why, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&vm->st.lock);
	evloop_stop(&vm->loop);
}
