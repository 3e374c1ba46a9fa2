#!/bin/bash
# busybox's plain `poweroff` and `reboot` signal init (SIGUSR2, SIGTERM)
# rather than calling reboot(2) themselves; init must end the VM for them,
# through ACPI S5 and the reset path, with status 0.
. "$(dirname "$0")/lib.sh"
boot_default -- poweroff
expect_status 0
expect_no_console '^mote-job-status:'
boot_default -- reboot
expect_status 0
expect_no_console '^mote-job-status:'
