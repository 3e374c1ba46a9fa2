#!/bin/bash
# A guest booted with acpi=off cannot read the DSDT, so mote names its
# virtio-mmio devices on the command line (virtio_mmio.device=SIZE@ADDR:GSI,
# in drive order), and only then. The stock kernel boots without ACPI (one
# CPU, the PIC) and its /proc/cmdline shows what it was given.
. "$(dirname "$0")/lib.sh"

A=$T_OUT/a.img
B=$T_OUT/b.img
truncate -s 1M "$A" "$B"

boot_default --cpus 1 --drive "$A" --drive "$B,ro" \
	--cmdline "console=ttyS0 acpi=off reboot=k panic=-1 pci=off" -- cat /proc/cmdline
expect_status 0
expect_console '^console=ttyS0 acpi=off reboot=k panic=-1 pci=off virtio_mmio\.device=512@0xd0000000:5 virtio_mmio\.device=512@0xd0001000:6 -- cat /proc/cmdline$'
expect_console '^mote-job-status: 0$'

# With ACPI the DSDT describes them; naming them twice would register each
# device twice in kernels that read both.
boot_default --cpus 1 --drive "$A" -- cat /proc/cmdline
expect_status 0
expect_console 'pci=off .*-- cat /proc/cmdline$'
expect_no_console 'virtio_mmio\.device='
