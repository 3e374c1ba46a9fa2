LIB_SRCS += vmm/log.c vmm/gmem.c vmm/bus.c vmm/irq.c vmm/evloop.c \
            vmm/kvm.c vmm/vcpu.c vmm/x86_cpu.c vmm/vm.c vmm/vm_run.c \
            vmm/devices.c vmm/vm_virtio.c
MAIN_SRCS += vmm/main.c
include vmm/config.mk
