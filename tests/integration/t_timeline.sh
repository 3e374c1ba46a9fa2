#!/bin/bash
# --result's timeline: every step of a job's run is timed, in the order
# the steps happen, within the run; the guest's boot timer writes (init
# up, job start) arrive; boot_ms is the boot timer's; mote's start-up CPU
# time is measured. --debug prints the same steps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"

RES=$T_OUT/result.json
boot_default --result "$RES" --debug -- sh -c 'exit 5'
expect_status 5
expect_result_file "$RES"
prev=0
for k in vm_built_ms first_run_ms first_console_ms kernel_init_ms guest_ready_ms \
	job_start_ms job_end_ms total_ms; do
	v=$(result_get "$RES" "$k") || { fail "result has no $k"; continue; }
	if ! [[ $v =~ ^[0-9]+$ ]]; then
		fail "$k is '$v', expected a number of ms"
		continue
	fi
	[ "$v" -ge "$prev" ] || fail "$k ($v ms) comes before the step before it ($prev ms)"
	prev=$v
done
expect_result_match "$RES" startup_cpu_us '^[1-9][0-9]*$'
[ "$(result_get "$RES" boot_ms)" = "$(result_get "$RES" guest_ready_ms)" ] ||
	fail "boot_ms is not the boot timer's time"
grep -q 'timeline: job reported its status' "$STDERR" ||
	fail "--debug did not print the timeline"
grep -q "mote's CPU time from exec to the first KVM_RUN" "$STDERR" ||
	fail "--debug did not print the start-up CPU time"

# No job: the job's steps never come, and say so with null.
RES=$T_OUT/nojob.json
shell_boot exit --result "$RES"
expect_status 0
expect_result "$RES" job_start_ms null
expect_result "$RES" job_end_ms null
expect_result_match "$RES" guest_ready_ms '^[0-9]+$'
