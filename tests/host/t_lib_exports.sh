#!/bin/bash
# libmote as README promises it: libmote.so has the soname libmote.so.1
# and exports exactly the functions vmm/api/mote.h declares (all mote_*,
# in version MOTE_0), as does libmote.a; and after `make install`,
# `pkg-config mote` alone is enough to build tools/embed-example.c against
# the shared library and against the static one, and both programs run;
# the installed mote also finds the installed mote-serve.
. "$(dirname "$0")/../integration/lib.sh"
BUILD_DIR=$(dirname "$MOTE")
REL=$(realpath --relative-to="$TOP" "$BUILD_DIR")
case $REL in ../*|/*) fail "the build $BUILD_DIR is not inside $TOP"; exit 1 ;; esac
SO=$BUILD_DIR/libmote.so
need_file "$SO" "shared library" || exit 1
need_file "$BUILD_DIR/libmote.a" "static library" || exit 1

# The functions mote.h declares.
grep -oE '\bmote_[a-z0-9_]+[[:space:]]*\(' "$TOP/vmm/api/mote.h" | sed 's/[[:space:](]//g' |
	sort -u >"$T_OUT/declared"
[ "$(wc -l <"$T_OUT/declared")" -gt 10 ] || fail "found too few functions in mote.h"

# compare WHAT FILE: FILE lists exactly the declared functions.
compare() {
	local extra missing
	extra=$(comm -23 "$2" "$T_OUT/declared" | tr '\n' ' ')
	missing=$(comm -13 "$2" "$T_OUT/declared" | tr '\n' ' ')
	[ -z "$extra" ] || fail "$1 exports what mote.h does not declare: $extra"
	[ -z "$missing" ] || fail "$1 does not export: $missing"
}

soname=$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[ "$soname" = libmote.so.1 ] || fail "libmote.so's soname is '$soname', expected libmote.so.1"

# Defined dynamic symbols; the version node itself (MOTE_0, type A) aside,
# each must be a mote.h function of version MOTE_0.
nm -D --defined-only "$SO" >"$T_OUT/nm.so"
awk '$2 == "A" && $3 != "MOTE_0" { print "unexpected version node " $3 }
     $2 != "A" && $3 !~ /@@MOTE_0$/ { print "unversioned " $3 }' "$T_OUT/nm.so" >"$T_OUT/odd"
[ -s "$T_OUT/odd" ] && fail "libmote.so: $(tr '\n' ';' <"$T_OUT/odd")"
awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' "$T_OUT/nm.so" | sort -u >"$T_OUT/exported.so"
compare libmote.so "$T_OUT/exported.so"
nm -g --defined-only "$BUILD_DIR/libmote.a" | awk 'NF == 3 { print $3 }' | sort -u \
	>"$T_OUT/exported.a"
compare libmote.a "$T_OUT/exported.a"

# make install PREFIX=<a directory here>. The Makefile writes that prefix
# into the build's mote.pc as it installs; the build's own copy is put
# back afterwards.
PREFIX=$(realpath -m "$T_OUT/prefix")
cp -p "$BUILD_DIR/mote.pc" "$T_OUT/mote.pc.orig" 2>/dev/null
trap 'rc=$?; [ -e "$T_OUT/mote.pc.orig" ] && cp -p "$T_OUT/mote.pc.orig" "$BUILD_DIR/mote.pc"; (exit $rc); t_finish' EXIT
if ! make -C "$TOP" --no-print-directory BUILD="$REL" PREFIX="$PREFIX" install \
	>"$T_OUT/install.log" 2>&1; then
	fail "make install PREFIX=$PREFIX failed"
	show_tail "$T_OUT/install.log"
	exit 1
fi
libdir=$PREFIX/lib
# The installed mote finds the installed daemon (PREFIX/libexec/mote).
need_file "$PREFIX/libexec/mote/mote-serve" "installed mote-serve" &&
	{ "$PREFIX/bin/mote" serve --help >"$T_OUT/serve-help.out" 2>&1 ||
	  fail "the installed mote serve --help failed: $(head -c 200 "$T_OUT/serve-help.out")"; }
need_file "$libdir/pkgconfig/mote.pc" "installed pkg-config file" || exit 1
export PKG_CONFIG_PATH=$libdir/pkgconfig
pkg-config --exists --print-errors mote 2>"$T_OUT/pkg-config.err" ||
	{ fail "pkg-config does not find mote: $(cat "$T_OUT/pkg-config.err")"; exit 1; }
note "pkg-config mote: $(pkg-config --cflags --libs mote)"

# build NAME LIBS...: compile the example with pkg-config's flags.
build() {
	local out=$T_OUT/$1
	shift
	# shellcheck disable=SC2046  # pkg-config's words
	if ! cc $(pkg-config --cflags mote) -o "$out" "$TOP/tools/embed-example.c" "$@" \
		>"$out.log" 2>&1; then
		fail "building embed-example ($(basename "$out")) with pkg-config's flags failed"
		show_tail "$out.log"
		return 1
	fi
}

# runs NAME: with no arguments the example prints its usage and exits 2,
# which shows that it loads and starts.
runs() {
	local rc=0
	LD_LIBRARY_PATH=$libdir "$T_OUT/$1" >"$T_OUT/$1.out" 2>&1 || rc=$?
	[ "$rc" = 2 ] || { fail "$1 with no arguments: status $rc, expected 2 (usage)"; show_tail "$T_OUT/$1.out"; }
}

# shellcheck disable=SC2046
if build shared $(pkg-config --libs mote); then
	readelf -d "$T_OUT/shared" | grep -q 'NEEDED.*\[libmote\.so\.1\]' ||
		fail "the shared build does not need libmote.so.1"
	where=$(LD_LIBRARY_PATH=$libdir ldd "$T_OUT/shared" | awk '$1 == "libmote.so.1" { print $3 }')
	[ "$where" = "$libdir/libmote.so.1" ] ||
		fail "libmote.so.1 resolves to '$where', not the installed $libdir/libmote.so.1"
	runs shared
fi
# Static: libmote.a and the private dependencies pkg-config --static adds.
libs=$(pkg-config --static --libs mote | sed 's/\(^\| \)-lmote\( \|$\)/ /')
# shellcheck disable=SC2086
if build static -Wl,-Bstatic -lmote -Wl,-Bdynamic $libs; then
	readelf -d "$T_OUT/static" | grep -q 'libmote' &&
		fail "the static build still needs a shared libmote"
	runs static
fi
