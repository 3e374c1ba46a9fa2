#!/bin/bash
# Two promises of `mote run`, in one boot: an ELF vmlinux boots as well as
# a bzImage does, and --cpus above 2 gives the guest that many CPUs (4 here:
# KVM allows more vCPUs than the host, or tools/sandbox, has CPUs).
# The vmlinux is the default guest's own kernel, taken out of its bzImage
# the way Linux's scripts/extract-vmlinux does: the compressed payload
# (found through the setup header's payload_offset and payload_length,
# boot protocol 2.08) is decompressed by whichever tool its magic names.
. "$(dirname "$0")/lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# le BYTES OFFSET FILE: an unsigned little-endian number from FILE.
le() {
	od -An -tu"$1" -j "$2" -N "$1" "$3" | tr -d ' '
}

# extract_vmlinux BZIMAGE OUT
extract_vmlinux() {
	local sects off len start magic dec
	sects=$(le 1 $((0x1f1)) "$1")
	[ "$sects" = 0 ] && sects=4
	off=$(le 4 $((0x248)) "$1")
	len=$(le 4 $((0x24c)) "$1")
	start=$(((sects + 1) * 512 + off))
	magic=$(tail -c +$((start + 1)) "$1" | head -c 6 | od -An -tx1 | tr -d ' \n')
	case $magic in
	1f8b*) dec=(gzip -dc) ;;
	fd377a585a00) dec=(xz -dc --single-stream) ;;
	5d0000*) dec=(xz -dc --format=lzma) ;;
	425a68*) dec=(bzip2 -dc) ;;
	894c5a4f*) dec=(lzop -dc) ;;
	02214c18*) dec=(lz4 -dc) ;;
	28b52ffd*) dec=(zstd -dc) ;;
	*) fail "$1: unknown payload magic '$magic' at $start"; return 1 ;;
	esac
	command -v "${dec[0]}" >/dev/null || { fail "${dec[0]} not found"; return 1; }
	# The payload ends with the decompressed size, which some tools call
	# trailing garbage: their status is not the test, the ELF header is.
	tail -c +$((start + 1)) "$1" | head -c "$len" | "${dec[@]}" >"$2" 2>"$2.err"
	note "payload at $start, $len bytes, ${dec[0]}: $(stat -c %s "$2") bytes out"
	# An x86-64 ELF executable: \177ELF, 64-bit, little-endian; e_machine 62.
	if [ "$(head -c 6 "$2" | od -An -tx1 | tr -d ' \n')" != 7f454c460201 ] ||
		[ "$(le 2 18 "$2")" != 62 ]; then
		fail "$2 is not an x86-64 ELF file"
		show_tail "$2.err" 5
		return 1
	fi
}

VMLINUX=$T_OUT/vmlinux
trap 'rc=$?; rm -f "$VMLINUX"; (exit $rc); t_finish' EXIT
extract_vmlinux "$KERNEL" "$VMLINUX" || exit 1
# shellcheck disable=SC2016  # the guest's shell expands it
boot_guest run --kernel "$VMLINUX" --initrd "$INITRD" --cpus 4 \
	-- sh -c 'echo nproc=$(nproc); echo online=$(cat /sys/devices/system/cpu/online)'
expect_status 0
expect_console '^mote guest: kernel [^ ]+, 4 vCPUs, '
expect_value nproc 4 "CPUs the guest runs"
expect_value online 0-3 "CPUs online in the guest"
expect_console '^mote-job-status: 0$'
