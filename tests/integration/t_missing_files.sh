#!/bin/bash
# Files that do not exist are named in the one error line.
. "$(dirname "$0")/lib.sh"
BOOT_TIMEOUT=60  # these must fail before any guest runs
need_file "$KERNEL" "guest kernel" || exit 1
boot_guest run --kernel "$KERNEL" --initrd "$T_OUT/no-such-initrd.gz" -- true
expect_nonzero_status
expect_error_line 'no-such-initrd|--initrd'
boot_guest run --kernel "$T_OUT/no-such-kernel" -- true
expect_nonzero_status
expect_error_line 'no-such-kernel|--kernel'
