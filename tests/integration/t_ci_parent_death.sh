#!/bin/bash
# A CI runner killed with SIGKILL leaves no VM behind: mote, started by a
# wrapper shell, gets SIGTERM when the wrapper dies (PR_SET_PDEATHSIG),
# stops its guest, writes its --result (reason signal, status 143) and
# exits, although nobody signalled mote itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
[ -x "$MOTE" ] || { fail "mote binary $MOTE is missing (make all)"; exit 1; }

RES=$T_OUT/result.json
PIDF=$T_OUT/mote.pid
CONSOLE=$T_OUT/console
STDERR=$T_OUT/stderr
# The wrapper forks mote (the "&" keeps bash from exec'ing it) and waits.
# shellcheck disable=SC2016  # expanded by the wrapper
bash -c 'out=$1 err=$2 pidf=$3; shift 3
	"$@" </dev/null >"$out" 2>"$err" &
	echo $! >"$pidf"
	wait' wrapper "$CONSOLE.raw" "$STDERR" "$PIDF" \
	"$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" --result "$RES" -- sleep 1000 &
WRAPPER=$!
end=$((SECONDS + 30))
while [ ! -s "$PIDF" ] && [ "$SECONDS" -lt "$end" ]; do
	sleep 0.1
done
MOTE_PID=$(cat "$PIDF" 2>/dev/null)
if ! [[ $MOTE_PID =~ ^[0-9]+$ ]]; then
	fail "the wrapper did not report mote's pid"
	kill -9 "$WRAPPER"
	exit 1
fi
note "wrapper pid $WRAPPER, mote pid $MOTE_PID"
# /proc/PID/stat's fourth field (the name, second, has no spaces here).
[ "$(awk '{ print $4 }' "/proc/$MOTE_PID/stat")" = "$WRAPPER" ] ||
	fail "mote's parent is not the wrapper"

if wait_for_line "$CONSOLE.raw" '^mote guest: kernel ' "$MOTE_PID" "$BOOT_TIMEOUT"; then
	alive "$MOTE_PID" || fail "mote ended before its parent was killed"
else
	fail "the guest's banner never appeared"
	show_tail "$CONSOLE.raw"
fi
kill -9 "$WRAPPER"
wait "$WRAPPER" 2>/dev/null
note "wrapper killed"
if ! wait_gone "$MOTE_PID" 120; then
	fail "mote (pid $MOTE_PID) still runs 120 s after its parent died"
	kill -9 "$MOTE_PID"
fi
tr -d '\r' <"$CONSOLE.raw" >"$CONSOLE"
expect_no_console '^mote-job-status:'
expect_result_file "$RES"
expect_result "$RES" status 143
expect_result "$RES" reason signal
