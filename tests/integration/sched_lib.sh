# shellcheck shell=bash
# Helpers for the scheduler tests (sourced after lib.sh): a `mote serve`
# daemon of the test's own, on a socket and state directory under T_OUT,
# with a small declared capacity so that jobs queue.

# The socket and SQLite need a local file system: the work tree may be a
# network share (tools/sandbox mounts it over 9p, which has no sockets).
SCHED_DIR=$(mktemp -d /tmp/mote-sched.XXXXXX)
SOCK=$SCHED_DIR/serve.sock
STATE=$SCHED_DIR/state
export MOTE_SOCKET=$SOCK
SERVE_PID=

# serve_start [OPTIONS]: start the daemon; waits until it answers.
serve_start() {
	"$MOTE" serve --socket "$SOCK" --state "$STATE" "$@" \
		</dev/null >>"$T_OUT/serve.log" 2>&1 &
	SERVE_PID=$!
	local i
	for i in $(seq 100); do
		"$MOTE" flavors >/dev/null 2>&1 && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.2
	done
	fail "mote serve did not come up"
	show_tail "$T_OUT/serve.log"
	return 1
}

# sched_cleanup: stop the daemon; keep its state for the logs, drop the rest.
sched_cleanup() {
	serve_stop
	[ -d "$STATE" ] && cp -r "$STATE" "$T_OUT/state" 2>/dev/null
	rm -rf "$SCHED_DIR"
}

# serve_stop: SIGTERM, and wait for it to end (a failure if it does not).
serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	local i
	for i in $(seq 150); do
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$SERVE_PID" 2>/dev/null; then
		fail "mote serve did not stop on SIGTERM"
		kill -KILL "$SERVE_PID"
	fi
	wait "$SERVE_PID" 2>/dev/null
	SERVE_PID=
}

# vm_config FILE [BOOT_ARGS]: a config for the default guest (no job: the
# submission gives it).
vm_config() {
	write_config "$1" 1 128 "${2:-console=ttyS0 reboot=k panic=-1 pci=off quiet}"
}

# job_state ID: its state, from mote ps --all.
job_state() {
	"$MOTE" ps --all | awk -v id="$1" '$1 == id { print $2 }'
}

# count_state STATE: how many jobs are in STATE.
count_state() {
	"$MOTE" ps --all | awk -v s="$1" '$2 == s { n++ } END { print n + 0 }'
}

# wait_state ID STATE SECS: until the job is in STATE; 1 if it never was.
wait_state() {
	local end=$((SECONDS + $3)) s
	while [ "$SECONDS" -lt "$end" ]; do
		s=$(job_state "$1")
		[ "$s" = "$2" ] && return 0
		sleep 0.5
	done
	fail "job $1 is '$(job_state "$1")', not $2, after $3 s"
	return 1
}
