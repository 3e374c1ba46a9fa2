/*
 * Inside arm64's implementation of vmm/core/arch.h: the per-VM state and
 * what the files in vmm/core/arm64/ share. Nothing outside that folder
 * includes this.
 */
#ifndef MOTE_CORE_ARM64_H
#define MOTE_CORE_ARM64_H

#include <stddef.h>
#include <stdint.h>

struct arch_dev;
struct arm64_fdt_desc;
struct arm64_fdt_mmio;
struct vcpu;

/* vm->arch on arm64. */
struct arch_vm {
	unsigned ipa_bits;         /* the guest-physical address size asked for */
	int gic_fd;                /* the in-kernel GIC (KVM_CREATE_DEVICE), or -1 */
	int gic_version;           /* 3, or 2 when the host has no GICv3 */
	uint32_t target;           /* KVM_ARM_PREFERRED_TARGET's */
};

/*
 * The device tree's description of the machine (boot/arm64/fdt.h) with
 * ncpus vCPUs and a GIC of gic_version (2 or 3): the devices as the
 * device manager describes them, devs[0..n) (their GSIs turned into
 * INTIDs), placed in virtio (room for n entries), and the fixed pieces
 * from layout.h. RAM, MPIDRs, bootargs and the initrd are the caller's.
 */
void arm64_machine_desc(const struct arch_dev *devs, size_t n, unsigned ncpus,
			int gic_version, struct arm64_fdt_desc *d,
			struct arm64_fdt_mmio *virtio);

/* KVM_CREATE_VM's IPA size for this host (arch_vm_type's, in bits). */
unsigned arm64_ipa_bits(int kvm_fd);

/* Once every vCPU exists: the GIC's KVM_DEV_ARM_VGIC_CTRL_INIT. */
int arm64_gic_finalize(struct arch_vm *a, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* MPIDR_EL1 of a vCPU, as KVM set it at KVM_ARM_VCPU_INIT. */
int arm64_vcpu_mpidr(struct vcpu *c, uint64_t *mpidr) __attribute__((warn_unused_result));

/* Put the boot processor at the kernel's entry with X0 = dtb. */
int arm64_vcpu_boot_regs(struct vcpu *c, uint64_t pc, uint64_t dtb)
	__attribute__((warn_unused_result));

#endif
