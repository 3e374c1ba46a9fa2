# Platform devices: the 16550A uart and its host console, the i8042, the
# CMOS RTC, the exit port, the boot timer and the ACPI sleep/reset registers.
LIB_SRCS += devices/rtc.c devices/uart.c devices/console.c devices/i8042.c devices/exit_port.c \
            devices/acpi_pm.c devices/boot_timer.c
