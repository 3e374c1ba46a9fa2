# x86 Linux boot protocol (bzImage/ELF, zero page, page tables) and ACPI.
LIB_SRCS += boot/x86/linux.c boot/x86/bzimage.c boot/x86/elf.c boot/x86/zeropage.c \
            boot/x86/kernel_unpack.c boot/x86/kernel_cache.c \
            boot/x86/pagetables.c boot/x86/acpi.c boot/x86/acpi_dsdt.c boot/x86/aml.c
