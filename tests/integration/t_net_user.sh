#!/bin/bash
# User-mode networking (libslirp), with mote running as an unprivileged
# user (nobody, plus the group that owns /dev/kvm):
#  1. the guest gets an address by DHCP and fetches a file from an HTTP
#     server the test runs on the sandbox's loopback (the gateway, 10.0.2.2,
#     stands for the host's 127.0.0.1), sha256 compared;
#  2. a host-to-guest forward (hostfwd) reaches a server in the guest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/net_lib.sh"
trap 'net_cleanup; t_finish' EXIT
need_netbench || exit 1

# Everything nobody needs, in a directory nobody can reach (the work tree
# and the guest images may sit below directories only root may enter).
NB=$(mktemp -d /tmp/mote-t-net-user.XXXXXX)
chmod 755 "$NB"
HOST_PIDS=
trap 'net_cleanup; rm -rf "$NB"; t_finish' EXIT
cp "$MOTE" "$KERNEL" "$INITRD" "$NB/"
WWW=$T_OUT/www
mkdir -p "$WWW"
head -c $((4 * 1048576)) /dev/urandom >"$WWW/blob"
WANT=$(sum "$WWW/blob")
chmod -R a+rX "$NB"
busybox httpd -f -p 127.0.0.1:18080 -h "$WWW" &
HOST_PIDS=$!

# nobody reaches /dev/kvm through its group, as users of Debian's kvm
# group do. The sandbox has no udev to set that up, so the test does (the
# sandbox's /dev goes away with it); elsewhere the group must allow it.
KVM_MODE=$(stat -c %a /dev/kvm)
if [ "${MOTE_IN_SANDBOX:-0}" = 1 ] && (( (0$KVM_MODE & 060) != 060 )); then
	chgrp 65533 /dev/kvm && chmod g+rw /dev/kvm || fail "cannot open /dev/kvm to a group"
fi
KVM_GID=$(stat -c %g /dev/kvm)
(( (0$(stat -c %a /dev/kvm) & 060) == 060 )) ||
	fail "/dev/kvm ($(stat -c '%U:%G %a' /dev/kvm)) gives its group no access: nobody cannot use it"
J="echo addr=\$(ip -4 -o addr show eth0 | awk '{print \$4}')"
J="$J; wget -q -O /tmp/blob http://10.0.2.2:18080/blob && echo got-sum=\$(sha256sum </tmp/blob | cut -c1-64)"
J="$J; mkdir -p /www && echo hello-from-guest >/www/index.html && httpd -p 80 -h /www && echo serving"
J="$J; mote-netbench recv 81 >/dev/null; echo done"
T_BOOTS=$((T_BOOTS + 1))
CONSOLE=$T_OUT/console.$T_BOOTS
STDERR=$T_OUT/stderr.$T_BOOTS
setpriv --reuid=65534 --regid=65534 --groups="$KVM_GID" --inh-caps=-all \
	"$NB/mote" run --kernel "$NB/vmlinuz" --initrd "$NB/initrd.gz" \
	--net user,hostfwd=tcp:127.0.0.1:18081-:80,hostfwd=tcp::18082-:81 -- sh -c "$J" \
	</dev/null >"$CONSOLE.raw" 2>"$STDERR" &
BG_PID=$!
note "boot $T_BOOTS (background, pid $BG_PID, as nobody): mote run --net user,..."
if wait_for_line "$CONSOLE.raw" '^serving' "$BG_PID" "$BG_TIMEOUT"; then
	busybox wget -q -O "$T_OUT/index.html" http://127.0.0.1:18081/index.html ||
		fail "the forward to the guest's port 80 did not answer"
	grep -qx hello-from-guest "$T_OUT/index.html" 2>/dev/null ||
		fail "the guest's page came back wrong: $(head -c 100 "$T_OUT/index.html" 2>/dev/null)"
	"$NETBENCH" send 127.0.0.1 18082 </dev/null || fail "the second forward did not answer"
else
	fail "the guest never started its server"
fi
bg_wait
expect_status 0
expect_console '^addr=10\.0\.2\.[0-9]+/24$'
expect_value got-sum "$WANT" "the file fetched from the host's loopback"
expect_console '^done$'
