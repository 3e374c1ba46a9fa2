#!/bin/bash
# What the guest wrote and flushed is in the image even when mote dies by
# SIGKILL right after the flush completed. The guest prints a marker line
# only after fsync/sync returned (so after its FLUSH request completed) and
# then idles; the test kills mote as soon as the marker shows.
#  1. 4 MiB of random data on a raw data drive, dd conv=fsync.
#  2. A file on the ext4 root drive, then sync; the host replays the
#     journal (as the next mount would) and reads the file with debugfs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$ROOTFS" "guest rootfs" || exit 1
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# kill_at_marker: SIGKILL the background mote once it prints the marker.
kill_at_marker() {
	if bg_wait '^flushed-mark' && kill -KILL "$BG_PID" 2>/dev/null; then
		note "SIGKILL sent to $BG_PID after the marker"
	fi
	bg_end 30
	[ "$BG_STATUS" = 137 ] || fail "mote status $BG_STATUS, expected 137 (SIGKILL)"
	expect_no_console '^mote-job-status:'
}

# 1.
DATA=$T_OUT/data.img
N=$((4 * 1048576))
truncate -s $((16 * 1048576)) "$DATA"
J="head -c $N /dev/urandom >/tmp/p && echo pattern-sum=\$(sha256sum </tmp/p | cut -c1-64)"
J="$J && dd if=/tmp/p of=/dev/vda bs=64k conv=notrunc,fsync && echo flushed-mark && sleep 600"
bg_start raw --drive "$DATA" -- sh -c "$J"
kill_at_marker
SUM=$(console_value pattern-sum)
[ ${#SUM} -eq 64 ] || fail "the guest printed no pattern-sum"
[ "$(img_sum "$DATA" "$N")" = "$SUM" ] ||
	fail "the image's first 4 MiB differ from the pattern the guest flushed"

# 2.
IMG=$T_OUT/root.ext4
cp "$ROOTFS" "$IMG"
J="head -c $N /dev/urandom >/root/flushed && echo file-sum=\$(sha256sum </root/flushed | cut -c1-64)"
J="$J && sync && echo flushed-mark && sleep 600"
bg_start fs --rootfs "$IMG" -- sh -c "$J"
kill_at_marker
SUM=$(console_value file-sum)
[ ${#SUM} -eq 64 ] || fail "the guest printed no file-sum"
rc=0
e2fsck -fy "$IMG" >"$T_OUT/fsck.1" 2>&1 || rc=$?
[ "$rc" -le 1 ] || { fail "e2fsck -fy: status $rc"; show_tail "$T_OUT/fsck.1"; }
rm -f "$T_OUT/flushed"
debugfs -R "dump /root/flushed $T_OUT/flushed" "$IMG" >/dev/null 2>&1
if [ ! -f "$T_OUT/flushed" ]; then
	fail "/root/flushed is not in the image"
elif [ "$(img_sum "$T_OUT/flushed")" != "$SUM" ]; then
	fail "/root/flushed in the image ($(stat -c %s "$T_OUT/flushed") bytes) differs from what the guest wrote"
fi
