# shellcheck shell=bash
# Helpers for the config-file, CI-runner and libmote tests (t_cfg_*,
# t_ci_*, t_lib_*), sourced after lib.sh: config files, --result files,
# guests run in the background (to signal them), and process checks.
#
# Environment, besides lib.sh's: MOTE_EMBED_BIN (default: embed-example
# next to MOTE_BIN).

# shellcheck disable=SC2034  # used by the tests
EMBED=${MOTE_EMBED_BIN:-$(dirname "$MOTE")/embed-example}
# The hang guard for a guest run in the background; never a timing assert.
BG_TIMEOUT=${MOTE_BG_TIMEOUT:-$BOOT_TIMEOUT}

# json_str S: S as a JSON string literal.
json_str() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	printf '"%s"' "$s"
}

# write_config FILE VCPUS MEM_MIB BOOT_ARGS [MOTE_SECTION]: a Firecracker
# --config-file for the default guest (kernel and initrd), plus a "mote"
# section when MOTE_SECTION (a JSON object) is given.
write_config() {
	local file=$1 vcpus=$2 mem=$3 args=$4 mote=${5:-}
	{
		echo '{'
		echo '  "boot-source": {'
		echo "    \"kernel_image_path\": $(json_str "$KERNEL"),"
		echo "    \"initrd_path\": $(json_str "$INITRD"),"
		echo "    \"boot_args\": $(json_str "$args")"
		echo '  },'
		echo '  "drives": [],'
		echo '  "machine-config": {'
		echo "    \"vcpu_count\": $vcpus,"
		echo "    \"mem_size_mib\": $mem,"
		echo '    "smt": false'
		if [ -n "$mote" ]; then
			echo '  },'
			echo "  \"mote\": $mote"
		else
			echo '  }'
		fi
		echo '}'
	} >"$file"
}

