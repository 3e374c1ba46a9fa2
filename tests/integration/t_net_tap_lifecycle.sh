#!/bin/bash
# TAP devices and errors:
#  1. a TAP that does not exist: one line naming it, status 1, and mote
#     does not create it behind the user's back;
#  2. a TAP mote creates (tap=NAME,create) exists while the VM runs and is
#     gone after a poweroff;
#  3. ... and after SIGTERM (status 143);
#  4. create on a name that exists is refused, and the existing TAP is
#     left as it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'net_cleanup; t_finish' EXIT

# 1.
boot_default --net tap=mtapnone -- true
expect_status 1
expect_error_line 'mtapnone'
tap_exists mtapnone && { fail "mote created mtapnone"; ip link del mtapnone; }

# 2.
bg_start run --kernel "$KERNEL" --initrd "$INITRD" --net tap=mtapc0,create \
	-- sh -c 'echo up; read x </dev/console; true'
wait_for_line "$CONSOLE.raw" '^up' "$BG_PID" "$BG_TIMEOUT" || fail "the guest never ran its job"
tap_exists mtapc0 || fail "mtapc0 does not exist while the VM runs"
kill -TERM "$BG_PID"
bg_wait
expect_status 143
tap_exists mtapc0 && fail "mtapc0 is still there after SIGTERM"

# 3.
boot_default --net tap=mtapc1,create -- sh -c 'test -e /sys/class/net/eth0 && echo has-eth0'
expect_status 0
expect_console '^has-eth0$'
tap_exists mtapc1 && fail "mtapc1 is still there after the VM ended"

# 4.
tap_up mtapx 169.254.13.1/24 || exit 1
boot_default --net tap=mtapx,create -- true
expect_status 1
expect_error_line 'mtapx'
tap_exists mtapx || fail "mote removed mtapx, which it did not create"
ip -4 addr show mtapx | grep -q 169.254.13.1 || fail "mtapx lost its address"
