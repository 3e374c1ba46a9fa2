#!/bin/bash
# Impossible sizes are usage errors: non-zero status, one line naming the flag.
. "$(dirname "$0")/lib.sh"
BOOT_TIMEOUT=60  # these must fail before any guest runs
need_file "$KERNEL" "guest kernel" || exit 1
boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --cpus 0 -- true
expect_nonzero_status
expect_error_line 'cpus'
boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --mem 1K -- true
expect_nonzero_status
expect_error_line 'mem'
boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --cpus lots -- true
expect_nonzero_status
expect_error_line 'cpus'
boot_guest run --initrd "$INITRD" -- true
expect_nonzero_status
expect_error_line 'kernel'
