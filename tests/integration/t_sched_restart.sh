#!/bin/bash
# mote serve keeps its state across a restart, and drains:
#  1. one VM fits at a time; a long job runs, two more are queued; the
#     daemon is stopped (SIGTERM): the running job is recorded as killed;
#  2. a new daemon on the same state directory has the whole history and
#     runs the two queued jobs, each with its own status;
#  3. drain with a deadline: a running job is stopped at the deadline,
#     queued ones are dropped, and new submissions are refused.
# mote-test-timeout: 600
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/sched_lib.sh"
trap 'sched_cleanup; t_finish' EXIT

CFG=$T_OUT/vm.json
vm_config "$CFG"

# 1.
serve_start --cpus 2 --mem 768M --reserve-mem 512M || exit 1
A=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'while :; do sleep 1; done')
B=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'exit 3')
C=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'exit 4')
wait_state "$A" running 120
[ "$(job_state "$B")" = queued ] || fail "job $B is '$(job_state "$B")', expected queued"
serve_stop
pgrep -f "jobs/$A/vm.json" >/dev/null && fail "job $A's VM outlived the daemon"

# 2.
serve_start --cpus 2 --mem 768M --reserve-mem 512M || exit 1
s=$(job_state "$A")
[ "$s" = killed ] || [ "$s" = failed ] || fail "job $A is '$s' after the restart"
st=0; "$MOTE" wait "$B" || st=$?
[ "$st" = 3 ] || fail "queued job $B after the restart: status $st, expected 3"
st=0; "$MOTE" wait "$C" || st=$?
[ "$st" = 4 ] || fail "queued job $C after the restart: status $st, expected 4"
[ "$("$MOTE" ps --all | awk 'NR > 1' | wc -l)" = 3 ] || fail "the history lost jobs: $("$MOTE" ps --all)"

# 3.
D=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c 'while :; do sleep 1; done')
E=$("$MOTE" submit "$CFG" --flavor tiny -- true)
wait_state "$D" running 120
start=$SECONDS
"$MOTE" drain --deadline 5 || fail "mote drain failed"
[ $((SECONDS - start)) -ge 4 ] || fail "drain returned before its deadline"
s=$(job_state "$D"); [ "$s" = killed ] || fail "job $D is '$s' after the drain's deadline"
s=$(job_state "$E"); [ "$s" = killed ] || fail "queued job $E is '$s' after the drain"
st=0; "$MOTE" submit "$CFG" --flavor tiny -- true >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "a submission while draining: status $st, expected 2"
