#!/bin/bash
# A guest that powers itself off (ACPI S5) ends mote with status 0.
. "$(dirname "$0")/lib.sh"
boot_default -- poweroff -f
expect_status 0
expect_console '^mote guest: kernel '
expect_no_console '^mote-job-status:'
