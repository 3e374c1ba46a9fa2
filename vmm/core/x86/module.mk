# x86's implementation of vmm/core/arch.h: the VM's KVM objects, memory
# map and boot (vm.c), vCPU state (cpu.c), port I/O exits (exit.c), and
# device placement and the PC platform devices (platform.c).
LIB_SRCS += vmm/core/x86/vm.c vmm/core/x86/cpu.c vmm/core/x86/exit.c \
            vmm/core/x86/platform.c
