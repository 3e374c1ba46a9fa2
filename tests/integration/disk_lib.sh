# shellcheck shell=bash
# Helpers for tests/integration/t_disk_*.sh, sourced after lib.sh: image
# checksums, values the guest prints, and a mote that runs in the
# background (for tests that act while the guest is up).
#
# Guest jobs travel on the kernel command line: no double quotes in them.

# img_sum FILE [BYTES]: sha256 (hex only) of FILE, or of its first BYTES.
img_sum() {
	if [ $# -gt 1 ]; then
		head -c "$2" "$1" | sha256sum | cut -d' ' -f1
	else
		sha256sum <"$1" | cut -d' ' -f1
	fi
}

# expect_no_boot: mote failed before the guest ran (no console output).
expect_no_boot() {
	[ -s "$CONSOLE" ] || return 0
	fail "mote wrote to the console, so it started the guest"
	show_tail "$CONSOLE" 5
}

# expect_file_error FILE REGEX: like expect_error_line, and the line also
# names FILE (its base name), so users know which image is wrong.
expect_file_error() {
	expect_error_line "$2"
	grep -Fq -- "$(basename "$1")" "$STDERR" ||
		fail "error line does not name $(basename "$1"): $(cat "$STDERR")"
}

# ---- A mote in the background ----
# bg_start NAME [MOTE RUN OPTIONS] [-- JOB...]: boot the default guest in
# the background. Its stdin is a fifo (write to it with bg_send), its
# console goes to $T_OUT/console.NAME.raw (BG_RAW). Sets BG_PID.
BG_PID=
BG_RAW=
BG_FD=
BG_DIR=
# A test that stops early leaves no guest running.
bg_cleanup() {
	[ -n "$BG_PID" ] && kill -KILL "$BG_PID" 2>/dev/null
	[ -n "$BG_DIR" ] && rm -rf "$BG_DIR"
	return 0
}
bg_exit() {
	bg_cleanup
	(exit "$1")
	t_finish
}
trap 'bg_exit $?' EXIT
bg_start() {
	local name=$1
	shift
	if [ ! -x "$MOTE" ]; then
		fail "mote binary $MOTE is missing or not executable (make all)"
		exit 1
	fi
	# fifos cannot live on the work tree (9p in tools/sandbox).
	BG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mote-$T_NAME.XXXXXX")
	mkfifo "$BG_DIR/in"
	exec {BG_FD}<>"$BG_DIR/in"
	BG_RAW=$T_OUT/console.$name.raw
	: >"$BG_RAW"
	"$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" "$@" <"$BG_DIR/in" \
		>"$BG_RAW" 2>"$T_OUT/stderr.$name" &
	BG_PID=$!
	note "$name: mote $* (pid $BG_PID)"
}

# bg_tail: the last console lines of the background mote (its last line
# may be unfinished, so each line is ended here).
bg_tail() {
	note "--- last lines of $BG_RAW:"
	tail -n 15 "$BG_RAW" | tr -d '\r' | awk '{ print "  | " $0 }'
}

# bg_wait REGEX [SECS]: wait until a console line of the background mote
# matches REGEX (grep -E; lines end in \r). Fails and returns 1 if mote
# ended first or SECS (default $BOOT_TIMEOUT) passed.
bg_wait() {
	local deadline=$(($(date +%s) + ${2:-$BOOT_TIMEOUT}))
	while ! grep -Eq -- "$1" "$BG_RAW"; do
		if ! kill -0 "$BG_PID" 2>/dev/null; then
			grep -Eq -- "$1" "$BG_RAW" && return 0
			fail "mote ended before its console matched /$1/"
			bg_tail
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			fail "no console line matched /$1/ within ${2:-$BOOT_TIMEOUT} s"
			bg_tail
			return 1
		fi
		sleep 0.02
	done
}

# bg_send LINE: a line on the background guest's console input.
bg_send() {
	echo "$1" >&"$BG_FD"
}

# bg_end [SECS]: wait for the background mote to end (SIGKILL after SECS,
# default $BOOT_TIMEOUT); sets BG_STATUS and CONSOLE (\r removed).
BG_STATUS=
bg_end() {
	local deadline=$(($(date +%s) + ${1:-$BOOT_TIMEOUT}))
	while kill -0 "$BG_PID" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do
		sleep 0.2
	done
	if kill -0 "$BG_PID" 2>/dev/null; then
		fail "background mote $BG_PID did not end within ${1:-$BOOT_TIMEOUT} s"
		kill -KILL "$BG_PID" 2>/dev/null
	fi
	BG_STATUS=0
	wait "$BG_PID" 2>/dev/null || BG_STATUS=$?
	note "background mote $BG_PID -> status $BG_STATUS"
	exec {BG_FD}>&-
	rm -rf "$BG_DIR"
	BG_PID=
	BG_DIR=
	CONSOLE=${BG_RAW%.raw}
	STDERR=${CONSOLE/console./stderr.}
	tr -d '\r' <"$BG_RAW" >"$CONSOLE"
}
