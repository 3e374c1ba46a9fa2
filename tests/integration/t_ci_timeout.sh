#!/bin/bash
# A job that never ends is stopped by the timeout: status 124, as
# timeout(1) gives, and --result says reason timeout, after the VM ran for
# at least the limit (total_ms) with the guest booted and the job started
# (its marker on the console). Once from the flag, once from the config
# file's "mote" section (timeout_s, result). mote runs outside timeout(1),
# whose own 124 would be indistinguishable; the guard below only keeps a
# hang from stalling the suite.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
# Long enough for the guest to boot and start its job inside tools/sandbox
# (10 to 30 s there).
LIMIT=40
BG_TIMEOUT=$((LIMIT + 120))

# expect_ran_for RESULT SECS: total_ms is at least SECS s.
expect_ran_for() {
	local ms
	ms=$(result_get "$1" total_ms) || { fail "result $(basename "$1") has no total_ms"; return; }
	if ! [[ $ms =~ ^[0-9]+$ ]] || [ "$ms" -lt $(($2 * 1000)) ]; then
		fail "result $(basename "$1"): total_ms $ms, but the timeout was $2 s"
	fi
}

RES=$T_OUT/flag.json
bg_start run --kernel "$KERNEL" --initrd "$INITRD" --timeout "$LIMIT" --result "$RES" \
	-- sh -c 'echo mote-test-job-started; sleep 1000'
bg_wait
expect_status 124
expect_console '^mote guest: kernel '
expect_console '^mote-test-job-started$'
expect_no_console '^mote-job-status:'
expect_result_file "$RES"
expect_result "$RES" status 124
expect_result "$RES" reason timeout
expect_result_match "$RES" message 'time'
expect_result_match "$RES" boot_ms '^[0-9]+$'
expect_ran_for "$RES" "$LIMIT"

# The config's limit is shorter: whether or not the guest has booted by
# then, the VM runs for 10 s and no less.
RES=$T_OUT/config.json
VM=$T_OUT/vm.json
write_config "$VM" 1 256 'console=ttyS0 reboot=k panic=-1 pci=off -- sleep 1000' \
	"{\"timeout_s\": 10, \"result\": $(json_str "$RES")}"
bg_start run --config "$VM"
bg_wait
expect_status 124
expect_no_console '^mote-job-status:'
expect_result_file "$RES"
expect_result "$RES" status 124
expect_result "$RES" reason timeout
expect_ran_for "$RES" 10
