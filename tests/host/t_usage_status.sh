#!/bin/bash
# Usage errors exit with exactly 2 and one line on stderr (README, "Running
# a VM"): a bad or missing command, option, value or file, in flags and in
# config files. Each is caught before /dev/kvm is opened, so none of them
# needs KVM; were one caught later, it would exit 1 and fail here.
. "$(dirname "$0")/../integration/lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# usage_error REGEX ARGS...: mote ARGS exits 2 with one line matching REGEX.
usage_error() {
	local re=$1
	shift
	T_BOOTS=$((T_BOOTS + 1))
	STDERR=$T_OUT/stderr.$T_BOOTS
	CONSOLE=$T_OUT/console.$T_BOOTS
	STATUS=0
	timeout -k 5 60 "$MOTE" "$@" </dev/null >"$CONSOLE" 2>"$STDERR" || STATUS=$?
	note "mote $* -> status $STATUS: $(head -c 200 "$STDERR")"
	[ "$STATUS" = 2 ] || fail "mote $*: status $STATUS, expected 2"
	expect_error_line "$re"
	[ -s "$CONSOLE" ] && fail "mote $*: wrote to stdout: $(head -c 200 "$CONSOLE")"
}

K=$KERNEL
I=$INITRD
usage_error 'no command'                  # nothing at all
usage_error "unknown command 'frob'"      frob
usage_error '--kernel is required'     run --initrd "$I"
usage_error '--kernel needs a value'   run --kernel
usage_error "unknown option '--frobnicate'" run --kernel "$K" --frobnicate
usage_error '--cpus 0'                 run --kernel "$K" --cpus 0
usage_error '--cpus lots'              run --kernel "$K" --cpus lots
usage_error '--cpus 100000'            run --kernel "$K" --cpus 100000
usage_error '--mem 1K'                 run --kernel "$K" --mem 1K
usage_error '--mem 99999T'             run --kernel "$K" --mem 99999T
usage_error '--timeout -1'             run --kernel "$K" --timeout -1
usage_error '--timeout abc'            run --kernel "$K" --timeout abc
usage_error '--kernel /nonexistent'    run --kernel /nonexistent/vmlinuz
usage_error '--initrd /nonexistent'    run --kernel "$K" --initrd /nonexistent/initrd
usage_error '--drive /nonexistent'     run --kernel "$K" --drive /nonexistent/d.img
usage_error "unknown option 'bogus'"      run --kernel "$K" --drive "$K,bogus"
usage_error "unknown backend 'bogus'"     run --kernel "$K" --net bogus
usage_error '--result needs a value'   run --kernel "$K" --result
usage_error 'FILE is required'            validate

# Config files: a missing one, a syntax error (file:line:column), an
# unknown key (named by its path), a value out of range, and a flag that
# overrides a good file with a bad value.
usage_error 'nonexistent.json'            run --config "$T_OUT/nonexistent.json"
usage_error 'nonexistent.json'            validate "$T_OUT/nonexistent.json"
printf '{\n  "boot-source": {\n' >"$T_OUT/syntax.json"
usage_error 'syntax\.json:[0-9]+:[0-9]+'  validate "$T_OUT/syntax.json"
usage_error 'syntax\.json:[0-9]+:[0-9]+'  run --config "$T_OUT/syntax.json"
good=$(printf '{"boot-source": {"kernel_image_path": "%s", "initrd_path": "%s"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 128}}' "$K" "$I")
echo "$good" >"$T_OUT/good.json"
sed 's/"vcpu_count": 1,/"vcpu_count": 1, "turbo": true,/' "$T_OUT/good.json" >"$T_OUT/key.json"
usage_error 'machine-config\.turbo'       validate "$T_OUT/key.json"
usage_error 'machine-config\.turbo'       run --config "$T_OUT/key.json"
sed 's/"vcpu_count": 1/"vcpu_count": 0/' "$T_OUT/good.json" >"$T_OUT/range.json"
usage_error 'vcpu_count'                  validate "$T_OUT/range.json"
usage_error '--cpus 0'                 run --config "$T_OUT/good.json" --cpus 0

# And the good file itself is fine, so the errors above came from what
# each one changed.
out=$("$MOTE" validate "$T_OUT/good.json" 2>&1)
rc=$?
[ "$rc" = 0 ] || fail "mote validate good.json: status $rc: $out"
