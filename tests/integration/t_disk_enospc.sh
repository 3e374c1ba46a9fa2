#!/bin/bash
# A host write error reaches the guest as an I/O error and is never
# dropped: the data drive's image lives on a 4 MiB tmpfs, so the host runs
# out of space (ENOSPC) while the guest writes 16 MiB to it. The guest's
# writes and its flush fail, mote survives and the drive still reads.
# The tmpfs is mounted in a private mount namespace (unshare), in a user
# namespace of its own for a user without root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk_lib.sh"

WRAP=$T_OUT/small-fs-mote
cat >"$WRAP" <<WRAP_EOF
#!/bin/sh
# small-fs-mote run ARGS...: mote run with a data drive whose sparse
# 64 MiB image is on a 4 MiB tmpfs, then ARGS.
small=\$(mktemp -d "\${TMPDIR:-/tmp}/mote-enospc.XXXXXX")
trap 'rm -rf "\$small"' EXIT
# A user namespace for those without root (a chroot, such as tools/sandbox's,
# may not make one; root does not need one).
userns=-r
[ "\$(id -u)" -eq 0 ] && userns=
unshare \$userns -m sh -ec '
	mount -t tmpfs -o size=4m mote-small "\$0"
	truncate -s 64M "\$0/d.img"
	cmd=\$1
	shift
	"$MOTE" "\$cmd" --drive "\$0/d.img" "\$@"' "\$small" "\$@"
WRAP_EOF
chmod +x "$WRAP"

J="dd if=/dev/zero of=/dev/vda bs=1M count=16 oflag=direct; echo dd-direct=\$?"
J="$J; dd if=/dev/zero of=/dev/vda bs=1M count=16 seek=16 conv=fsync; echo dd-fsync=\$?"
J="$J; dd if=/dev/vda of=/dev/null bs=1M count=8 iflag=direct; echo dd-read=\$?"
MOTE=$WRAP boot_default -- sh -c "$J"
expect_status 0
for k in dd-direct dd-fsync; do
	v=$(console_value $k)
	case $v in
	'') fail "the guest printed no $k" ;;
	0) fail "$k: writing 16 MiB to a drive on a 4 MiB file system succeeded" ;;
	esac
done
expect_console 'I/O error.*dev vda'
expect_value dd-read 0 "reading the drive after the failed writes"
