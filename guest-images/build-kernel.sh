#!/bin/bash
# guest-images/build-kernel.sh [OUTDIR]: build mote's optional minimal guest
# kernel (`make guest-kernel`). Nothing else needs it: make check and the
# default guest use Debian's cloud kernel.
#
# Source: Debian's linux-source-6.1 package (/usr/src/linux-source-6.1.tar.xz,
# or MOTE_LINUX_SOURCE=/path/to/linux-source-X.tar.xz), configured with
# `make allnoconfig` plus guest-images/kernel/mote-min.config. Not installed
# by tools/install-deps.sh (it is large); as root:
#
#   apt-get install linux-source-6.1 flex bison bc libelf-dev libssl-dev
#
# or run this script with --install-deps to have it do that.
#
# Output, cached under ${XDG_CACHE_HOME:-$HOME/.cache}/mote/guest-kernel/<key>/
# (key: hash of the config fragment, the source's version and RECIPE):
#   bzImage   what mote boots (OUTDIR/vmlinuz-min links to it)
#   vmlinux   the uncompressed ELF kernel, which mote boots too
#             (OUTDIR/vmlinux-min), with symbols for debugging
#   config    the full .config
# A build takes a few minutes: it runs at nice 19 with MOTE_KERNEL_JOBS
# jobs (default 2) in a temporary directory and is moved into place at once.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source=tools/sandbox-lib.sh
. "$TOP/tools/sandbox-lib.sh"

DEPS="linux-source-6.1 flex bison bc libelf-dev libssl-dev"
if [ "${1:-}" = --install-deps ]; then
	shift
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO=sudo
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $DEPS
fi

OUT=${1:-$TOP/build/guest}
FRAG=$HERE/kernel/mote-min.config
SRC=${MOTE_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
JOBS=${MOTE_KERNEL_JOBS:-2}
CACHE=$MOTE_CACHE/guest-kernel
# Part of the cache key: bump it when a change here changes the kernel built
# (a make variable, a target), not for a change of messages or checks.
RECIPE=1

need() { mote_die "$1 (apt-get install $DEPS, or $0 --install-deps)"; }
[ -r "$SRC" ] || need "no kernel source at $SRC"
for tool in make gcc flex bison bc perl tar xz lz4 flock; do
	command -v "$tool" >/dev/null || need "$tool not found"
done
[ -e /usr/include/gelf.h ] || need "libelf-dev is missing"

# The source's version: the package's when dpkg knows the file, else the
# tarball's own hash (slower, but only for a source given by hand).
srcver() {
	local pkg
	if pkg=$(dpkg-query -S "$SRC" 2>/dev/null); then
		dpkg-query -W -f='${Package} ${Version}\n' "${pkg%%:*}"
	else
		sha256sum <"$SRC"
	fi
}
KEY=$( (echo "recipe $RECIPE"; srcver) | cat "$FRAG" - | content_hash)
DIR=$CACHE/$KEY

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if [ ! -s "$DIR/bzImage" ]; then
	echo "guest-kernel: building $(basename "$SRC") with $(basename "$FRAG") (key $KEY)" >&2
	# Under the lock, any build directory left is from a build that was
	# killed: 1.5 GiB each.
	rm -rf "$CACHE"/x.*
	TMP=$(mktemp -d "$CACHE/x.XXXXXX")
	trap 'rm -rf "$TMP"' EXIT
	start=$(date +%s)
	tar -C "$TMP" -xf "$SRC"
	ksrc=$(find "$TMP" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	kmake() { make -s -C "$ksrc" O="$TMP/o" ARCH=x86_64 "$@"; }
	kmake KCONFIG_ALLCONFIG="$FRAG" allnoconfig
	# allnoconfig drops what it cannot set (an unmet dependency, a renamed
	# symbol): every line of the fragment must be in the result.
	bad=$(grep -E '^CONFIG_' "$FRAG" | grep -vxF -f "$TMP/o/.config" || true)
	[ -z "$bad" ] || mote_die "the kernel's configuration lost: $(echo "$bad" | tr '\n' ' ')"
	nice -n 19 make -s -C "$ksrc" O="$TMP/o" ARCH=x86_64 -j"$JOBS" bzImage vmlinux
	mkdir "$TMP/out"
	cp "$TMP/o/arch/x86/boot/bzImage" "$TMP/out/bzImage"
	cp "$TMP/o/vmlinux" "$TMP/out/vmlinux"
	cp "$TMP/o/.config" "$TMP/out/config"
	srcver >"$TMP/out/source-version"
	rm -rf "$DIR"
	mv -T "$TMP/out" "$DIR"
	rm -rf "$TMP"
	trap - EXIT
	echo "guest-kernel: built in $(($(date +%s) - start)) s" >&2
fi
exec 9>&-

mkdir -p "$OUT"
ln -sfn "$DIR/bzImage" "$OUT/vmlinuz-min"
ln -sfn "$DIR/vmlinux" "$OUT/vmlinux-min"
echo "guest-kernel: $OUT/vmlinuz-min -> $DIR/bzImage ($(stat -L -c %s "$OUT/vmlinuz-min") bytes)"
