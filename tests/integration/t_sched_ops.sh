#!/bin/bash
# mote serve's operations on real VMs (one tiny VM fits at a time:
# --mem 768M less the 512 MiB reserve leaves 256 MiB):
#  1. a submission that can never fit is refused at once, with the reason;
#  2. kill of a queued job, and of a running one;
#  3. a VM process killed with SIGKILL becomes failed, and its capacity
#     goes to the next job;
#  4. another Unix user cannot use the socket;
#  5. GET /metrics answers in the Prometheus text format.
# mote-test-timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/sched_lib.sh"
trap 'sched_cleanup; t_finish' EXIT

serve_start --cpus 2 --mem 768M --reserve-mem 512M || exit 1
CFG=$T_OUT/vm.json
vm_config "$CFG"

# 1.
out=$("$MOTE" submit "$CFG" --flavor large -- true 2>&1) && fail "a large VM was accepted"
st=$?
[ "$st" = 2 ] || fail "refused submission: status $st, expected 2"
echo "$out" | grep -q 'needs 8224 MiB' || fail "the refusal does not say why: $out"
[ "$(echo "$out" | grep -c .)" = 1 ] || fail "the refusal is not one line: $out"

# 2. A running job that waits for ever, and one queued behind it.
A=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'echo started; while :; do sleep 1; done')
B=$("$MOTE" submit "$CFG" --flavor tiny -- true)
wait_state "$A" running 120
[ "$(job_state "$B")" = queued ] || fail "job $B is '$(job_state "$B")', expected queued"
"$MOTE" kill "$B" || fail "mote kill $B (queued) failed"
[ "$(job_state "$B")" = killed ] || fail "killed queued job $B is '$(job_state "$B")'"
"$MOTE" kill "$A" || fail "mote kill $A (running) failed"
[ "$(job_state "$A")" = killed ] || fail "killed running job $A is '$(job_state "$A")'"
st=0; "$MOTE" wait "$A" || st=$?
[ "$st" = 143 ] || fail "mote wait on a killed job: status $st, expected 143"

# 3. SIGKILL the VM's own process: failed, and the next job runs.
C=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'while :; do sleep 1; done')
D=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'exit 5')
wait_state "$C" running 120
pid=$("$MOTE" ps --json | sed -n "s/.*\"id\": *$C,[^}]*\"pid\": *\\([0-9]*\\).*/\\1/p")
if [ -z "$pid" ]; then
	pid=$(pgrep -f "jobs/$C/vm.json" | head -n 1)
fi
[ -n "$pid" ] && kill -KILL "$pid" || fail "no process for job $C"
st=0; "$MOTE" wait "$C" || st=$?
[ "$(job_state "$C")" = failed ] || fail "SIGKILLed job $C is '$(job_state "$C")', not failed"
[ "$st" = 1 ] || fail "mote wait on a failed job: status $st, expected 1"
st=0; "$MOTE" wait "$D" || st=$?
[ "$st" = 5 ] || fail "job $D after the SIGKILLed one: status $st, expected 5"

# 4.
chmod 755 "$SCHED_DIR"
st=0; setpriv --reuid=65534 --regid=65534 --clear-groups "$MOTE" ps --socket "$SOCK" \
	>"$T_OUT/nobody.out" 2>&1 || st=$?
[ "$st" = 1 ] || fail "another user's mote ps: status $st, expected 1 ($(cat "$T_OUT/nobody.out"))"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "the socket's mode is $(stat -c %a "$SOCK")"

# 5.
"$MOTE" ps >/dev/null
curl -sf --unix-socket "$SOCK" http://mote/metrics >"$T_OUT/metrics" ||
	fail "curl --unix-socket could not GET /metrics"
for m in mote_vcpu_capacity mote_memory_capacity_bytes 'mote_jobs{state="queued"}'; do
	grep -qF "$m " "$T_OUT/metrics" || fail "/metrics has no $m"
done
