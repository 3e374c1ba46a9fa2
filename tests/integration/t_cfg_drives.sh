#!/bin/bash
# A Firecracker config file with drives boots, and the guest sees each
# drive as the file says (README, "Config file"), checked from inside:
#   rootfs   is_root_device, writable: / is /dev/vda, mounted rw, and what
#            the guest writes there is in the image afterwards;
#   ro       is_read_only: /dev/vdb is read-only in the guest, reads the
#            image's bytes, and the image is unchanged;
#   scratch  "ephemeral": true: /dev/vdc is writable and reads back what
#            the guest wrote, yet the image is unchanged.
# The job is a script written into the root image beforehand (debugfs), so
# running it also shows the guest's / is that image.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
need_file "$ROOTFS" "guest rootfs" || exit 1
command -v debugfs >/dev/null || { fail "debugfs not found (e2fsprogs)"; exit 1; }

MIB=1048576
ROOT=$T_OUT/root.ext4
RO=$T_OUT/ro.img
EPH=$T_OUT/scratch.img
cp "$ROOTFS" "$ROOT"
truncate -s $((4 * MIB)) "$RO" "$EPH"
printf 'mote-ro-drive-01' | dd of="$RO" conv=notrunc status=none
head -c 65536 /dev/urandom | dd of="$EPH" conv=notrunc status=none
RO_SUM=$(sha256sum <"$RO")
EPH_SUM=$(sha256sum <"$EPH")

cat >"$T_OUT/check.sh" <<'EOF'
#!/bin/sh
echo "root=$(awk '$2 == "/" { print $1, substr($4, 1, 2) }' /proc/mounts)"
echo persisted >/marker && sync && echo marker-written
echo "vdb-ro=$(cat /sys/block/vdb/ro)"
echo "vdb-data=$(head -c 16 /dev/vdb)"
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 oflag=direct 2>/dev/null; then
	echo vdb-write=done
else
	echo vdb-write=refused
fi
echo "vdc-ro=$(cat /sys/block/vdc/ro)"
head -c 8192 /dev/urandom >/tmp/p
dd if=/tmp/p of=/dev/vdc bs=4096 seek=1 oflag=direct conv=fsync 2>/dev/null && echo vdc-written
echo "vdc-wrote=$(sha256sum </tmp/p | cut -c1-64)"
echo "vdc-read=$(dd if=/dev/vdc bs=4096 skip=1 count=2 iflag=direct 2>/dev/null | sha256sum | cut -c1-64)"
mount -o remount,ro / && echo remounted-ro
exit 5
EOF
if ! debugfs -w -R "write $T_OUT/check.sh /check.sh" "$ROOT" >"$T_OUT/debugfs.log" 2>&1 ||
	[ "$(debugfs -R 'cat /check.sh' "$ROOT" 2>/dev/null)" != "$(cat "$T_OUT/check.sh")" ]; then
	fail "could not put check.sh into $ROOT"
	show_tail "$T_OUT/debugfs.log"
	exit 1
fi

VM=$T_OUT/vm.json
cat >"$VM" <<EOF
{
  "boot-source": {
    "kernel_image_path": $(json_str "$KERNEL"),
    "initrd_path": $(json_str "$INITRD"),
    "boot_args": "console=ttyS0 reboot=k panic=-1 pci=off -- sh /check.sh"
  },
  "drives": [
    { "drive_id": "rootfs", "path_on_host": $(json_str "$ROOT"),
      "is_root_device": true, "is_read_only": false },
    { "drive_id": "ro", "path_on_host": $(json_str "$RO"),
      "is_root_device": false, "is_read_only": true },
    { "drive_id": "scratch", "path_on_host": $(json_str "$EPH"),
      "is_root_device": false, "is_read_only": false, "ephemeral": true }
  ],
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256, "smt": false }
}
EOF
boot_guest run --config "$VM"
expect_status 5
expect_console '^mote-job-status: 5$'
expect_value root '/dev/vda rw' "the root drive"
expect_console '^marker-written$'
expect_value vdb-ro 1 "the read-only drive's ro flag"
expect_value vdb-data mote-ro-drive-01 "the read-only drive's first bytes"
expect_value vdb-write refused "a write to the read-only drive"
expect_value vdc-ro 0 "the ephemeral drive's ro flag"
expect_console '^vdc-written$'
WROTE=$(console_value vdc-wrote)
[ ${#WROTE} -eq 64 ] || fail "the guest printed no vdc-wrote"
expect_value vdc-read "$WROTE" "reading back the ephemeral drive"
expect_console '^remounted-ro$'

got=$(debugfs -R 'cat /marker' "$ROOT" 2>/dev/null)
[ "$got" = persisted ] || fail "the root image has no /marker with 'persisted' (got '$got')"
[ "$(sha256sum <"$RO")" = "$RO_SUM" ] || fail "the read-only image changed"
[ "$(sha256sum <"$EPH")" = "$EPH_SUM" ] || fail "the ephemeral image changed"
