/*
 * arm64's VM: the IPA size KVM_CREATE_VM gets, the in-kernel GIC (v3, or
 * v2 when the host has none) with its regions at layout.h's addresses,
 * and the boot: the Image, the initrd and the device tree
 * (boot/arm64/loader.c) from devices_describe, the vCPUs' MPIDRs and the
 * GIC, then vCPU 0 at the kernel's entry.
 */
#include "boot/arm64/loader.h"
#include "vmm/base/log.h"
#include "vmm/config/config.h"
#include "vmm/core/arch.h"
#include "vmm/core/arm64/arm64.h"
#include "vmm/core/arm64/layout.h"
#include "vmm/core/devices.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVS 64

unsigned arm64_ipa_bits(int kvm_fd)
{
	int max = kvm_ioctl_raw(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);

	/* Without the capability only the default (type 0, 40 bits) exists;
	 * with it, a host with fewer bits refuses the default, so ask for
	 * what it has, up to the default. */
	if (max <= 0)
		return A64_IPA_BITS_DEFAULT;
	return max < A64_IPA_BITS_DEFAULT ? (unsigned)max : A64_IPA_BITS_DEFAULT;
}

unsigned long arch_vm_type(int kvm_fd)
{
	int max = kvm_ioctl_raw(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE);

	return max <= 0 ? 0 : KVM_VM_TYPE_ARM_IPA_SIZE(arm64_ipa_bits(kvm_fd));
}

static int gic_attr(int fd, uint32_t group, uint64_t attr, void *val, const char *what,
		    char *err, size_t errlen)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)val,
	};
	int r = kvm_ioctl_raw(fd, KVM_SET_DEVICE_ATTR, (unsigned long)&a);

	if (r < 0)
		snprintf(err, errlen, "GIC: %s: %s", what, strerror(-r));
	return r < 0 ? r : 0;
}

/* The distributor and the redistributors (v3) or CPU interface (v2). */
static int gic_regions(struct arch_vm *a, char *err, size_t errlen)
{
	uint64_t dist = A64_GIC_DIST, other = a->gic_version == 3 ? A64_GICV3_REDIST : A64_GICV2_CPU;
	uint64_t dist_attr = a->gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_DIST :
				KVM_VGIC_V2_ADDR_TYPE_DIST;
	uint64_t other_attr = a->gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_REDIST :
				 KVM_VGIC_V2_ADDR_TYPE_CPU;
	uint32_t nr_irqs = A64_NR_IRQS;
	int r = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, dist_attr, &dist,
			 "distributor address", err, errlen);

	if (!r)
		r = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, other_attr, &other,
			     a->gic_version == 3 ? "redistributor address" : "CPU interface address",
			     err, errlen);
	if (!r)
		r = gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr_irqs,
			     "number of interrupts", err, errlen);
	return r;
}

/* GICv3, else GICv2; each bounds the vCPU count (layout.h). */
static int create_gic(struct vm *vm, char *err, size_t errlen)
{
	struct arch_vm *a = vm->arch;
	struct kvm_create_device d = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
	int r = kvm_ioctl_raw(vm->vm_fd, KVM_CREATE_DEVICE, (unsigned long)&d);

	a->gic_version = 3;
	if (r == -ENODEV) {
		d = (struct kvm_create_device){ .type = KVM_DEV_TYPE_ARM_VGIC_V2 };
		r = kvm_ioctl_raw(vm->vm_fd, KVM_CREATE_DEVICE, (unsigned long)&d);
		a->gic_version = 2;
	}
	if (r < 0) {
		snprintf(err, errlen, "KVM_CREATE_DEVICE (in-kernel GIC): %s", strerror(-r));
		return r;
	}
	a->gic_fd = (int)d.fd;
	unsigned max = a->gic_version == 3 ? A64_GICV3_MAX_CPUS : A64_GICV2_MAX_CPUS;
	if (vm->ncpus > max) {
		snprintf(err, errlen, "--cpus %u: mote's arm64 machine (GICv%d) has room for %u",
			 vm->ncpus, a->gic_version, max);
		return -EINVAL;
	}
	return gic_regions(a, err, errlen);
}

