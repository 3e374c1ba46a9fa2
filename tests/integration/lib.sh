# shellcheck shell=bash
# Helpers for tests/integration/t_*.sh (sourced). A test boots guests with
# boot_guest/boot_default and states what it expects; every failed
# expectation prints one "FAIL:" line, and the test exits non-zero at the
# end if any failed. Something that stops a test from running (no mote
# binary, no guest images) is a failure too, never a skip.
#
# Environment: MOTE_BIN (default build/mote), MOTE_GUEST_DIR (default
# build/guest), MOTE_BOOT_TIMEOUT (seconds per boot, default 240),
# MOTE_TEST_OUT (logs, default build/integration).

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Absolute, so tests may cd elsewhere.
MOTE=$(realpath -m "${MOTE_BIN:-$TOP/build/mote}")
GUEST=$(realpath -m "${MOTE_GUEST_DIR:-$TOP/build/guest}")
KERNEL=$GUEST/vmlinuz
INITRD=$GUEST/initrd.gz
ROOTFS=$GUEST/rootfs.ext4
BOOT_TIMEOUT=${MOTE_BOOT_TIMEOUT:-240}
T_NAME=$(basename "$0" .sh)
# Absolute, as MOTE and GUEST are: a test may cd, or hand it to mote as
# $XDG_CACHE_HOME, which must be absolute (MOTE_TEST_OUT may be relative).
T_OUT=$(realpath -m "${MOTE_TEST_OUT:-$TOP/build/integration}/$T_NAME")
T_FAILS=0
T_BOOTS=0
STATUS=
CONSOLE=
STDERR=
rm -rf "$T_OUT"
mkdir -p "$T_OUT"

fail() {
	echo "  FAIL: $*"
	T_FAILS=$((T_FAILS + 1))
}

note() { echo "  $*"; }

t_finish() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ "$T_FAILS" -eq 0 ]; then
		fail "the test script itself ended with status $rc"
	fi
	[ "$T_FAILS" -eq 0 ] || exit 1
	exit 0
}
trap t_finish EXIT

# show_tail FILE: the last lines of FILE, to see why something failed.
show_tail() {
	[ -s "$1" ] || { note "($(basename "$1") is empty)"; return; }
	note "--- last lines of $1:"
	tail -n "${2:-15}" "$1" | tr -d '\r' | sed 's/^/  | /'
}

need_file() {
	[ -s "$1" ] && return 0
	fail "$2 $1 is missing (run make guest)"
	return 1
}

# boot_guest ARGS...: run mote ARGS under a timeout. Sets STATUS, CONSOLE
# (stdout, \r removed) and STDERR (file names). Stdin is /dev/null.
boot_guest() {
	local start end raw
	T_BOOTS=$((T_BOOTS + 1))
	raw=$T_OUT/console.$T_BOOTS.raw
	CONSOLE=$T_OUT/console.$T_BOOTS
	STDERR=$T_OUT/stderr.$T_BOOTS
	: >"$CONSOLE"
	: >"$STDERR"
	if [ ! -x "$MOTE" ]; then
		fail "mote binary $MOTE is missing or not executable (make all)"
		exit 1
	fi
	start=$(date +%s.%N)
	STATUS=0
	timeout -k 5 "$BOOT_TIMEOUT" "$MOTE" "$@" </dev/null >"$raw" 2>"$STDERR" || STATUS=$?
	end=$(date +%s.%N)
	tr -d '\r' <"$raw" >"$CONSOLE"
	note "boot $T_BOOTS: mote $* -> status $STATUS ($(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s)"
	if [ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 137 ]; then
		fail "mote did not finish within $BOOT_TIMEOUT s"
		show_tail "$CONSOLE"
	fi
	return 0
}

# boot_default [MOTE RUN OPTIONS] [-- JOB...]: the default guest.
boot_default() {
	need_file "$KERNEL" "guest kernel" || { STATUS=127; return 0; }
	need_file "$INITRD" "guest initrd" || { STATUS=127; return 0; }
	boot_guest run --kernel "$KERNEL" --initrd "$INITRD" "$@"
}

