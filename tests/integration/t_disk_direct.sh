#!/bin/bash
# O_DIRECT where the file system allows it: while the guest does direct
# I/O on two drives, one image in the test's output directory (the work
# tree: 9p inside tools/sandbox, the build's file system elsewhere) and
# one on a tmpfs (/dev/shm), /proc/PID/fdinfo shows whether mote holds
# each image open with O_DIRECT (octal 040000 in the flags on x86,
# 0200000 on arm64). Where a
# direct read of the image works (dd iflag=direct, as mote's own probe
# does), mote must have it; where the file system refuses it (tmpfs before
# Linux 6.6), it must not, and the drive still works, buffered. Either
# way the guest's data reaches the image. At least one of the two places
# must allow O_DIRECT, or the test has shown nothing and fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

MIB=1048576
A=$T_OUT/direct.img
shm=/dev/shm
[ -d "$shm" ] && [ -w "$shm" ] || shm=${TMPDIR:-/tmp}
B=$(mktemp "$shm/mote-$T_NAME.XXXXXX") || { fail "cannot create an image in $shm"; exit 1; }
trap 'rc=$?; rm -f "$B"; bg_exit $rc' EXIT
truncate -s $((16 * MIB)) "$A" "$B"

# allows_direct FILE: a direct read of FILE's first 4 KiB works.
allows_direct() {
	dd if="$1" of=/dev/null bs=4096 count=1 iflag=direct 2>/dev/null
}

# fd_flags PID FILE: the octal flags of each descriptor PID has on FILE.
fd_flags() {
	local fd want
	want=$(realpath "$2")
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "$want" ] || continue
		sed -n 's/^flags:[[:space:]]*//p' "/proc/$1/fdinfo/${fd##*/}"
	done
}

# O_DIRECT's bit in fdinfo's octal flags: the architecture's value.
case $(uname -m) in
aarch64 | arm64) O_DIRECT_BIT=8#200000 ;;
*) O_DIRECT_BIT=8#40000 ;;
esac

# check_direct PID FILE WHAT: mote uses O_DIRECT on FILE if and only if
# its file system allows it.
check_direct() {
	local flags f direct=0 allowed=0
	flags=$(fd_flags "$1" "$2")
	[ -n "$flags" ] || { fail "$3: mote has no descriptor on $2"; return; }
	for f in $flags; do
		(( 8#$f & O_DIRECT_BIT )) && direct=1
	done
	allows_direct "$2" && allowed=1
	note "$3 ($(stat -f -c %T "$2")): O_DIRECT allowed: $allowed;" \
		"flags of mote's descriptors on it: $(tr '\n' ' ' <<<"$flags")"
	if [ "$allowed" = 1 ]; then
		ALLOWED=$((ALLOWED + 1))
		[ "$direct" = 1 ] ||
			fail "$3: the file system allows O_DIRECT, but mote did not open $2 with it"
	else
		[ "$direct" = 0 ] ||
			fail "$3: the file system refuses O_DIRECT, yet mote holds $2 with it"
	fi
}

# The guest writes 256 KiB at 64 KiB into both drives and reads them back,
# all O_DIRECT (so its requests are 4 KiB-aligned), then waits for a line.
J="head -c 262144 /dev/urandom >/tmp/r && echo wrote-sum=\$(sha256sum </tmp/r | cut -c1-64)"
for d in vda vdb; do
	J="$J && dd if=/tmp/r of=/dev/$d bs=4096 seek=16 oflag=direct conv=notrunc,fsync 2>/dev/null"
	J="$J && echo $d-sum=\$(dd if=/dev/$d bs=4096 skip=16 count=64 iflag=direct 2>/dev/null"
	J="$J | sha256sum | cut -c1-64)"
done
J="$J && echo mote-test-io-done && read go && echo got-\$go"
bg_start direct --drive "$A" --drive "$B" -- sh -c "$J"
ALLOWED=0
if bg_wait '^mote-test-io-done'; then
	check_direct "$BG_PID" "$A" "the work tree's image"
	check_direct "$BG_PID" "$B" "the tmpfs image"
	[ "$ALLOWED" -gt 0 ] ||
		fail "neither $T_OUT nor $shm allows O_DIRECT here, so nothing showed that mote uses it"
fi
bg_send go
bg_end 120
[ "$BG_STATUS" = 0 ] || { fail "mote exited with $BG_STATUS, expected 0"; show_tail "$CONSOLE"; }
expect_console '^got-go$'
WROTE=$(console_value wrote-sum)
[ ${#WROTE} -eq 64 ] || fail "the guest printed no wrote-sum"
expect_value vda-sum "$WROTE" "reading /dev/vda back with O_DIRECT"
expect_value vdb-sum "$WROTE" "reading /dev/vdb back with O_DIRECT"
for img in "$A" "$B"; do
	[ "$(tail -c +$((64 * 1024 + 1)) "$img" | head -c 262144 | sha256sum | cut -c1-64)" = "$WROTE" ] ||
		fail "$img does not hold what the guest wrote"
done
