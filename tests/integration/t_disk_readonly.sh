#!/bin/bash
# A drive opened with ",ro" is read-only to the guest (sysfs ro=1) and
# refuses its writes: direct and buffered+fsync dd writes fail, and so do
# they after "blockdev --setrw" has tried to lift the guest's own guard;
# reads still work; the image stays byte-identical.
#  1. The read-only drive alone, /dev/vda.
#  2. Behind a read-only root drive, /dev/vdb; the root image is unchanged too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$ROOTFS" "guest rootfs" || exit 1

IMG=$T_OUT/ro.img
head -c $((8 * 1048576)) /dev/urandom >"$IMG"
SUM=$(img_sum "$IMG")
ROOT=$T_OUT/root.ext4
cp "$ROOTFS" "$ROOT"
ROOT_SUM=$(img_sum "$ROOT")

# ro_job DEV: the guest's checks on /dev/DEV, one KEY=VALUE line each.
ro_job() {
	local d=/dev/$1 w="dd if=/dev/zero of=/dev/$1 bs=4096 count=1 seek=1 conv=notrunc"
	echo "echo ro=\$(cat /sys/block/$1/ro); echo getro=\$(blockdev --getro $d);" \
		"$w oflag=direct; echo dd-direct=\$?;" \
		"$w,fsync; echo dd-fsync=\$?;" \
		"blockdev --setrw $d; echo setrw=\$?; $w oflag=direct; echo dd-setrw=\$?;" \
		"echo read-sum=\$(dd if=$d bs=1M iflag=direct | sha256sum | cut -c1-64)"
}

# expect_refused DEV: the console of a guest that ran ro_job DEV.
expect_refused() {
	expect_value ro 1 "/sys/block/$1/ro"
	expect_value getro 1 "blockdev --getro /dev/$1"
	local k v
	for k in dd-direct dd-fsync dd-setrw; do
		v=$(console_value $k)
		case $v in
		'') fail "$1: the guest printed no $k" ;;
		0) fail "$1: a write to the read-only drive succeeded ($k=0)" ;;
		esac
	done
	expect_value read-sum "$SUM" "$1: reading the read-only drive"
	[ "$(img_sum "$IMG")" = "$SUM" ] || fail "$1: the read-only image changed"
}

boot_default --drive "$IMG,ro" -- sh -c "$(ro_job vda)"
expect_status 0
expect_refused vda

boot_default --rootfs "$ROOT,ro" --drive "$IMG,ro" -- sh -c \
	"echo root-ro=\$(cat /sys/block/vda/ro); $(ro_job vdb)"
expect_status 0
expect_value root-ro 1 "/sys/block/vda/ro of the read-only root drive"
expect_refused vdb
[ "$(img_sum "$ROOT")" = "$ROOT_SUM" ] || fail "the read-only root image changed"
