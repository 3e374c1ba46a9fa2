#!/bin/bash
# tests/integration/bench_net.sh: the network half of `make bench`. Boots
# the default guest (initramfs only) with one virtio-net interface under
# mote and under QEMU's microvm (virtio-net-device), and measures with
# mote-netbench (guest-images/mote-netbench.c) on both ends:
#   - TCP throughput guest -> host and host -> guest, MiB/s (at the sink);
#   - 1-byte TCP request/response round trips per second (host -> guest).
# Backends, each against its QEMU counterpart:
#   tap   a TAP this script creates, 169.254.20.1/24 on the host side and a
#         static 169.254.20.2 in the guest (ip=); QEMU -netdev tap with
#         vhost=off, and with vhost=on as well when /dev/vhost-net exists;
#   user  user-mode networking (libslirp in both): the guest reaches the
#         host's loopback as 10.0.2.2, the host reaches the guest through
#         host forwards on 127.0.0.1.
# Runs alternate between the VMMs; medians and ratios mote/QEMU are
# printed (higher is better). Traffic never leaves the machine. Nothing is
# asserted.
#
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_BENCH_NET_RUNS (5),
# MOTE_BENCH_NET_MIB (64, per transfer), MOTE_BENCH_NET_RR_SECONDS (3).
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
NB=$GUEST/mote-netbench
RUNS=${MOTE_BENCH_NET_RUNS:-5}
MIB=${MOTE_BENCH_NET_MIB:-64}
RR=${MOTE_BENCH_NET_RR_SECONDS:-3}
MEM=256
TAP=mbtap0
HOST_IP=169.254.20.1
GUEST_IP=169.254.20.2
BASE="console=ttyS0 reboot=k panic=-1 pci=off quiet"
LIMIT=300
MAC=52:54:00:12:34:56

for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz" "$NB"; do
	[ -e "$f" ] || { echo "bench-net: $f is missing (make all guest)" >&2; exit 1; }
done
OUT=$(mktemp -d)
cleanup() {
	ip link del "$TAP" 2>/dev/null
	rm -rf "$OUT"
}
trap cleanup EXIT
ip link set lo up
ip tuntap add "$TAP" mode tap && ip addr add "$HOST_IP/24" dev "$TAP" &&
	ip link set "$TAP" up || { echo "bench-net: cannot set up $TAP" >&2; exit 1; }
VARIANTS="qemu-tap"
modprobe vhost_net 2>/dev/null
[ -c /dev/vhost-net ] && VARIANTS+=" qemu-tap-vhost"

# The guest's job: send to the host, then take the host's data, then echo
# its pings. $1: the host's address as the guest sees it.
job() {
	echo "mote-netbench source $1 5002 $MIB && mote-netbench sink 5001 && mote-netbench echo 5003"
}

# start VARIANT LOG: boot in the background; sets VM_PID.
start() {
	local v=$1 log=$2 hostaddr=$HOST_IP append qnet
	if [ "${v#*user}" != "$v" ]; then
		hostaddr=10.0.2.2
		append=$BASE
	else
		append="$BASE ip=$GUEST_IP::$HOST_IP:255.255.255.0::eth0:off"
	fi
	case $v in
	mote-tap) set -- --net "tap=$TAP,mac=$MAC" ;;
	mote-user) set -- --net "user,mac=$MAC,hostfwd=tcp:127.0.0.1:18001-:5001,hostfwd=tcp:127.0.0.1:18003-:5003" ;;
	qemu-tap) qnet="tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" ;;
	qemu-tap-vhost) qnet="tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=on" ;;
	qemu-user) qnet="user,id=n0,hostfwd=tcp:127.0.0.1:18001-:5001,hostfwd=tcp:127.0.0.1:18003-:5003" ;;
	esac
	if [ "${v%%-*}" = mote ]; then
		timeout -k 5 "$LIMIT" "$MOTE" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.gz" \
			--cpus 1 --mem "$MEM" --cmdline "$append" "$@" -- sh -c "$(job "$hostaddr")" \
			</dev/null >"$log" 2>&1 &
	else
		timeout -k 5 "$LIMIT" qemu-system-x86_64 -M microvm,acpi=on -accel kvm -cpu host \
			-m "$MEM" -smp 1 -nodefaults -no-user-config -nographic -serial stdio \
			-no-reboot -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
			-append "$append -- sh -c \"$(job "$hostaddr")\"" \
			-netdev "$qnet" -device "virtio-net-device,netdev=n0,mac=$MAC" \
			</dev/null >"$log" 2>&1 &
	fi
	VM_PID=$!
}

