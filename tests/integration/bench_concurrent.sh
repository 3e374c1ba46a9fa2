#!/bin/bash
# tests/integration/bench_concurrent.sh: `make bench`'s many-VMs-at-once
# half. Starts 1, 4 and 8 copies of the default guest together (1 vCPU,
# MOTE_BENCH_CONC_MEM_MIB each, job `true`) under mote (its defaults,
# kernel cache included, as a scheduler would start it), kvmtool (when
# MOTE_LKVM names an lkvm) and QEMU's microvm, and reports each VM's
# launch to the guest's banner line: p50 and worst over the VMs of all
# repetitions, and the ratios of mote's to the best peer's. Nothing is
# asserted.
#
# In tools/sandbox, nested guests run under QEMU's TCG on the sandbox's
# one vCPU: 8 VMs share it, so each boots about 8 times slower and the
# absolute times say little; the ratios still compare the VMMs. There the
# whole script took about 11 minutes (2026-12-02; 8 QEMU guests alone about
# 2.5): set MOTE_BENCH_CONC_VMS="1 4" for a shorter run.
#
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_LKVM,
# MOTE_BENCH_CONC_VMS ("1 4 8"), MOTE_BENCH_CONC_RUNS (repetitions of each
# batch, 1), MOTE_BENCH_CONC_MEM_MIB (128), MOTE_BENCH_CONC_LIMIT (seconds
# one batch may take, 240).
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
SIZES=${MOTE_BENCH_CONC_VMS:-1 4 8}
RUNS=${MOTE_BENCH_CONC_RUNS:-1}
MEM=${MOTE_BENCH_CONC_MEM_MIB:-128}
LIMIT=${MOTE_BENCH_CONC_LIMIT:-240}
CPUS=1
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# shellcheck source=tests/integration/bench_lib.sh
. "$TOP/tests/integration/bench_lib.sh"
bench_check_files || exit 1

# watch_console LOG TFILE TPID START: read the VM's console from stdin into LOG;
# write the seconds from START to the banner into TFILE; stop a VMM that
# outlives its guest's power-off once the job's status line is out.
watch_console() {
	local log=$1 tfile=$2 tpid=$3 start=$4 line
	while IFS= read -r line; do
		echo "$line" >>"$log"
		if [[ $line == *"$BENCH_MARKER"* ]] && [ ! -s "$tfile" ]; then
			awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }' >"$tfile"
		fi
		if [ "$VMM_HALTS" = 1 ] && [[ $line == "mote-job-status:"* ]]; then
			sleep 0.5
			kill "$tpid" 2>/dev/null
		fi
	done
}

# batch VMM N R: start N VMs under VMM at once; print one time per VM
# ("fail" for a VM that never showed the banner).
batch() {
	local vmm=$1 n=$2 r=$3 i start tpid pids=() dir=$OUT/$1-$2-$3
	mkdir -p "$dir"
	bench_vmm_cmd "$vmm" true
	for i in $(seq "$n"); do
		mkfifo "$dir/fifo$i"
		start=$EPOCHREALTIME
		timeout -k 5 "$LIMIT" "${VMM_CMD[@]}" </dev/null >"$dir/fifo$i" 2>&1 &
		tpid=$!
		watch_console "$dir/log$i" "$dir/t$i" "$tpid" "$start" <"$dir/fifo$i" &
		pids+=("$tpid" $!)
	done
	wait "${pids[@]}" 2>/dev/null
	for i in $(seq "$n"); do
		if [ -s "$dir/t$i" ]; then
			cat "$dir/t$i"
		else
			echo fail
			tail -n 5 "$dir/log$i" | sed "s/^/    $vmm vm $i: /" >&2
		fi
	done
}

# spread TIMES...: "p50 worst fails" of the numbers, counting "fail"s.
spread() {
	local ok=() fails=0 t
	for t in "$@"; do
		if [ "$t" = fail ]; then fails=$((fails + 1)); else ok+=("$t"); fi
	done
	if [ ${#ok[@]} -eq 0 ]; then
		echo "n/a n/a $fails"
		return
	fi
	printf '%.3f %s %d\n' "$(echo "${ok[*]}" | bench_median)" \
		"$(printf '%s\n' "${ok[@]}" | sort -g | tail -n 1)" "$fails"
}

PEERS="qemu"
bench_have_lkvm && PEERS="kvmtool qemu"
VMMS="mote $PEERS"
echo "bench-concurrent: 1, 4 and 8 VMs started together as asked (here: $SIZES), 1 vCPU and $MEM MiB each, $RUNS repetition(s), job true; $(bench_where)"
[ "${MOTE_IN_SANDBOX:-0}" != 1 ] ||
	echo "bench-concurrent: the sandbox has one vCPU, so N nested VMs share it under TCG: absolute times grow about N-fold; compare ratios"
bench_lkvm_note | sed 's/^/bench-concurrent: /'

rc=0
t0=$SECONDS
for n in $SIZES; do
	declare -A P50=() WORST=()
	for vmm in $VMMS; do
		all=()
		for r in $(seq "$RUNS"); do
			mapfile -t ts < <(batch "$vmm" "$n" "$r")
			all+=("${ts[@]}")
		done
		read -r p50 worst fails < <(spread "${all[@]}")
		P50[$vmm]=$p50
		WORST[$vmm]=$worst
		[ "$fails" = 0 ] || rc=1
		printf 'bench-concurrent: %d VM(s) %-8s launch->banner p50 %s s, worst %s s, %d of %d failed\n' \
			"$n" "$vmm" "$p50" "$worst" "$fails" "${#all[@]}"
	done
	# shellcheck disable=SC2086  # one word per peer
	best=$(bench_best P50 $PEERS)
	line="bench-concurrent: $n VM(s):"
	for p in $PEERS; do
		line+=" mote/$p p50 $(bench_ratio "${P50[mote]}" "${P50[$p]}") worst $(bench_ratio "${WORST[mote]}" "${WORST[$p]}");"
	done
	echo "$line best peer ${best:-n/a}"
done
echo "bench-concurrent: took $((SECONDS - t0)) s"
exit "$rc"
