# Platform devices: the 16550A uart and its host console, the exit port
# and the boot timer; then the target architecture's own
# (devices/$(MOTE_ARCH)/module.mk).
LIB_SRCS += devices/uart.c devices/console.c devices/exit_port.c devices/boot_timer.c
include devices/$(MOTE_ARCH)/module.mk
