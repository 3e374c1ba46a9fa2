#!/bin/bash
# A guest that reboots ends mote with status 0 (mote does not restart it).
. "$(dirname "$0")/lib.sh"
boot_default -- reboot -f
expect_status 0
expect_console '^mote guest: kernel '
expect_no_console '^mote-job-status:'
