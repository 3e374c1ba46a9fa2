#!/bin/bash
# tests/integration/bench_lib.sh: what bench.sh and bench_concurrent.sh
# share: the VMMs under comparison and how each boots the default guest
# with the same kernel, initrd, command line, vCPUs and RAM.
#
# The caller sets MOTE, GUEST, CPUS, MEM and OUT (a scratch directory).
# Environment: MOTE_LKVM, a kvmtool `lkvm` (see tools/build-kvmtool.sh);
# MOTE_BENCH_ARCH (default: this machine's), and on arm64 MOTE_BENCH_QEMU,
# the QEMU to run (default qemu-system-aarch64; `make bench-arm64` passes
# the run-qemu of tools/fetch-qemu-arm64.sh) and MOTE_BENCH_QEMU_WHY, why
# there is none.
# shellcheck disable=SC2034 # BENCH_MARKER, VMM_CMD, VMM_HALTS: for the callers

BENCH_MARKER="mote guest: kernel"
LKVM=${MOTE_LKVM:-}
case ${MOTE_BENCH_ARCH:-$(uname -m)} in
aarch64 | arm64)
	BENCH_ARCH=arm64
	# x86's reboot=k and pci=off mean nothing on arm64 (mote's own arm64
	# default leaves them out). QEMU's virt machine has a PL011, not a
	# 16550, so its console is ttyAMA0 (see bench_vmm_cmd).
	BENCH_CMDLINE="console=ttyS0 panic=-1 quiet"
	QEMU=${MOTE_BENCH_QEMU:-qemu-system-aarch64}
	;;
*)
	BENCH_ARCH=x86_64
	BENCH_CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off quiet"
	QEMU=qemu-system-x86_64
	;;
esac

# bench_path PATH: PATH as this machine sees it. The arm64 sandbox shows
# the host's / at /host, and only the work tree, ~/.cache/mote and --rw
# directories at their own paths: an lkvm or a mote elsewhere on the host
# is found under /host, also through a symbolic link that dangles there.
bench_path() {
	local p=$1 depth=${2:-0} t
	if [ -e "$p" ] || [ ! -d /host ] || [ "$depth" -gt 8 ]; then
		echo "$p"
	elif [ -e "/host$p" ] && [ ! -L "$p" ]; then
		echo "/host$p"
	elif t=$(readlink "$p"); then
		case $t in /*) ;; *) t=$(dirname "$p")/$t ;; esac
		bench_path "$t" $((depth + 1))
	else
		echo "$p"
	fi
}

# bench_check_files: the guest images and mote are there (and QEMU on
# x86; on arm64 a missing QEMU only leaves it out, bench_qemu_note). Each
# is named as this machine sees it (bench_path): MOTE, KERNEL, INITRD,
# KERNEL_MIN (may not exist), LKVM, QEMU.
bench_check_files() {
	local f
	MOTE=$(bench_path "$MOTE")
	KERNEL=$(bench_path "$GUEST/vmlinuz")
	INITRD=$(bench_path "$GUEST/initrd.gz")
	KERNEL_MIN=$(bench_path "$GUEST/vmlinuz-min")
	[ -z "$LKVM" ] || LKVM=$(bench_path "$LKVM")
	case $QEMU in */*) QEMU=$(bench_path "$QEMU") ;; esac
	for f in "$MOTE" "$KERNEL" "$INITRD"; do
		[ -e "$f" ] || { echo "bench: $f is missing (make all guest)" >&2; return 1; }
	done
	[ "$BENCH_ARCH" = arm64 ] || bench_have_qemu ||
		{ echo "bench: qemu-system-x86_64 not found" >&2; return 1; }
}

# bench_have_qemu: QEMU runs here.
bench_have_qemu() {
	"$QEMU" --version >/dev/null 2>&1
}

# bench_qemu_note: one line on whether QEMU takes part (arm64).
bench_qemu_note() {
	if bench_have_qemu; then
		echo "QEMU: $QEMU ($("$QEMU" --version 2>&1 | head -n 1)), -M virt,gic-version=3,its=off"
	elif [ -n "${MOTE_BENCH_QEMU_WHY:-}" ]; then
		echo "QEMU: not available here: $MOTE_BENCH_QEMU_WHY"
	elif [ -z "${MOTE_BENCH_QEMU:-}" ]; then
		echo "QEMU: not available here: no qemu-system-aarch64 (make bench-arm64 brings Debian's arm64 QEMU into the sandbox, tools/fetch-qemu-arm64.sh)"
	else
		echo "QEMU: not available here: $QEMU does not run"
	fi
}

