#!/bin/bash
# SIGTERM, SIGINT and SIGHUP to mote while its guest runs a job: the VM is
# stopped, mote exits with 128 + the signal (143, 130, 129), and --result
# says reason signal with that status.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# signal_run SIG STATUS: boot a guest that sleeps, send SIG once the
# guest's banner is out, and check the outcome.
signal_run() {
	local res=$T_OUT/$1.json
	bg_start run --kernel "$KERNEL" --initrd "$INITRD" --result "$res" -- sleep 1000
	if bg_when_banner; then
		kill -s "$1" "$BG_PID" || fail "could not send $1 to mote"
	else
		kill -9 "$BG_PID" 2>/dev/null
	fi
	bg_wait
	expect_status "$2"
	expect_no_console '^mote-job-status:'
	expect_result_file "$res"
	expect_result "$res" status "$2"
	expect_result "$res" reason signal
}

signal_run TERM 143
signal_run INT 130
signal_run HUP 129
