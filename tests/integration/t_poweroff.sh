#!/bin/bash
# A guest that powers off (ACPI S5) before its job reported a status ends
# mote with status 125, reason poweroff, and a message saying so; the same
# poweroff with no job (the shell on the console exits, so init powers
# off) gives 0. No kernel panic on the way: a panic that then reboots
# must not pass for a poweroff.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

RES=$T_OUT/job.json
boot_default --result "$RES" -- poweroff -f
expect_status 125
expect_console '^mote guest: kernel '
expect_no_console '^mote-job-status:'
expect_no_console 'Kernel panic'
expect_result_file "$RES"
expect_result "$RES" status 125
expect_result "$RES" reason poweroff
expect_result "$RES" message "guest powered off before its job reported a status"

# No job: the console's shell exits, so init powers off.
RES=$T_OUT/nojob.json
shell_boot exit --result "$RES"
expect_status 0
expect_no_console 'Kernel panic'
expect_result "$RES" status 0
expect_result "$RES" reason poweroff
expect_result "$RES" message "guest powered off"
