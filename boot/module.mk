# The boot code's error lines and file reading, shared by every
# architecture's loader.
LIB_SRCS += boot/linux_err.c boot/linux_file.c

# arm64 boot pieces that need no KVM (the Image header, the device tree,
# the loader that puts them and the initrd in guest memory); built on
# every architecture so their unit tests run on the x86 build too.
LIB_SRCS += boot/arm64/image.c boot/arm64/fdt.c boot/arm64/fdt_check.c \
            boot/arm64/loader.c

# The target architecture's boot protocol (boot/$(MOTE_ARCH)/module.mk).
include boot/$(MOTE_ARCH)/module.mk
