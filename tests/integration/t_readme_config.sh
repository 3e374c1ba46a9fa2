#!/bin/bash
# README's config-file example is accepted as written: `mote validate` on
# the JSON block under "## Config file", with the files it names present.
. "$(dirname "$0")/lib.sh"
need_file "$KERNEL" "guest kernel" || exit 1
need_file "$INITRD" "guest initrd" || exit 1
json=$T_OUT/vm.json
awk '/^## Config file/ { s = 1 } s && /^```json/ { j = 1; next }
     j && /^```/ { exit } j { print }' "$TOP/README.md" >"$json"
[ -s "$json" ] || { fail "README.md has no json block under '## Config file'"; exit 1; }
# The example's paths are relative to where mote runs.
mkdir -p "$T_OUT/build/guest"
ln -sf "$KERNEL" "$T_OUT/build/guest/vmlinuz"
ln -sf "$INITRD" "$T_OUT/build/guest/initrd.gz"
truncate -s 64M "$T_OUT/rootfs.ext4" "$T_OUT/data.img"
out=$(cd "$T_OUT" && "$MOTE" validate vm.json 2>&1)
rc=$?
[ "$rc" -eq 0 ] || fail "mote validate README example: status $rc: $out"
[ "$out" = "vm.json: ok" ] || fail "mote validate printed '$out', expected 'vm.json: ok'"
# And it can fail: a key Firecracker does not define is refused.
sed 's/"smt": false/"smt": false, "turbo": true/' "$json" >"$T_OUT/bad.json"
out=$(cd "$T_OUT" && "$MOTE" validate bad.json 2>&1)
rc=$?
[ "$rc" -eq 2 ] || fail "an unknown key gave status $rc, expected 2"
case $out in
*machine-config.turbo*) ;;
*) fail "unknown key message does not name machine-config.turbo: $out" ;;
esac
