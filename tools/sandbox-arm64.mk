# The arm64 sandbox (tools/sandbox --arch arm64): Debian's arm64 kernel
# under qemu-system-aarch64 with EL2, so /dev/kvm exists inside, on an x86
# machine.
#
#   make kvm-ok-arm64         $(ARM64_KVM_OK): tools/kvm-ok.c for arm64
#   make sandbox-arm64-check  boot the arm64 sandbox and prove that its
#                             /dev/kvm runs a guest (kvm-ok inside)
#
# kvm-ok is linked dynamically on purpose: run in the sandbox, it also
# proves that the host's arm64 libc (libc6:arm64), which the sandbox binds
# into its own root, works there as the cross-built mote needs it to.
ARM64_KVM_OK := $(ARM64_BUILD)/kvm-ok

.PHONY: kvm-ok-arm64 sandbox-arm64-check
kvm-ok-arm64: $(ARM64_KVM_OK)

# In the cross build itself (make ARCH=arm64) this is its own $(KVM_OK),
# which tools/module.mk builds with the arm64 compiler already.
ifneq ($(ARM64_KVM_OK),$(KVM_OK))
$(ARM64_KVM_OK): tools/kvm-ok.c
	@mkdir -p $(dir $@)
	@echo "  CC64    $@"
	$(Q)$(ARM64_CC) -O2 -g $(BASE_CFLAGS) -o $@ $<
endif

# A cross-built mote, when there is one, has its libraries checked too.
sandbox-arm64-check: $(ARM64_KVM_OK)
	$(Q)./tools/sandbox --arch arm64 --batch --timeout 300 -- \
		tests/integration/sandbox-arm64-selftest.sh $(ARM64_KVM_OK) \
		$(wildcard $(ARM64_BUILD)/mote)
