#!/bin/bash
# tests/integration/bench_sched.sh: the scheduler half of `make bench`.
#   - launch throughput: N tiny VMs (default 50) whose job exits at once,
#     submitted together to `mote serve`, against the naive way,
#     `xargs -P B mote run` with B = the daemon's boot cap: the time until
#     all have exited, and (for the daemon) p50/p99 from submission to the
#     VM's start; failures counted;
#   - the daemon's own memory (PSS) while it holds N jobs;
#   - the placement engine alone: decisions per second and packing
#     efficiency, as tests/unit/test_placement prints them.
# Nothing is asserted.
#
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_BENCH_SCHED_VMS (50).
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
N=${MOTE_BENCH_SCHED_VMS:-50}
CPUS=$(nproc)
BOOT_CAP=$CPUS
OUT=$(mktemp -d)
SOCK=$OUT/serve.sock
SERVE=
cleanup() {
	[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz"; do
	[ -e "$f" ] || { echo "bench-sched: $f is missing (make all guest)" >&2; exit 1; }
done
ARGS="console=ttyS0 reboot=k panic=-1 pci=off quiet"
cat >"$OUT/vm.json" <<JSON
{ "boot-source": { "kernel_image_path": "$GUEST/vmlinuz", "initrd_path": "$GUEST/initrd.gz",
                   "boot_args": "$ARGS" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 128 } }
JSON
now_ms() { date +%s%3N; }
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (NR) { i = int((NR - 1) * p / 100) + 1; print v[i] } else print "n/a" }'; }

where="directly on this host's KVM"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] && where="inside tools/sandbox (nested KVM: compare the two, not the absolute times)"
echo "bench-sched: $N tiny VMs (1 vCPU, 128 MiB, job: true), $CPUS CPUs, boot cap $BOOT_CAP, $where"

# The daemon.
"$MOTE" serve --socket "$SOCK" --state "$OUT/state" --max-booting "$BOOT_CAP" \
	>"$OUT/serve.log" 2>&1 &
SERVE=$!
for _ in $(seq 100); do "$MOTE" flavors --socket "$SOCK" >/dev/null 2>&1 && break; sleep 0.1; done
t0=$(now_ms)
ids=()
for i in $(seq "$N"); do
	ids+=("$("$MOTE" submit "$OUT/vm.json" --socket "$SOCK" --flavor tiny -- true)")
done
pss=$(awk '/^Pss:/ { print $2 }' "/proc/$SERVE/smaps_rollup" 2>/dev/null)
fails=0
for id in "${ids[@]}"; do
	"$MOTE" wait "$id" --socket "$SOCK" >/dev/null 2>&1 || fails=$((fails + 1))
done
t1=$(now_ms)
"$MOTE" ps --all --json --socket "$SOCK" | tr '{' '\n' |
	sed -n 's/.*"submitted_ms": *\([0-9]*\).*"started_ms": *\([0-9]*\).*/\1 \2/p' |
	awk '{ print $2 - $1 }' >"$OUT/waits"
echo "bench-sched: mote serve: all $N exited after $(( (t1 - t0) ))" ms, "$fails failed;" \
	"submit to start p50 $(pct 50 <"$OUT/waits") ms, p99 $(pct 99 <"$OUT/waits") ms;" \
	"daemon PSS ${pss:-n/a} KiB"
kill "$SERVE"; wait "$SERVE" 2>/dev/null; SERVE=
serve_ms=$((t1 - t0))

# The naive way.
t0=$(now_ms)
seq "$N" | xargs -P "$BOOT_CAP" -I{} sh -c \
	"'$MOTE' run --config '$OUT/vm.json' -- true >/dev/null 2>&1 || echo fail" >"$OUT/xargs.out"
t1=$(now_ms)
xfails=$(grep -c fail "$OUT/xargs.out")
echo "bench-sched: xargs -P $BOOT_CAP mote run: all $N ended after $((t1 - t0)) ms, $xfails failed"
awk -v a="$serve_ms" -v b="$((t1 - t0))" 'BEGIN { printf "bench-sched: time ratio mote serve / xargs: %.2f (lower is better)\n", a / b }'

# The engine alone.
if [ -x "$TOP/build/tests/unit/test_placement" ]; then
	"$TOP/build/tests/unit/test_placement" 2>/dev/null | grep '^placement:' | sed 's/^/bench-sched: /'
else
	echo "bench-sched: build/tests/unit/test_placement is missing (make unit-check): no engine figures"
fi