# one VARIANT RUN: prints "g2h h2g rr" (or fail).
one() {
	local v=$1 i=$2 log=$OUT/$1.$2.log g2h h2g rr addr p1=5001 p3=5003
	# Every host-side step is bounded: a VM that fails must not hang the
	# bench.
	timeout 150 "$NB" sink 5002 >"$OUT/sink.$v.$i" 2>&1 &
	local sink=$!
	start "$v" "$log"
	if [ "${v#*user}" != "$v" ]; then addr=127.0.0.1; p1=18001; p3=18003; else addr=$GUEST_IP; fi
	wait "$sink"
	g2h=$(grep -o 'sink-mibps=[0-9.]*' "$OUT/sink.$v.$i" | cut -d= -f2)
	timeout 150 "$NB" source "$addr" "$p1" "$MIB" >/dev/null 2>&1
	sleep 0.5
	rr=$(timeout $((RR + 30)) "$NB" rr "$addr" "$p3" "$RR" 2>/dev/null | grep -o 'rr-tps=[0-9]*' | cut -d= -f2)
	wait "$VM_PID"
	h2g=$(tr -d '\r' <"$log" | grep -o 'sink-mibps=[0-9.]*' | cut -d= -f2)
	echo "${g2h:-fail} ${h2g:-fail} ${rr:-fail}"
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

where="directly on this host's KVM"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] &&
	where="inside tools/sandbox (nested KVM under QEMU TCG: absolute numbers are slow, ratios still compare)"
echo "bench-net: 1 vCPU, $MEM MiB, $RUNS runs each, $MIB MiB per transfer, ${RR} s of ping-pong, $where"
echo "bench-net: variants: mote-tap mote-user $VARIANTS qemu-user"

declare -A V
for i in $(seq "$RUNS"); do
	for v in mote-tap $VARIANTS mote-user qemu-user; do
		read -r g h r < <(one "$v" "$i")
		echo "bench-net: run $i $v: guest->host=$g MiB/s host->guest=$h MiB/s rr=$r/s"
		[ "$g" = fail ] || V[$v.g2h]+=" $g"
		[ "$h" = fail ] || V[$v.h2g]+=" $h"
		[ "$r" = fail ] || V[$v.rr]+=" $r"
	done
done

missing=0
report() {
	local m=$1 q=$2 t mv qv
	for t in g2h h2g rr; do
		mv=$(echo "${V[$m.$t]:-}" | median)
		qv=$(echo "${V[$q.$t]:-}" | median)
		[ "$mv" != n/a ] && [ "$qv" != n/a ] || missing=1
		printf 'bench-net: %-26s %10s %10s %8s\n' "$m/$q $t" "$mv" "$qv" "$(ratio "$mv" "$qv")"
	done
}
printf 'bench-net: %-26s %10s %10s %8s\n' "median" mote qemu ratio
report mote-tap qemu-tap
[ "${VARIANTS#*vhost}" != "$VARIANTS" ] && report mote-tap qemu-tap-vhost
report mote-user qemu-user
echo "bench-net: g2h/h2g in MiB/s, rr in round trips/s; higher is better; ratio = mote/qemu"
[ "$missing" = 0 ] || { echo "bench-net: some figures are missing" >&2; exit 1; }
