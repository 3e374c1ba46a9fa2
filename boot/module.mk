# x86 Linux boot protocol (bzImage/ELF, zero page, page tables) and ACPI.
LIB_SRCS += boot/linux.c boot/linux_err.c boot/bzimage.c boot/elf.c boot/zeropage.c \
            boot/kernel_unpack.c boot/kernel_cache.c \
            boot/pagetables.c boot/acpi.c boot/acpi_dsdt.c boot/aml.c

# arm64 boot pieces that are plain data in, bytes out (the Image header,
# the device tree); built on every architecture so their unit tests run
# on the x86 build too.
LIB_SRCS += boot/arm64/image.c boot/arm64/fdt.c boot/arm64/fdt_check.c
