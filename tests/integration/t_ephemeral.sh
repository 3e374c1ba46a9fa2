#!/bin/bash
# Ephemeral drives: the guest writes to its root disk and reads the writes
# back, yet the image comes out byte-identical and no temporary file is
# left behind; a second guest sees none of the first one's writes; two
# guests run on one image at the same time, each seeing only its own
# writes, while a writable (non-ephemeral) open of the image is refused.
. "$(dirname "$0")/lib.sh"
need_file "$ROOTFS" "guest rootfs" || exit 1
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

BASE=$T_OUT/base.ext4
cp "$ROOTFS" "$BASE"
SUM=$(sha256sum <"$BASE")
# The copy-on-write stores go to $TMPDIR: an empty directory of our own,
# off the work tree (which is 9p in tools/sandbox: no unlinked files,
# no fifos there).
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mote-t-ephemeral.XXXXXX")
STORE=$SCRATCH/store
mkdir "$STORE"
export TMPDIR=$STORE

expect_untouched() {
	[ "$(sha256sum <"$BASE")" = "$SUM" ] || fail "$1: the ephemeral image changed"
	local left
	left=$(ls -A "$STORE")
	[ -z "$left" ] || fail "$1: files left in $STORE: $left"
}

# Job arguments travel on the kernel command line: one line each, no
# double quotes.
# 1. Writes are seen by the guest and dropped at exit. The 8 MiB file is
# read back after the page cache is dropped, so from the disk.
J='echo eph-data >/root/eph && dd if=/dev/urandom of=/root/big bs=1M count=8 2>/dev/null'
J="$J && md5sum </root/big >/root/sum && sync && echo 3 >/proc/sys/vm/drop_caches"
J="$J && cat /root/eph && md5sum </root/big | cmp - /root/sum && echo readback-ok"
boot_default --rootfs "$BASE,ephemeral" -- sh -c "$J"
expect_status 0
expect_console '^eph-data$'
expect_console '^readback-ok$'
expect_untouched "after a guest wrote"

# 2. The next guest starts from the image again (--ephemeral, the flag).
boot_default --rootfs "$BASE" --ephemeral -- sh -c \
	'test ! -e /root/eph && test ! -e /root/big && echo fresh'
expect_status 0
expect_console '^fresh$'
expect_untouched "after the flag"

# 3. Two guests at once. A writes, says so, then waits for a line on its
# console; B boots meanwhile, writes the same file, and ends; only then
# does A go on, and it must still read its own data.
FIFO=$SCRATCH/a.in
mkfifo "$FIFO"
exec 7<>"$FIFO"
A_RAW=$T_OUT/console.a.raw
# shellcheck disable=SC2016  # $go is the guest's
J='echo guest-A >/root/who && sync && echo A-ready && read -r go && echo A-got-$go'
J="$J && echo 3 >/proc/sys/vm/drop_caches && cat /root/who"
timeout -k 5 "$BOOT_TIMEOUT" "$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" \
	--rootfs "$BASE,ephemeral" -- sh -c "$J" <"$FIFO" >"$A_RAW" 2>"$T_OUT/stderr.a" &
A_PID=$!
note "guest A: pid $A_PID"
while kill -0 "$A_PID" 2>/dev/null && ! grep -q '^A-ready' "$A_RAW"; do
	sleep 0.5
done
if ! grep -q '^A-ready' "$A_RAW"; then
	fail "guest A never got ready"
	show_tail "$A_RAW"
fi

boot_default --rootfs "$BASE,ephemeral" -- sh -c \
	'echo guest-B >/root/who && sync && cat /root/who'
expect_status 0
expect_console '^guest-B$'
expect_no_console '^guest-A$'
kill -0 "$A_PID" 2>/dev/null || fail "guest A ended before guest B did: no overlap"

# A writable open must wait for the ephemeral users to go.
boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --rootfs "$BASE" -- true
expect_nonzero_status
expect_error_line 'locked by another process'

echo go >&7
A_STATUS=0
wait "$A_PID" || A_STATUS=$?
exec 7>&-
tr -d '\r' <"$A_RAW" >"$T_OUT/console.a"
note "guest A -> status $A_STATUS"
[ "$A_STATUS" = 0 ] || { fail "guest A: exit status $A_STATUS"; show_tail "$T_OUT/console.a"; }
grep -q '^A-got-go$' "$T_OUT/console.a" || fail "guest A did not get its console line"
grep -q '^guest-A$' "$T_OUT/console.a" || fail "guest A lost its own write"
! grep -q '^guest-B$' "$T_OUT/console.a" || fail "guest A saw guest B's write"
expect_untouched "after two guests at once"
rm -rf "$SCRATCH"
