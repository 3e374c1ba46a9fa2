#!/bin/bash
# tests/integration/sandbox-arm64-selftest.sh KVM_OK [MOTE]: run by
# `make sandbox-arm64-check` inside `tools/sandbox --arch arm64`. Proves the
# arm64 sandbox has a /dev/kvm that runs a guest (KVM_OK, tools/kvm-ok.c
# built for arm64), a writable work tree, and, given a cross-built MOTE,
# every library it needs from the host's arm64 multiarch packages.
set -u
KVM_OK=${1:?usage: sandbox-arm64-selftest.sh KVM_OK [MOTE]}
MOTE=${2:-}
LOADER=/lib/ld-linux-aarch64.so.1
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
# KVM says how it initialised: "VHE mode" or "Hyp mode" (nVHE).
kvm_initialised() {
	dmesg | grep -E 'kvm \[[0-9]+\]: .*(VHE|Hyp) mode initialized successfully'
}
work_tree_writable() {
	local f
	f=$(mktemp "$PWD/.sandbox-arm64-selftest.XXXXXX") && echo ok >"$f" &&
		grep -qx ok "$f" && rm -f "$f"
}
# The dynamic loader lists each library with where it found it; a missing
# one shows as "not found".
libs_resolve() {
	local out
	out=$("$LOADER" --list "$1" 2>&1) || { echo "$out"; return 1; }
	echo "$out" | sed 's/^/    /'
	! echo "$out" | grep -q 'not found'
}
echo "sandbox: kernel $(uname -r), $(uname -m), $(nproc) CPUs, up $(cut -d' ' -f1 /proc/uptime) s"
check "the sandbox is arm64" test "$(uname -m)" = aarch64
check "KVM initialised at EL2" kvm_initialised
check "/dev/kvm exists" ls -l /dev/kvm
check "kvm-ok (arm64, dynamically linked)" "$KVM_OK"
check "/dev/net/tun exists" test -c /dev/net/tun
check "the work tree is writable" work_tree_writable
if [ -n "$MOTE" ]; then
	check "the libraries of $MOTE resolve" libs_resolve "$MOTE"
fi
echo "sandbox-arm64-check: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
