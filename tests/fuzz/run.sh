#!/bin/sh
# tests/fuzz/run.sh MODE SECONDS BUILDDIR TARGET...
#
#   fuzz    run each target for SECONDS (one at a time), starting from its
#           checked-in corpus; new inputs go to BUILDDIR/corpus/TARGET
#           (scratch), crashes to BUILDDIR/artifacts/. Prints per target
#           the executions and the coverage libFuzzer reached.
#   replay  run every file of each target's corpus once (deterministic);
#           with SECONDS > 0 (CI), then fuzz each target for SECONDS more.
#           Ends with "fuzz: N passed, N failed", one count per target.
#   merge   minimize: corpus + scratch into a new corpus (-merge=1), which
#           replaces tests/fuzz/corpus/TARGET.
#
# A target's dictionary, if any, is tests/fuzz/TARGET.dict.
mode=$1 secs=$2
# Absolute: the config and CLI targets work in a directory of their own.
build=$(mkdir -p "$3" && cd "$3" && pwd)
shift 3
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0

opts() {
	dict="$here/$1.dict"
	[ -f "$dict" ] && printf '%s' "-dict=$dict"
}

# The stats line libFuzzer prints last ("#N DONE cov: C ft: F ...") and
# the execution count, as one summary line.
summary() {
	t=$1 log=$2
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	printf '  %-10s %s: %s executions, cov: %s, ft: %s, corpus: %s\n' "$t" "$3" \
		"${runs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
}

# run_fuzz TARGET SECONDS: fuzz from the corpus; 0 if nothing crashed.
run_fuzz() {
	t=$1 s=$2
	mkdir -p "$build/corpus/$t" "$build/artifacts"
	log="$build/fuzz-$t.log"
	"$build/fuzz_$t" $(opts "$t") -max_total_time="$s" -print_final_stats=1 \
		-artifact_prefix="$build/artifacts/$t-" -timeout=10 -rss_limit_mb=2048 \
		"$build/corpus/$t" "$here/corpus/$t" >"$log" 2>&1
	rc=$?
	summary "$t" "$log" "${s}s"
	if [ $rc -ne 0 ]; then
		echo "FAIL: fuzz_$t found a problem (exit $rc); the input is in $build/artifacts/:" >&2
		grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" | head -n 8 >&2
	fi
	return $rc
}

# run_replay TARGET: every corpus file once.
run_replay() {
	t=$1
	log="$build/replay-$t.log"
	files=$(find "$here/corpus/$t" -type f | wc -l)
	mkdir -p "$build/artifacts"
	"$build/fuzz_$t" -runs=0 -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
		"$here/corpus/$t" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || ! grep -q 'INITED' "$log"; then
		echo "FAIL: fuzz_$t on its corpus (exit $rc), see $log:" >&2
		grep -E 'ERROR|invariant|SUMMARY|Running:' "$log" | tail -n 8 >&2
		return 1
	fi
	summary "$t" "$log" "replay of $files files"
}

for t in "$@"; do
	if [ ! -x "$build/fuzz_$t" ]; then
		echo "FAIL: $build/fuzz_$t was not built" >&2
		fail=$((fail + 1))
		continue
	fi
	case $mode in
	fuzz)
		run_fuzz "$t" "$secs" ;;
	replay)
		run_replay "$t" && { [ "$secs" -eq 0 ] || run_fuzz "$t" "$secs"; } ;;
	merge)
		new="$build/merge-$t"
		rm -rf "$new" && mkdir -p "$new" "$build/corpus/$t"
		"$build/fuzz_$t" $(opts "$t") -merge=1 -artifact_prefix="$build/artifacts/$t-" "$new" "$here/corpus/$t" \
			"$build/corpus/$t" >"$build/merge-$t.log" 2>&1 &&
			rm -rf "$here/corpus/$t" && mv "$new" "$here/corpus/$t" &&
			echo "  $t: $(ls "$here/corpus/$t" | wc -l) files, $(du -sk "$here/corpus/$t" | cut -f1) KiB" ;;
	*)
		echo "run.sh: unknown mode $mode" >&2
		exit 2 ;;
	esac
	if [ $? -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
