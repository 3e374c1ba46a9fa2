# shellcheck shell=bash
# Helpers shared by tools/sandbox and guest-images/build.sh (sourced, bash).
# Fetch a stock Debian kernel package, pick modules with their
# dependencies, and pack busybox-static initramfs images. Nothing here needs
# root: packages come from `apt-get download` and `dpkg-deb -x`.

MOTE_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mote"

mote_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# apt_memo FILE CMD...: CMD's output, remembered in FILE until apt's
# package lists change (apt-get update renames new lists into
# /var/lib/apt/lists and rebuilds pkgcache.bin); apt-cache takes over a
# second a call, which a sandbox would pay at every start. Output that is
# empty is not remembered.
apt_memo() {
	local memo=$1 out
	shift
	if [ -s "$memo" ] && [ -z "$(find /var/lib/apt/lists /var/cache/apt/pkgcache.bin \
		-maxdepth 0 -newer "$memo" 2>/dev/null)" ]; then
		cat "$memo"
		return
	fi
	out=$("$@")
	[ -z "$out" ] || { printf '%s\n' "$out" >"$memo.$$" && mv "$memo.$$" "$memo"; }
	[ -z "$out" ] || printf '%s\n' "$out"
}

# kpkg_for META: the versioned linux-image-* package META depends on.
kpkg_for() {
	apt-cache depends --important "$1" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ <>]*\)$/\1/p' | head -n 1
}

# kernel_fetch META CACHEDIR: make sure CACHEDIR/<kver>/kernel.deb holds
# the kernel package META points at; print <kver>. Falls back to the newest
# cached version when apt cannot say (no lists, no network). META may name
# a foreign architecture (linux-image-arm64:arm64); <kver> never has the
# ":arm64" that apt then adds to the package's name.
kernel_fetch() {
	local meta=$1 cache=$2 pkg kver dir tmp flavour
	mkdir -p "$cache"
	pkg=$(apt_memo "$cache/.kpkg-${meta%%:*}" kpkg_for "$meta")
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -qq >/dev/null 2>&1 || true
		pkg=$(kpkg_for "$meta")
	fi
	if [ -z "$pkg" ]; then
		# Only META's flavour: the cache may hold another architecture's.
		flavour=${meta#linux-image-}
		flavour=${flavour%%:*}
		kver=$(find "$cache" -mindepth 2 -maxdepth 2 -name kernel.deb 2>/dev/null |
			sed 's|/kernel.deb$||; s|.*/||' | grep -- "-$flavour\$" | sort -V | tail -n 1)
		[ -n "$kver" ] || mote_die "cannot resolve $meta (apt-cache knows no such package; run apt-get update)"
		echo "$kver"
		return
	fi
	kver=${pkg#linux-image-}
	kver=${kver%%:*}
	dir=$cache/$kver
	if [ ! -s "$dir/kernel.deb" ]; then
		mkdir -p "$dir"
		tmp=$(mktemp -d "$dir/dl.XXXXXX")
		echo "$(basename "$0"): downloading $pkg" >&2
		(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
			{ rm -rf "$tmp"; mote_die "apt-get download $pkg failed"; }
		mv "$tmp"/*.deb "$dir/kernel.deb"
		rm -rf "$tmp"
	fi
	echo "$kver"
}

# deb_fetch ARCH CACHEDIR PKG...: make sure CACHEDIR holds the candidate
# version of each package for ARCH, as apt-get download names it; print the
# paths, one a line. Falls back to the newest cached file of a package when
# apt cannot say which version (no lists, no network).
deb_fetch() {
	local arch=$1 cache=$2 p ver f tmp versions
	shift 2
	mkdir -p "$cache"
	# "PKG VERSION" lines, from one apt-cache call for all of them.
	versions=$(apt_memo "$cache/.versions-$(echo "$arch $*" | content_hash)" \
		deb_versions "$arch" "$@")
	for p in "$@"; do
		ver=$(echo "$versions" | awk -v p="$p" '$1 == p { print $2; exit }')
		if [ -z "$ver" ]; then
			f=$(find "$cache" -maxdepth 1 -name "${p}_*_$arch.deb" | sort -V | tail -n 1)
			[ -n "$f" ] || mote_die "cannot resolve $p:$arch (apt-cache knows no such package; run apt-get update)"
			echo "$f"
			continue
		fi
		# apt-get download writes an epoch's colon as %3a.
		f=$cache/${p}_${ver//:/%3a}_$arch.deb
		if [ ! -s "$f" ]; then
			tmp=$(mktemp -d "$cache/dl.XXXXXX")
			echo "$(basename "$0"): downloading $p:$arch $ver" >&2
			(cd "$tmp" && apt-get download -q "$p:$arch=$ver" >/dev/null 2>&1) ||
				{ rm -rf "$tmp"; mote_die "apt-get download $p:$arch=$ver failed"; }
			mv "$tmp"/*.deb "$f"
			rm -rf "$tmp"
		fi
		echo "$f"
	done
}

# deb_closure ARCH PKG...: PKG... and everything they depend on for ARCH,
# by name, less what the host has installed for ARCH (its multiarch
# libraries, e.g. libc6:arm64), one a line. Empty when apt cannot say.
deb_closure() {
	local arch=$1 p
	shift
	apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "${@/%/:$arch}" 2>/dev/null |
		sed -n "s/^\([a-z0-9][^ <>]*\):$arch\$/\1/p" | sort -u |
		while read -r p; do
			dpkg-query -W -f='${Status}\n' "$p:$arch" 2>/dev/null |
				grep -q 'install ok installed' || echo "$p"
		done
}

# deb_versions ARCH PKG...: "PKG VERSION" for each package apt has a
# candidate of for ARCH.
deb_versions() {
	local arch=$1
	shift
	apt-cache show --no-all-versions "${@/%/:$arch}" 2>/dev/null |
		awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }'
}

# kernel_extract DEB DEST KVER: unpack the package and index its modules.
kernel_extract() {
	local deb=$1 dest=$2 kver=$3
	dpkg-deb -x "$deb" "$dest" || mote_die "dpkg-deb -x $deb failed"
	[ -d "$dest/lib/modules/$kver" ] || mote_die "$deb has no lib/modules/$kver"
	depmod -b "$dest" "$kver" || mote_die "depmod on $deb failed"
}

# modules_closure MODDIR MOD...: print module paths (relative to MODDIR)
# in a valid load order: each module after everything it depends on.
# Modules the kernel has built in are skipped silently; unknown ones fail.
modules_closure() {
	local moddir=$1
	shift
	awk -v want="$*" '
		function base(p,  b) { b = p; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); gsub(/-/, "_", b); return b }
		function visit(p,  n, i, d) {
			if (p in done) return
			done[p] = 1
			n = split(deps[p], d, " ")
			for (i = n; i >= 1; i--) visit(d[i])
			print p
		}
		FILENAME ~ /modules.builtin$/ { builtin[base($1)] = 1; next }
		{ p = $1; sub(/:$/, "", p); deps[p] = $0; sub(/^[^:]*:[ ]*/, "", deps[p]); path[base(p)] = p }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				m = w[i]; gsub(/-/, "_", m)
				if (m in path) visit(path[m])
				else if (!(m in builtin)) { print "unknown module " w[i] > "/dev/stderr"; exit 1 }
			}
		}' "$moddir/modules.builtin" "$moddir/modules.dep"
}

