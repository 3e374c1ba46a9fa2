#!/bin/bash
# One writable user per image. While guest A runs with the image as a
# writable drive, every other mote that names it (writable, ro, ephemeral,
# as the root drive, through a symlink) fails before its guest starts, with
# one error line naming the image and "locked". Read-only users share:
# while B has it read-only, a writable open fails and a read-only one works.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

DATA=$T_OUT/data.img
truncate -s $((16 * 1048576)) "$DATA"
LINK=$T_OUT/data-link.img
ln -s data.img "$LINK" || fail "cannot make a symlink in $T_OUT"

# refused WHAT ARGS...: a mote with ARGS fails at once, naming the image.
refused() {
	local what=$1 img
	shift
	BOOT_TIMEOUT=60 boot_guest run --kernel "$KERNEL" --initrd "$INITRD" "$@" -- true
	expect_nonzero_status
	img=$DATA
	[ "$what" = symlink ] && img=$LINK
	expect_file_error "$img" 'locked'
	expect_no_boot
}

# shellcheck disable=SC2016  # $go is the guest's
WAIT='echo guest-ready && read -r go && echo guest-got-$go'

# 1. A holds it writable.
bg_start A --drive "$DATA" -- sh -c "$WAIT"
if bg_wait '^guest-ready'; then
	refused writable --drive "$DATA"
	refused ro --drive "$DATA,ro"
	refused ephemeral --drive "$DATA,ephemeral"
	refused rootfs --rootfs "$DATA"
	refused symlink --drive "$LINK"
	kill -0 "$BG_PID" 2>/dev/null || fail "guest A ended while the others were refused"
fi
bg_send go
bg_end
[ "$BG_STATUS" = 0 ] || fail "guest A: status $BG_STATUS"
expect_console '^guest-got-go$'

# 2. B holds it read-only: writers are refused, readers share.
bg_start B --drive "$DATA,ro" -- sh -c "$WAIT"
if bg_wait '^guest-ready'; then
	refused writable --drive "$DATA"
	# shellcheck disable=SC2016  # the guest expands it
	boot_default --drive "$DATA,ro" -- sh -c 'echo ro=$(cat /sys/block/vda/ro)'
	expect_status 0
	expect_console '^ro=1$'
	kill -0 "$BG_PID" 2>/dev/null || fail "guest B ended before the second reader did"
fi
bg_send go
bg_end
[ "$BG_STATUS" = 0 ] || fail "guest B: status $BG_STATUS"
expect_console '^guest-got-go$'
