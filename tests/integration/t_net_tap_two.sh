#!/bin/bash
# Two NICs in one VM, each on its own TAP and subnet: each reaches its own
# host address, and the interfaces get the MACs they were given.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'net_cleanup; t_finish' EXIT

tap_up mtap1 169.254.11.1/24 || exit 1
tap_up mtap2 169.254.12.1/24 || exit 1
J="ip addr add 169.254.12.2/24 dev eth1 && ip link set eth1 up"
J="$J && ping -c 2 -W 5 169.254.11.1 >/dev/null && echo ping1-ok"
J="$J; ping -c 2 -W 5 169.254.12.1 >/dev/null && echo ping2-ok"
J="$J; echo mac0=\$(cat /sys/class/net/eth0/address); echo mac1=\$(cat /sys/class/net/eth1/address)"
boot_default --net tap=mtap1,mac=52:54:00:aa:00:01 --net tap=mtap2,mac=52:54:00:aa:00:02 \
	--cmdline "$BASE_CMDLINE $(ip_arg 169.254.11.2 169.254.11.1)" -- sh -c "$J"
expect_status 0
expect_console '^ping1-ok$'
expect_console '^ping2-ok$'
expect_value mac0 52:54:00:aa:00:01 "eth0's MAC"
expect_value mac1 52:54:00:aa:00:02 "eth1's MAC"
# The frames came through each TAP, not across.
for t in mtap1 mtap2; do
	rx=$(cat "/sys/class/net/$t/statistics/rx_packets")
	[ "$rx" -gt 0 ] || fail "$t received no frames from the guest"
done