# modules_stage MODDIR DEST MOD...: copy the closure of MOD... into DEST
# (decompressed, flat) and write DEST/order, one file name per line.
modules_stage() {
	local moddir=$1 dest=$2 list rel name
	shift 2
	mkdir -p "$dest"
	list=$(modules_closure "$moddir" "$@") || mote_die "module dependencies failed"
	: >"$dest/order"
	for rel in $list; do
		name=$(basename "$rel")
		case $name in
		*.ko.xz) xz -dc "$moddir/$rel" >"$dest/${name%.xz}"; name=${name%.xz} ;;
		*.ko.zst) zstd -qdc "$moddir/$rel" >"$dest/${name%.zst}"; name=${name%.zst} ;;
		*.ko.gz) gzip -dc "$moddir/$rel" >"$dest/${name%.gz}"; name=${name%.gz} ;;
		*) cp "$moddir/$rel" "$dest/$name" ;;
		esac
		echo "$name" >>"$dest/order"
	done
}

# busybox_stage DEST [BUSYBOX [RUNNER]]: a static busybox (default: the
# host's) in DEST/bin with a link per applet; RUNNER runs BUSYBOX on this
# host to list them (qemu-aarch64 for another architecture's).
busybox_stage() {
	local dest=$1 bb=${2:-} run=${3:-} applet applets
	if [ -z "$bb" ]; then
		bb=$(command -v busybox) || mote_die "busybox not found (install busybox-static)"
		if ldd "$bb" >/dev/null 2>&1; then
			mote_die "$bb is dynamically linked; install busybox-static"
		fi
	fi
	applets=$($run "$bb" --list) && [ -n "$applets" ] || mote_die "$bb --list failed"
	mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin"
	cp "$bb" "$dest/bin/busybox"
	for applet in $applets; do
		[ -e "$dest/bin/$applet" ] || ln -s busybox "$dest/bin/$applet"
	done
}

# cpio_pack DIR OUT: gzip'd newc archive of DIR, files owned by root.
cpio_pack() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$out.tmp" &&
		mv "$out.tmp" "$out"
}

# content_hash FILE...: short hash of the given files' contents.
content_hash() {
	cat "$@" | sha256sum | cut -c1-16
}
