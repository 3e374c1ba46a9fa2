#!/bin/sh
# tests/integration/total.sh LOG...: add up the "<suite>: N passed, N failed"
# summary lines of the given logs (a missing log is skipped; a log without
# its summary line counts as one failure) and print
#   check: N passed, N failed
# Exits non-zero when anything failed. A note in a summary line, as in
# "integration: N passed (1 after a sandbox re-run: t_x), N failed", is
# carried over: "check: N passed (integration: 1 after a sandbox re-run:
# t_x), N failed".
pass=0
failed=0
notes=
for log in "$@"; do
	[ -e "$log" ] || continue
	line=$(tr -d '\r' <"$log" |
		grep -E '^[a-z0-9-]+: [0-9]+ passed( \([^()]*\))?, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		echo "check: $(basename "$log" .log) printed no summary line (did not run?)"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed 's/^[a-z0-9-]*: \([0-9]*\) passed.*/\1/')
	f=$(echo "$line" | sed 's/.* \([0-9]*\) failed$/\1/')
	note=$(echo "$line" | sed -n 's/^\([a-z0-9-]*\): [0-9]* passed (\(.*\)),.*/\1: \2/p')
	[ -n "$note" ] && notes="${notes:+$notes; }$note"
	pass=$((pass + p))
	failed=$((failed + f))
done
echo "check: $pass passed${notes:+ ($notes)}, $failed failed"
[ "$failed" -eq 0 ]
