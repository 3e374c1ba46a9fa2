#!/bin/bash
# tests/integration/sandbox-selftest.sh KVM_OK GUEST_DIR: run by
# `make sandbox-check` inside tools/sandbox. Proves the sandbox gives a
# usable /dev/kvm and that a nested guest (QEMU microvm, the default guest
# images) boots to its banner and reports its job's status.
set -u
KVM_OK=${1:?usage: sandbox-selftest.sh KVM_OK GUEST_DIR}
GUEST=${2:?usage: sandbox-selftest.sh KVM_OK GUEST_DIR}
pass=0
failed=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "PASS $what"
		pass=$((pass + 1))
	else
		echo "FAIL $what"
		failed=$((failed + 1))
	fi
}
nested_boot() {
	local out start
	out=$(mktemp)
	start=$(date +%s.%N)
	timeout 300 qemu-system-x86_64 -M microvm,acpi=on -accel kvm -cpu host \
		-m 256 -smp 2 -nodefaults -no-user-config -nographic -serial stdio \
		-no-reboot -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append 'console=ttyS0 quiet -- sh -c "exit 7"' </dev/null | tr -d '\r' | tee "$out"
	echo "nested boot: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	grep -q '^mote guest: kernel .*, 2 vCPUs' "$out" && grep -q '^mote-job-status: 7$' "$out"
	local rc=$?
	rm -f "$out"
	return $rc
}
echo "sandbox: kernel $(uname -r), $(nproc) CPUs"
check "/dev/kvm exists" ls -l /dev/kvm
check "kvm-ok" "$KVM_OK"
check "/dev/net/tun exists" test -c /dev/net/tun
check "nested QEMU microvm boot of the default guest" nested_boot
echo "sandbox-check: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
