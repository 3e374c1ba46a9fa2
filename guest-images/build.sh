#!/bin/bash
# guest-images/build.sh [--arch x86_64|arm64] [OUTDIR]: build mote's
# default guest for an architecture (default: this host's).
#
#   vmlinuz      Debian 12's cloud kernel (linux-image-cloud-amd64 or
#                linux-image-cloud-arm64), unmodified from the package: a
#                bzImage on x86, an uncompressed arm64 Image on arm64
#   initrd.gz    busybox-static initramfs: /init (guest-images/init),
#                /bin/mote-exit, /bin/mote-diskbench (`make bench`'s disk
#                test), /bin/mote-netbench (the network tests and bench),
#                /bin/mote-flood (t_guest_flood's hostile loops),
#                virtio-mmio/blk/net modules (virtio_net with its
#                failover and net_failover dependencies)
#   mote-netbench  the same static network tool, for the host side
#   rootfs.ext4  64 MiB ext4 (mkfs.ext4 -d, no root needed): the same
#                busybox tree with guest-images/init as /sbin/init
#
# Everything is cached under ${XDG_CACHE_HOME:-$HOME/.cache}/mote/guest/
# <kernel-version>/; OUTDIR (default build/guest, build/guest-arm64 for
# arm64 on another host) gets symlinks to it, so tests that write to the
# disk must copy rootfs.ext4 first. For arm64 on an x86 host the guest
# tools are cross-compiled (aarch64-linux-gnu-gcc) and busybox comes from
# Debian's busybox-static:arm64 (tools/install-deps.sh sets both up).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
# shellcheck source=tools/sandbox-lib.sh
. "$TOP/tools/sandbox-lib.sh"

ARCH=$(uname -m)
if [ "${1:-}" = --arch ]; then
	ARCH=${2:?--arch wants x86_64 or arm64}
	shift 2
fi
CACHE=$MOTE_CACHE/guest
# Virtio drivers for the disk and network issues; ext4 and crc32c are built
# into the cloud kernels (CONFIG_EXT4_FS=y, CONFIG_CRYPTO_CRC32C=y), and
# crc32c-intel only speeds checksums up.
GUEST_MODULES="virtio_ring virtio virtio_mmio virtio_blk virtio_net"
ROOTFS_MIB=64
# GCC: the guest tools' compiler; BUSYBOX and BB_RUN: busybox_stage's.
BUSYBOX= BB_RUN=
case $ARCH in
x86_64 | amd64 | x86)
	ARCH=x86_64 KMETA=linux-image-cloud-amd64 GCC=gcc
	GUEST_MODULES="$GUEST_MODULES crc32c-intel"
	OUT=${1:-$TOP/build/guest}
	tools="busybox gcc" ;;
aarch64 | arm64)
	ARCH=arm64 KMETA=linux-image-cloud-arm64:arm64
	if [ "$(uname -m)" = aarch64 ]; then
		GCC=gcc OUT=${1:-$TOP/build/guest} tools="busybox gcc"
	else
		GCC=aarch64-linux-gnu-gcc OUT=${1:-$TOP/build/guest-arm64}
		BB_RUN=qemu-aarch64 tools="$GCC $BB_RUN"
	fi ;;
*) mote_die "--arch: unknown architecture '$ARCH' (x86_64 or arm64)" ;;
esac

for tool in $tools cpio dpkg-deb apt-get depmod mkfs.ext4 flock; do
	command -v "$tool" >/dev/null || mote_die "$tool not found (run tools/install-deps.sh)"
done

# stage_tree DIR: the busybox tree both images share.
stage_tree() {
	local d=$1
	busybox_stage "$d" "$BUSYBOX" "$BB_RUN"
	mkdir -p "$d"/{proc,sys,dev,tmp,run,root,mnt,etc,newroot}
	install -m 0755 "$BUILDTMP/mote-exit" "$d/bin/mote-exit"
	install -m 0755 "$BUILDTMP/mote-diskbench" "$d/bin/mote-diskbench"
	install -m 0755 "$BUILDTMP/mote-netbench" "$d/bin/mote-netbench"
	install -m 0755 "$BUILDTMP/mote-flood" "$d/bin/mote-flood"
	echo mote >"$d/etc/hostname"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$d/etc/passwd"
	echo 'root:x:0:' >"$d/etc/group"
	echo 'export PS1="mote:\w# "' >"$d/etc/profile"
	# Network (init's net_up): busybox udhcpc's default script, and
	# /etc/resolv.conf on /run's tmpfs so a read-only root can take DNS.
	install -D -m 0755 "$HERE/udhcpc.script" "$d/usr/share/udhcpc/default.script"
	ln -sfn ../run/resolv.conf "$d/etc/resolv.conf"
	printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$d/etc/hosts"
}

