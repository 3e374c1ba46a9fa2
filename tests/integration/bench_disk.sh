#!/bin/bash
# tests/integration/bench_disk.sh: the disk half of `make bench`. Boots the
# default guest (initramfs only, no root disk) with one raw scratch image
# as /dev/vda, under mote and under QEMU's microvm (virtio-blk-device,
# aio=io_uring), and runs mote-diskbench (guest-images/mote-diskbench.c)
# on it as the job:
#   - sequential 1 MiB O_DIRECT writes (then fdatasync), MiB/s;
#   - sequential 1 MiB O_DIRECT reads, MiB/s;
#   - qd1-read: 1 MiB O_DIRECT reads of the image's first 32 MiB, 4 passes,
#     one request at a time (`dd if=/dev/vda of=/dev/null bs=1M
#     iflag=direct` four times over a 32 MiB drive), MiB/s;
#   - 4 KiB O_DIRECT random reads at queue depth 1, IOPS;
#   - 4 KiB O_DIRECT random writes at queue depth 1, then fdatasync, IOPS.
# Runs alternate mote/QEMU; the medians and the ratios mote/QEMU are
# printed (higher is better for all). Nothing is asserted.
#
# Both VMMs get the same image file. QEMU uses cache=none (O_DIRECT on the
# host) when the image's file system allows O_DIRECT, as mote does by
# itself; where it does not (tmpfs before Linux 6.6, e.g. /var/tmp inside
# tools/sandbox), both do buffered I/O: QEMU with cache=writeback, mote by
# its automatic fallback. The line "host I/O:" says which.
#
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_BENCH_DISK_RUNS (5),
# MOTE_BENCH_DISK_SECONDS (5, per test and boot), MOTE_BENCH_DISK_MIB
# (256, image size and the sequential tests' budget), MOTE_BENCH_DISK_DIR
# (where the image lives; default /var/tmp, a tmpfs inside tools/sandbox),
# MOTE_BENCH_DISK_DEPTH (1, random-I/O threads), MOTE_BENCH_DISK_TESTS
# (all: seq-write,seq-read,qd1-read,rand-read,rand-write; a subset runs
# only those).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
RUNS=${MOTE_BENCH_DISK_RUNS:-5}
SECS=${MOTE_BENCH_DISK_SECONDS:-5}
DISK_MIB=${MOTE_BENCH_DISK_MIB:-256}
DIR=${MOTE_BENCH_DISK_DIR:-/var/tmp}
DEPTH=${MOTE_BENCH_DISK_DEPTH:-1}
SEL=${MOTE_BENCH_DISK_TESTS:-seq-write,seq-read,qd1-read,rand-read,rand-write}
MEM=256
CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off quiet"
JOB="mote-diskbench /dev/vda --seconds $SECS --bytes ${DISK_MIB}M --depth $DEPTH --tests $SEL"
LIMIT=300
# The figures the guest prints: the sequential tests in MiB/s, the
# random ones in IOPS.
TESTS=
for t in ${SEL//,/ }; do
	case $t in
	seq-write|seq-read|qd1-read) TESTS+=" $t-mibps" ;;
	rand-read|rand-write) TESTS+=" $t-iops" ;;
	*) echo "bench-disk: unknown test $t in MOTE_BENCH_DISK_TESTS" >&2; exit 1 ;;
	esac
done

for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz"; do
	[ -e "$f" ] || { echo "bench-disk: $f is missing (make all guest)" >&2; exit 1; }
done
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "bench-disk: qemu-system-x86_64 not found" >&2; exit 1; }

OUT=$(mktemp -d)
IMG=$(mktemp -p "$DIR" mote-bench-disk.XXXXXX)
trap 'rm -rf "$OUT" "$IMG"' EXIT
# Allocated, not sparse: reads of holes would cost the host nothing.
dd if=/dev/zero of="$IMG" bs=1M count="$DISK_MIB" status=none
if dd if=/dev/zero of="$IMG" bs=4096 count=1 oflag=direct conv=notrunc \
	status=none 2>/dev/null; then
	CACHE=none
	HOST_IO="O_DIRECT (QEMU cache=none; mote uses O_DIRECT when it can)"
