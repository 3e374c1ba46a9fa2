#!/bin/bash
# Images mote cannot use are refused before the guest starts: non-zero
# status, one error line naming the file, nothing on the console.
#  - size not a multiple of 512 (as a drive and as the root drive)
#  - a missing file (which mote must not create)
#  - a directory (writable, and read-only)
#  - a file mote may not open: mode 000. Root ignores modes, so when the
#    test runs as root, mote runs without CAP_DAC_OVERRIDE and
#    CAP_DAC_READ_SEARCH (setpriv), which makes root obey them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"
# shellcheck disable=SC2034  # lib.sh's
BOOT_TIMEOUT=60  # these must fail before any guest runs
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# bad IMG REGEX MOTE-RUN-OPTIONS...: mote refuses IMG with an error line
# matching REGEX.
bad() {
	local img=$1 re=$2
	shift 2
	boot_guest run --kernel "$KERNEL" --initrd "$INITRD" "$@" -- true
	expect_nonzero_status
	expect_file_error "$img" "$re"
	expect_no_boot
}

ODD=$T_OUT/odd-size.img
truncate -s 1000 "$ODD"
bad "$ODD" 'multiple of 512' --drive "$ODD"
bad "$ODD" 'multiple of 512' --rootfs "$ODD,ro"
truncate -s $((1048576 + 511)) "$ODD"
bad "$ODD" 'multiple of 512' --drive "$ODD,ephemeral"

MISSING=$T_OUT/no-such-image.img
bad "$MISSING" 'no such file' --drive "$MISSING"
bad "$MISSING" 'no such file' --drive "$MISSING,ro"
[ ! -e "$MISSING" ] || fail "mote created the missing image $MISSING"

DIR=$T_OUT/a-directory.img
mkdir "$DIR"
bad "$DIR" 'directory|not a regular file' --drive "$DIR"
bad "$DIR" 'directory|not a regular file' --drive "$DIR,ro"

# Off the work tree: 9p in tools/sandbox may not apply modes as a local
# file system does.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/mote-$T_NAME.XXXXXX")
SECRET=$SCRATCH/mode-000.img
truncate -s 1048576 "$SECRET"
chmod 000 "$SECRET"
AS=()
if [ "$(id -u)" = 0 ]; then
	# By its path: the wrapper below runs under /bin/sh, and a busybox sh
	# (the arm64 sandbox's) prefers its own setpriv applet, which lacks
	# --bounding-set, to util-linux's.
	# shellcheck disable=SC2054  # the commas are setpriv's
	AS=("$(command -v setpriv)" --inh-caps=-dac_override,-dac_read_search
		--bounding-set=-dac_override,-dac_read_search)
	note "running as root: mote runs as ${AS[*]}"
fi
if "${AS[@]}" cat "$SECRET" >/dev/null 2>&1; then
	fail "cannot make an unreadable file here: ${AS[*]} cat reads $SECRET"
else
	REAL_MOTE=$MOTE
	# boot_guest runs "$MOTE"; a wrapper puts setpriv in front.
	if [ ${#AS[@]} -gt 0 ]; then
		MOTE=$SCRATCH/mote-as
		printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${AS[*]}" "$REAL_MOTE" >"$MOTE"
		chmod +x "$MOTE"
	fi
	bad "$SECRET" 'permission denied' --drive "$SECRET"
	bad "$SECRET" 'permission denied' --drive "$SECRET,ro"
	MOTE=$REAL_MOTE
fi
rm -rf "$SCRATCH"
