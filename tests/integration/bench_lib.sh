#!/bin/bash
# tests/integration/bench_lib.sh: what bench.sh and bench_concurrent.sh
# share: the VMMs under comparison and how each boots the default guest
# with the same kernel, initrd, command line, vCPUs and RAM.
#
# The caller sets MOTE, GUEST, CPUS, MEM and OUT (a scratch directory).
# Environment: MOTE_LKVM, a kvmtool `lkvm` (see tools/build-kvmtool.sh).
# shellcheck disable=SC2034 # BENCH_MARKER, VMM_CMD, VMM_HALTS: for the callers

BENCH_CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off quiet"
BENCH_MARKER="mote guest: kernel"
LKVM=${MOTE_LKVM:-}

# bench_check_files: the guest images and mote are there.
bench_check_files() {
	local f
	for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz"; do
		[ -e "$f" ] || { echo "bench: $f is missing (make all guest)" >&2; return 1; }
	done
	command -v qemu-system-x86_64 >/dev/null ||
		{ echo "bench: qemu-system-x86_64 not found" >&2; return 1; }
}

# bench_have_lkvm: MOTE_LKVM names a runnable lkvm.
bench_have_lkvm() {
	[ -n "$LKVM" ] && [ -x "$LKVM" ] && [ -f "$LKVM" ]
}

# bench_lkvm_note: one line on whether kvmtool takes part.
bench_lkvm_note() {
	if bench_have_lkvm; then
		echo "kvmtool: $LKVM ($("$LKVM" version 2>&1 | head -n 1))"
	elif [ -n "$LKVM" ]; then
		echo "kvmtool: not available ($LKVM is not an executable file; set LKVM=/path/to/lkvm)"
	else
		echo "kvmtool: not available (set LKVM=/path/to/lkvm; tools/build-kvmtool.sh builds one)"
	fi
}

# bench_vmm_cmd VMM JOB [MOTE-FLAGS...]: set VMM_CMD to the command that
# boots the default guest under VMM (mote, cached, mote-min, kvmtool,
# qemu) with JOB as its job, and VMM_HALTS to 1 when that VMM stays up
# after the guest powers off (kvmtool has no ACPI power-off on x86; the
# caller stops it once the job's status line is out).
bench_vmm_cmd() {
	local vmm=$1 job=$2 kernel=$GUEST/vmlinuz
	shift 2
	VMM_HALTS=0
	case $vmm in
	mote) set -- --no-kernel-cache "$@" ;;
	cached) ;;
	mote-min) kernel=$GUEST/vmlinuz-min ;;
	kvmtool)
		# --nodefaults: exactly our command line (kvmtool otherwise
		# prepends its own, root=/dev/vda among it); no network device.
		# lkvm keeps a control socket under $HOME/.lkvm.
		mkdir -p "$OUT/lkvm-home"
		VMM_CMD=(env HOME="$OUT/lkvm-home" "$LKVM" run --nodefaults
			--network mode=none --console serial -k "$kernel"
			-i "$GUEST/initrd.gz" -c "$CPUS" -m "$MEM"
			-p "$BENCH_CMDLINE -- $job")
		VMM_HALTS=1
		return 0
		;;
	qemu)
		VMM_CMD=(qemu-system-x86_64 -M "microvm,acpi=on" -accel kvm
			-cpu host -m "$MEM" -smp "$CPUS" -nodefaults
			-no-user-config -nographic -serial stdio -no-reboot
			-kernel "$kernel" -initrd "$GUEST/initrd.gz"
			-append "$BENCH_CMDLINE -- $job")
		return 0
		;;
	*) echo "bench: unknown VMM $vmm" >&2; return 1 ;;
	esac
	# shellcheck disable=SC2206 # the job is split into words on purpose
	VMM_CMD=("$MOTE" run --kernel "$kernel" --initrd "$GUEST/initrd.gz"
		--cpus "$CPUS" --mem "$MEM" --cmdline "$BENCH_CMDLINE" "$@" -- $job)
}

# bench_median: the median of the numbers on stdin (spaces or lines).
bench_median() {
	tr ' ' '\n' | awk 'NF' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_ratio A B: A/B with two decimals, n/a when either is not a number.
bench_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}

# bench_where: where the figures come from.
bench_where() {
	if [ "${MOTE_IN_SANDBOX:-0}" = 1 ]; then
		echo "inside tools/sandbox (nested KVM under QEMU TCG: absolute times are slow, ratios still compare)"
	else
		echo "directly on this host's KVM"
	fi
}

# bench_best ARRAY PEER...: the peer with the lowest median in the
# associative array named ARRAY ("n/a" entries skipped); empty if none.
bench_best() {
	local -n bb_med=$1
	local best="" p
	shift
	for p in "$@"; do
		[ "${bb_med[$p]}" != n/a ] || continue
		if [ -z "$best" ] || awk -v a="${bb_med[$p]}" -v b="${bb_med[$best]}" 'BEGIN { exit !(a < b) }'; then
			best=$p
		fi
	done
	echo "$best"
}
