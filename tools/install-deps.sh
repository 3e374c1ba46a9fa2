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

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
