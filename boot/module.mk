# The boot code's error lines, shared by every architecture's loader.
LIB_SRCS += boot/linux_err.c

# arm64 boot pieces that are plain data in, bytes out (the Image header,
# the device tree); built on every architecture so their unit tests run
# on the x86 build too.
LIB_SRCS += boot/arm64/image.c boot/arm64/fdt.c boot/arm64/fdt_check.c

# The target architecture's boot protocol (boot/$(MOTE_ARCH)/module.mk).
include boot/$(MOTE_ARCH)/module.mk
