#!/bin/bash
# shellcheck disable=SC2016  # $(...) and $! are for the guest's shell
# A hostile guest, all at once, for about 20 s (guest-images/mote-flood.c):
# it floods the console (lines to /dev/console) while mote's stdout is a
# pipe read slowly, keeps its vCPU exiting on unclaimed MMIO (reads of
# 0xc0000000, which no device claims, through a /dev/mem mapping) and on
# an unclaimed port (0x210), and hammers one disk's queue (mote-diskbench
# at queue depth 16 on /dev/vdb). Meanwhile a read from the other disk
# must still complete, with the right data, and mote's memory must stay
# bounded:
#   - its peak RSS (VmHWM, the result file's peak_rss_kib) at most guest
#     RAM + 32 MiB, what mote serve reserves for mote itself;
#   - its own memory (RSS outside the guest-RAM mapping, sampled every
#     0.5 s) at most 16 MiB, and growing by at most 1 MiB from the start
#     of the flood to its end.
# --debug makes mote print its counts of unclaimed accesses at the end:
# each loop's reads must have reached it, or the flood did not happen.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

MEM_MIB=256
HWM_SLACK_KIB=$((32 * 1024))
OWN_MAX_KIB=$((16 * 1024))
OWN_GROWTH_KIB=1024
MARK=mote-flood-marker
# Nested KVM under TCG (tools/sandbox) takes milliseconds per exit: there
# the loops manage a few hundred to a few thousand accesses in 20 s.
MIN_COUNT=100
# The console is slower still there: each byte is an exit, and the
# guest's 8250 driver waits for the transmitter between bursts.
MIN_LINES=20

# vda: read-only, MARK at sector 1; vdb: scratch for the hammer.
DA=$T_OUT/marker.img
DB=$T_OUT/scratch.img
truncate -s 16M "$DA"
printf '%s' "$MARK" | dd of="$DA" bs=512 seek=1 conv=notrunc status=none
truncate -s 64M "$DB"
RES=$T_OUT/result.json
LOG=$T_OUT/console.log

# arm64 has no I/O ports: there the port loop is left out. 0xc0000000 is
# neither RAM nor a device on either architecture's map.
case $(uname -m) in
aarch64 | arm64) BUSES=mmio PIO_JOB= ;;
*) BUSES="mmio pio" PIO_JOB='mote-flood pio 0x210 20 2>/tmp/fp &' ;;
esac
JOB='mote-flood out - 20 >/dev/console 2>/tmp/fo &
mote-flood mmio 0xc0000000 20 2>/tmp/fm &
'$PIO_JOB'
mote-diskbench /dev/vdb --seconds 5 --depth 16 >/tmp/db 2>&1 &
sleep 3; echo flood-started;
v=$(dd if=/dev/vda bs=512 skip=1 count=1 2>/dev/null | head -c 17); echo flood-read=$v;
wait; cat /tmp/fo /tmp/fm /tmp/fp 2>/dev/null;
echo flood-hammer=$(grep -c ps= /tmp/db); echo flood-done'
JOB=$(printf '%s' "$JOB" | tr '\n' ' ')

# own_kib PID: RSS of PID outside mappings as large as guest RAM.
own_kib() {
	awk -v big=$((MEM_MIB * 1024)) '
		/^[0-9a-f]+-[0-9a-f]+ / { split($1, a, "-"); g = 0 }
		/^Size:/ { g = $2 >= big }
		/^Rss:/ { if (!g) own += $2 }
		END { print own + 0 }' "/proc/$1/smaps" 2>/dev/null
}

# Not in $T_OUT: the sandbox shares that over 9p, which has no FIFOs.
FIFO=$(mktemp -u "${TMPDIR:-/tmp}/mote-flood-XXXXXX")
mkfifo "$FIFO" || { fail "cannot make a FIFO $FIFO"; exit 1; }
T_BOOTS=$((T_BOOTS + 1))
CONSOLE=$T_OUT/console.$T_BOOTS
STDERR=$T_OUT/stderr.$T_BOOTS
RAW=$CONSOLE.raw
: >"$RAW"
"$MOTE" run --kernel "$KERNEL" --initrd "$INITRD" --mem "$MEM_MIB" \
	--drive "$DA,ro" --drive "$DB" --timeout 150 --debug --result "$RES" \
	--console-log "$LOG" -- "$JOB" </dev/null >"$FIFO" 2>"$STDERR" &
