#!/bin/sh
# Run each Check unit-test binary; print one summary line for CI.
# MOTE_UNIT_RUNNER: a command each binary runs under (e.g. qemu-aarch64 -L /);
# MOTE_UNIT_SUITE: the summary line's name (default unit).
pass=0; fail=0
for t in "$@"; do
    # shellcheck disable=SC2086 # the runner is a command and its arguments
    if ${MOTE_UNIT_RUNNER:-} "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t" >&2; fi
done
echo "${MOTE_UNIT_SUITE:-unit}: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
