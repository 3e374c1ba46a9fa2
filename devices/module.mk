# Platform devices: the 16550A uart and its host console, the i8042, the
# exit port and the ACPI sleep/reset registers. vmm/stop.c lives here too
# (stop_reason_name), since vmm/module.mk has another owner.
LIB_SRCS += devices/rtc.c devices/uart.c devices/console.c devices/i8042.c devices/exit_port.c \
            devices/acpi_pm.c vmm/stop.c
