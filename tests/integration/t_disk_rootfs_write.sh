#!/bin/bash
# Files the guest writes on its ext4 root drive are in the image after mote
# exits, as e2fsprogs on the host reads it: after a clean unmount (the
# file system checks clean as it is) and after a plain sync with no unmount
# (the journal the guest flushed holds them; e2fsck replays it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$ROOTFS" "guest rootfs" || exit 1
for tool in debugfs e2fsck; do
	command -v "$tool" >/dev/null || { fail "$tool not found (e2fsprogs)"; exit 1; }
done

IMG=$T_OUT/root.ext4
cp "$ROOTFS" "$IMG"
TOKEN1=mote-note-1-$$-$(date +%s%N)
TOKEN2=mote-note-2-$$-$(date +%s%N)

# debug_cat PATH IMG: the file's contents as debugfs reads them.
debug_cat() {
	debugfs -R "cat $1" "$2" 2>/dev/null
}

# 1. A small file and a 1 MiB random one, then sync and remount read-only
# (what init does at the end of an interactive session).
J="echo $TOKEN1 >/root/note1 && mkdir -p /root/sub"
J="$J && head -c 1048576 /dev/urandom >/root/sub/blob"
J="$J && echo blob-sum=\$(sha256sum </root/sub/blob | cut -c1-64)"
J="$J && sync && mount -o remount,ro / && echo remounted-ro"
boot_default --rootfs "$IMG" -- sh -c "$J"
expect_status 0
expect_console '^remounted-ro$'
BLOB_SUM=$(console_value blob-sum)
[ ${#BLOB_SUM} -eq 64 ] || fail "the guest printed no blob-sum"
rc=0
e2fsck -fn "$IMG" >"$T_OUT/fsck.1" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { fail "e2fsck -fn after a clean unmount: status $rc"; show_tail "$T_OUT/fsck.1"; }
got=$(debug_cat /root/note1 "$IMG")
[ "$got" = "$TOKEN1" ] || fail "debugfs reads /root/note1 as '$got', expected '$TOKEN1'"
rm -f "$T_OUT/blob"
debugfs -R "dump /root/sub/blob $T_OUT/blob" "$IMG" >/dev/null 2>&1
if [ ! -f "$T_OUT/blob" ]; then
	fail "debugfs cannot dump /root/sub/blob"
else
	[ "$(stat -c %s "$T_OUT/blob")" = 1048576 ] ||
		fail "/root/sub/blob has $(stat -c %s "$T_OUT/blob") bytes on the host, expected 1048576"
	[ "$(img_sum "$T_OUT/blob")" = "$BLOB_SUM" ] ||
		fail "/root/sub/blob on the host differs from what the guest wrote"
fi

# 2. The next guest reads the first one's file back, writes another, syncs
# and ends without unmounting: only the journal commit is certain to be on
# the image, so replay it (as the next mount would) before reading.
J="echo note1=\$(cat /root/note1) && echo $TOKEN2 >/root/note2 && sync && echo synced"
boot_default --rootfs "$IMG" -- sh -c "$J"
expect_status 0
expect_value note1 "$TOKEN1" "the second guest reading /root/note1"
expect_console '^synced$'
rc=0
e2fsck -fy "$IMG" >"$T_OUT/fsck.2" 2>&1 || rc=$?
[ "$rc" -le 1 ] || { fail "e2fsck -fy after a sync without unmount: status $rc"; show_tail "$T_OUT/fsck.2"; }
rc=0
e2fsck -fn "$IMG" >"$T_OUT/fsck.3" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { fail "e2fsck -fn after the journal replay: status $rc"; show_tail "$T_OUT/fsck.3"; }
got=$(debug_cat /root/note2 "$IMG")
[ "$got" = "$TOKEN2" ] || fail "debugfs reads /root/note2 as '$got', expected '$TOKEN2'"
got=$(debug_cat /root/note1 "$IMG")
[ "$got" = "$TOKEN1" ] || fail "debugfs reads /root/note1 as '$got' after the second boot"
