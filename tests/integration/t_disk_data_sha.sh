#!/bin/bash
# Data the guest writes to a data drive is in the image, byte for byte, and
# reads back the same in the guest from the device (O_DIRECT, past the
# page cache); bytes it did not write are untouched.
#  1. 32 MiB of random data at the start of /dev/vda (no root drive),
#     in 1 MiB writes, then fsync.
#  2. With a read-only root drive, the data drive is /dev/vdb: 2049
#     sectors at sector 7 with O_DIRECT, so requests that start and end
#     off any 4 KiB boundary.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$ROOTFS" "guest rootfs" || exit 1

MIB=1048576
DATA=$T_OUT/data.img
truncate -s $((64 * MIB)) "$DATA"

# region_sum FILE OFFSET LEN: sha256 of LEN bytes of FILE from OFFSET.
region_sum() {
	tail -c +$(($2 + 1)) "$1" | head -c "$3" | sha256sum | cut -d' ' -f1
}

# 1.
N=$((32 * MIB))
J="head -c $N /dev/urandom >/tmp/r && echo wrote-sum=\$(sha256sum </tmp/r | cut -c1-64)"
J="$J && dd if=/tmp/r of=/dev/vda bs=1M conv=fsync && echo written"
J="$J && echo read-sum=\$(dd if=/dev/vda bs=1M count=32 iflag=direct | sha256sum | cut -c1-64)"
boot_default --drive "$DATA" -- sh -c "$J"
expect_status 0
expect_console '^written$'
WROTE=$(console_value wrote-sum)
[ ${#WROTE} -eq 64 ] || fail "the guest printed no wrote-sum"
expect_value read-sum "$WROTE" "reading /dev/vda back with O_DIRECT"
[ "$(img_sum "$DATA" "$N")" = "$WROTE" ] ||
	fail "the image's first 32 MiB differ from what the guest wrote"
ZERO32=$(head -c "$N" /dev/zero | sha256sum | cut -d' ' -f1)
[ "$(region_sum "$DATA" "$N" "$N")" = "$ZERO32" ] ||
	fail "the image's last 32 MiB, never written, are no longer zero"
[ "$(stat -c %s "$DATA")" = $((64 * MIB)) ] || fail "the image changed size: $(stat -c %s "$DATA")"

# 2. Sectors [7, 7 + 2049) of /dev/vdb.
SKIP=7
COUNT=2049
OFF=$((SKIP * 512))
LEN=$((COUNT * 512))
BEFORE_HEAD=$(region_sum "$DATA" 0 "$OFF")
BEFORE_TAIL=$(region_sum "$DATA" $((OFF + LEN)) $((64 * MIB - OFF - LEN)))
J="head -c $LEN /dev/urandom >/tmp/r && echo wrote-sum=\$(sha256sum </tmp/r | cut -c1-64)"
J="$J && dd if=/tmp/r of=/dev/vdb bs=512 seek=$SKIP oflag=direct conv=notrunc,fsync && echo written"
J="$J && echo read-sum=\$(dd if=/dev/vdb bs=512 skip=$SKIP count=$COUNT iflag=direct | sha256sum | cut -c1-64)"
boot_default --rootfs "$ROOTFS,ro" --drive "$DATA" -- sh -c "$J"
expect_status 0
expect_console '^written$'
WROTE=$(console_value wrote-sum)
[ ${#WROTE} -eq 64 ] || fail "the guest printed no wrote-sum"
expect_value read-sum "$WROTE" "reading /dev/vdb back with O_DIRECT"
[ "$(region_sum "$DATA" "$OFF" "$LEN")" = "$WROTE" ] ||
	fail "image bytes [$OFF, $((OFF + LEN))) differ from what the guest wrote"
[ "$(region_sum "$DATA" 0 "$OFF")" = "$BEFORE_HEAD" ] ||
	fail "the sectors before the write changed"
[ "$(region_sum "$DATA" $((OFF + LEN)) $((64 * MIB - OFF - LEN)))" = "$BEFORE_TAIL" ] ||
	fail "the sectors after the write changed"