static int check_ram(const struct vm *vm, unsigned ipa_bits, char *err, size_t errlen)
{
	uint64_t size = vm->cfg->mem_mib << 20, limit = 1ULL << ipa_bits;

	if (size > limit - A64_RAM) {
		snprintf(err, errlen, "--mem %llu MiB: this host's KVM gives guests %u address bits; "
			 "RAM from 1 GiB may end at %llu GiB",
			 (unsigned long long)vm->cfg->mem_mib, ipa_bits,
			 (unsigned long long)(limit >> 30));
		return -EINVAL;
	}
	return 0;
}

int arch_vm_init(struct vm *vm, char *err, size_t errlen)
{
	struct kvm_vcpu_init init;
	int r;

	vm->arch = calloc(1, sizeof(*vm->arch));
	if (!vm->arch)
		return -ENOMEM;
	vm->arch->gic_fd = -1;
	vm->arch->ipa_bits = arm64_ipa_bits(vm->kvm_fd);
	r = check_ram(vm, vm->arch->ipa_bits, err, errlen);
	if (r)
		return r;
	memset(&init, 0, sizeof(init));
	r = KVM_IOCTL_ERR(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init, err, errlen);
	if (r < 0)
		return r;
	vm->arch->target = init.target;
	return create_gic(vm, err, errlen);
}

void arch_vm_release(struct vm *vm)
{
	if (vm->arch && vm->arch->gic_fd >= 0)
		close(vm->arch->gic_fd);
	free(vm->arch);
	vm->arch = NULL;
}

int arm64_gic_finalize(struct arch_vm *a, char *err, size_t errlen)
{
	return gic_attr(a->gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL,
			"KVM_DEV_ARM_VGIC_CTRL_INIT", err, errlen);
}

/* The machine for the device tree (platform.c), from the device
 * manager's list. */
static void describe(const struct vm *vm, struct arm64_fdt_desc *d, struct arm64_fdt_mmio *virtio)
{
	struct arch_dev devs[MAX_DEVS];
	size_t n = devices_describe(vm, devs, MAX_DEVS);

	arm64_machine_desc(devs, n, vm->ncpus, vm->arch->gic_version, d, virtio);
}

static int read_mpidrs(struct vm *vm, uint64_t *mpidr, char *err, size_t errlen)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		int r = arm64_vcpu_mpidr(&vm->vcpus[i], &mpidr[i]);
		if (r) {
			snprintf(err, errlen, "vCPU %u: reading MPIDR_EL1: %s", i, strerror(-r));
			return r;
		}
	}
	return 0;
}

static int load_linux(struct vm *vm, struct arm64_fdt_desc *d, struct arm64_boot_entry *entry,
		      char *err, size_t errlen)
{
	const struct arm64_ram ram = { A64_RAM, vm->ram_size };
	struct arm64_boot_cfg b = { vm->cfg->kernel, vm->cfg->initrd, d };
	char *cmdline = config_kernel_cmdline(vm->cfg);

	if (!cmdline)
		return -ENOMEM;
	if (vm->cfg->debug)
		log_debug("kernel command line: %s", log_str(cmdline).s);
	d->bootargs = cmdline;
	int r = arm64_linux_load(&vm->mem, &ram, &b, entry, err, errlen);
	d->bootargs = NULL;
	free(cmdline);
	return r;
}

/* The GIC is complete once every vCPU exists; then the MPIDRs KVM gave
 * them, the guest's files and tree, and vCPU 0's entry. */
int arch_load_guest(struct vm *vm, char *err, size_t errlen)
{
	struct arm64_fdt_mmio virtio[MAX_DEVS];
	struct arm64_fdt_desc d;
	struct arm64_boot_entry entry;
	uint64_t *mpidr = calloc(vm->ncpus, sizeof(*mpidr));
	int r = mpidr ? arm64_gic_finalize(vm->arch, err, errlen) : -ENOMEM;

	if (!r)
		r = read_mpidrs(vm, mpidr, err, errlen);
	if (!r) {
		describe(vm, &d, virtio);
		d.mpidr = mpidr;
		r = load_linux(vm, &d, &entry, err, errlen);
	}
	free(mpidr);
	if (!r) {
		r = arm64_vcpu_boot_regs(&vm->vcpus[0], entry.pc, entry.dtb);
		if (r)
			snprintf(err, errlen, "vCPU 0: setting the boot registers: %s", strerror(-r));
	}
	return r;
}
