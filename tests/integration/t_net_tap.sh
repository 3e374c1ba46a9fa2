#!/bin/bash
# virtio-net over a TAP device the test created, with a static address
# given by Linux's ip= parameter:
#  1. the guest pings the host, and the host pings the guest;
#  2. 64 MiB guest -> host and 64 MiB host -> guest over TCP, sha256
#     compared at both ends;
#  3. mote only opened this TAP, so it is still there, as it was, after
#     the VM ends.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'net_cleanup; t_finish' EXIT
need_netbench || exit 1

TAP=mtap0
HOST=169.254.10.1
GUESTIP=169.254.10.2
tap_up "$TAP" "$HOST/24" || exit 1
MIB=$((64 * 1048576))
head -c "$MIB" /dev/urandom >"$T_OUT/to-guest"
TO_GUEST=$(sum "$T_OUT/to-guest")

# The host receives first; the guest then listens for the host's data.
"$NETBENCH" recv 5001 >"$T_OUT/from-guest" 2>"$T_OUT/recv.log" &
HOST_PIDS=$!
J="ping -c 3 -W 5 $HOST >/dev/null && echo ping-ok"
J="$J; head -c $MIB /dev/urandom >/tmp/out && echo out-sum=\$(sha256sum </tmp/out | cut -c1-64)"
J="$J && mote-netbench send $HOST 5001 </tmp/out && echo sent"
J="$J && rm /tmp/out && mote-netbench recv 5002 >/tmp/in && echo in-sum=\$(sha256sum </tmp/in | cut -c1-64)"
bg_start run --kernel "$KERNEL" --initrd "$INITRD" --mem 512 --net "tap=$TAP" \
	--cmdline "$BASE_CMDLINE $(ip_arg $GUESTIP $HOST)" -- sh -c "$J"
if wait_for_line "$CONSOLE.raw" 'netbench: listening' "$BG_PID" "$BG_TIMEOUT"; then
	busybox ping -c 3 -W 5 "$GUESTIP" >"$T_OUT/host-ping" 2>&1 || fail "the host cannot ping the guest"
	"$NETBENCH" send "$GUESTIP" 5002 <"$T_OUT/to-guest" || fail "sending to the guest failed"
else
	fail "the guest never listened for the host's data"
fi
bg_wait
wait "$HOST_PIDS" 2>/dev/null
expect_status 0
expect_console '^ping-ok$'
expect_console '^sent$'
OUT=$(console_value out-sum)
[ ${#OUT} -eq 64 ] || fail "the guest printed no out-sum"
[ "$(sum "$T_OUT/from-guest")" = "$OUT" ] ||
	fail "the host received $(stat -c %s "$T_OUT/from-guest") bytes that differ from what the guest sent"
expect_value in-sum "$TO_GUEST" "the data the host sent"
tap_exists "$TAP" || fail "mote removed $TAP, which it did not create"
