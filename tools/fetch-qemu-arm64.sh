#!/bin/bash
# tools/fetch-qemu-arm64.sh: Debian's arm64 QEMU (qemu-system-aarch64 from
# qemu-system-arm:arm64) and its arm64 libraries, unpacked into a cache
# directory, for `make bench-arm64`'s QEMU peer inside the arm64 sandbox.
#
#   tools/fetch-qemu-arm64.sh        print the directory, building it if needed
#
# The arm64 sandbox's root is busybox, and an x86 host cannot install
# qemu-system-arm:arm64 beside its own QEMU, so nothing is installed:
# `apt-get download` fetches the package and every library package its
# Depends reach (no recommends: no firmware, display or audio), `dpkg-deb -x`
# unpacks them into one tree, with its own arm64 libc and loader. The
# directory's run-qemu starts qemu-system-aarch64 through that loader with
# that tree's libraries, wherever the directory is seen from (the sandbox
# sees the host's / under /host). Nothing here needs root.
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/mote/qemu-arm64/<version>/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/sandbox-lib.sh
. "$HERE/sandbox-lib.sh"

PKG=qemu-system-arm
LIBDIRS="lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu"

# lib_closure: PKG and the library packages its Depends reach, recursively
# (lib* and zlib1g only: what the binary links; the rest is maintainer-
# script tooling).
lib_closure() {
	local seen=" " queue=$PKG p d
	while [ -n "$queue" ]; do
		p=${queue%% *}
		[ "$p" != "$queue" ] && queue=${queue#* } || queue=""
		case $seen in *" $p "*) continue ;; esac
		seen+="$p "
		for d in $(apt-cache depends --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "$p:arm64" 2>/dev/null |
			sed -n 's/^ *\(Pre\)\{0,1\}Depends: \([^<][^ ]*\)$/\2/p'); do
			d=${d%:arm64}
			case $d in lib* | zlib1g) queue+="${queue:+ }$d" ;; esac
		done
	done
	echo "$seen"
}

# needed_missing DIR: the sonames that qemu-system-aarch64 or a library in
# DIR's library directories needs and those directories lack (none when
# the tree is complete; libc's gconv modules in their subdirectory are
# loaded by path and left out).
needed_missing() {
	local dir=$1 f so d found
	{
		echo "$dir/usr/bin/qemu-system-aarch64"
		for d in $LIBDIRS; do
			[ ! -d "$dir/$d" ] || find "$dir/$d" -maxdepth 1 -name '*.so*'
		done
	} | while read -r f; do
			aarch64-linux-gnu-readelf -d "$f" 2>/dev/null |
				sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
		done | sort -u | while read -r so; do
			found=0
			for d in $LIBDIRS; do [ -e "$dir/$d/$so" ] && found=1; done
			[ "$found" = 1 ] || echo "$so"
		done
}

# write_runner DIR: DIR/run-qemu, which finds the tree beside itself.
write_runner() {
	cat >"$1/run-qemu" <<'EOF'
#!/bin/sh
# qemu-system-aarch64 through this tree's own loader and libraries
# (written by tools/fetch-qemu-arm64.sh).
d=$(cd "$(dirname "$0")" && pwd)/root
l=$d/lib/aarch64-linux-gnu:$d/usr/lib/aarch64-linux-gnu
exec "$d/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" --library-path "$l" \
	"$d/usr/bin/qemu-system-aarch64" "$@"
EOF
	chmod 0755 "$1/run-qemu"
}

for tool in apt-get apt-cache dpkg-deb aarch64-linux-gnu-readelf; do
	command -v "$tool" >/dev/null || mote_die "$tool not found (run tools/install-deps.sh)"
done
ver=$(apt-cache show --no-all-versions "$PKG:arm64" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)
cache=$MOTE_CACHE/qemu-arm64
if [ -z "$ver" ]; then
	# No apt lists: the newest tree already built, if any.
	dir=$(find "$cache" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$dir" ] || [ ! -x "$dir/run-qemu" ]; then
		mote_die "apt knows no $PKG:arm64 (dpkg --add-architecture arm64; apt-get update)"
	fi
	echo "$dir"
	exit 0
fi
dir=$cache/${ver//:/%3a}
if [ -x "$dir/run-qemu" ]; then
	echo "$dir"
	exit 0
fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
[ -x "$dir/run-qemu" ] && { echo "$dir"; exit 0; }
debs=()
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fetch-qemu-arm64: resolving $PKG:arm64 $ver's library packages" >&2
pkgs=$(lib_closure)
# The packages stay in $cache/debs (apt-get download skips none, so only
# the missing ones are asked for): a failed build does not fetch them again.
mkdir -p "$cache/debs"
get=""
for p in $pkgs; do
	v=$(apt-cache show --no-all-versions "$p:arm64" | sed -n 's/^Version: //p' | head -n 1)
	f=$(find "$cache/debs" -maxdepth 1 -name "${p}_${v//:/%3a}_*.deb" | head -n 1)
	if [ -n "$f" ]; then
		debs+=("$f")
	else
		get+=" $p:arm64=$v"
	fi
done
if [ -n "$get" ]; then
	echo "fetch-qemu-arm64: downloading$get" >&2
	# shellcheck disable=SC2086 # one word per package
	(cd "$cache/debs" && apt-get download -q $get >/dev/null 2>&1) ||
		mote_die "apt-get download failed for:$get"
	for p in $get; do
		v=${p#*=}
		p=${p%%:*}
		debs+=("$(find "$cache/debs" -maxdepth 1 -name "${p}_${v//:/%3a}_*.deb" | head -n 1)")
	done
fi
for deb in "${debs[@]}"; do
	dpkg-deb -x "$deb" "$tmp/root" || mote_die "dpkg-deb -x $deb failed"
done
rm -rf "$tmp/root/usr/share/doc" "$tmp/root/usr/share/man" "$tmp/root/usr/share/locale"
[ -x "$tmp/root/usr/bin/qemu-system-aarch64" ] || mote_die "$PKG:arm64 has no qemu-system-aarch64"
missing=$(needed_missing "$tmp/root")
[ -z "$missing" ] || mote_die "libraries missing from the closure: ${missing//$'\n'/ }"
[ -x "$tmp/root/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1" ] ||
	mote_die "libc6:arm64 left no loader at lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"
write_runner "$tmp"
chmod 0755 "$tmp"
mv "$tmp" "$dir"
trap - EXIT
echo "$dir"
