#!/bin/bash
# tools/embed-example, a program linked against libmote.so: it boots the
# default guest, its console callback captures what the job echoed, and
# it returns the job's status (5) with reason guest-exit; the byte count
# it reports is what it captured. With --timeout it ends with 124 and
# reason timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# shellcheck disable=SC2016  # the guest's shell expands it
bg_exec "$EMBED" "$KERNEL" "$INITRD" sh -c 'echo lib-marker-$((2 + 3)); exit 5'
bg_wait
expect_status 5
# The captured console, then "\nembed-example: console-bytes N" and the rest.
expect_console '^lib-marker-5$'
expect_console '^mote guest: kernel '
expect_console '^mote-job-status: 5$'
expect_console '^embed-example: reason guest-exit$'
expect_console '^embed-example: status 5$'
n=$(sed -n 's/^embed-example: console-bytes \([0-9][0-9]*\)$/\1/p' "$CONSOLE")
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
	fail "no console-bytes line with a positive count"
else
	raw=$CONSOLE.raw
	[ "$(tail -c +$((n + 1)) "$raw" | head -n 2 | tr -d '\n')" = "embed-example: console-bytes $n" ] ||
		fail "the output before the summary is not the $n bytes the callback counted"
	head -c "$n" "$raw" | grep -q 'lib-marker-5' ||
		fail "the job's line is not within the captured bytes"
fi
! [ -s "$STDERR" ] || fail "embed-example wrote to stderr: $(head -n 3 "$STDERR")"

BG_TIMEOUT=$((10 + 120))
bg_exec "$EMBED" --timeout 10 "$KERNEL" "$INITRD" sleep 1000
bg_wait
expect_status 124
expect_console '^embed-example: reason timeout$'
expect_console '^embed-example: status 124$'
expect_no_console '^mote-job-status:'
