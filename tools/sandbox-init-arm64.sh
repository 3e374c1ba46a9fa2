#!/bin/sh
# /init of the arm64 sandbox VM (busybox sh, packed into the initramfs by
# tools/sandbox --arch arm64). The x86 sandbox chroots into the host's own
# root; an arm64 VM cannot run the host's x86 programs, so here the
# initramfs is the root: busybox, bash, coreutils, e2fsprogs and libc from
# Debian's arm64 packages. The host's / is mounted read-only at /host, and
# the host's arm64 multiarch libraries (liburing2:arm64, libjansson4:arm64,
# ..., installed by tools/install-deps.sh) are linked into
# /usr/lib/aarch64-linux-gnu, so the arm64 mote cross-built on the host
# runs here.
# The work tree and the --rw directories are mounted read-write at their
# host paths. The job's status goes back through the "ctl" share
# (ctl/status) and as a SANDBOX-EXIT=<n> line on the console, as on x86.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
P9="trans=virtio,version=9p2000.L,msize=262144"

say() { echo "sandbox: $*"; }

finish() {
	echo "$1" >/ctl/status 2>/dev/null
	sync
	echo "SANDBOX-EXIT=$1"
	# Keep the kernel's "Power down" line out of the job's output.
	[ "$DEBUG" = 1 ] || echo 0 >/proc/sys/kernel/printk
	poweroff -f
	sleep 5
}

die() {
	say "$*"
	finish 125
}

# The package ships busybox alone: one symlink per applet, where the
# applet's own path says, unless a program of that name is there already
# (coreutils' and e2fsprogs' win; /bin/sh and /bin/bash are in the image).
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# A module's options come from the kernel command line as module.option=value
# (what modprobe would do; busybox's insmod does not look there).
module_opts() {
	local mod=$1 w
	for w in $(cat /proc/cmdline); do
		case $w in "$mod".*=*) printf '%s ' "${w#"$mod".}" ;; esac
	done
}
while read -r m; do
	mod=$(echo "${m%.ko}" | tr - _)
	# shellcheck disable=SC2046
	insmod "/modules/$m" $(module_opts "$mod") 2>/dev/null || say "insmod $m failed"
done </modules/order

mkdir -p /ctl /host
mount -t 9p -o "$P9" ctl /ctl || die "cannot mount the ctl share"
# shellcheck source=/dev/null
. /ctl/config
mount -t 9p -o "$P9,ro,cache=loose" host /host || die "cannot mount the host's /"
# The host's arm64 libraries join the root's own (those of the packages
# MOTE_SANDBOX_ARM64_PKGS adds): a symlink for each name the root lacks.
ML=/usr/lib/aarch64-linux-gnu
mkdir -p "$ML"
[ ! -d "/host$ML" ] || ln -s "/host$ML"/* "$ML/" 2>/dev/null
mkdir -p /dev/pts /dev/shm /tmp /var/tmp /run
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
# What udev would add: bash's <(...) and friends need /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp || die "cannot mount /tmp"
mount -t tmpfs -o mode=1777 tmpfs /var/tmp
mount -t tmpfs -o mode=0755 tmpfs /run || die "cannot mount /run"
mkdir -p /run/sandbox && mount --bind /ctl /run/sandbox
# The read-write shares go last, parents first (the host sorted them), so
# that one under /tmp lands on top of the tmpfs, not under it.
i=0
while [ "$i" -lt "$NRW" ]; do
	eval "dir=\$RW_$i"
	mkdir -p "$dir" 2>/dev/null
	mount -t 9p -o "$P9,cache=mmap" "rw$i" "$dir" ||
		die "cannot mount $dir read-write"
	i=$((i + 1))
done

[ -e /dev/kvm ] || say "warning: /dev/kvm did not appear (KVM did not initialise at EL2?)"

# Signs of life for the host's --stall watch: a VM whose timers died stops
# writing this, a busy one does not.
if [ "${HEARTBEAT:-0}" -gt 0 ]; then
	( n=0; while :; do n=$((n + 1)); echo "$n" >/ctl/alive; sleep "$HEARTBEAT"; done ) &
fi

# A hung job must still end the VM with a status the host can read.
( sleep "$INNER_TIMEOUT"; say "job timed out after $INNER_TIMEOUT s"; finish 124 ) &

if [ "$INTERACTIVE" = 1 ]; then
	# cttyhack reopens the real console (ttyAMA0) so the job gets a
	# controlling terminal: ^C and job control work.
	setsid cttyhack /bin/bash /run/sandbox/job.sh &
else
	# The host reads a log, not a terminal: plain \n line endings.
	stty -onlcr 2>/dev/null </dev/console
	setsid /bin/bash /run/sandbox/job.sh </dev/null &
fi
wait $!
finish $?
