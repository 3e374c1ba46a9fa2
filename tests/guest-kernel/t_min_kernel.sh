#!/bin/bash
# The optional minimal guest kernel (make guest-kernel, guest-images/
# build-kernel.sh) boots the default guest's initramfs under mote. Run by
# `make guest-kernel-check`, never by make check: the kernel is built only
# on request. A missing kernel is a failure here, not a skip.
#  1. one vCPU, a data drive: the guest reads it back (virtio-mmio from
#     the ACPI tables, virtio-blk) and the job's status comes out;
#  2. two vCPUs, the ext4 root file system (ephemeral): init mounts it and
#     switch_roots, and both CPUs are online;
#  3. user-mode networking: virtio-net, and DHCP (packet sockets, IPv4);
#  4. its ELF vmlinux boots too;
#  5. without ACPI, from virtio_mmio.device= on the command line.
. "$(dirname "$0")/../integration/lib.sh"
MIN=$GUEST/vmlinuz-min
need_file "$MIN" "minimal kernel (make guest-kernel)" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
need_file "$ROOTFS" "guest rootfs" || exit 1

# 1.
DATA=$T_OUT/data.img
head -c 1048576 /dev/urandom >"$DATA"
WANT=$(sha256sum <"$DATA" | cut -c1-64)
# shellcheck disable=SC2016  # the guest's shell expands it
boot_guest run --kernel "$MIN" --initrd "$INITRD" --cpus 1 --drive "$DATA" \
	-- sh -c 'echo kernel=$(uname -r); echo sum=$(head -c 1048576 /dev/vda | sha256sum | cut -c1-64); exit 7'
expect_status 7
expect_console '^mote guest: kernel [^ ]+-mote-min, 1 vCPUs, '
expect_value sum "$WANT" "the data drive read in the guest"
expect_console '^mote-job-status: 7$'

# 2.
# shellcheck disable=SC2016
boot_guest run --kernel "$MIN" --initrd "$INITRD" --cpus 2 --rootfs "$ROOTFS,ephemeral" \
	-- sh -c 'echo root=$(awk '\''$2 ~ /^\/$/ { print $3 }'\'' /proc/mounts); echo online=$(cat /sys/devices/system/cpu/online)'
expect_status 0
expect_console '^mote guest: kernel [^ ]+-mote-min, 2 vCPUs, '
expect_console '^mote: root file system /dev/vda mounted'
expect_value root ext4 "the root file system's type"
expect_value online 0-1 "CPUs online in the guest"

# 3.
# shellcheck disable=SC2016
boot_guest run --kernel "$MIN" --initrd "$INITRD" --net user \
	-- sh -c 'echo addr=$(ip -4 -o addr show eth0 | awk '\''{ print $4 }'\'')'
expect_status 0
expect_console '^addr=10\.0\.2\.[0-9]+/24$'

# 4.
if need_file "$GUEST/vmlinux-min" "minimal kernel's vmlinux"; then
	boot_guest run --kernel "$GUEST/vmlinux-min" --initrd "$INITRD" -- true
	expect_status 0
	expect_console '^mote guest: kernel [^ ]+-mote-min, 1 vCPUs, '
fi

# 5. acpi=off: mote names the virtio-mmio devices on the command line
# (virtio_mmio.device=), which the kernel takes too.
# shellcheck disable=SC2016
boot_guest run --kernel "$MIN" --initrd "$INITRD" --cpus 1 --drive "$DATA" \
	--cmdline "console=ttyS0 acpi=off reboot=k panic=-1 pci=off" \
	-- sh -c 'echo sum=$(head -c 1048576 /dev/vda | sha256sum | cut -c1-64)'
expect_status 0
expect_console 'virtio_mmio\.device=512@0x[0-9a-f]+:[0-9]+'
expect_value sum "$WANT" "the data drive named on the command line"
