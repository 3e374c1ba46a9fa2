#!/bin/bash
# tools/build-kvmtool.sh: build kvmtool's `lkvm`, a benchmark peer for
# `make bench` (kvmtool is not packaged in Debian 12).
#
#   tools/build-kvmtool.sh [--arch arm64] SOURCE OUTDIR
#
# SOURCE is a kvmtool source directory, or a git URL (for example
# https://git.kernel.org/pub/scm/linux/kernel/git/will/kvmtool.git) that
# is cloned; nothing is downloaded unless SOURCE is a URL. The build runs
# in OUTDIR/kvmtool-src (a copy; SOURCE is never written), which must lie
# outside mote's tree: kvmtool is a peer to measure against, never part of
# mote. The binary ends up as OUTDIR/lkvm; then
#   make bench LKVM=OUTDIR/lkvm
# Needs gcc and make (Debian: build-essential); zlib1g-dev is optional
# (compressed initrds), git only for a URL. Not used by `make check`.
#
# --arch arm64 cross-builds a static arm64 lkvm for `make bench-arm64`
# (LKVM_ARM64=OUTDIR/lkvm), which runs in the arm64 sandbox's busybox root:
# Debian's gcc-aarch64-linux-gnu and libc6-dev:arm64 (tools/install-deps.sh),
# and libfdt.a from libfdt-dev:arm64, which `apt-get download` fetches into
# OUTDIR (Debian 12's libfdt-dev cannot be installed beside the host's).
# kvmtool's zlib support (qcow images only) is left out of its static build.
set -euo pipefail

die() { echo "build-kvmtool: $*" >&2; exit 1; }

ARCH=""
if [ "${1:-}" = --arch ]; then
	ARCH=${2:-}
	shift 2 || true
	case $ARCH in
	arm64 | aarch64) ARCH=arm64 ;;
	x86_64 | x86 | amd64) ARCH="" ;;
	*) die "--arch: x86_64 or arm64, not '$ARCH'" ;;
	esac
fi
[ $# -eq 2 ] || { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
SRC=$1
OUT=$2
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)

OUT=$(realpath -m "$OUT")
case $OUT/ in
"$TOP"/*) die "$OUT is inside mote's tree ($TOP); build kvmtool elsewhere" ;;
esac
BUILD=$OUT/kvmtool-src
[ ! -e "$BUILD" ] || die "$BUILD exists; remove it or name another OUTDIR"
mkdir -p "$OUT"

case $SRC in
*://* | git@*:*)
	command -v git >/dev/null || die "git is needed to clone $SRC"
	git clone --depth 1 "$SRC" "$BUILD"
	;;
*)
	[ -f "$SRC/builtin-run.c" ] ||
		die "$SRC does not look like kvmtool's source (no builtin-run.c)"
	# A plain copy (not the .git directory): the build writes next to the
	# sources, and SOURCE stays untouched.
	mkdir -p "$BUILD"
	tar -C "$SRC" --exclude=.git -cf - . | tar -C "$BUILD" -xf -
	;;
esac

jobs=$(nproc 2>/dev/null || echo 1)
[ "$jobs" -le 2 ] || jobs=2
# A source directory that was built in place brings its objects along.
make -C "$BUILD" clean >/dev/null
if [ -z "$ARCH" ]; then
	make -C "$BUILD" -j"$jobs" lkvm
	ln -sfn kvmtool-src/lkvm "$OUT/lkvm"
	"$OUT/lkvm" version >/dev/null 2>&1 || die "$OUT/lkvm was built but does not run"
	echo "build-kvmtool: $OUT/lkvm ($("$OUT/lkvm" version 2>&1 | head -n 1))"
	echo "build-kvmtool: make bench LKVM=$OUT/lkvm"
	exit 0
fi

# arm64: kvmtool's LIBFDT_DIR wants libfdt.a and libfdt's headers in one
# directory.
command -v aarch64-linux-gnu-gcc >/dev/null ||
	die "aarch64-linux-gnu-gcc not found (run tools/install-deps.sh)"
FDT=$OUT/libfdt-arm64
mkdir -p "$FDT/deb"
if [ ! -f "$FDT/libfdt.a" ]; then
	(cd "$FDT/deb" && apt-get download -q libfdt-dev:arm64 >/dev/null 2>&1) ||
		die "apt-get download libfdt-dev:arm64 failed (dpkg --add-architecture arm64; apt-get update)"
	dpkg-deb -x "$(find "$FDT/deb" -name 'libfdt-dev_*_arm64.deb' | sort -V | tail -n 1)" "$FDT/x"
	cp "$FDT"/x/usr/include/*.h "$FDT/x/usr/lib/aarch64-linux-gnu/libfdt.a" "$FDT/"
	rm -rf "$FDT/x"
fi
make -C "$BUILD" -j"$jobs" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	LIBFDT_DIR="$FDT" lkvm-static
ln -sfn kvmtool-src/lkvm-static "$OUT/lkvm"
aarch64-linux-gnu-readelf -h "$OUT/lkvm" | grep -q 'Machine:.*AArch64' ||
	die "$OUT/lkvm is not an arm64 executable"
! aarch64-linux-gnu-readelf -d "$OUT/lkvm" | grep -q NEEDED ||
	die "$OUT/lkvm is linked dynamically"
# On an x86 host it runs only under qemu-user.
if command -v qemu-aarch64 >/dev/null; then
	qemu-aarch64 "$OUT/lkvm" version >/dev/null 2>&1 || die "$OUT/lkvm does not run under qemu-aarch64"
fi
echo "build-kvmtool: $OUT/lkvm (arm64, static)"
echo "build-kvmtool: make bench-arm64 LKVM_ARM64=$OUT/lkvm"
