#!/bin/bash
# `mote serve` is a program of its own (README, "mote serve"): build/mote
# does not need libmicrohttpd, gnutls or SQLite, which every mote run would
# otherwise map and initialize (memory overhead), and mote-serve does.
# `mote serve` still works as before: mote execs mote-serve, which keeps
# the pid that started it, and the daemon's VMs run the mote that started
# it even once that file is replaced. Without mote-serve, one clear line.
# None of this needs KVM: the one job fails on a file that is no kernel.
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/../integration/ci_lib.sh"
. "$(dirname "$0")/../integration/sched_lib.sh"
trap 'sched_cleanup; t_finish' EXIT
SERVE=$(dirname "$MOTE")/mote-serve
need_file "$SERVE" "mote-serve" || exit 1

# needed FILE: its NEEDED entries, one a line.
needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}
bad='libmicrohttpd|libgnutls|libsqlite3'
needed "$MOTE" >"$T_OUT/mote.needed"
needed "$SERVE" >"$T_OUT/serve.needed"
grep -q '^libc\.so' "$T_OUT/mote.needed" || fail "found no NEEDED entries in $MOTE"
hits=$(grep -E "^($bad)" "$T_OUT/mote.needed" | tr '\n' ' ')
[ -z "$hits" ] || fail "mote needs the daemon's libraries: $hits"
for lib in libmicrohttpd libsqlite3; do
	grep -q "^$lib\.so" "$T_OUT/serve.needed" || fail "mote-serve does not need $lib"
done

# The daemon started from a copy of the two programs.
BIN=$T_OUT/bin
rm -rf "$BIN" && mkdir -p "$BIN" && cp "$MOTE" "$SERVE" "$BIN/" || exit 1
MOTE=$BIN/mote serve_start --cpus 1 --mem 2G --reserve-mem 512M --no-cgroup || exit 1
exe=$(readlink "/proc/$SERVE_PID/exe")
[ "$exe" = "$BIN/mote-serve" ] || fail "the daemon (pid $SERVE_PID, mote's) runs '$exe'"
grep -q '^mote serve: listening on' "$T_OUT/serve.log" ||
	fail "the daemon does not speak as mote serve: $(head -c 200 "$T_OUT/serve.log")"

# Replace the copy of mote: the VMs still run the one that started it,
# which fails on this config exactly as when run by hand.
printf '#!/bin/sh\necho "the replaced mote ran" >&2\nexit 3\n' >"$T_OUT/fake" &&
	chmod 755 "$T_OUT/fake" && mv -f "$T_OUT/fake" "$BIN/mote" || exit 1
echo "not a kernel" >"$T_OUT/garbage"
KERNEL=$T_OUT/garbage vm_config "$T_OUT/vm.json"
st=0; "$MOTE" run --config "$T_OUT/vm.json" </dev/null >/dev/null 2>"$T_OUT/direct.err" || st=$?
[ "$st" != 0 ] || fail "mote ran a file that is no kernel"
ID=$("$MOTE" submit "$T_OUT/vm.json" -- true) || { fail "mote submit failed"; exit 1; }
wait_state "$ID" failed 60
log=$STATE/jobs/$ID/mote.log
need_file "$log" "the job's mote.log" &&
	{ cmp -s "$log" "$T_OUT/direct.err" ||
	  fail "the job's VM did not run mote: its log '$(head -c 300 "$log")'," \
	       "by hand '$(head -c 300 "$T_OUT/direct.err")'"; }
serve_stop

# Without mote-serve: one line naming where it was looked for, status 1.
rm -f "$BIN/mote-serve" && cp "$MOTE" "$BIN/mote" || exit 1
st=0; "$BIN/mote" serve --help >"$T_OUT/missing.out" 2>"$T_OUT/missing.err" || st=$?
[ "$st" = 1 ] || fail "mote serve without mote-serve: status $st, expected 1"
if [ "$(grep -c . "$T_OUT/missing.err")" != 1 ] || ! grep -qF "$BIN/mote-serve" "$T_OUT/missing.err"; then
	fail "mote serve without mote-serve says: $(head -c 300 "$T_OUT/missing.err")"
fi
# Run directly, mote-serve only says how to start it.
st=0; "$SERVE" --socket "$T_OUT/x.sock" 2>"$T_OUT/direct-serve.err" || st=$?
[ "$st" = 2 ] || fail "mote-serve run directly: status $st, expected 2"
