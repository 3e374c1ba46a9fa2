#!/bin/bash
# mote serve with a small declared capacity (--cpus 2 --mem 1G: after the
# 512 MiB reserve, three tiny VMs of 128 MiB + 32 MiB overhead at a time):
#  1. 20 tiny VMs submitted together, each exiting with its own status;
#  2. while capacity is full, ps shows some queued and never more running
#     than fit;
#  3. every one reaches exited with its own status, which wait returns;
#  4. logs returns a VM's console.
# mote-test-timeout: 900
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
. "$(dirname "$0")/sched_lib.sh"
trap 'sched_cleanup; t_finish' EXIT

serve_start --cpus 2 --mem 1G || exit 1
CFG=$T_OUT/vm.json
vm_config "$CFG"
IDS=()
for n in $(seq 1 20); do
	id=$("$MOTE" submit "$CFG" --flavor tiny -- sh -c "echo job-$n; exit $n") ||
		{ fail "submit $n failed: $id"; continue; }
	[[ $id =~ ^[0-9]+$ ]] || fail "submit printed '$id', not an id alone"
	IDS[n]=$id
done
note "submitted: ${IDS[*]}"

# 2. Sample the queue while it drains.
max_active=0
saw_queued=0
for _ in $(seq 60); do
	# One snapshot: a job moving from booting to running between two
	# calls would count twice.
	read -r q a < <("$MOTE" ps --all | awk '$2 == "queued" { q++ }
		$2 == "booting" || $2 == "running" { a++ } END { print q + 0, a + 0 }')
	# The daemon's own accounting stays within capacity too.
	curl -sf --unix-socket "$SOCK" http://mote/metrics >"$T_OUT/metrics" &&
		awk '$1 == "mote_memory_capacity_bytes" { c = $2 } $1 == "mote_memory_committed_bytes" { m = $2 }
		     END { exit !(m <= c) }' "$T_OUT/metrics" ||
		fail "memory committed beyond capacity: $(grep memory "$T_OUT/metrics" | grep -v '^#')"
	[ "$q" -gt 0 ] && saw_queued=1
	[ "$a" -gt "$max_active" ] && max_active=$a
	[ "$q" -eq 0 ] && break
	sleep 1
done
[ "$saw_queued" = 1 ] || fail "ps never showed a queued job while capacity was full"
[ "$max_active" -le 3 ] || fail "$max_active VMs were booting or running at once; 3 fit"
note "at most $max_active VMs at once"

# 3.
for n in $(seq 1 20); do
	[ -n "${IDS[n]:-}" ] || continue
	st=0
	"$MOTE" wait "${IDS[n]}" >/dev/null || st=$?
	[ "$st" = "$n" ] || fail "mote wait ${IDS[n]} gave $st, the job exited with $n"
	s=$(job_state "${IDS[n]}")
	[ "$s" = exited ] || fail "job ${IDS[n]} is '$s', not exited"
done

# 4.
"$MOTE" logs "${IDS[7]}" >"$T_OUT/logs.7" || fail "mote logs failed"
grep -q '^mote guest: kernel ' "$T_OUT/logs.7" || fail "the log has no guest banner"
grep -q '^job-7' "$T_OUT/logs.7" || fail "the log has not the job's own output"
