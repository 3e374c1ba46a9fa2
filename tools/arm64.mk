# arm64 on an x86 host: mote cross-built with Debian's gcc-aarch64-linux-gnu
# and the :arm64 multiarch -dev packages (tools/install-deps.sh), and its
# unit tests run as arm64 binaries under qemu-user.
#
#   make ARCH=arm64        build-arm64/mote, libmote (.a, .so, mote.pc),
#                          embed-example; no mote-serve (below)
#   make arm64-unit        the arm64 unit test binaries (build-arm64/tests/unit)
#   make arm64-unit-check  and run them (qemu-aarch64); part of make check
#
# The top Makefile includes this file twice: in the cross build itself
# (ARCH=arm64 on x86: CROSS=1), early, for the toolchain, and at its end
# for the test targets; in the host's build, for the arm64-* targets, which
# run the cross build as a sub-make (one set of objects, one set of flags,
# in build-arm64/). On an arm64 host none of this is needed: make builds
# natively, as on x86.

ifeq ($(CROSS),1)
ifndef ARM64_TOOLCHAIN_SET
ARM64_TOOLCHAIN_SET := 1
CROSS_COMPILE ?= aarch64-linux-gnu-
ARM64_MULTI   := /usr/lib/aarch64-linux-gnu
ifeq ($(origin CC),default)
CC      := $(CROSS_COMPILE)gcc
endif
ifeq ($(origin LD),default)
LD      := $(CROSS_COMPILE)ld
endif
AR      := $(CROSS_COMPILE)ar
OBJCOPY := $(CROSS_COMPILE)objcopy
# The arm64 .pc files only (the host's would name x86 libraries).
PKG_CONFIG := env PKG_CONFIG_LIBDIR=$(ARM64_MULTI)/pkgconfig:/usr/share/pkgconfig pkg-config
# Debian 12's libfdt-dev (1.6.1) is not multiarch, so it cannot sit beside
# the amd64 one: the headers (architecture-independent) are the host's,
# the library libfdt1:arm64's, by its soname.
FDT_LIBS = -l:libfdt.so.1
# No mote-serve: libmicrohttpd-dev:arm64 pulls in gnutls:arm64, which must
# match the host's amd64 gnutls exactly (install-deps.sh leaves it out).
SERVE   :=
# The tests that run under qemu-user (7.2), which has no io_uring
# (io_uring_setup: ENOSYS): the test cases that open a file backend are
# tagged io_uring and not run (CK_EXCLUDE_TAGS), so test_blk, test_blk_cow
# and test_hostile_virtio run only their other cases. Left out: the tests
# of the KVM core and the API (they need /dev/kvm), the scheduler's (it
# needs the daemon) and x86's boot and platform devices.
ARM64_TESTS := arch_arm64 arm64_fdt arm64_image arm64_loader virtq virtio_mmio uart \
               console config cli log net net_tap net_slirp blk blk_cow hostile_virtio
ARM64_RUN   ?= qemu-aarch64 -L /
# As in the host's build (below).
ARM64_BUILD := $(BUILD)
ARM64_CC    := $(CC)
else
# The second inclusion: the unit tests of the cross build.
UNIT_BINS := $(ARM64_TESTS:%=$(BUILD)/tests/unit/test_%)

.PHONY: arm64-unit arm64-unit-check
# Kept, so that a rerun rebuilds nothing.
.SECONDARY: $(UNIT_BINS:%=%.o)
arm64-unit: $(UNIT_BINS)

# Emulated, the tests run several times slower than natively: Check's
# per-test timeouts are stretched to match.
unit-check arm64-unit-check: $(UNIT_BINS)
	$(Q)CK_TIMEOUT_MULTIPLIER=10 CK_EXCLUDE_TAGS=io_uring MOTE_UNIT_RUNNER="$(ARM64_RUN)" \
		MOTE_UNIT_SUITE=unit-arm64 ./tools/run-unit-tests.sh $(UNIT_BINS)
endif
else
# The host's build: the arm64 targets are the cross build's (its own
# build directory and no sanitizers, whatever this make was given).
# ARM64_BUILD and ARM64_CC also serve the host's own rules for arm64
# helpers (tools/sandbox-arm64.mk's kvm-ok).
ARM64_BUILD ?= build-arm64
ARM64_CC    ?= aarch64-linux-gnu-gcc
.PHONY: arm64 arm64-unit arm64-unit-check
arm64 arm64-unit arm64-unit-check:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 BUILD=$(ARM64_BUILD) SAN=0 \
		$(if $(filter arm64,$@),all,$@)
endif