expect_status() {
	[ "$STATUS" = "$1" ] && return 0
	fail "exit status $STATUS, expected $1"
	show_tail "$CONSOLE"
	show_tail "$STDERR" 5
}

expect_nonzero_status() {
	case $STATUS in
	0) fail "exit status 0, expected a failure" ;;
	124|137) ;;  # already reported as a timeout
	*) return 0 ;;
	esac
	show_tail "$STDERR" 5
}

# console_value KEY [FILE]: VALUE of the last "KEY=VALUE" line of the
# console (default $CONSOLE); empty if there is none. A kernel message
# ("[   12.807082] ...") that the console appended to the line is cut off.
console_value() {
	tr -d '\r' <"${2:-$CONSOLE}" | sed -n "s/^$1=//p" | tail -n 1 |
		sed 's/\[ *[0-9]*\.[0-9]*\].*$//'
}

# expect_value KEY WANT WHAT: the guest printed KEY=WANT.
expect_value() {
	local got
	got=$(console_value "$1")
	[ "$got" = "$2" ] && return 0
	fail "$3: guest printed $1='$got', expected '$2'"
	show_tail "$CONSOLE"
}

# expect_console REGEX: some console line matches (grep -E).
expect_console() {
	grep -Eq -- "$1" "$CONSOLE" && return 0
	fail "console has no line matching /$1/"
	show_tail "$CONSOLE"
}

expect_no_console() {
	grep -Eq -- "$1" "$CONSOLE" || return 0
	fail "console has a line matching /$1/"
	grep -E -- "$1" "$CONSOLE" | head -n 3 | sed 's/^/  | /'
}

# expect_error_line REGEX: stderr is exactly one non-empty line, and it
# matches REGEX (grep -Ei).
expect_error_line() {
	local n
	n=$(grep -c . "$STDERR")
	if [ "$n" -ne 1 ]; then
		fail "stderr has $n lines, expected exactly one error line"
		show_tail "$STDERR" 5
		return 0
	fi
	grep -Eiq -- "$1" "$STDERR" && return 0
	fail "error line does not match /$1/: $(cat "$STDERR")"
}

# kvm_usable: is /dev/kvm usable here (for tests that run QEMU too)?
kvm_usable() {
	local ok=${MOTE_KVM_OK:-$TOP/build/kvm-ok}
	[ -x "$ok" ] || { fail "$ok is missing (make $ok)"; return 1; }
	"$ok" -q || { fail "/dev/kvm is not usable here"; return 1; }
}

# qemu_boot ARGS... -- APPEND: boot the default guest under QEMU microvm
# with KVM; sets STATUS and CONSOLE like boot_guest.
qemu_boot() {
	local args=() raw
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	shift
	T_BOOTS=$((T_BOOTS + 1))
	raw=$T_OUT/console.$T_BOOTS.raw
	CONSOLE=$T_OUT/console.$T_BOOTS
	STDERR=$T_OUT/stderr.$T_BOOTS
	STATUS=0
	timeout -k 5 "$BOOT_TIMEOUT" qemu-system-x86_64 -M microvm,acpi=on \
		-accel kvm -cpu host -m 256 -nodefaults -no-user-config \
		-nographic -serial stdio -no-reboot -kernel "$KERNEL" \
		-initrd "$INITRD" "${args[@]}" -append "console=ttyS0 $*" \
		</dev/null >"$raw" 2>"$STDERR" || STATUS=$?
	tr -d '\r' <"$raw" >"$CONSOLE"
	note "boot $T_BOOTS: qemu microvm ${args[*]} -append '$*' -> status $STATUS"
	if [ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 137 ]; then
		fail "qemu did not finish within $BOOT_TIMEOUT s"
		show_tail "$CONSOLE"
	fi
}
