#!/bin/bash
# shellcheck disable=SC2016  # $((...)) is for the guest's shell
# The console log. From the config file's "mote" section with a 4096-byte
# cap: the file holds exactly the first 4096 bytes of the console (the
# start of the boot log) and one truncation line, nothing after; the
# section's result file is written too. From --console-log with the
# default cap: the file is the whole console, byte for byte.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

CAP=4096
LOG=$T_OUT/capped.log
RES=$T_OUT/result.json
VM=$T_OUT/vm.json
write_config "$VM" 1 256 \
	'console=ttyS0 reboot=k panic=-1 pci=off -- sh -c "echo tail-$((6 * 7)); exit 3"' \
	"{\"console_log\": $(json_str "$LOG"), \"console_log_max_bytes\": $CAP, \"result\": $(json_str "$RES")}"
boot_guest run --config "$VM"
RAW=$T_OUT/console.$T_BOOTS.raw
expect_status 3
expect_console '^tail-42$'
expect_result_file "$RES"
expect_result "$RES" status 3
expect_result "$RES" reason guest-exit
if [ ! -f "$LOG" ]; then
	fail "no console log $LOG"
else
	size=$(stat -c %s "$LOG")
	note "capped log: $size bytes, console: $(stat -c %s "$RAW") bytes"
	[ "$(stat -c %s "$RAW")" -gt "$CAP" ] || fail "the console is too short to test the cap"
	cmp -s <(head -c "$CAP" "$LOG") <(head -c "$CAP" "$RAW") ||
		fail "the log's first $CAP bytes are not the console's"
	grep -q 'Linux version' "$LOG" || fail "the log lacks the start of the boot log"
	rest=$(tail -c +$((CAP + 1)) "$LOG" | tr -d '\r')
	case $rest in
	"[mote: console log truncated at $CAP bytes]"|$'\n'"[mote: console log truncated at $CAP bytes]") ;;
	*) fail "after $CAP bytes the log has '$(printf '%s' "$rest" | head -c 200)', expected one truncation line" ;;
	esac
	[ "$(tail -c 1 "$LOG" | od -An -c | tr -d ' ')" = '\n' ] ||
		fail "the truncation line does not end with a newline"
	! grep -q 'tail-42' "$LOG" || fail "the log goes on past its cap"
fi

LOG=$T_OUT/full.log
boot_default --console-log "$LOG" -- sh -c 'echo tail-$((6 * 7)); exit 0'
RAW=$T_OUT/console.$T_BOOTS.raw
expect_status 0
expect_console '^tail-42$'
if [ ! -f "$LOG" ]; then
	fail "no console log $LOG"
else
	cmp -s "$LOG" "$RAW" || fail "--console-log $LOG differs from the console on stdout"
	grep -q '^mote-job-status: 0' "$LOG" || fail "the full log lacks the job's last line"
fi
