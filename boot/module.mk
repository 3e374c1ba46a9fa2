# x86 Linux boot protocol (bzImage/ELF, zero page, page tables) and ACPI.
LIB_SRCS += boot/linux.c boot/bzimage.c boot/elf.c boot/zeropage.c \
            boot/pagetables.c boot/acpi.c boot/acpi_dsdt.c boot/aml.c
