#!/bin/bash
# seccomp filters on mote's threads:
#  1. by default, while a guest with two vCPUs, a disk and user-mode
#     networking runs, every thread of mote shows "Seccomp: 2" (filter
#     mode) in /proc/PID/task/*/status: the main thread, the event loop and
#     each vCPU; SIGTERM still stops it cleanly (143, reason signal);
#  2. "seccomp": "off" in the config file's mote section: every thread 0;
#  3. a bad --seccomp value, or a bad "seccomp" in a file: status 2 and
#     one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
need_file "$ROOTFS" "guest rootfs" || exit 1

JOB="dd if=/dev/vda of=/dev/null bs=64k count=64 2>/dev/null; echo seccomp-ready; sleep 1000"

# check_tasks PID MODE: every thread of PID has Seccomp: MODE; at least
# 4 threads (main, event loop, vcpu0, vcpu1), two of them vcpuN.
check_tasks() {
	local pid=$1 want=$2 n=0 vcpus=0 name mode t
	for t in /proc/"$pid"/task/*; do
		name=$(sed -n 's/^Name:[[:space:]]*//p' "$t/status" 2>/dev/null) || continue
		mode=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status" 2>/dev/null)
		[ -n "$mode" ] || continue    # the thread ended meanwhile
		n=$((n + 1))
		case $name in vcpu*) vcpus=$((vcpus + 1)) ;; esac
		note "thread $(basename "$t") ($name): Seccomp: $mode"
		[ "$mode" = "$want" ] || fail "thread $(basename "$t") ($name) has Seccomp: $mode, expected $want"
	done
	[ "$n" -ge 4 ] || fail "only $n threads seen, expected at least 4"
	[ "$vcpus" -eq 2 ] || fail "$vcpus vCPU threads seen, expected 2"
}

# run_and_check MODE ARGS...: boot in the background, check the threads
# once the job runs, then stop mote with SIGTERM.
run_and_check() {
	local want=$1 res=$T_OUT/result.$((T_BOOTS + 1)).json
	shift
	bg_start run "$@" --result "$res" -- sh -c "$JOB"
	if wait_for_line "$CONSOLE.raw" '^seccomp-ready' "$BG_PID" "$BG_TIMEOUT"; then
		check_tasks "$BG_PID" "$want"
		kill -TERM "$BG_PID" || fail "could not send SIGTERM to mote"
	else
		fail "the guest's job never started"
		show_tail "$CONSOLE.raw"
		show_tail "$STDERR" 5
		kill -9 "$BG_PID" 2>/dev/null
	fi
	bg_wait
	expect_status 143
	expect_result "$res" reason signal
	[ -s "$STDERR" ] && { fail "mote wrote to stderr"; show_tail "$STDERR" 5; }
	return 0
}

run_and_check 2 --kernel "$KERNEL" --initrd "$INITRD" --cpus 2 \
	--drive "$ROOTFS,ro" --net user

CFG=$T_OUT/off.json
write_config "$CFG" 2 256 "console=ttyS0 reboot=k panic=-1 pci=off" '{"seccomp": "off"}'
run_and_check 0 --config "$CFG" --drive "$ROOTFS,ro" --net user

boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --seccomp=maybe
expect_status 2
expect_error_line '^mote: --seccomp: must be on, off or log$'
boot_guest run --kernel "$KERNEL" --initrd "$INITRD" --seccomp
expect_status 2
expect_error_line '^mote: --seccomp needs a value$'
write_config "$CFG" 1 256 "console=ttyS0" '{"seccomp": "yes"}'
boot_guest validate "$CFG"
expect_status 2
expect_error_line 'mote\.seccomp: must be "on", "off" or "log"$'
