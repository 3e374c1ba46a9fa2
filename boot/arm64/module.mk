# The arm64 boot protocol's loader (the Image, the initrd and the device
# tree into guest RAM) is in boot/arm64/loader.c, built on every
# architecture with the other arm64 boot pieces (boot/module.mk).
