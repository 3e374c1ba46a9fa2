LIB_SRCS += vmm/log.c vmm/gmem.c vmm/bus.c vmm/irq.c vmm/evloop.c
include vmm/config.mk
