#!/bin/bash
# shellcheck disable=SC2317  # run_* are called as "run_$vmm"
# tests/integration/bench_phases.sh: where the guest's boot time goes, per
# VMM. Boots the default guest's kernel and initrd under mote (through the
# kernel's decompressor, "mote", and from the unpacked-kernel cache,
# "cached"), QEMU microvm and kvmtool (when MOTE_LKVM names an lkvm), with
# the same command line plus printk.time=1 and initcall_debug, one vCPU,
# 256 MiB. The console stays quiet (as in bench.sh, so console output does
# not slow the boot); the job prints /proc/uptime and then part of dmesg, and the
# script notes the host time at which each console line arrives. Phases:
#   launch to kernel clock 0  VMM start-up, the decompressor and the
#                             kernel's work before its clock starts (host
#                             arrival of the uptime line minus the uptime)
#   clock 0 to ACPI tables    early setup_arch (memory map, page tables)
#   ACPI tables to initcalls  table parsing, mm, scheduler, timers, SMP
#   initcalls                 first initcall to "Run /init", with the
#                             costliest initcalls and the device drivers
#                             named below, from initcall_debug
#   initramfs unpacking       "Trying to unpack rootfs" to "Freeing initrd
#                             memory" (runs beside other initcalls)
#   /init to job              "Run /init" to the job's start (banner, mounts)
#   launch to job             all of it
#   launch to banner          host arrival of the guest's banner line
# kvmtool builds no ACPI tables, so its column has no ACPI phase.
# Medians over MOTE_BENCH_RUNS runs (3), the VMMs taking turns.
# Environment: MOTE_BIN, MOTE_GUEST_DIR, MOTE_LKVM, MOTE_BENCH_RUNS,
# MOTE_PHASES_KEEP (a directory to keep each run's console log in),
# MOTE_PHASES_BASE (another mote binary to compare, the "base" column).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
MOTE=${MOTE_BIN:-$TOP/build/mote}
GUEST=${MOTE_GUEST_DIR:-$TOP/build/guest}
LKVM=${MOTE_LKVM:-}
RUNS=${MOTE_BENCH_RUNS:-3}
MEM=256
CMDLINE="console=ttyS0 reboot=k panic=-1 pci=off quiet printk.time=1 initcall_debug log_buf_len=4M"
# The guest sends only the lines the phases need (the console is slow):
# the first initcall, the phase markers and initcalls of 100 us or more.
JOB="echo phases-begin; cat /proc/uptime; dmesg | grep -m1 -E '^.[ 0-9.]+. calling  '; dmesg | grep -E 'ACPI: (RSDP|Early)|Run /init|unpack rootfs|Freeing initrd| after [0-9]{3,} usecs'; echo phases-end"
LIMIT=300
# Initcalls always shown (the devices a VMM offers), besides the costliest.
DRIVERS="acpi_init serial8250_init i8042_init cmos_init virtio_mmio_init populate_rootfs pnp_init pnpacpi_init acpi_button_driver_init hpet_late_init clocksource_done_booting"
TOPN=${MOTE_PHASES_TOP:-12}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

for f in "$MOTE" "$GUEST/vmlinuz" "$GUEST/initrd.gz"; do
	[ -e "$f" ] || { echo "phases: $f is missing (make all guest)" >&2; exit 1; }
done

# capture LOG CMD...: run CMD; each console line goes to LOG prefixed with
# the host seconds since launch. Stops at the job's end marker.
capture() {
	local log=$1 start line now tpid fifo=$OUT/fifo
	shift
	rm -f "$fifo"
	mkfifo "$fifo"
	: >"$log"
	start=$EPOCHREALTIME
	timeout -k 5 "$LIMIT" "$@" </dev/null >"$fifo" 2>>"$log.err" &
	tpid=$!
	exec 3<"$fifo"
	while IFS= read -r -u 3 line; do
		now=$EPOCHREALTIME
		printf '%s %s\n' "$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.4f", b - a }')" "${line%$'\r'}" >>"$log"
		# The job's end, or its failure.
		[ "${line%$'\r'}" != phases-end ] || break
		[[ $line != mote-job-status:* ]] || break
	done
	# The VMM may wait for the guest to power off; it is not measured.
	kill "$tpid" 2>/dev/null || true
	cat <&3 >/dev/null || true
	exec 3<&-
	wait "$tpid" 2>/dev/null || true
}

