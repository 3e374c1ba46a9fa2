#!/bin/bash
# arm64: the guest ends the VM through PSCI, which KVM hands to mote as
# system events: SYSTEM_OFF (busybox's poweroff) and SYSTEM_RESET (reboot)
# end mote with status 0 when no job was running, and with 125 when they
# cut a job short, as ACPI S5 and the reset paths do on x86 (t_poweroff,
# t_reboot). The exit device is an MMIO register on arm64: a job's status
# reaches mote through it (mote-exit finds it in the device tree).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../ci_lib.sh"

# PSCI SYSTEM_OFF before the job reported: 125, reason poweroff.
RES=$T_OUT/off-job.json
boot_default --result "$RES" -- poweroff -f
expect_status 125
expect_console '^mote guest: kernel '
expect_no_console '^mote-job-status:'
expect_no_console 'Kernel panic'
expect_result "$RES" reason poweroff
expect_result "$RES" message "guest powered off before its job reported a status"

# PSCI SYSTEM_RESET before the job reported: 125, reason reboot.
RES=$T_OUT/reset-job.json
boot_default --result "$RES" -- reboot -f
expect_status 125
expect_no_console '^mote-job-status:'
expect_no_console 'Kernel panic'
expect_result "$RES" reason reboot
expect_result "$RES" message "guest rebooted before its job reported a status"

# No job: the shell's poweroff and reboot end mote with 0.
RES=$T_OUT/off.json
shell_boot exit --result "$RES"
expect_status 0
expect_result "$RES" status 0
expect_result "$RES" reason poweroff
expect_result "$RES" message "guest powered off"

RES=$T_OUT/reset.json
shell_boot 'reboot -f' --result "$RES"
expect_status 0
expect_result "$RES" status 0
expect_result "$RES" reason reboot
expect_result "$RES" message "guest rebooted"

# The job's own status, through the MMIO exit device.
boot_default -- sh -c 'exit 42'
expect_status 42
expect_console '^mote-job-status: 42$'
