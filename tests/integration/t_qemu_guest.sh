#!/bin/bash
# The default guest images themselves, under QEMU microvm: banner, job,
# status line, and the root-disk path (initramfs -> switch_root /dev/vda).
# This checks the images independently of mote.
. "$(dirname "$0")/lib.sh"
kvm_usable || exit 1
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
qemu_boot -smp 2 -- quiet -- sh -c '"exit 42"'
expect_console '^mote guest: kernel [^ ]+, 2 vCPUs, [0-9]+ MiB memory'
expect_console '^mote-job-status: 42$'
need_file "$ROOTFS" "guest rootfs" || exit 1
qemu_boot -smp 1 -drive "id=root,file=$ROOTFS,format=raw,if=none,readonly=on" \
	-device virtio-blk-device,drive=root -- quiet root=/dev/vda -- cat /proc/mounts
expect_console '^mote: root file system /dev/vda mounted'
expect_console '^/dev/vda / ext4 ro'
expect_console '^mote-job-status: 0$'
