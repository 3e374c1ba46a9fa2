/*
 * arm64 has no exits of its own beyond the generic loop's: MMIO (every
 * device), system events (PSCI SYSTEM_OFF and SYSTEM_RESET) and KVM's
 * failures are all handled there. Anything else is unexpected.
 */
#include "vmm/core/arch.h"

enum arch_exit arch_vcpu_exit(struct vcpu *c)
{
	return ARCH_EXIT_UNKNOWN;
}
