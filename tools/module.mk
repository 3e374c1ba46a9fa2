# Targets that drive the sandbox, guest images and benchmarks.
#
#   make guest              default guest images into $(BUILD)/guest
#   make guest-arm64        the arm64 guest into $(BUILD)/guest-arm64
#   make guest-kernel       optional minimal kernel, $(BUILD)/guest/vmlinuz-min
#   make guest-kernel-check boot it (tests/guest-kernel; not part of check)
#   make host-check         tests/host: what needs no KVM, on this host
#   make integration-check  tests/integration (directly or in tools/sandbox)
#   make check              unit (+ ASan/UBSan in CI), arm64 unit (qemu-user,
#                           tools/arm64.mk), the fuzz corpus (+ a short
#                           fuzzing run per target in CI), integration, one total
#   make demo               boot the default guest on this terminal
#   make bench              boot time, memory and disk I/O against QEMU microvm
#   make bench-arm64        arm64's boot time and memory against kvmtool and
#                           QEMU's virt machine (make bench ARCH=arm64 too)
#   make sandbox-check      prove tools/sandbox: /dev/kvm and a nested boot
#
# Whatever needs KVM runs directly when $(BUILD)/kvm-ok says /dev/kvm is
# usable and inside tools/sandbox otherwise. MOTE_SANDBOX=1 forces the
# sandbox, MOTE_SANDBOX=0 forbids it.

comma     := ,
KVM_OK    := $(BUILD)/kvm-ok
GUEST_DIR := $(BUILD)/guest
SAN_BUILD := $(BUILD)-san
# Unit tests under ASan+UBSan: always in CI, on request elsewhere.
ifeq ($(CI),true)
CHECK_SAN ?= 1
else
CHECK_SAN ?= 0
endif

$(KVM_OK): tools/kvm-ok.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

guest:
	$(Q)./guest-images/build.sh $(GUEST_DIR)

# The arm64 guest (cross-built tools, Debian's arm64 cloud kernel), for
# the arm64 sandbox's tests.
guest-arm64:
	$(Q)./guest-images/build.sh --arch arm64 $(BUILD)/guest-arm64

# Optional, built only on request (Debian's linux-source-6.1, see the
# script); nothing in check needs it.
.PHONY: guest guest-arm64 guest-kernel guest-kernel-check
guest-kernel:
	$(Q)./guest-images/build-kernel.sh $(GUEST_DIR)

# kvm_choose DIRECT,SANDBOXED: run DIRECT when /dev/kvm works here, else
# SANDBOXED (which uses tools/sandbox).
define kvm_choose
	mode="$${MOTE_SANDBOX:-auto}"; \
	if [ "$$mode" = auto ]; then \
		if $(KVM_OK) -q; then mode=0; else echo "  (using tools/sandbox)"; mode=1; fi; \
	fi; \
	if [ "$$mode" = 1 ]; then \
		$(2); \
	else \
		$(1); \
	fi
endef

# kvm_run CMD: run CMD where /dev/kvm works (here, or in the sandbox).
kvm_run = $(call kvm_choose,$(1),./tools/sandbox $(SANDBOX_FLAGS) -- $(1))

INTEGRATION_ENV := env MOTE_BIN=$(BUILD)/mote MOTE_GUEST_DIR=$(GUEST_DIR) \
	MOTE_KVM_OK=$(KVM_OK) MOTE_TEST_OUT=$(BUILD)/integration

# No prerequisite on $(BUILD)/mote: a missing binary must show up as failed
# tests, not stop the run before anything is counted.
# In the sandbox, the suite runs in one sandbox boot, and again for the
# tests left without a result if that sandbox got stuck (sandboxed.sh);
# CI allows 90 minutes in all.
# On an arm64 host the integration tests are arm64's list (below).
ifeq ($(HOST_ARCH),arm64)
INTEGRATION_TESTS = $(ARM64_INTEGRATION)
endif
integration-check: $(KVM_OK) guest
	$(Q)$(call kvm_choose,$(INTEGRATION_ENV) tests/integration/run.sh $(INTEGRATION_TESTS),$(INTEGRATION_ENV) tests/integration/sandboxed.sh $(INTEGRATION_TESTS))

