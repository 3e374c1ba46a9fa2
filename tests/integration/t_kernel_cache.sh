#!/bin/bash
# The unpacked-kernel cache with the default guest's bzImage (Debian's,
# LZ4): a boot with an empty cache fills it, the next one uses it, both
# behave as a boot through the kernel's decompressor (--no-kernel-cache)
# does; a corrupt and a truncated cache file are rebuilt and boot; two mote
# processes filling an empty cache at once both boot. The cached kernel
# runs at its link address (no KASLR without the decompressor).
. "$(dirname "$0")/lib.sh"

export XDG_CACHE_HOME=$T_OUT/xdg
KDIR=$XDG_CACHE_HOME/mote/kernels
BANNER='^mote guest: kernel [^ ]+, 1 vCPUs, [0-9]+ MiB memory'
# The kernel's text address, as the guest sees it (no double quotes: the
# kernel command line cannot carry them).
JOB=(sh -c 'echo text=$(grep -w _text /proc/kallsyms | cut -c1-16)')

cache_files() { find "$KDIR" -maxdepth 1 -type f 2>/dev/null | sort; }

expect_note() {
	grep -q -- "kernel cache: $1" "$STDERR" && return 0
	fail "stderr has no 'kernel cache: $1' line"
	show_tail "$STDERR" 5
}

expect_same_guest() {
	expect_status 0
	expect_console "$BANNER"
	expect_console '^mote-job-status: 0$'
}

# Through the decompressor first: the reference behaviour.
boot_default --no-kernel-cache --debug -- "${JOB[@]}"
expect_same_guest
grep -q 'kernel cache' "$STDERR" && fail "--no-kernel-cache still used the cache"
[ -z "$(cache_files)" ] || fail "--no-kernel-cache wrote to $KDIR"
note "through the decompressor: text=$(console_value text) (KASLR)"

boot_default --debug -- "${JOB[@]}"
expect_same_guest
expect_note "unpacked into"
expect_value text ffffffff81000000 "cached kernel at its link address"
mapfile -t files < <(cache_files)
if [ "${#files[@]}" -ne 1 ] || ! [[ ${files[0]} =~ /vmlinux-[0-9a-f]{32}$ ]]; then
	fail "expected one vmlinux-<hash> in $KDIR, found: ${files[*]}"
	exit 1
fi
CFILE=${files[0]}
size=$(stat -c %s "$CFILE")

boot_default --debug -- "${JOB[@]}"
expect_same_guest
expect_note "hit in"

# One byte in the middle changed: detected, rebuilt, boots.
printf '\x5a' | dd of="$CFILE" bs=1 seek=$((size / 2)) conv=notrunc status=none
boot_default --debug -- "${JOB[@]}"
expect_same_guest
expect_note "unpacked into"
[ "$(stat -c %s "$CFILE")" = "$size" ] || fail "the rebuilt cache file has another size"

# Cut short: likewise.
truncate -s $((size / 3)) "$CFILE"
boot_default --debug -- "${JOB[@]}"
expect_same_guest
expect_note "unpacked into"

# Two processes, empty cache, at once.
rm -rf "$KDIR"
A=$T_OUT/two.a B=$T_OUT/two.b
timeout -k 5 "$BOOT_TIMEOUT" "$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" \
	--debug -- true </dev/null >"$A.out" 2>"$A.err" &
pa=$!
timeout -k 5 "$BOOT_TIMEOUT" "$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" \
	--debug -- true </dev/null >"$B.out" 2>"$B.err" &
pb=$!
sa=0; sb=0
wait "$pa" || sa=$?
wait "$pb" || sb=$?
note "two at once: status $sa and $sb"
for x in "$A" "$B"; do
	CONSOLE=$x.out STDERR=$x.err
	[ "$x" = "$A" ] && STATUS=$sa || STATUS=$sb
	tr -d '\r' <"$x.out" >"$x.con" && CONSOLE=$x.con
	expect_same_guest
	grep -q 'kernel cache: \(unpacked into\|hit in\)' "$STDERR" ||
		{ fail "$(basename "$x"): the cache was not used"; show_tail "$STDERR" 5; }
done
mapfile -t files < <(cache_files)
[ "${#files[@]}" -eq 1 ] || fail "after two runs at once $KDIR holds: ${files[*]}"
