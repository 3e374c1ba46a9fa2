#!/bin/bash
# A guest kernel that panics (panic=-1, so it then reboots) before its job
# reported a status ends mote with status 125, reason reboot and a message
# naming the panic. A panic with no job (no init to run) gives status 0,
# with the panic still named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

RES=$T_OUT/job.json
boot_default --result "$RES" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 30'
expect_status 125
expect_console 'Kernel panic - not syncing'
expect_no_console '^mote-job-status:'
expect_result_file "$RES"
expect_result "$RES" status 125
expect_result "$RES" reason reboot
expect_result_match "$RES" message '^guest kernel panicked, then rebooted before its job reported a status$'

RES=$T_OUT/nojob.json
boot_default --cmdline "console=ttyS0 reboot=k panic=-1 pci=off rdinit=/no-such-init" \
	--result "$RES"
expect_status 0
expect_console 'Kernel panic - not syncing'
expect_result "$RES" status 0
expect_result "$RES" reason reboot
expect_result "$RES" message "guest kernel panicked, then rebooted"