# The integration tests that run on arm64: every one but these, and
# tests/integration/arm64/'s own (PSCI's poweroff and reset).
#   t_acpi_off, t_poweroff, t_poweroff_plain, t_reboot: x86's ACPI, its
#     S5 and reset register, the i8042 and the triple fault;
#   t_boot_elf_cpus, t_kernel_cache: x86's ELF vmlinux and bzImage
#     decompression (arm64 boots the uncompressed Image);
#   t_qemu_guest: QEMU's x86 microvm machine as the peer;
#   t_sched_ops, t_sched_queue, t_sched_restart: the arm64 build has no
#     mote-serve (tools/arm64.mk says why);
#   t_lib_api: compiles a program against libmote inside the sandbox, and
#     the arm64 sandbox has no compiler (t_lib_embed covers libmote there).
ARM64_SKIP := acpi_off poweroff poweroff_plain reboot boot_elf_cpus kernel_cache \
              qemu_guest sched_ops sched_queue sched_restart lib_api
ARM64_INTEGRATION := $(filter-out $(ARM64_SKIP:%=tests/integration/t_%.sh),\
                       $(sort $(wildcard tests/integration/t_*.sh))) \
                     $(sort $(wildcard tests/integration/arm64/t_*.sh))

# On an x86 host: arm64's list with the cross-built mote and the arm64
# guest, in the arm64 sandbox (tools/sandbox --arch arm64). The cross build
# may fail without stopping the run: a missing mote fails every test.
# MOTE_SANDBOX_DEADLINE: 20 minutes for its sandboxes (about 10 when none
# stalls), so that CI's 90 minutes hold with the x86 suite's.
ARM64_INTEGRATION_ENV := env MOTE_BIN=build-arm64/mote MOTE_GUEST_DIR=$(BUILD)/guest-arm64 \
	MOTE_TEST_OUT=$(BUILD)/integration-arm64 MOTE_TEST_SUITE=integration-arm64 \
	MOTE_SANDBOX_ARCH=arm64 MOTE_SANDBOX_DEADLINE=$${MOTE_SANDBOX_ARM64_DEADLINE:-1200}
.PHONY: integration-arm64-check
integration-arm64-check: guest-arm64
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 all || echo "integration-arm64: the arm64 build failed"
	$(Q)$(ARM64_INTEGRATION_ENV) tests/integration/sandboxed.sh $(ARM64_INTEGRATION)

# Tests that need no KVM (tests/host: exit statuses, no usable /dev/kvm,
# libmote's exports and pkg-config file) run here, never in the sandbox.
# Like integration-check, no prerequisite on the binaries.
HOST_ENV := env MOTE_BIN=$(BUILD)/mote MOTE_GUEST_DIR=$(GUEST_DIR) \
	MOTE_TEST_OUT=$(BUILD)/host MOTE_TEST_SUITE=host
.PHONY: host-check
host-check: guest
	$(Q)$(HOST_ENV) tests/integration/run.sh $(sort $(wildcard tests/host/t_*.sh))

# The minimal kernel's own test, apart from check since the kernel is
# optional there (no test is ever counted as a skip-pass).
GK_ENV := env MOTE_BIN=$(BUILD)/mote MOTE_GUEST_DIR=$(GUEST_DIR) \
	MOTE_TEST_OUT=$(BUILD)/guest-kernel-check MOTE_TEST_SUITE=guest-kernel
GK_TESTS := $(sort $(wildcard tests/guest-kernel/t_*.sh))
guest-kernel-check: all $(KVM_OK) guest guest-kernel
	$(Q)$(call kvm_choose,$(GK_ENV) tests/integration/run.sh $(GK_TESTS),$(GK_ENV) tests/integration/sandboxed.sh $(GK_TESTS))

# Everything, with one total line; keeps going after failures so the total
# is complete, and fails at the end if anything failed.
check:
	$(Q)mkdir -p $(BUILD); rm -f $(BUILD)/check-*.log; \
	$(MAKE) --no-print-directory all 2>&1 | tee $(BUILD)/check-build.log; \
	./tools/check-layers.sh 2>&1 | tee $(BUILD)/check-layers.log; \
	$(MAKE) --no-print-directory unit-check 2>&1 | tee $(BUILD)/check-unit.log; \
	if [ "$(CHECK_SAN)" = 1 ]; then \
		$(MAKE) --no-print-directory SAN=1 BUILD=$(SAN_BUILD) unit-check 2>&1 | \
			sed 's/^unit:/unit-san:/' | tee $(BUILD)/check-san.log; \
	fi; \
	$(MAKE) --no-print-directory arm64-unit-check 2>&1 | tee $(BUILD)/check-arm64.log; \
	$(MAKE) --no-print-directory host-check 2>&1 | tee $(BUILD)/check-host.log; \
	$(MAKE) --no-print-directory fuzz-replay 2>&1 | tee $(BUILD)/check-fuzz.log; \
	$(MAKE) --no-print-directory integration-check 2>&1 | tee $(BUILD)/check-integration.log; \
	if [ "$(HOST_ARCH)" = x86 ]; then \
		$(MAKE) --no-print-directory integration-arm64-check 2>&1 | \
			tee $(BUILD)/check-integration-arm64.log; \
	fi; \
	./tests/integration/total.sh $(BUILD)/check-layers.log $(BUILD)/check-unit.log \
		$(BUILD)/check-san.log $(BUILD)/check-arm64.log $(BUILD)/check-host.log \
		$(BUILD)/check-fuzz.log $(BUILD)/check-integration.log \
		$(BUILD)/check-integration-arm64.log

