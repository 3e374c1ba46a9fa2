#!/bin/bash
# mote run --config with a Firecracker --config-file: the machine-config
# (2 vCPUs, the memory size) reaches the guest, and the job travels both
# ways mote accepts: in boot_args after " -- " (as a Firecracker config
# would carry it), and after -- on mote's command line, where flags also
# override the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ci_lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1

# guest_mib: the MiB in the guest's banner ("..., 243 MiB memory").
guest_mib() {
	sed -n 's/^mote guest: kernel .* \([0-9][0-9]*\) MiB memory$/\1/p' "$CONSOLE" | head -n 1
}

# 1. Everything from the file, the job in boot_args (double quotes group
# the words of sh -c's script, as Linux's command-line parser does).
VM=$T_OUT/vm.json
write_config "$VM" 2 256 'console=ttyS0 reboot=k panic=-1 pci=off -- sh -c "nproc; exit 7"'
boot_guest run --config "$VM"
expect_status 7
expect_console '^mote guest: kernel [^ ]+, 2 vCPUs, '
expect_console '^2$'
expect_console '^mote-job-status: 7$'
mib=$(guest_mib)
# MemTotal is RAM less what the kernel keeps: under 256, far above half.
if [ -z "$mib" ] || [ "$mib" -gt 256 ] || [ "$mib" -lt 160 ]; then
	fail "guest memory '$mib' MiB does not fit mem_size_mib 256"
fi

# 2. The job after -- on the command line, a flag overriding the file's
# vcpu_count, and the file's memory size (512: not mote's default) kept.
# A network interface added by a flag joins the file's (none) as eth0.
VM2=$T_OUT/vm2.json
write_config "$VM2" 2 512 'console=ttyS0 reboot=k panic=-1 pci=off'
boot_guest run --config "$VM2" --cpus 1 --net tap=mtcfg0,create \
	-- sh -c 'nproc; test -e /sys/class/net/eth0 && echo has-eth0; exit 3'
expect_status 3
[ -s "$STDERR" ] && fail "mote printed on stderr: $(head -c 300 "$STDERR")"
expect_console '^has-eth0$'
expect_console '^mote guest: kernel [^ ]+, 1 vCPUs, '
expect_console '^1$'
expect_console '^mote-job-status: 3$'
mib=$(guest_mib)
if [ -z "$mib" ] || [ "$mib" -gt 512 ] || [ "$mib" -le 256 ]; then
	fail "guest memory '$mib' MiB does not fit mem_size_mib 512"
fi
