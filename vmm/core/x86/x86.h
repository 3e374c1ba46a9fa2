/*
 * Inside x86's implementation of vmm/core/arch.h: the per-VM state and
 * what the files in vmm/core/x86/ share. Nothing outside that folder
 * includes this.
 */
#ifndef MOTE_CORE_X86_H
#define MOTE_CORE_X86_H

struct kvm_cpuid2;
struct linux_entry;
struct vcpu;

/* vm->arch on x86. */
struct arch_vm {
	struct kvm_cpuid2 *cpuid;  /* KVM_GET_SUPPORTED_CPUID, patched per vCPU */
};

/* Put the boot processor at the kernel's 64-bit entry point. */
int x86_cpu_boot_regs(struct vcpu *c, const struct linux_entry *e)
	__attribute__((warn_unused_result));

#endif
