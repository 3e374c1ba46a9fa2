#!/bin/bash
# Each way Linux resets a PC ends the VM with reason reboot and a message
# naming the way, so a test of one path cannot pass through another:
# reboot=k (the keyboard controller's reset line), reboot=a (the FADT's
# reset register), reboot=t (a triple fault). With a job that never
# reported, the status is 125; with no job (a shell on the console that
# runs `reboot -f`), it is 0. No kernel panic on the way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

# reboot_with MODE MESSAGE: boot with reboot=MODE and the job `reboot -f`.
reboot_with() {
	local res=$T_OUT/reboot-$1.json
	boot_default --cmdline "console=ttyS0 reboot=$1 panic=-1 pci=off" \
		--result "$res" -- reboot -f
	expect_status 125
	expect_console '^mote guest: kernel '
	expect_no_console '^mote-job-status:'
	expect_no_console 'Kernel panic'
	expect_result_file "$res"
	expect_result "$res" status 125
	expect_result "$res" reason reboot
	expect_result "$res" message "$2 before its job reported a status"
}

reboot_with k "guest rebooted (keyboard controller reset)"
reboot_with a "guest rebooted (ACPI reset register)"
reboot_with t "guest reset by a triple fault (reboot=t, or a crash)"

# No job: type `reboot -f` into the console's shell.
RES=$T_OUT/nojob.json
shell_boot 'reboot -f' --result "$RES"
expect_status 0
expect_no_console 'Kernel panic'
expect_result "$RES" status 0
expect_result "$RES" reason reboot
expect_result "$RES" message "guest rebooted (keyboard controller reset)"
