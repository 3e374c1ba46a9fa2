#!/bin/sh
# /init of the sandbox VM (busybox sh, packed into the initramfs by
# tools/sandbox). Loads KVM and virtio-9p, mounts the host's / read-only
# with the work tree read-write over it, chroots there and runs the job the
# host wrote into the "ctl" share. The job's status goes back through that
# share (ctl/status) and as a SANDBOX-EXIT=<n> line on the console.
export PATH=/bin
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

mkdir -p /ctl /newroot
mount -t 9p -o "$P9" ctl /ctl || die "cannot mount the ctl share"
# shellcheck source=/dev/null
. /ctl/config
mount -t 9p -o "$P9,ro,cache=loose" host /newroot || die "cannot mount the host's /"
R=/newroot
mount -t proc proc $R/proc && mount -t sysfs sysfs $R/sys &&
	mount -t devtmpfs devtmpfs $R/dev || die "cannot mount proc/sys/dev"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $R/dev/pts
ln -sf pts/ptmx $R/dev/ptmx 2>/dev/null
# What udev would add: bash's <(...) and friends need /dev/fd.
ln -sf /proc/self/fd $R/dev/fd
ln -sf /proc/self/fd/0 $R/dev/stdin
ln -sf /proc/self/fd/1 $R/dev/stdout
ln -sf /proc/self/fd/2 $R/dev/stderr
mount -t tmpfs tmpfs $R/dev/shm
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || die "cannot mount /tmp"
mount -t tmpfs -o mode=1777 tmpfs $R/var/tmp 2>/dev/null
mount -t tmpfs -o mode=0755 tmpfs $R/run || die "cannot mount /run"
mkdir -p $R/run/sandbox && mount --bind /ctl $R/run/sandbox
# The read-write shares go last: a work tree under /tmp (a CI clone) must
# land on top of the tmpfs, not under it. mkdir creates the mount point
# when it lies on a tmpfs; elsewhere it already exists on the host.
i=0
while [ "$i" -lt "$NRW" ]; do
	eval "dir=\$RW_$i"
	mkdir -p "$R$dir" 2>/dev/null
	mount -t 9p -o "$P9,cache=mmap" "rw$i" "$R$dir" ||
		die "cannot mount $dir read-write"
	i=$((i + 1))
done

[ -e /dev/kvm ] || say "warning: /dev/kvm did not appear (kvm-amd failed to load?)"

# Signs of life for the host's --stall watch: a VM whose timers died stops
# writing this, a busy one does not.
if [ "${HEARTBEAT:-0}" -gt 0 ]; then
	( n=0; while :; do n=$((n + 1)); echo "$n" >/ctl/alive; sleep "$HEARTBEAT"; done ) &
fi

# A hung job must still end the VM with a status the host can read.
( sleep "$INNER_TIMEOUT"; say "job timed out after $INNER_TIMEOUT s"; finish 124 ) &

if [ "$INTERACTIVE" = 1 ]; then
	# cttyhack reopens the real console (ttyS0) so the job gets a
	# controlling terminal: ^C and job control work in `make demo`.
	setsid cttyhack chroot $R /bin/bash /run/sandbox/job.sh &
else
	# The host reads a log, not a terminal: plain \n line endings.
	stty -onlcr 2>/dev/null </dev/console
	setsid chroot $R /bin/bash /run/sandbox/job.sh </dev/null &
fi
wait $!
finish $?
