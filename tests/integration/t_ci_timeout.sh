#!/bin/bash
# A job that never ends is stopped by the timeout: status 124, as
# timeout(1) gives, and --result says reason timeout. Once from the flag,
# once from the config file's "mote" section (timeout_s, result). mote
# runs outside timeout(1), whose own 124 would be indistinguishable; the
# guard below only keeps a hang from stalling the suite (no timing is
# asserted).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
BG_TIMEOUT=$((10 + 120))

RES=$T_OUT/flag.json
bg_start run --kernel "$KERNEL" --initrd "$INITRD" --timeout 10 --result "$RES" -- sleep 1000
bg_wait
expect_status 124
expect_no_console '^mote-job-status:'
expect_result_file "$RES"
expect_result "$RES" status 124
expect_result "$RES" reason timeout
expect_result_match "$RES" message 'time'

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
