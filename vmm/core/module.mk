# The KVM core: the VM object and its construction, vCPU threads and the
# device manager, arch-neutral; then the target architecture's half of
# vmm/core/arch.h (vmm/core/$(MOTE_ARCH)/module.mk).
LIB_SRCS += vmm/core/kvm.c vmm/core/vcpu.c vmm/core/vm.c \
            vmm/core/vm_run.c vmm/core/seccomp.c vmm/core/devices.c \
            vmm/core/devices_platform.c vmm/core/devices_virtio.c
include vmm/core/$(MOTE_ARCH)/module.mk
