#!/bin/bash
# A file that is no kernel at all is refused with one error line.
. "$(dirname "$0")/lib.sh"
BOOT_TIMEOUT=60  # these must fail before any guest runs
bad=$T_OUT/garbage-vmlinuz
yes 'not a kernel' | head -c 1048576 >"$bad"
boot_guest run --kernel "$bad" -- true
expect_nonzero_status
expect_error_line 'garbage-vmlinuz|--kernel'
: >"$T_OUT/empty-vmlinuz"
boot_guest run --kernel "$T_OUT/empty-vmlinuz" -- true
expect_nonzero_status
expect_error_line 'empty-vmlinuz|--kernel'