# result_get FILE KEY: the value of KEY in a --result file (a one-line JSON
# object with scalar values): a string without its quotes, a number or
# null. Returns 1 if the file or the key is missing.
result_get() {
	[ -s "$1" ] || return 1
	local line
	line=$(head -n 1 "$1")
	# "key": "string" (with \" escapes) or "key": scalar.
	local str="[{,] ?\"$2\": ?\"(([^\"\\\\]|\\\\.)*)\""
	local scalar="[{,] ?\"$2\": ?([^,} ]+)"
	if [[ $line =~ $str ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	elif [[ $line =~ $scalar ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
	else
		return 1
	fi
}

# expect_result FILE KEY VALUE: KEY is VALUE exactly.
expect_result() {
	local v
	if ! v=$(result_get "$1" "$2"); then
		fail "result $(basename "$1") has no \"$2\" (file: $(head -c 400 "$1" 2>/dev/null))"
		return 0
	fi
	[ "$v" = "$3" ] || fail "result $(basename "$1"): \"$2\" is '$v', expected '$3'"
}

# expect_result_match FILE KEY REGEX: KEY matches REGEX (grep -Ei).
expect_result_match() {
	local v
	if ! v=$(result_get "$1" "$2"); then
		fail "result $(basename "$1") has no \"$2\""
		return 0
	fi
	printf '%s\n' "$v" | grep -Eiq -- "$3" ||
		fail "result $(basename "$1"): \"$2\" is '$v', expected /$3/"
}

# expect_result_file FILE: a result file exists, is one line holding one
# object with every documented key, the numbers are whole and sensible,
# and no temporary file was left beside it.
expect_result_file() {
	local f=$1 k left
	if [ ! -s "$f" ]; then
		fail "no result file $f"
		return 0
	fi
	[ "$(wc -l <"$f")" -eq 1 ] || fail "result $(basename "$f") is not one line"
	grep -Eq '^\{.*\}$' "$f" || fail "result $(basename "$f") is not one JSON object"
	for k in reason message mote_version; do
		result_get "$f" "$k" >/dev/null || fail "result $(basename "$f") has no \"$k\""
	done
	expect_result_match "$f" status '^([0-9]{1,2}|1[0-9]{2}|2[0-4][0-9]|25[0-5])$'
	expect_result_match "$f" total_ms '^[0-9]+$'
	expect_result_match "$f" peak_rss_kib '^[1-9][0-9]*$'
	expect_result_match "$f" boot_ms '^([0-9]+|null)$'
	left=$(find "$(dirname "$f")" -maxdepth 1 -name "$(basename "$f").tmp*")
	[ -z "$left" ] || fail "temporary result files left behind: $left"
}

# alive PID: PID exists and is not a zombie (an orphan that ended may wait
# a moment for init to reap it).
alive() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# wait_gone PID SECS: wait up to SECS (wall clock) for PID to end; 1 if
# it did not.
wait_gone() {
	local end=$((SECONDS + $2))
	while alive "$1"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# wait_for_line FILE REGEX PID SECS: wait until FILE has a line matching
# REGEX (grep -E), or PID ended, or SECS passed; 1 unless the line came.
wait_for_line() {
	local end=$(($4 + SECONDS))
	while [ "$SECONDS" -lt "$end" ] && alive "$3"; do
		tr -d '\r' <"$1" 2>/dev/null | grep -Eq -- "$2" && return 0
		sleep 0.5
	done
	tr -d '\r' <"$1" 2>/dev/null | grep -Eq -- "$2"
}

# bg_exec PROGRAM ARGS...: start PROGRAM in the background, not under
# timeout(1), so that signals reach it and its status 124 is its own.
# Sets BG_PID, CONSOLE (stdout, "$CONSOLE.raw" until bg_wait), STDERR.
bg_exec() {
	T_BOOTS=$((T_BOOTS + 1))
	CONSOLE=$T_OUT/console.$T_BOOTS
	STDERR=$T_OUT/stderr.$T_BOOTS
	if [ ! -x "$1" ]; then
		fail "$1 is missing or not executable (make all)"
		exit 1
	fi
	"$@" </dev/null >"$CONSOLE.raw" 2>"$STDERR" &
	BG_PID=$!
	note "boot $T_BOOTS (background, pid $BG_PID): $(basename "$1") ${*:2}"
}

# bg_start ARGS...: bg_exec for mote ARGS.
bg_start() {
	bg_exec "$MOTE" "$@"
}

# bg_wait: wait for the background mote (killing it after BG_TIMEOUT s);
# sets STATUS and the \r-free CONSOLE.
bg_wait() {
	if ! wait_gone "$BG_PID" "$BG_TIMEOUT"; then
		fail "mote (pid $BG_PID) did not end within $BG_TIMEOUT s; killing it"
		kill -9 "$BG_PID" 2>/dev/null
	fi
	STATUS=0
	wait "$BG_PID" || STATUS=$?
	tr -d '\r' <"$CONSOLE.raw" >"$CONSOLE"
	note "boot $T_BOOTS -> status $STATUS"
}

# bg_when_banner: wait for the guest's banner on the background mote's
# console; a failure (and 1) if it never came.
bg_when_banner() {
	wait_for_line "$CONSOLE.raw" '^mote guest: kernel ' "$BG_PID" "$BG_TIMEOUT" &&
		return 0
	fail "the guest's banner never appeared"
	show_tail "$CONSOLE.raw"
	show_tail "$STDERR" 5
	return 1
}

# shell_boot LINE [MOTE RUN OPTIONS]: boot the default guest with no job,
# type LINE into the shell init starts on the console once it is there,
# and wait for mote; sets STATUS, CONSOLE and STDERR as bg_wait does. The
# console's stdin is a FIFO (outside the work tree: 9p refuses FIFOs).
shell_boot() {
	local line=$1 fifo dir
	shift
	dir=$(mktemp -d "${TMPDIR:-/tmp}/mote-shell.XXXXXX")
	fifo=$dir/stdin
	mkfifo "$fifo"
	exec 5<>"$fifo"
	T_BOOTS=$((T_BOOTS + 1))
	CONSOLE=$T_OUT/console.$T_BOOTS
	STDERR=$T_OUT/stderr.$T_BOOTS
	"$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" "$@" \
		<"$fifo" >"$CONSOLE.raw" 2>"$STDERR" &
	BG_PID=$!
	note "boot $T_BOOTS (background, pid $BG_PID, typing '$line'): mote run $*"
	if wait_for_line "$CONSOLE.raw" 'no job given; starting a shell' "$BG_PID" "$BG_TIMEOUT"; then
		printf '%s\n' "$line" >&5
	else
		fail "the guest's shell never started"
	fi
	bg_wait
	exec 5>&-
	rm -rf "$dir"
}
