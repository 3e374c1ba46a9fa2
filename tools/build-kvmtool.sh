#!/bin/bash
# tools/build-kvmtool.sh: build kvmtool's `lkvm`, a benchmark peer for
# `make bench` (kvmtool is not packaged in Debian 12).
#
#   tools/build-kvmtool.sh SOURCE OUTDIR
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
set -euo pipefail

die() { echo "build-kvmtool: $*" >&2; exit 1; }

[ $# -eq 2 ] || { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
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
make -C "$BUILD" -j"$jobs" lkvm
ln -sfn kvmtool-src/lkvm "$OUT/lkvm"
"$OUT/lkvm" version >/dev/null 2>&1 || die "$OUT/lkvm was built but does not run"
echo "build-kvmtool: $OUT/lkvm ($("$OUT/lkvm" version 2>&1 | head -n 1))"
echo "build-kvmtool: make bench LKVM=$OUT/lkvm"
