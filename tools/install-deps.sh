#!/bin/sh
# Install every build, test and sandbox dependency of mote from Debian's
# packages. Idempotent: packages already present are not fetched again.
set -eu

PKGS="build-essential clang pkg-config liburing-dev libfdt-dev device-tree-compiler check libjansson-dev
      qemu-system-x86 busybox-static cpio xz-utils zstd kmod e2fsprogs
      util-linux procps coreutils acpica-tools curl
      libslirp-dev libglib2.0-dev libmicrohttpd-dev libsqlite3-dev
      libseccomp-dev
      zlib1g-dev liblzma-dev libzstd-dev liblz4-dev libxxhash-dev"
# The arm64 unit tests (tools/arm64.mk): the cross compiler, arm64 builds
# of the libraries from Debian's multiarch packages, qemu-aarch64 to run
# them, and the arm64 mote (make ARCH=arm64): libseccomp, libslirp and the
# glib its pkg-config file requires. libfdt1, not libfdt-dev: Debian 12's
# libfdt-dev is not multiarch and would replace the amd64 one. Not
# libmicrohttpd-dev:arm64 and libsqlite3-dev:arm64 (mote-serve): they pull
# in gnutls:arm64, which must match the host's amd64 version exactly and
# so would upgrade it; the arm64 build has no mote-serve.
PKGS="$PKGS gcc-aarch64-linux-gnu qemu-user libc6-dev:arm64 libfdt1:arm64
      libjansson-dev:arm64 liburing-dev:arm64 check:arm64
      libseccomp-dev:arm64 libslirp-dev:arm64 libglib2.0-dev:arm64"
# The arm64 sandbox (tools/sandbox --arch arm64): QEMU's aarch64 system
# emulator; its kernel and root come from Debian's arm64 packages through
# apt-get download, and its dynamically linked programs use the :arm64
# libraries above.
PKGS="$PKGS qemu-system-arm"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing" >&2
dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