run_mote() {
	capture "$1" "$MOTE" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.gz" \
		--cpus 1 --mem "$MEM" --cmdline "$CMDLINE" --no-kernel-cache -- sh -c "$JOB"
}

# MOTE_PHASES_BASE: another mote binary (say, before a change), "base".
run_base() {
	capture "$1" "$MOTE_PHASES_BASE" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.gz" \
		--cpus 1 --mem "$MEM" --cmdline "$CMDLINE" --no-kernel-cache -- sh -c "$JOB"
}

run_cached() {
	capture "$1" "$MOTE" run --kernel "$GUEST/vmlinuz" --initrd "$GUEST/initrd.gz" \
		--cpus 1 --mem "$MEM" --cmdline "$CMDLINE" -- sh -c "$JOB"
}

run_qemu() {
	capture "$1" qemu-system-x86_64 -M microvm,acpi=on \
		-accel kvm -cpu host -m "$MEM" -smp 1 -nodefaults \
		-no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" \
		-append "$CMDLINE -- \"$JOB\""
}

# lkvm keeps a control socket under $HOME/.lkvm, which may be read-only.
# --nodefaults: exactly our command line; without it kvmtool puts its own
# words first (noacpi, root=/dev/vda, ...) and the guest is not the same.
run_kvmtool() {
	mkdir -p "$OUT/lkvm-home"
	capture "$1" env HOME="$OUT/lkvm-home" "$LKVM" run --nodefaults \
		-k "$GUEST/vmlinuz" -i "$GUEST/initrd.gz" \
		-c 1 -m "$MEM" --console serial --network mode=none \
		-p "$CMDLINE -- \"$JOB\""
}

# phases LOG: "key milliseconds" lines from one run's log.
phases() {
	awk -v drivers="$DRIVERS" -f "$TOP/tests/integration/bench_phases.awk" "$1"
}

where="directly on this host's KVM"
[ "${MOTE_IN_SANDBOX:-0}" = 1 ] &&
	where="inside tools/sandbox (nested KVM under QEMU TCG: absolute times are slow, ratios still compare)"
VMMS="mote cached"
[ -z "${MOTE_PHASES_BASE:-}" ] || VMMS+=" base"
command -v qemu-system-x86_64 >/dev/null && VMMS+=" qemu"
[ -n "$LKVM" ] && [ -x "$LKVM" ] && VMMS+=" kvmtool"
echo "phases: $(cat "$GUEST/kernel-version" 2>/dev/null || echo guest), 1 vCPU, $MEM MiB, $RUNS runs each, $where"
[ -n "$LKVM" ] || echo "kvmtool: not available (set MOTE_LKVM to an lkvm binary)"
[ -z "$LKVM" ] || [ -x "$LKVM" ] || echo "kvmtool: not available ($LKVM is not executable)"
command -v qemu-system-x86_64 >/dev/null || echo "qemu: not available"

rc=0
for i in $(seq "$RUNS"); do
	for vmm in $VMMS; do
		log=$OUT/$vmm.$i.log
		"run_$vmm" "$log"
		phases "$log" >"$OUT/$vmm.$i.ph"
		ph=$OUT/$vmm.$i.ph
		if grep -q '^job ' "$ph"; then
			echo "phases: run $i $vmm: launch to job $(awk '$1 == "job" { print $2 }' "$ph") ms"
		else
			echo "phases: run $i $vmm: no dmesg from the guest"
			tail -n 5 "$log" "$log.err" | sed 's/^/    /'
			rc=1
		fi
		if [ -n "${MOTE_PHASES_KEEP:-}" ]; then
			mkdir -p "$MOTE_PHASES_KEEP"
			cp "$log" "$log.err" "$MOTE_PHASES_KEEP/" 2>/dev/null || true
		fi
	done
done

# The table: a row per phase, then the named drivers' initcalls and the
# TOPN costliest others (by their largest median), a column per VMM with
# medians in ms, then mote over each other VMM.
for vmm in $VMMS; do
	for f in "$OUT/$vmm".*.ph; do
		[ -e "$f" ] && sed "s/^/$vmm /" "$f"
	done
done | awk -v vmms="$VMMS" -v drivers="$DRIVERS" -v topn="$TOPN" \
	-f "$TOP/tests/integration/bench_phases_table.awk"
exit "$rc"