# bench_have_lkvm: MOTE_LKVM names a runnable lkvm.
bench_have_lkvm() {
	[ -n "$LKVM" ] && [ -x "$LKVM" ] && [ -f "$LKVM" ]
}

# bench_lkvm_note: one line on whether kvmtool takes part.
bench_lkvm_note() {
	local var=LKVM build=tools/build-kvmtool.sh
	[ "$BENCH_ARCH" != arm64 ] || { var=LKVM_ARM64; build+=" --arch arm64"; }
	if bench_have_lkvm; then
		echo "kvmtool: $LKVM ($("$LKVM" version 2>&1 | head -n 1))"
	elif [ -n "$LKVM" ]; then
		echo "kvmtool: not available ($LKVM is not an executable file; set $var=/path/to/lkvm)"
	else
		echo "kvmtool: not available (set $var=/path/to/lkvm; $build builds one)"
	fi
}

# bench_vmm_cmd VMM JOB [MOTE-FLAGS...]: set VMM_CMD to the command that
# boots the default guest under VMM (mote, cached, mote-min, kvmtool,
# qemu) with JOB as its job, and VMM_HALTS to 1 when that VMM stays up
# after the guest powers off (kvmtool has no ACPI power-off on x86; the
# caller stops it once the job's status line is out).
bench_vmm_cmd() {
	local vmm=$1 job=$2 kernel=$KERNEL arch_opts=()
	shift 2
	VMM_HALTS=0
	case $vmm in
	mote)
		# The kernel cache is x86's bzImage unpacking; arm64's Image
		# needs none.
		[ "$BENCH_ARCH" = arm64 ] || set -- --no-kernel-cache "$@"
		;;
	cached) ;;
	mote-min) kernel=$KERNEL_MIN ;;
	kvmtool)
		# --nodefaults: exactly our command line (kvmtool otherwise
		# prepends its own, root=/dev/vda among it); no network device.
		# lkvm keeps a control socket under $HOME/.lkvm. On arm64, the
		# GICv3 without an ITS that mote and QEMU's virt machine get too
		# (kvmtool would try one with an ITS first).
		mkdir -p "$OUT/lkvm-home"
		[ "$BENCH_ARCH" != arm64 ] || arch_opts=(--irqchip gicv3)
		VMM_CMD=(env HOME="$OUT/lkvm-home" "$LKVM" run --nodefaults
			--network mode=none --console serial "${arch_opts[@]}" -k "$kernel"
			-i "$INITRD" -c "$CPUS" -m "$MEM"
			-p "$BENCH_CMDLINE -- $job")
		VMM_HALTS=1
		return 0
		;;
	qemu)
		if [ "$BENCH_ARCH" = arm64 ]; then
			# The virt machine (arm64 has no microvm), with the GICv3
			# that KVM in the arm64 sandbox provides (virt's default is
			# a GICv2), without its ITS, as mote and kvmtool.
			VMM_CMD=("$QEMU" -M "virt,gic-version=3,its=off" -accel kvm
				-cpu host -m "$MEM" -smp "$CPUS" -nodefaults
				-no-user-config -nographic -serial stdio -no-reboot
				-kernel "$kernel" -initrd "$INITRD"
				-append "${BENCH_CMDLINE/console=ttyS0/console=ttyAMA0} -- $job")
			return 0
		fi
		VMM_CMD=("$QEMU" -M "microvm,acpi=on" -accel kvm
			-cpu host -m "$MEM" -smp "$CPUS" -nodefaults
			-no-user-config -nographic -serial stdio -no-reboot
			-kernel "$kernel" -initrd "$INITRD"
			-append "$BENCH_CMDLINE -- $job")
		return 0
		;;
	*) echo "bench: unknown VMM $vmm" >&2; return 1 ;;
	esac
	# shellcheck disable=SC2206 # the job is split into words on purpose
	VMM_CMD=("$MOTE" run --kernel "$kernel" --initrd "$INITRD"
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