# The default guest from its ext4 root file system, ephemeral so the demo
# never changes the image.
# Two sandbox vCPUs for the demo's two: a nested guest with more vCPUs than
# the sandbox has can spin for good under TCG (see README, tools/sandbox).
demo: SANDBOX_FLAGS += --cpus 2
demo: all $(KVM_OK) guest
	$(Q)$(call kvm_run,$(BUILD)/mote run --kernel $(GUEST_DIR)/vmlinuz --initrd $(GUEST_DIR)/initrd.gz --rootfs $(GUEST_DIR)/rootfs.ext4$(comma)ephemeral --cpus 2 --cmdline "console=ttyS0 reboot=k panic=-1 pci=off quiet")

# Boot/memory, many VMs at once, disk, network and the scheduler
# (tests/integration/bench_all.sh), in one sandbox boot. LKVM=/path/to/lkvm
# (or MOTE_LKVM in the environment) adds kvmtool as a peer; see
# tools/build-kvmtool.sh. The sandbox sees the host's files read-only, but
# not the host's /tmp.
LKVM ?= $(MOTE_LKVM)
ifeq ($(MOTE_ARCH),arm64)
bench: bench-arm64
else
bench: all $(KVM_OK) guest
	$(Q)$(call kvm_run,env MOTE_BIN=$(BUILD)/mote MOTE_GUEST_DIR=$(GUEST_DIR) MOTE_LKVM=$(LKVM) tests/integration/bench_all.sh)
endif

# arm64's boot time and memory (tests/integration/bench.sh; the rest of
# bench_all.sh is x86's): the arm64 mote (make ARCH=arm64) against kvmtool
# when LKVM_ARM64 (or MOTE_LKVM_ARM64) names an arm64 lkvm
# (tools/build-kvmtool.sh --arch arm64 builds a static one) and against
# Debian's arm64 QEMU, virt machine, which tools/fetch-qemu-arm64.sh
# unpacks into the cache (on an arm64 host: the installed
# qemu-system-aarch64). On an x86 host this runs in one arm64 sandbox
# (tools/sandbox --arch arm64); on an arm64 host, where /dev/kvm works.
LKVM_ARM64     ?= $(MOTE_LKVM_ARM64)
ARM64_MOTE     ?= build-arm64/mote
ARM64_GUEST    ?= build/guest-arm64
ARM64_NATIVE   := $(filter aarch64 arm64,$(shell uname -m))
ARM64_BENCH_ENV = env MOTE_BIN=$(ARM64_MOTE) MOTE_GUEST_DIR=$(ARM64_GUEST) \
	MOTE_LKVM=$(LKVM_ARM64) MOTE_BENCH_ARCH=arm64
.PHONY: bench-arm64
ifneq ($(ARM64_NATIVE),)
bench-arm64: all $(KVM_OK)
	$(Q)./guest-images/build.sh --arch arm64 $(ARM64_GUEST)
	$(Q)$(call kvm_choose,$(ARM64_BENCH_ENV) tests/integration/bench.sh,./tools/sandbox --arch arm64 --batch -- $(ARM64_BENCH_ENV) tests/integration/bench.sh)
else
bench-arm64:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 all
	$(Q)./guest-images/build.sh --arch arm64 $(ARM64_GUEST)
	$(Q)if qemu=$$(./tools/fetch-qemu-arm64.sh); then qemu=$$qemu/run-qemu; why=""; \
	else qemu=""; why="tools/fetch-qemu-arm64.sh failed (its message is above)"; fi; \
	./tools/sandbox --arch arm64 --batch -- $(ARM64_BENCH_ENV) \
		MOTE_BENCH_QEMU="$$qemu" MOTE_BENCH_QEMU_WHY="$$why" tests/integration/bench.sh
endif

sandbox-check: $(KVM_OK) guest
	$(Q)./tools/sandbox --batch --timeout 600 -- \
		tests/integration/sandbox-selftest.sh $(KVM_OK) $(GUEST_DIR)
