# The KVM core: the VM object and its construction, vCPU threads, the x86
# vCPU setup, and the device manager.
LIB_SRCS += vmm/core/kvm.c vmm/core/vcpu.c vmm/core/x86_cpu.c vmm/core/vm.c \
            vmm/core/vm_run.c vmm/core/seccomp.c vmm/core/devices.c \
            vmm/core/devices_platform.c vmm/core/devices_virtio.c
