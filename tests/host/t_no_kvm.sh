#!/bin/bash
# No usable /dev/kvm: status 1 (a VMM failure, not a usage error) and one
# line naming /dev/kvm, and the --result file says reason error. mote runs
# in a mount namespace of its own (as root, or as root of a new user
# namespace) where a tmpfs hides the host's /dev, so this holds whether
# this host has KVM or not: /dev/kvm missing, an empty file, and a
# character device that is not KVM (the host's /dev/null bound there).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

if [ "$(id -u)" = 0 ]; then
	NS=(unshare --mount --propagation private)
else
	NS=(unshare --map-root-user --mount --propagation private)
fi
if ! "${NS[@]}" true 2>"$T_OUT/unshare.err"; then
	fail "cannot make a mount namespace (${NS[*]}): $(cat "$T_OUT/unshare.err")"
	exit 1
fi
OLDDEV=$T_OUT/olddev
mkdir -p "$OLDDEV"

# no_kvm NAME SETUP REGEX: run a good mote command line in a namespace
# whose /dev is an empty tmpfs, after the shell commands SETUP (in which
# $1 is where the host's /dev is); expect status 1, one line matching
# REGEX, and a result file with reason error.
no_kvm() {
	local res=$T_OUT/$1.json
	T_BOOTS=$((T_BOOTS + 1))
	CONSOLE=$T_OUT/console.$T_BOOTS
	STDERR=$T_OUT/stderr.$T_BOOTS
	STATUS=0
	# shellcheck disable=SC2016  # expanded by that sh
	timeout -k 5 60 "${NS[@]}" sh -c '
		mount --rbind /dev "$1" && mount -t tmpfs tmpfs /dev || exit 99
		'"$2"' || exit 98
		shift
		exec "$@"' sh "$OLDDEV" "$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" \
		--result "$res" -- true </dev/null >"$CONSOLE" 2>"$STDERR" || STATUS=$?
	note "$1: /dev/kvm made by '$2' -> status $STATUS: $(head -c 200 "$STDERR")"
	case $STATUS in
	98|99) fail "$1: setting up the namespace failed"; return ;;
	1) ;;
	*) fail "$1: status $STATUS, expected 1" ;;
	esac
	expect_error_line "$3"
	expect_result_file "$res"
	expect_result "$res" status 1
	expect_result "$res" reason error
	expect_result_match "$res" message '/dev/kvm'
}

no_kvm missing ':' '/dev/kvm: no such file'
no_kvm empty-file ': >/dev/kvm' '/dev/kvm: not a KVM device'
# shellcheck disable=SC2016  # $1: see no_kvm
no_kvm not-kvm ': >/dev/kvm && mount --bind "$1/null" /dev/kvm' '/dev/kvm: not a KVM device'
