#!/bin/bash
# busybox's plain `poweroff` and `reboot` signal init (SIGUSR2, SIGTERM)
# rather than calling reboot(2) themselves; init must end the VM for them,
# through ACPI S5 and the reset path. Given as the job, they end it before
# the job reports, so the status is 125.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
RES=$T_OUT/poweroff.json
boot_default --result "$RES" -- poweroff
expect_status 125
expect_no_console '^mote-job-status:'
expect_no_console 'Kernel panic'
expect_result "$RES" reason poweroff
RES=$T_OUT/reboot.json
boot_default --result "$RES" -- reboot
expect_status 125
expect_no_console '^mote-job-status:'
expect_no_console 'Kernel panic'
expect_result "$RES" reason reboot
