# shellcheck shell=bash
# Helpers for the network tests (sourced after lib.sh and ci_lib.sh).
#
# Test traffic stays inside the sandbox: TAP devices this test creates,
# with link-local addresses (169.254.0.0/16) it assigns itself, the
# user-mode network's private addresses (10.0.2.0/24, inside libslirp),
# and the loopback device, which the test brings up (nothing is up in the
# sandbox). Nothing is ever sent to an address outside the machine.

NETBENCH=$GUEST/mote-netbench
BASE_CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off"
BG_TIMEOUT=${BG_TIMEOUT:-200}
T_TAPS=()

ip link set lo up 2>/dev/null

# tap_up NAME HOST_CIDR: a TAP for this test, with the host's address.
tap_up() {
	ip tuntap add "$1" mode tap || { fail "cannot create tap $1"; return 1; }
	T_TAPS+=("$1")
	ip addr add "$2" dev "$1" && ip link set "$1" up ||
		{ fail "cannot configure tap $1"; return 1; }
}

# tap_exists NAME
tap_exists() {
	[ -e "/sys/class/net/$1" ]
}

net_cleanup() {
	local t
	for t in "${T_TAPS[@]}"; do
		ip link del "$t" 2>/dev/null
	done
	[ -n "${HOST_PIDS:-}" ] && kill $HOST_PIDS 2>/dev/null
	return 0
}

# ip_arg GUEST_IP HOST_IP [DEV]: Linux's ip= parameter for a static /24.
ip_arg() {
	echo "ip=$1::$2:255.255.255.0::${3:-eth0}:off"
}

# need_netbench: the host side uses the guest's static tool too.
need_netbench() {
	need_file "$NETBENCH" "mote-netbench (host copy)"
}

# sum FILE: its sha256.
sum() {
	sha256sum "$1" | cut -d' ' -f1
}