else
	CACHE=writeback
	HOST_IO="buffered: $(stat -f -c %T "$DIR") at $DIR refuses O_DIRECT (QEMU cache=writeback; mote falls back by itself)"
fi

# run VMM LOG: boot the guest with the benchmark job; the log gets the
# console with \r removed. Fails if the job did not report status 0.
run() {
	local vmm=$1 log=$2 rc=0
	if [ "$vmm" = mote ]; then
		# shellcheck disable=SC2086 # $JOB: one word per argument
		timeout -k 5 "$LIMIT" "$MOTE" run --kernel "$GUEST/vmlinuz" \
			--initrd "$GUEST/initrd.gz" --cpus 1 --mem "$MEM" \
			--cmdline "$CMDLINE" --drive "$IMG" -- $JOB \
			</dev/null >"$log.raw" 2>&1 || rc=$?
	else
		timeout -k 5 "$LIMIT" qemu-system-x86_64 -M microvm,acpi=on \
			-accel kvm -cpu host -m "$MEM" -smp 1 -nodefaults \
			-no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
			-append "$CMDLINE -- $JOB" \
			-drive "id=d0,file=$IMG,format=raw,if=none,aio=io_uring,cache=$CACHE" \
			-device virtio-blk-device,drive=d0 \
			</dev/null >"$log.raw" 2>&1 || rc=$?
	fi
	tr -d '\r' <"$log.raw" >"$log"
	grep -q '^mote-job-status: 0$' "$log" || { echo "status $rc"; return 1; }
}

# value KEY LOG: the number after KEY= in the guest's output, or "fail".
value() {
	local v
	v=$(grep -o "diskbench: .*$1=[0-9.]*" "$2" | sed 's/.*=//' | tail -n 1)
	echo "${v:-fail}"
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2];
		      else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

where="directly on this host's KVM"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] &&
	where="inside tools/sandbox (nested KVM under QEMU TCG: absolute numbers are slow, ratios still compare)"
echo "bench-disk: $(cat "$GUEST/kernel-version" 2>/dev/null || echo guest), 1 vCPU, $MEM MiB, $RUNS runs each, $where"
echo "bench-disk: image $DISK_MIB MiB raw in $DIR; guest job: $JOB"
echo "bench-disk: host I/O: $HOST_IO"

declare -A V
for i in $(seq "$RUNS"); do
	# Alternate, so slow drifts in the host hit both alike.
	for vmm in mote qemu; do
		log=$OUT/$vmm.$i.log
		if ! why=$(run "$vmm" "$log"); then
			echo "bench-disk: run $i $vmm: failed ($why); last lines:"
			tail -n 5 "$log" | sed 's/^/    /'
			continue
		fi
		line="bench-disk: run $i $vmm:"
		for t in $TESTS; do
			v=$(value "$t" "$log")
			line+=" $t=$v"
			[ "$v" = fail ] || V[$vmm.$t]+=" $v"
		done
		echo "$line"
	done
done

printf 'bench-disk: %-16s %10s %10s %10s\n' "median" mote qemu mote/qemu
missing=0
for t in $TESTS; do
	m=$(echo "${V[mote.$t]:-}" | median)
	q=$(echo "${V[qemu.$t]:-}" | median)
	[ "$m" != n/a ] && [ "$q" != n/a ] || missing=1
	printf 'bench-disk: %-16s %10s %10s %10s\n' "$t" "$m" "$q" "$(ratio "$m" "$q")"
done
echo "bench-disk: higher is better for all; ratio = mote/qemu"
[ "$missing" = 0 ] || { echo "bench-disk: some tests never produced a number" >&2; exit 1; }
