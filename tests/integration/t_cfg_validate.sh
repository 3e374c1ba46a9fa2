#!/bin/bash
# mote validate FILE: a good Firecracker config passes (status 0, "FILE:
# ok"); broken ones fail with status 2 and one error line naming the file
# and the field. mote run --config refuses a broken file the same way,
# before any guest starts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
BOOT_TIMEOUT=60   # nothing here boots a guest

ARGS='console=ttyS0 reboot=k panic=-1 pci=off -- sh -c "nproc; exit 7"'
GOOD=$T_OUT/good.json
write_config "$GOOD" 2 256 "$ARGS" '{"timeout_s": 30, "console_log_max_bytes": 4096}'
boot_guest validate "$GOOD"
expect_status 0
grep -qxF "$GOOD: ok" "$CONSOLE" || fail "validate printed '$(cat "$CONSOLE")', expected '$GOOD: ok'"
! [ -s "$STDERR" ] || fail "validate of a good file wrote to stderr: $(head -n 2 "$STDERR")"

# bad NAME FIELD_REGEX: the file $T_OUT/NAME.json is refused by validate
# and by run --config, each with status 2 and one line naming the file
# and matching FIELD_REGEX.
bad() {
	local f=$T_OUT/$1.json
	boot_guest validate "$f"
	expect_status 2
	expect_error_line "$1\.json.*($2)"
	! [ -s "$CONSOLE" ] || fail "validate $1: printed on stdout: $(head -n 2 "$CONSOLE")"
	boot_guest run --config "$f"
	expect_status 2
	expect_error_line "$1\.json.*($2)"
	expect_no_console '^mote guest:'
}

# A field of the wrong type.
write_config "$T_OUT/cpus-type.json" '"two"' 256 "$ARGS"
bad cpus-type 'machine-config\.vcpu_count'
# A value out of range (found by the validator, not the parser).
write_config "$T_OUT/cpus-zero.json" 0 256 "$ARGS"
bad cpus-zero 'vcpu_count'
# Too little memory.
write_config "$T_OUT/mem-small.json" 1 4 "$ARGS"
bad mem-small 'mem_size_mib'
# A key Firecracker does not have (a typo).
write_config "$T_OUT/typo.json" 1 256 "$ARGS" '{"timeout": 30}'
bad typo 'mote\.timeout'
# A kernel that does not exist.
sed "s|$KERNEL|$T_OUT/no-such-vmlinuz|" "$GOOD" >"$T_OUT/no-kernel.json"
bad no-kernel 'kernel_image_path|no-such-vmlinuz'
# Not JSON at all: the message names the file and the place.
head -c 100 "$GOOD" >"$T_OUT/cut.json"
bad cut ":[0-9]+"