PID=$!
note "boot $T_BOOTS (background, pid $PID): mote run ... -- <flood job>"
# The slow reader: 4 KiB every 50 ms at most (80 KiB/s), until mote's
# end of file. The event loop must never wait for it (test_console shows
# that with a reader that stops altogether).
(
	exec <"$FIFO"
	while :; do
		n=$(dd bs=4k count=1 status=none 2>/dev/null | tee -a "$RAW" | wc -c)
		[ "$n" -gt 0 ] || break
		sleep 0.05
	done
) &
READER=$!

first=
max=0
samples=0
while alive "$PID"; do
	own=$(own_kib "$PID")
	if [ -n "$own" ] && [ "$own" -gt 0 ]; then
		if [ -z "$first" ] && tr -d '\r' <"$RAW" | grep -q '^flood-started'; then
			first=$own
		fi
		if [ -n "$first" ]; then
			samples=$((samples + 1))
			[ "$own" -le "$max" ] || max=$own
		fi
	fi
	sleep 0.5
done
STATUS=0
wait "$PID" || STATUS=$?
wait "$READER"
rm -f "$FIFO"
tr -d '\r' <"$RAW" >"$CONSOLE"
note "mote -> status $STATUS; console $(stat -c %s "$RAW") bytes, log $(stat -c %s "$LOG" 2>/dev/null) bytes"

expect_status 0
expect_console '^flood-started'
expect_value flood-read "$MARK" "the disk read during the flood"
expect_value flood-hammer 5 "mote-diskbench's five tests on the hammered queue"
expect_console '^flood-done'
lines=$(grep -c '^mote-flood-console-line' "$CONSOLE")
note "console flood lines seen: $lines; the guest's counts:" \
	"$(grep -E '^flood-(out|mmio|pio):' "$CONSOLE" | tr '\n' ' ')"
# A blocking pipe loses nothing: every line the guest wrote arrives.
written=$(sed -n 's/^flood-out: count=\([0-9]*\).*/\1/p' "$CONSOLE" | tail -n 1)
[ "${written:-0}" -ge "$MIN_LINES" ] || fail "the guest wrote only ${written:-no} console lines"
[ "$lines" -ge "${written:-1}" ] || fail "$lines of the guest's ${written:-?} console lines arrived"
for bus in $BUSES; do
	guest=$(sed -n "s/^flood-$bus: count=\([0-9]*\).*/\1/p" "$CONSOLE" | tail -n 1)
	seen=$(sed -n "s/.*debug: $bus: \([0-9]*\) unhandled reads.*/\1/p" "$STDERR" | tail -n 1)
	note "unclaimed $bus reads: the guest made ${guest:-?}, mote counted ${seen:-none}"
	[ "${guest:-0}" -ge "$MIN_COUNT" ] ||
		fail "the guest's $bus loop made fewer than $MIN_COUNT reads"
	[ "${seen:-0}" -ge "${guest:-1}" ] || fail "mote counted fewer unclaimed $bus reads than the guest made"
done

hwm=$(result_get "$RES" peak_rss_kib)
note "peak RSS $hwm KiB (bound $((MEM_MIB * 1024 + HWM_SLACK_KIB))); own RSS at the flood's start ${first:-?} KiB, at most $max KiB over $samples samples"
if [ -z "$hwm" ] || [ "$hwm" -gt $((MEM_MIB * 1024 + HWM_SLACK_KIB)) ]; then
	fail "peak RSS ${hwm:-?} KiB: no result, or above guest RAM + $((HWM_SLACK_KIB / 1024)) MiB"
fi
if [ -z "$first" ] || [ "$samples" -lt 3 ]; then
	fail "too few memory samples during the flood ($samples)"
else
	[ "$max" -le "$OWN_MAX_KIB" ] || fail "mote's own RSS reached $max KiB (bound $OWN_MAX_KIB)"
	[ $((max - first)) -le "$OWN_GROWTH_KIB" ] ||
		fail "mote's own RSS grew by $((max - first)) KiB during the flood (bound $OWN_GROWTH_KIB)"
fi
size=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
[ "$size" -le $((16 * 1024 * 1024 + 100)) ] || fail "the console log grew to $size bytes, past its 16 MiB cap"
