#!/bin/bash
# A Firecracker config file with network-interfaces (iface_id,
# host_dev_name, guest_mac) boots and the interface works: the guest has
# the MAC, pings the host, and 4 MiB go each way with sha256 compared.
# Then the same VM described with mote's own key, a user-mode interface:
# it gets its DHCP address.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'net_cleanup; t_finish' EXIT
need_netbench || exit 1

tap_up mtap3 169.254.14.1/24 || exit 1
CFG=$T_OUT/vm.json
write_config "$CFG" 1 256 "$BASE_CMDLINE $(ip_arg 169.254.14.2 169.254.14.1)"
# Add the interface after "drives": a Firecracker section, keys as they are.
sed -i 's#  "drives": \[\],#  "drives": [],\n  "network-interfaces": [{ "iface_id": "eth0", "host_dev_name": "mtap3", "guest_mac": "06:00:ac:10:00:02" }],#' "$CFG"
head -c $((4 * 1048576)) /dev/urandom >"$T_OUT/to-guest"
"$NETBENCH" recv 5011 >"$T_OUT/from-guest" 2>/dev/null &
HOST_PIDS=$!
J="echo mac=\$(cat /sys/class/net/eth0/address)"
J="$J; ping -c 2 -W 5 169.254.14.1 >/dev/null && echo ping-ok"
J="$J; head -c 4194304 /dev/urandom >/tmp/out && echo out-sum=\$(sha256sum </tmp/out | cut -c1-64)"
J="$J && mote-netbench send 169.254.14.1 5011 </tmp/out"
J="$J && mote-netbench recv 5012 >/tmp/in && echo in-sum=\$(sha256sum </tmp/in | cut -c1-64)"
bg_start run --config "$CFG" -- sh -c "$J"
if wait_for_line "$CONSOLE.raw" 'netbench: listening' "$BG_PID" "$BG_TIMEOUT"; then
	"$NETBENCH" send 169.254.14.2 5012 <"$T_OUT/to-guest" || fail "sending to the guest failed"
else
	fail "the guest never listened"
fi
bg_wait
wait "$HOST_PIDS" 2>/dev/null
expect_status 0
expect_value mac 06:00:ac:10:00:02 "the guest_mac"
expect_console '^ping-ok$'
[ "$(sum "$T_OUT/from-guest")" = "$(console_value out-sum)" ] ||
	fail "what the host received differs from what the guest sent"
expect_value in-sum "$(sum "$T_OUT/to-guest")" "the data the host sent"

# mote's key on an interface: user-mode networking.
sed -i 's#"host_dev_name": "mtap3", "guest_mac": "06:00:ac:10:00:02"#"mote": { "backend": "user" }#' "$CFG"
sed -i "s# ip=[^\"]*\"#\"#" "$CFG"
boot_guest run --config "$CFG" -- sh -c "echo addr=\$(ip -4 -o addr show eth0 | awk '{print \$4}')"
expect_status 0
expect_console '^addr=10\.0\.2\.[0-9]+/24$'
