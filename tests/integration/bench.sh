#!/bin/bash
# tests/integration/bench.sh: `make bench`. Boots the default guest with
# mote and with QEMU's microvm (same kernel, initrd, command line, vCPUs
# and RAM) several times each, mote both through the kernel's decompressor
# (--no-kernel-cache, "mote") and from the unpacked-kernel cache
# ("cached"; its first run fills the cache if it is empty), and reports
#   - launch to the guest's banner line ("mote guest: ..."), median;
#   - memory overhead: the VMM's PSS minus the PSS of its guest-RAM mapping,
#     sampled while the guest runs its job, median;
#   - the ratios mote/QEMU, cached/QEMU and cached/mote.
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_BENCH_RUNS (5),
# MOTE_BENCH_CPUS (1), MOTE_BENCH_MEM_MIB (256).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
RUNS=${MOTE_BENCH_RUNS:-5}
CPUS=${MOTE_BENCH_CPUS:-1}
MEM=${MOTE_BENCH_MEM_MIB:-256}
CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off quiet"
JOB="sleep 2"
MARKER="mote guest: kernel"
LIMIT=300
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz"; do
	[ -e "$f" ] || { echo "bench: $f is missing (make all guest)" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null || { echo "bench: qemu-system-x86_64 not found" >&2; exit 1; }

# overhead_kib PID: PSS of PID minus PSS of mappings at least as large as
# guest RAM (the guest's memory, however much of it the guest touched).
overhead_kib() {
	awk -v ram=$((MEM * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { big = 0 }
		/^Size:/ { big = ($2 >= ram) }
		/^Pss:/ { total += $2; if (big) guest += $2 }
		END { print total - guest }' "/proc/$1/smaps" 2>/dev/null
}

# measure LOG CMD...: run CMD, print "<seconds to marker> <overhead KiB>".
measure() {
	local log=$1 start t="" mem="" tpid vpid line fifo=$OUT/fifo
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	start=$EPOCHREALTIME
	timeout -k 5 "$LIMIT" "$@" </dev/null >"$fifo" 2>>"$log" &
	tpid=$!
	exec 3<"$fifo"
	while IFS= read -r -u 3 line; do
		echo "$line" >>"$log"
		if [[ $line == *"$MARKER"* ]]; then
			t=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
			break
		fi
	done
	# Sample while the guest runs its job (it sleeps for two seconds).
	sleep 0.3
	vpid=$(pgrep -P "$tpid" | head -n 1) || true
	[ -z "$vpid" ] || mem=$(overhead_kib "$vpid")
	cat <&3 >>"$log"
	exec 3<&-
	wait "$tpid" 2>/dev/null || true
	echo "${t:-fail} ${mem:-fail}"
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run_mote [LOG [FLAGS...]]
run_mote() {
	local log=${1:-$OUT/mote.log}
	shift || true
	[ $# -gt 0 ] || set -- --no-kernel-cache
	measure "$log" "$MOTE" run --kernel "$GUEST/vmlinuz" \
		--initrd "$GUEST/initrd.gz" --cpus "$CPUS" --mem "$MEM" \
		--cmdline "$CMDLINE" "$@" -- $JOB  # split on purpose: sleep 2
}

run_cached() {
	run_mote "$OUT/cached.log" --debug
}

run_qemu() {
	measure "$OUT/qemu.log" qemu-system-x86_64 -M microvm,acpi=on \
		-accel kvm -cpu host -m "$MEM" -smp "$CPUS" -nodefaults \
		-no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "$CMDLINE -- $JOB"
}

where="directly on this host's KVM"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] &&
	where="inside tools/sandbox (nested KVM under QEMU TCG: absolute times are slow, ratios still compare)"
echo "bench: $(cat "$GUEST/kernel-version" 2>/dev/null || echo guest), $CPUS vCPU(s), $MEM MiB, $RUNS runs each, $where"

declare -A T M
VMMS="mote cached qemu"
for vmm in $VMMS; do
	T[$vmm]=""
	M[$vmm]=""
done
for i in $(seq "$RUNS"); do
	# Alternate, so slow drifts in the host hit both alike.
	for vmm in $VMMS; do
		read -r t m < <("run_$vmm") || { t=fail; m=fail; }
		echo "bench: run $i $vmm: banner after ${t} s, overhead ${m} KiB"
		[ "$t" != fail ] || tail -n 5 "$OUT/$vmm.log" | sed 's/^/    /'
		[ "$t" = fail ] || T[$vmm]+=" $t"
		[ "$m" = fail ] || M[$vmm]+=" $m"
	done
done

declare -A TMED MMED
for vmm in $VMMS; do
	tm=$(echo "${T[$vmm]}" | median)
	mm=$(echo "${M[$vmm]}" | median)
	TMED[$vmm]=$tm
	MMED[$vmm]=$mm
	printf 'bench: %-6s launch->banner median %s s, memory overhead median %s KiB\n' "$vmm" "$tm" "$mm"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo "bench: mote/qemu boot-time ratio $(ratio "${TMED[mote]}" "${TMED[qemu]}"), memory-overhead ratio $(ratio "${MMED[mote]}" "${MMED[qemu]}")"
echo "bench: cached/qemu boot-time ratio $(ratio "${TMED[cached]}" "${TMED[qemu]}"), cached/mote $(ratio "${TMED[cached]}" "${TMED[mote]}") ($(grep -o 'kernel cache: [a-z ]*' "$OUT/cached.log" | tail -n 1 || echo 'kernel cache: not used'))"
echo "kvmtool: not available (not packaged in Debian 12)"
if [ -z "${T[mote]}" ] || [ -z "${T[cached]}" ] || [ -z "${T[qemu]}" ]; then
	echo "bench: some boots never printed the banner; logs:" >&2
	tail -n 20 "$OUT/mote.log" "$OUT/cached.log" "$OUT/qemu.log" >&2
	exit 1
fi
