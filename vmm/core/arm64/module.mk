# arm64's implementation of vmm/core/arch.h: the VM's KVM objects (the
# in-kernel GIC), memory map and boot (vm.c), vCPU state (cpu.c), exits
# (exit.c), and device placement (platform.c; the map is layout.h).
LIB_SRCS += vmm/core/arm64/vm.c vmm/core/arm64/cpu.c vmm/core/arm64/exit.c \
            vmm/core/arm64/platform.c
