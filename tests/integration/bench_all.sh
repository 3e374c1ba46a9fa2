#!/bin/bash
# tests/integration/bench_all.sh: everything `make bench` measures, in one
# go (so one tools/sandbox boot): boot time and memory (bench.sh), then
# disk throughput and IOPS (bench_disk.sh). Both run even if the first
# fails; the status is non-zero if either did.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rc=0
"$HERE/bench.sh" || rc=1
echo
"$HERE/bench_disk.sh" || rc=1
exit "$rc"
