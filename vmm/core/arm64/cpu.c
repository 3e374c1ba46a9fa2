/*
 * arm64 vCPU state: KVM_ARM_VCPU_INIT with the host's preferred target and
 * PSCI 0.2 (every vCPU but 0 starts powered off, for the guest to bring
 * up through PSCI CPU_ON), the boot registers of vCPU 0, the MPIDR the
 * device tree names, and the registers vcpu_dump shows. All through
 * KVM_{GET,SET}_ONE_REG.
 */
#include "vmm/base/log.h"
#include "vmm/core/arch.h"
#include "vmm/core/arm64/arm64.h"
#include "vmm/core/kvm.h"
#include "vmm/core/vcpu.h"

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

/* A 64-bit core register's ONE_REG id (struct kvm_regs's field). */
#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
			 KVM_REG_ARM_CORE_REG(field))
#define REG_PC      CORE_REG(regs.pc)
#define REG_PSTATE  CORE_REG(regs.pstate)
#define REG_SP_EL1  CORE_REG(sp_el1)
#define REG_X(n)    CORE_REG(regs.regs[n])
#define REG_MPIDR   ARM64_SYS_REG(3, 0, 0, 0, 5)   /* MPIDR_EL1 */

/* booting.rst: EL1 with SP_EL1 (EL1h), all of DAIF masked. */
#define BOOT_PSTATE (PSR_MODE_EL1h | PSR_D_BIT | PSR_A_BIT | PSR_I_BIT | PSR_F_BIT)

static int set_reg(struct vcpu *c, uint64_t id, uint64_t val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)&val };

	return kvm_ioctl_raw(c->fd, KVM_SET_ONE_REG, (unsigned long)&r);
}

static int get_reg(struct vcpu *c, uint64_t id, uint64_t *val)
{
	struct kvm_one_reg r = { .id = id, .addr = (uint64_t)(uintptr_t)val };

	return kvm_ioctl_raw(c->fd, KVM_GET_ONE_REG, (unsigned long)&r);
}

int arch_vcpu_init(struct vcpu *c)
{
	struct kvm_vcpu_init init = { .target = c->env->arch->target };

	init.features[0] = 1u << KVM_ARM_VCPU_PSCI_0_2;
	if (c->id != 0)
		init.features[0] |= 1u << KVM_ARM_VCPU_POWER_OFF;
	int r = kvm_ioctl_raw(c->fd, KVM_ARM_VCPU_INIT, (unsigned long)&init);
	return r < 0 ? r : 0;
}

int arm64_vcpu_mpidr(struct vcpu *c, uint64_t *mpidr)
{
	int r = get_reg(c, REG_MPIDR, mpidr);

	return r < 0 ? r : 0;
}

int arm64_vcpu_boot_regs(struct vcpu *c, uint64_t pc, uint64_t dtb)
{
	int r = set_reg(c, REG_PSTATE, BOOT_PSTATE);

	for (unsigned i = 0; !r && i < 4; i++)
		r = set_reg(c, REG_X(i), i == 0 ? dtb : 0);
	if (!r)
		r = set_reg(c, REG_PC, pc);
	return r < 0 ? r : 0;
}

void arch_vcpu_dump(struct vcpu *c)
{
	uint64_t pc, pstate, sp, x[4];

	if (get_reg(c, REG_PC, &pc) < 0 || get_reg(c, REG_PSTATE, &pstate) < 0 ||
	    get_reg(c, REG_SP_EL1, &sp) < 0)
		return;
	for (unsigned i = 0; i < 4; i++)
		if (get_reg(c, REG_X(i), &x[i]) < 0)
			return;
	log_debug("vCPU %u: pc %llx pstate %llx sp_el1 %llx x0 %llx x1 %llx x2 %llx x3 %llx",
		  c->id, (unsigned long long)pc, (unsigned long long)pstate,
		  (unsigned long long)sp, (unsigned long long)x[0], (unsigned long long)x[1],
		  (unsigned long long)x[2], (unsigned long long)x[3]);
}
