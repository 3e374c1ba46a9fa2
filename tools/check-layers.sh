#!/bin/sh
# tools/check-layers.sh: no include points up a layer. Layers, lowest
# first (README, "Layout"):
#   vmm/base                         the primitives
#   devices, virtio, boot            may include vmm/base and themselves;
#                                    devices/x86 also boot/x86/layout.h,
#                                    the machine's port and address map
#                                    (constants only)
#   vmm/config                       vmm/base and itself
#   vmm/core                         all of the above and itself
#   vmm/api                          all of the above and itself
#   vmm/main.c, vmm/sched            the public header vmm/api/mote.h only
# And across architectures (vmm/core/arch.h): a file in an architecture's
# folder (boot/x86/, devices/x86/, vmm/core/x86/; arm64/ alike) may include
# from that architecture's folders, any other file from none of them; the
# boot code's shared headers are boot/linux_err.h and boot/linux_file.h.
# Each project include ("dir/file.h") of each source file is one check;
# prints every violation, then "layers: N passed, N failed".
cd "$(dirname "$0")/.." || exit 1

# allowed DIR: the include prefixes a file under DIR may use.
allowed() {
	case "$1" in
	vmm/base/*) echo "vmm/base/" ;;
	devices/x86/*) echo "vmm/base/ devices/ boot/x86/layout.h" ;;
	devices/*) echo "vmm/base/ devices/" ;;
	virtio/*) echo "vmm/base/ virtio/" ;;
	boot/*) echo "vmm/base/ boot/" ;;
	vmm/config/*) echo "vmm/base/ vmm/config/" ;;
	vmm/core/*) echo "vmm/base/ devices/ virtio/ boot/ vmm/config/ vmm/core/" ;;
	vmm/api/*) echo "vmm/base/ devices/ virtio/ boot/ vmm/config/ vmm/core/ vmm/api/" ;;
	vmm/main.c | vmm/sched/*) echo "vmm/api/mote.h vmm/sched/" ;;
	*) echo "" ;;
	esac
}

# arch PATH: the architecture whose folder PATH is in, or "" for none.
arch() {
	case "$1" in
	*/x86/*) echo x86 ;;
	*/arm64/*) echo arm64 ;;
	*) echo "" ;;
	esac
}

pass=0
fail=0
for f in $(git ls-files 'vmm/*.[ch]' 'devices/*.[ch]' 'virtio/*.[ch]' 'boot/*.[ch]' 2>/dev/null ||
	   find vmm devices virtio boot -name '*.[ch]'); do
	ok_prefixes=$(allowed "$f")
	f_arch=$(arch "$f")
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		ok=0
		for p in $ok_prefixes; do
			case "$inc" in "$p"*) ok=1 ;; esac
		done
		inc_arch=$(arch "$inc")
		if [ "$ok" = 1 ] && [ -n "$inc_arch" ] && [ "$inc_arch" != "$f_arch" ]; then
			fail=$((fail + 1))
			echo "layers: $f includes \"$inc\", which is ${inc_arch}'s own"
		elif [ "$ok" = 1 ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "layers: $f includes \"$inc\", which is above its layer"
		fi
	done
done
echo "layers: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