build_initrd() {
	local s=$BUILDTMP/initrd
	stage_tree "$s"
	install -m 0755 "$HERE/init" "$s/init"
	: >"$s/etc/mote-initramfs"
	# shellcheck disable=SC2086
	modules_stage "$BUILDTMP/pkg/lib/modules/$KVER" "$s/lib/modules/mote" $GUEST_MODULES
	cpio_pack "$s" "$DIR/initrd-$KEY.gz"
}

build_rootfs() {
	local s=$BUILDTMP/rootfs
	stage_tree "$s"
	install -m 0755 "$HERE/init" "$s/sbin/init"
	rm -f "$DIR/rootfs-$KEY.ext4"
	truncate -s ${ROOTFS_MIB}M "$DIR/rootfs-$KEY.ext4.tmp"
	mkfs.ext4 -q -F -L mote-root -d "$s" "$DIR/rootfs-$KEY.ext4.tmp"
	mv "$DIR/rootfs-$KEY.ext4.tmp" "$DIR/rootfs-$KEY.ext4"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
KVER=$(kernel_fetch "$KMETA" "$CACHE")
DIR=$CACHE/$KVER
KEY=$(echo "$GUEST_MODULES $ROOTFS_MIB $ARCH $GCC" |
	cat "$HERE/init" "$HERE/udhcpc.script" "$HERE/mote-exit.c" "$HERE/mote-diskbench.c" \
		"$HERE/mote-netbench.c" "$HERE/mote-flood.c" \
		"$HERE/build.sh" "$TOP/tools/sandbox-lib.sh" - |
	content_hash)
if [ ! -s "$DIR/vmlinuz" ] || [ ! -s "$DIR/initrd-$KEY.gz" ] || [ ! -s "$DIR/rootfs-$KEY.ext4" ] ||
	[ ! -s "$DIR/netbench-$KEY" ]; then
	echo "guest: building images for $KVER" >&2
	BUILDTMP=$(mktemp -d "$DIR/x.XXXXXX")
	trap 'rm -rf "$BUILDTMP"' EXIT
	$GCC -static -Os -s -Wall -Wextra -Werror -o "$BUILDTMP/mote-exit" "$HERE/mote-exit.c"
	$GCC -static -O2 -s -Wall -Wextra -Werror -o "$BUILDTMP/mote-diskbench" \
		"$HERE/mote-diskbench.c"
	$GCC -static -O2 -s -Wall -Wextra -Werror -o "$BUILDTMP/mote-netbench" \
		"$HERE/mote-netbench.c"
	$GCC -static -O2 -s -Wall -Wextra -Werror -o "$BUILDTMP/mote-flood" "$HERE/mote-flood.c"
	if [ -n "$BB_RUN" ]; then
		dpkg-deb -x "$(deb_fetch arm64 "$CACHE/debs" busybox-static)" "$BUILDTMP/bb" ||
			mote_die "cannot unpack busybox-static:arm64"
		BUSYBOX=$BUILDTMP/bb/bin/busybox
	fi
	kernel_extract "$DIR/kernel.deb" "$BUILDTMP/pkg" "$KVER"
	cp "$BUILDTMP/pkg/boot/vmlinuz-$KVER" "$DIR/vmlinuz.tmp" && mv "$DIR/vmlinuz.tmp" "$DIR/vmlinuz"
	# Other worktrees and branches share this cache with their own
	# versions of the images: keep those for a week (make guest rebuilds
	# any that went) instead of deleting them under a parallel run.
	find "$DIR" -maxdepth 1 \( -name 'initrd-*.gz' -o -name 'rootfs-*.ext4' -o -name 'netbench-*' \) \
		-mtime +7 -delete
	build_initrd
	build_rootfs
	# The same static tool on the host side of the network tests.
	install -m 0755 "$BUILDTMP/mote-netbench" "$DIR/netbench-$KEY"
	rm -rf "$BUILDTMP"
	trap - EXIT
fi
exec 9>&-

mkdir -p "$OUT"
ln -sfn "$DIR/vmlinuz" "$OUT/vmlinuz"
ln -sfn "$DIR/initrd-$KEY.gz" "$OUT/initrd.gz"
ln -sfn "$DIR/rootfs-$KEY.ext4" "$OUT/rootfs.ext4"
ln -sfn "$DIR/netbench-$KEY" "$OUT/mote-netbench"
echo "$KVER" >"$OUT/kernel-version"
echo "guest: kernel  $OUT/vmlinuz -> $DIR/vmlinuz"
echo "guest: initrd  $OUT/initrd.gz"
echo "guest: rootfs  $OUT/rootfs.ext4"
