#!/bin/bash
# --result FILE for a job that ends the VM through the exit port: status
# 42 both as mote's exit status and in the file, reason guest-exit, a boot
# time (the kernel announces init on the default command line) no later
# than the total, and the file written whole (one line, no temporary left).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

RES=$T_OUT/result.json
echo stale >"$RES"   # a result file is replaced, not appended to
boot_default --result "$RES" -- sh -c 'exit 42'
expect_status 42
expect_console '^mote-job-status: 42$'
expect_result_file "$RES"
expect_result "$RES" status 42
expect_result "$RES" reason guest-exit
expect_result_match "$RES" message '42'
! grep -q stale "$RES" || fail "the old content of the result file is still there"
boot=$(result_get "$RES" boot_ms)
total=$(result_get "$RES" total_ms)
if ! [[ $boot =~ ^[0-9]+$ ]]; then
	fail "boot_ms is '$boot', expected a number (the console shows init starting)"
elif [[ $total =~ ^[0-9]+$ ]] && [ "$boot" -gt "$total" ]; then
	fail "boot_ms $boot is later than total_ms $total"
fi
grep -q 'Run /init as init process' "$CONSOLE" ||
	fail "the console lacks the kernel's 'Run /init as init process' line"
