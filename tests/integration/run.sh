#!/bin/bash
# tests/integration/run.sh [TEST...]: run the integration tests (default:
# every tests/integration/t_*.sh), one line per test, then
#   integration: N passed, N failed
# Exits non-zero if any test failed or none ran. Each test's full output is
# in build/integration/<test>.log (MOTE_TEST_OUT), its consoles beside it.
# With MOTE_TEST_RESULTS=FILE, each result is also appended to FILE as it
# comes ("PASS name" or "FAIL name"), for sandboxed.sh. MOTE_TEST_SUITE
# names the suite in the lines it prints (make host-check: "host").
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
SUITE=${MOTE_TEST_SUITE:-integration}
export MOTE_TEST_OUT=${MOTE_TEST_OUT:-$TOP/build/integration}
TEST_TIMEOUT=${MOTE_TEST_TIMEOUT:-300}
mkdir -p "$MOTE_TEST_OUT"

if [ $# -gt 0 ]; then
	tests=("$@")
else
	tests=("$HERE"/t_*.sh)
	[ -e "${tests[0]}" ] || tests=()
fi

where="directly"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] && where="inside tools/sandbox"
echo "$SUITE: ${#tests[@]} tests, mote ${MOTE_BIN:-$TOP/build/mote}, running $where"

pass=0
failed=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	log=$MOTE_TEST_OUT/$name.log
	start=$(date +%s)
	rc=0
	# A test that boots many VMs may say it needs longer:
	# "# mote-test-timeout: SECONDS" in its header.
	limit=$(sed -n 's/^# mote-test-timeout: \([0-9]*\)$/\1/p' "$t" | head -n 1)
	limit=${limit:-$TEST_TIMEOUT}
	timeout -k 10 "$limit" bash "$t" >"$log" 2>&1 </dev/null || rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 0 ]; then
		r=PASS
		pass=$((pass + 1))
		echo "PASS $name (${secs}s)"
	else
		r=FAIL
		failed=$((failed + 1))
		[ "$rc" -eq 124 ] && echo "  FAIL: the test took longer than $limit s" >>"$log"
		echo "FAIL $name (${secs}s)"
		sed 's/^/    /' "$log" | tail -n 40
	fi
	if [ -n "${MOTE_TEST_RESULTS:-}" ]; then
		echo "$r $name" >>"$MOTE_TEST_RESULTS"
		sync "$MOTE_TEST_RESULTS" 2>/dev/null
	fi
done
if [ ${#tests[@]} -eq 0 ]; then
	echo "FAIL no $SUITE tests given or found in $HERE"
	failed=1
fi
echo "$SUITE: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
