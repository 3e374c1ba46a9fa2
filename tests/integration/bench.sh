#!/bin/bash
# tests/integration/bench.sh: `make bench`'s boot half. Boots the default
# guest several times under each VMM with the same kernel, initrd, command
# line, vCPUs and RAM:
#   mote      through the kernel's decompressor (--no-kernel-cache);
#   cached    from the unpacked-kernel cache (its first run fills the cache
#             if it is empty);
#   mote-min  the minimal kernel, when `make guest-kernel` built it
#             ($GUEST/vmlinuz-min), with the same initrd;
#   kvmtool   when MOTE_LKVM names an lkvm (make bench LKVM=/path/to/lkvm);
#   qemu      QEMU's microvm;
# and reports
#   - launch to the guest's banner line ("mote guest: ..."), median;
#   - memory overhead: the VMM's PSS minus the PSS of its guest-RAM mapping,
#     sampled while the guest runs its job, median;
#   - mote's start-up CPU time (exec to the first KVM_RUN, startup_cpu_us
#     in --result), median, beside Firecracker's 8 ms, and the medians of
#     the timeline --result records;
#   - ratios against each peer and against the best (fastest) peer.
# On arm64 (`make bench-arm64`, in the arm64 sandbox, or directly on an
# arm64 host) only mote itself (arm64's Image needs no unpacking, and there
# is no minimal kernel), kvmtool, and QEMU's virt machine, when it runs
# (MOTE_BENCH_QEMU, see bench_lib.sh).
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_LKVM, MOTE_BENCH_RUNS (5),
# MOTE_BENCH_CPUS (1), MOTE_BENCH_MEM_MIB (256), MOTE_BENCH_ARCH and
# MOTE_BENCH_QEMU (bench_lib.sh).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
RUNS=${MOTE_BENCH_RUNS:-5}
CPUS=${MOTE_BENCH_CPUS:-1}
MEM=${MOTE_BENCH_MEM_MIB:-256}
JOB="sleep 2"
LIMIT=300
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# shellcheck source=tests/integration/bench_lib.sh
. "$TOP/tests/integration/bench_lib.sh"
bench_check_files || exit 1

