# The primitives: logging, guest memory, buses, interrupt lines, the event
# loop, eventfd helpers and stop reasons.
LIB_SRCS += vmm/base/log.c vmm/base/gmem.c vmm/base/bus.c vmm/base/irq.c \
            vmm/base/evloop.c vmm/base/stop.c vmm/base/efd.c
