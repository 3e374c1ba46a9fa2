#!/bin/bash
# tests/integration/bench_all.sh: everything `make bench` measures, in one
# go (so one tools/sandbox boot): boot time and memory (bench.sh), many
# VMs started at once (bench_concurrent.sh), disk throughput and IOPS
# (bench_disk.sh), network throughput and round trips (bench_net.sh), then
# the scheduler (bench_sched.sh). Each runs even if one before it failed; the status
# is non-zero if any did.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
"$HERE/bench.sh" || rc=1
echo
"$HERE/bench_concurrent.sh" || rc=1
echo
"$HERE/bench_disk.sh" || rc=1
echo
"$HERE/bench_net.sh" || rc=1
echo
"$HERE/bench_sched.sh" || rc=1
echo
"$HERE/bench_phases.sh" || rc=1
exit "$rc"
