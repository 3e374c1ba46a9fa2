#!/bin/bash
# tests/integration/sandboxed.sh [TEST...]: run.sh inside tools/sandbox, for
# hosts without a usable /dev/kvm; prints run.sh's lines, then
#   integration: N passed, N failed
# over every test, or, when a test passed only in a new sandbox after the
# one it was running in had stopped,
#   integration: N passed (K after a sandbox re-run: t_a t_b), N failed
# so that a test that hangs its sandbox is named in the summary even when
# it passes the second time (tests/integration/total.sh reads both forms).
#
# Nested KVM under QEMU's TCG sometimes stops for good: QEMU spins in a
# nested guest while the sandbox kernel's timer interrupt stays pending,
# so nothing inside runs again (QEMU's monitor shows it). A user program
# cannot do that to a kernel, so it is the environment failing, not a test;
# the sandbox's --stall notices it. Then the tests that have no result yet,
# the one that was running included, run again in a new sandbox, and this
# is said in the output. A test still without a result at the end counts as
# failed. A test that fails, or hangs and is stopped by run.sh's own time
# limit, is never run again.
#
# Environment: as run.sh (MOTE_TEST_SUITE names the suite in the lines
# printed here too), plus MOTE_SANDBOX_ARCH (the sandbox's architecture,
# tools/sandbox --arch; default the host's), MOTE_SANDBOX_DEADLINE (seconds for all
# sandboxes together, default 3300, which leaves CI's 90 minutes room for
# the build, the unit tests and the arm64 suite's 20), MOTE_SANDBOX_ATTEMPTS (sandboxes at most,
# default 16) and MOTE_SANDBOX_STALL (seconds without a sign of life,
# default 60, twelve missed heartbeats: the sandbox's init shows one every
# 5 s while it runs, and a stuck sandbox never recovers, so waiting longer
# only loses time).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=${MOTE_TEST_OUT:-$TOP/build/integration}
SUITE=${MOTE_TEST_SUITE:-integration}
RESULTS=$OUT/results
DEADLINE=$((SECONDS + ${MOTE_SANDBOX_DEADLINE:-3300}))
STALL=${MOTE_SANDBOX_STALL:-60}
ATTEMPTS=${MOTE_SANDBOX_ATTEMPTS:-16}

if [ $# -gt 0 ]; then
	all=("$@")
else
	all=("$HERE"/t_*.sh)
	[ -e "${all[0]}" ] || all=()
fi
mkdir -p "$OUT"
: >"$RESULTS"

# result NAME: PASS, FAIL or nothing.
result() {
	awk -v n="$1" '$2 == n { r = $1 } END { print r }' "$RESULTS"
}

todo=("${all[@]}")
# The tests that were running when a sandbox stopped (one per stop).
stopped_in=()
for attempt in $(seq "$ATTEMPTS"); do
	[ ${#todo[@]} -gt 0 ] || break
	limit=$((DEADLINE - SECONDS))
	if [ "$limit" -lt 300 ]; then
		echo "$SUITE: no time left for another sandbox"
		break
	fi
	rc=0
	"$TOP/tools/sandbox" ${MOTE_SANDBOX_ARCH:+--arch "$MOTE_SANDBOX_ARCH"} --batch --timeout "$limit" --stall "$STALL" -- \
		env MOTE_TEST_RESULTS="$RESULTS" MOTE_TEST_OUT="$OUT" MOTE_TEST_SUITE="$SUITE" \
		"$HERE/run.sh" "${todo[@]}" || rc=$?
	left=()
	for t in "${todo[@]}"; do
		[ -n "$(result "$(basename "$t" .sh)")" ] || left+=("$t")
	done
	todo=("${left[@]}")
	[ ${#todo[@]} -gt 0 ] || break
	# run.sh goes in order, so the first test without a result is the
	# one that was running.
	stopped_in+=("$(basename "${todo[0]}" .sh)")
	echo "$SUITE: the sandbox stopped (status $rc) during ${stopped_in[-1]};" \
		"${#todo[@]} test(s) have no result"
	[ "$attempt" -lt "$ATTEMPTS" ] &&
		echo "$SUITE: running them again in a new sandbox (attempt $((attempt + 1)) of $ATTEMPTS)"
done

pass=0
failed=0
for t in "${all[@]}"; do
	name=$(basename "$t" .sh)
	case $(result "$name") in
	PASS) pass=$((pass + 1)) ;;
	FAIL) failed=$((failed + 1)) ;;
	*) failed=$((failed + 1)); echo "FAIL $name (no result: the sandbox stopped each time)" ;;
	esac
done
[ ${#all[@]} -gt 0 ] || { echo "FAIL no $SUITE tests found in $HERE"; failed=1; }
# Passed, but only in a sandbox after the one it stopped.
rerun=$(for n in "${stopped_in[@]}"; do
	[ "$(result "$n")" = PASS ] && echo "$n"
done | sort -u | tr '\n' ' ' | sed 's/ $//')
if [ -n "$rerun" ]; then
	echo "$SUITE: $pass passed ($(echo "$rerun" | wc -w) after a sandbox re-run: $rerun)," \
		"$failed failed"
else
	echo "$SUITE: $pass passed, $failed failed"
fi
[ "$failed" -eq 0 ]
