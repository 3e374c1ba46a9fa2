# PC hardware: the i8042, the CMOS RTC and the ACPI sleep/reset registers.
LIB_SRCS += devices/x86/rtc.c devices/x86/i8042.c devices/x86/acpi_pm.c