# overhead_kib PID: PSS of PID minus PSS of mappings at least as large as
# guest RAM (the guest's memory, however much of it the guest touched).
overhead_kib() {
	awk -v ram=$((MEM * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { big = 0 }
		/^Size:/ { big = ($2 >= ram) }
		/^Pss:/ { total += $2; if (big) guest += $2 }
		END { print total - guest }' "/proc/$1/smaps" 2>/dev/null
}

# vmm_pid TPID: the VMM's process under `timeout` (TPID): its child with
# coreutils' timeout, which forks the command; TPID itself with busybox's
# (in a busybox-only root), which execs the command and watches it from a
# detached grandchild.
vmm_pid() {
	local c
	c=$(cat "/proc/$1/task/"*/children 2>/dev/null | awk '{ print $1; exit }')
	echo "${c:-$1}"
}

# measure LOG: run VMM_CMD, print "<seconds to marker> <overhead KiB>".
measure() {
	local log=$1 start t="" mem="" tpid vpid line fifo=$OUT/fifo stopper=""
	rm -f "$fifo"
	mkfifo "$fifo"
	start=$EPOCHREALTIME
	timeout -k 5 "$LIMIT" "${VMM_CMD[@]}" </dev/null >"$fifo" 2>>"$log" &
	tpid=$!
	exec 3<"$fifo"
	while IFS= read -r -u 3 line; do
		echo "$line" >>"$log"
		if [[ $line == *"$BENCH_MARKER"* ]]; then
			t=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
			break
		fi
	done
	# Sample while the guest runs its job (it sleeps for two seconds).
	sleep 0.3
	vpid=$(vmm_pid "$tpid")
	[ -z "$vpid" ] || mem=$(overhead_kib "$vpid")
	while IFS= read -r -u 3 line; do
		echo "$line" >>"$log"
		# A VMM that outlives its guest's power-off is stopped here.
		if [ "$VMM_HALTS" = 1 ] && [ -z "$stopper" ] &&
			[[ $line == "mote-job-status:"* ]]; then
			{ sleep 1; kill "$tpid" 2>/dev/null; } &
			stopper=$!
		fi
	done
	exec 3<&-
	wait "$tpid" 2>/dev/null || true
	[ -z "$stopper" ] || wait "$stopper" 2>/dev/null || true
	echo "${t:-fail} ${mem:-fail}"
}

# json_field FILE KEY: KEY's number in a --result FILE (none if null).
json_field() {
	grep -o "\"$2\": *[0-9]*" "$1" 2>/dev/null | grep -o '[0-9]*$' || true
}

# run VMM I: one boot; prints "<seconds> <KiB> <startup CPU us>".
run() {
	local vmm=$1 i=$2 res=$OUT/$1-$2.json flags=() cpu=""
	case $vmm in
	mote | cached | mote-min) flags=(--result "$res") ;;
	esac
	[ "$vmm" != cached ] || flags+=(--debug)
	bench_vmm_cmd "$vmm" "$JOB" "${flags[@]}"
	read -r t m < <(measure "$OUT/$vmm.log")
	[ ! -f "$res" ] || cpu=$(json_field "$res" startup_cpu_us)
	echo "$t $m ${cpu:-n/a}"
}

if [ "$BENCH_ARCH" = arm64 ]; then
	VMMS="mote"
	min_note=""
	PEERS=""
	bench_have_lkvm && PEERS="kvmtool"
	bench_have_qemu && PEERS+="${PEERS:+ }qemu"
else
	VMMS="mote cached"
	if [ -f "$KERNEL_MIN" ]; then
		VMMS+=" mote-min"
		min_note="mote-min: the minimal kernel $(readlink -f "$KERNEL_MIN")"
	else
		min_note="mote-min: the minimal kernel is not built (make guest-kernel)"
	fi
	PEERS="qemu"
	if bench_have_lkvm; then
		PEERS="kvmtool qemu"
	fi
fi
VMMS+="${PEERS:+ $PEERS}"

echo "bench: $(cat "$(bench_path "$GUEST/kernel-version")" 2>/dev/null || echo guest), $BENCH_ARCH, $CPUS vCPU(s), $MEM MiB, $RUNS runs each, $(bench_where)"
bench_lkvm_note
[ "$BENCH_ARCH" != arm64 ] || bench_qemu_note
[ -z "$min_note" ] || echo "$min_note"

declare -A T M C
for vmm in $VMMS; do
	T[$vmm]=""
	M[$vmm]=""
	C[$vmm]=""
done
for i in $(seq "$RUNS"); do
	# Alternate, so slow drifts in the host hit all alike.
	for vmm in $VMMS; do
		read -r t m c < <(run "$vmm" "$i") || { t=fail; m=fail; c=n/a; }
		cpu=""
		[ "$c" = n/a ] || cpu=", start-up CPU $c us"
		echo "bench: run $i $vmm: banner after ${t} s, overhead ${m} KiB$cpu"
		[ "$t" != fail ] || tail -n 5 "$OUT/$vmm.log" | sed 's/^/    /'
		[ "$t" = fail ] || T[$vmm]+=" $t"
		[ "$m" = fail ] || M[$vmm]+=" $m"
		[ "$c" = n/a ] || C[$vmm]+=" $c"
	done
done

declare -A TMED MMED
for vmm in $VMMS; do
	TMED[$vmm]=$(echo "${T[$vmm]}" | bench_median)
	MMED[$vmm]=$(echo "${M[$vmm]}" | bench_median)
	printf 'bench: %-8s launch->banner median %s s, memory overhead median %s KiB\n' \
		"$vmm" "${TMED[$vmm]}" "${MMED[$vmm]}"
done

# cache_note: how the cached runs used the kernel cache (mote --debug's
# line, its directory left out).
cache_note() {
	local n
	n=$(grep -o 'kernel cache: .*' "$OUT/cached.log" | sed 's/ \/.*//' | sort | uniq -c |
		awk '{ c = $1; $1 = ""; printf "%s%s x%d", sep, substr($0, 2), c; sep = ", " }') || true
	echo "${n:-kernel cache: no note from mote --debug}"
}

# The fastest peer by median boot time.
# shellcheck disable=SC2086  # one word per peer
best=$(bench_best TMED $PEERS)
MOTES=${VMMS%"${PEERS:+ $PEERS}"}
for p in $PEERS; do
	line="bench: vs $p:"
	for v in $MOTES; do
		line+=" $v/$p $(bench_ratio "${TMED[$v]}" "${TMED[$p]}")"
	done
	echo "$line (boot time); memory overhead mote/$p $(bench_ratio "${MMED[mote]}" "${MMED[$p]}")"
done
[ -z "${TMED[cached]:-}" ] ||
	echo "bench: cached/mote boot-time ratio $(bench_ratio "${TMED[cached]}" "${TMED[mote]}") ($(cache_note))"
if [ -n "$best" ]; then
	line="bench: best peer $best (${TMED[$best]} s):"
	for v in $MOTES; do
		line+=" $v/best $(bench_ratio "${TMED[$v]}" "${TMED[$best]}")"
	done
	echo "$line"
fi
for v in $MOTES; do
	cm=$(echo "${C[$v]}" | bench_median)
	if [ "$cm" = n/a ]; then
		echo "bench: $v start-up CPU (exec to first KVM_RUN): not reported (no startup_cpu_us in --result)"
	else
		echo "bench: $v start-up CPU (exec to first KVM_RUN) median $(awk -v u="$cm" 'BEGIN { printf "%.1f", u / 1000 }') ms (Firecracker promises < 8 ms)"
	fi
done
# mote's own timeline (--result, ms from the VM's start), medians.
for v in $MOTES; do
	line=""
	for k in vm_built first_run first_console kernel_init guest_ready; do
		med=$(for f in "$OUT/$v"-*.json; do json_field "$f" "${k}_ms"; done | bench_median)
		[ "$med" = n/a ] || line+=" $k $med,"
	done
	[ -z "$line" ] || echo "bench: $v timeline median (ms from the VM's start):${line%,}"
done
rc=0
for vmm in $VMMS; do
	[ -n "${T[$vmm]}" ] || rc=1
done
if [ "$rc" != 0 ]; then
	echo "bench: some VMMs never printed the banner; logs:" >&2
	for vmm in $VMMS; do
		tail -n 20 "$OUT/$vmm.log" >&2
	done
fi
exit "$rc"
