# The architecture-neutral code cross-built for arm64 (Debian's
# gcc-aarch64-linux-gnu and the :arm64 -dev packages, tools/install-deps.sh)
# and its unit tests run as arm64 binaries under qemu-user, on an x86 host.
#
#   make arm64-unit        the objects, libmote-arm64.a and the test binaries
#                          in $(ARM64_BUILD)
#   make arm64-unit-check  and run the tests (qemu-aarch64); part of make check
#
# Not mote itself: the KVM core builds only with an architecture's half of
# vmm/core/arch.h, and only x86's exists so far (issue 13), so only what
# builds without it is here.
ARM64_BUILD  ?= build-arm64
ARM64_CC     ?= aarch64-linux-gnu-gcc
ARM64_AR     ?= aarch64-linux-gnu-ar
ARM64_MULTI  := /usr/lib/aarch64-linux-gnu
ARM64_PC     := env PKG_CONFIG_LIBDIR=$(ARM64_MULTI)/pkgconfig:/usr/share/pkgconfig pkg-config
# -L /: the arm64 libc and libraries are multiarch packages (libc6:arm64,
# ...) in the host's own /lib and /usr/lib/aarch64-linux-gnu.
ARM64_RUN    ?= qemu-aarch64 -L /

# The primitives, the config, the devices that are not PC hardware, virtio
# and the arm64 boot pieces. Left out: devices/x86/ (the i8042, the CMOS
# RTC and the ACPI PM registers), the libslirp backend (libslirp's
# arm64 build drags in glib's), the KVM core, the API, the scheduler and
# the x86 boot code (boot/linux_err.c is the error helper boot/arm64 shares).
ARM64_SRCS   := $(filter vmm/base/% vmm/config/% devices/% virtio/% boot/arm64/% \
                         boot/linux_err.c,$(LIB_SRCS))
ARM64_SRCS   := $(filter-out devices/x86/% \
                             virtio/backend/net_slirp.c,$(ARM64_SRCS))
# The tests of those sources. The file backend needs io_uring, which
# qemu-user (7.2) does not emulate (io_uring_setup: ENOSYS): the test cases
# that open one are tagged io_uring and not run here (CK_EXCLUDE_TAGS), so
# test_blk, test_blk_cow and test_hostile_virtio run only their other cases.
ARM64_TESTS  := arm64_fdt arm64_image virtq virtio_mmio uart console config cli log \
                net net_tap blk blk_cow hostile_virtio
ARM64_PKGS   := liburing jansson
# Debian 12's libfdt-dev (1.6.1) is not multiarch, so it cannot sit beside
# the amd64 one: the headers (architecture-independent) are the host's,
# the library libfdt1:arm64's, by its soname.
ARM64_CFLAGS := -O2 -g $(BASE_CFLAGS) -DMOTE_VERSION='"$(VERSION)"' \
                $(shell $(ARM64_PC) --cflags $(ARM64_PKGS) check 2>/dev/null)
ARM64_LIBS   := $(shell $(ARM64_PC) --libs check $(ARM64_PKGS) 2>/dev/null) \
                -l:libfdt.so.1 -lpthread
ARM64_OBJS   := $(ARM64_SRCS:%.c=$(ARM64_BUILD)/%.o)
ARM64_BINS   := $(ARM64_TESTS:%=$(ARM64_BUILD)/tests/unit/test_%)

.PHONY: arm64-unit arm64-unit-check
# Kept, so that a rerun rebuilds nothing.
.SECONDARY: $(ARM64_BINS:%=%.o)
arm64-unit: $(ARM64_BINS)

$(ARM64_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $<"
	$(Q)$(ARM64_CC) $(ARM64_CFLAGS) -c -o $@ $<

$(ARM64_BUILD)/libmote-arm64.a: $(ARM64_OBJS)
	@echo "  AR64    $@"
	$(Q)rm -f $@ && $(ARM64_AR) rcs $@ $^

$(ARM64_BUILD)/tests/unit/test_%: $(ARM64_BUILD)/tests/unit/test_%.o $(ARM64_BUILD)/libmote-arm64.a
	@echo "  LD64    $@"
	$(Q)$(ARM64_CC) -o $@ $^ $(ARM64_LIBS)

# Emulated, the tests run several times slower than natively: Check's
# per-test timeouts are stretched to match.
arm64-unit-check: $(ARM64_BINS)
	$(Q)CK_TIMEOUT_MULTIPLIER=10 CK_EXCLUDE_TAGS=io_uring MOTE_UNIT_RUNNER="$(ARM64_RUN)" \
		MOTE_UNIT_SUITE=unit-arm64 ./tools/run-unit-tests.sh $(ARM64_BINS)

-include $(shell find $(ARM64_BUILD) -name '*.d' 2>/dev/null)

.PHONY: arm64-clean
clean: arm64-clean
arm64-clean:
	rm -rf $(ARM64_BUILD)
