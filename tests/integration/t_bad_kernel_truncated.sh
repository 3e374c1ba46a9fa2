#!/bin/bash
# A kernel cut short is refused before the VM starts, with one error line.
. "$(dirname "$0")/lib.sh"
BOOT_TIMEOUT=60  # these must fail before any guest runs
need_file "$KERNEL" "guest kernel" || exit 1
bad=$T_OUT/truncated-vmlinuz
head -c 8192 "$KERNEL" >"$bad"
boot_guest run --kernel "$bad" --initrd "$INITRD" -- true
expect_nonzero_status
expect_error_line 'truncated-vmlinuz|--kernel'
# Cut inside the protected-mode part too: the header is intact there.
head -c $(($(stat -c %s "$KERNEL") / 2)) "$KERNEL" >"$bad"
boot_guest run --kernel "$bad" --initrd "$INITRD" -- true
expect_nonzero_status
expect_error_line 'truncated-vmlinuz|--kernel'
