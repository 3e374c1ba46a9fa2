# tests/integration/bench_phases.awk: one boot's phases from the log
# bench_phases.sh keeps: each line is "<host seconds since launch> <console
# line>"; after "phases-begin" come /proc/uptime and the guest's dmesg
# (printk.time=1, initcall_debug). Prints "key milliseconds" lines:
# the phases (see bench_phases.sh), then "ic:NAME" for every initcall.
# Plain awk (mawk): no gawk extensions.

function ms(s) { return sprintf("%.1f", s * 1000) }

# ts(): the kernel timestamp of the current dmesg line, or -1.
function ts(   t) {
	if (match($0, /\[ *[0-9]+\.[0-9]+\]/) == 0)
		return -1
	t = substr($0, RSTART + 1, RLENGTH - 2)
	sub(/^ +/, "", t)
	return t + 0
}

!banner && /mote guest: kernel/ { banner = $1 }
$2 == "phases-begin" && NF == 2 { begun = 1; next }
begun == 1 && !have_up && $2 ~ /^[0-9]+\.[0-9]+$/ {
	host = $1; up = $2; have_up = 1; next
}
!have_up { next }
/phases-begin/ { next }          # the command line, quoting the job
$2 == "phases-end" && NF == 2 { exit }
{
	t = ts()
	if (t < 0)
		next
}
acpi < 0 && /ACPI: (RSDP|Early table)/ { acpi = t }
first_ic < 0 && /calling  / { first_ic = t }
/Run \/init as init process/ { run_init = t }
/Trying to unpack rootfs/ { unpack0 = t }
/Freeing initrd memory/ { unpack1 = t }
/initcall .* returned .* after [0-9]+ usecs/ {
	name = $0
	sub(/.*initcall /, "", name)
	sub(/[+ ].*/, "", name)
	us = $0
	sub(/.* after /, "", us)
	sub(/ usecs.*/, "", us)
	ic[name] += us / 1000
	if (!(name in seen)) {
		seen[name] = 1
		order[++n] = name
	}
}

BEGIN { acpi = first_ic = run_init = unpack0 = unpack1 = -1 }

END {
	if (banner)
		print "launch_to_banner", ms(banner)
	if (!have_up)
		exit
	print "launch_to_kernel_clock0", ms(host - up)
	if (acpi >= 0) {
		print "clock0_to_acpi_tables", ms(acpi)
		if (first_ic >= 0)
			print "acpi_tables_to_initcalls", ms(first_ic - acpi)
	} else if (first_ic >= 0) {
		print "clock0_to_initcalls", ms(first_ic)
	}
	if (first_ic >= 0 && run_init >= 0)
		print "initcalls_to_run_init", ms(run_init - first_ic)
	if (unpack0 >= 0 && unpack1 >= 0)
		print "initramfs_unpack", ms(unpack1 - unpack0)
	if (run_init >= 0)
		print "run_init_to_job", ms(up - run_init)
	print "job", ms(host)
	for (i = 1; i <= n; i++)
		printf "ic:%s %.1f\n", order[i], ic[order[i]]
}
