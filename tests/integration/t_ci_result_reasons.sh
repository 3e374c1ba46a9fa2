#!/bin/bash
# --result names how the VM ended on a VMM error (a garbage kernel: status
# 1, reason error, the message naming the kernel, the same line on
# stderr). Poweroff, reboot and panic results: t_poweroff, t_reboot,
# t_panic.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

RES=$T_OUT/error.json
BAD=$T_OUT/garbage-vmlinuz
yes 'not a kernel' | head -c 1048576 >"$BAD"
BOOT_TIMEOUT=60 boot_guest run --kernel "$BAD" --result "$RES" -- true
expect_status 1
expect_error_line 'garbage-vmlinuz'
expect_result_file "$RES"
expect_result "$RES" status 1
expect_result "$RES" reason error
expect_result_match "$RES" message 'garbage-vmlinuz'
expect_result "$RES" boot_ms null
