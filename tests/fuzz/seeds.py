#!/usr/bin/env python3
"""Write meaningful seed inputs for every fuzz target into OUTDIR/<target>/.

tests/fuzz/seeds.py OUTDIR [README.md]

The checked-in corpus (tests/fuzz/corpus/) started from these, merged with
what fuzzing found (make fuzz-merge). Each seed follows the input layout
documented at the top of its target's source file.
"""
import os
import re
import struct
import sys

out = sys.argv[1]
readme = sys.argv[2] if len(sys.argv) > 2 else "README.md"
n = {}


def put(target, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    n[target] = n.get(target, 0) + 1
    with open(os.path.join(d, "seed-%03d" % n[target]), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- config: JSON files ----
GOOD = """{
  "boot-source": { "kernel_image_path": "vmlinuz", "initrd_path": "initrd.gz",
                   "boot_args": "console=ttyS0 reboot=k panic=-1 pci=off" },
  "drives": [
    { "drive_id": "rootfs", "path_on_host": "rootfs.ext4", "is_root_device": true,
      "is_read_only": false, "partuuid": "0eaa91a0-01", "cache_type": "Writeback",
      "io_engine": "Async", "rate_limiter": null },
    { "drive_id": "data", "path_on_host": "data.img", "is_root_device": false,
      "is_read_only": true },
    { "drive_id": "scratch", "path_on_host": "ro.img", "is_root_device": false,
      "is_read_only": false, "ephemeral": true }
  ],
  "machine-config": { "vcpu_count": 2, "mem_size_mib": 256, "smt": false,
                      "track_dirty_pages": false, "huge_pages": "None" },
  "network-interfaces": [
    { "iface_id": "eth0", "host_dev_name": "tap0", "guest_mac": "52:54:00:12:34:56" },
    { "iface_id": "eth1", "guest_mac": "52:54:00:12:34:57",
      "mote": { "backend": "user", "hostfwd": ["tcp::8080-:80", "udp:0.0.0.0:5353-:53"] } },
    { "iface_id": "eth2", "host_dev_name": "mote-t0", "mote": { "create": true } }
  ],
  "logger": { "log_path": "mote.log", "level": "Info", "show_level": true },
  "metrics": { "metrics_path": "metrics.json" },
  "mote": { "timeout_s": 30.5, "console_log": "console.txt", "console_log_max_bytes": 65536,
            "result": "result.json" }
}"""
put("config", GOOD)
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"}}')
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz","boot_args":"root=/dev/vda -- echo hi"},'
    '"machine-config":{"vcpu_count":255,"mem_size_mib":16}}')
put("config", '{"boot-source":{"kernel_image_path":"dir"},"drives":[{"drive_id":"a",'
    '"path_on_host":"fifo","is_root_device":true,"is_read_only":false}]}')
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"},"drives":['
    + ",".join('{"drive_id":"d%d","path_on_host":"data.img","is_root_device":false,'
               '"is_read_only":true}' % i for i in range(17)) + "]}")
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"},"machine-config":{"turbo":1}}')
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"},"vsock":null,"balloon":null,'
    '"entropy":null,"mmds-config":null,"cpu-config":null}')
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"},"network-interfaces":['
    '{"iface_id":"a","host_dev_name":"tap0"},{"iface_id":"b","host_dev_name":"tap0"}]}')
put("config", '{"boot-source":{"kernel_image_path":"vmlinuz"},"mote":{"timeout_s":1e300}}')
put("config", '[1, 2, {"a": "\\u0000\\ud800"}]')
if os.path.exists(readme):
    text = open(readme).read()
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        put("config", block)

# ---- cli: argv pieces separated by NUL ----
for args in [
    ["run", "--kernel", "vmlinuz", "--initrd", "initrd.gz", "--cpus", "2", "--mem", "512M",
     "--rootfs", "rootfs.ext4,ephemeral", "--cmdline", "console=ttyS0 quiet", "--", "echo", "hi"],
    ["run", "--config", "vm.json", "--cpus", "1", "--timeout", "10", "--result", "r.json",
     "--console-log", "c.txt", "--debug"],
    ["run", "--kernel", "vmlinuz", "--drive", "data.img,ro", "--drive",
     "ro.img,ro,cache=writeback,io=async", "--net", "user,mac=52:54:00:00:00:01,hostfwd=tcp::2222-:22",
     "--net", "tap=tap0,create", "--tap", "tap1", "--ephemeral"],
    ["validate", "vm.json"], ["validate", "fifo"], ["--help"], ["--version"], ["run", "-h"],
    ["run", "--kernel", "vmlinuz", "--mem", "1G", "--cpus", "256"],
    ["run", "--kernel=vmlinuz", "--mem=64", "--", "sh", "-c", "exit 3"],
    ["run", "--kernel", "vmlinuz"] + ["--drive", "data.img,ro"] * 17,
    ["frobnicate"], ["run", "--bogus"],
]:
    put("cli", "\0".join(args))

# ---- virtq: ring setup, operations, guest RAM ----
OP_POP, OP_PUSH, OP_PUSH_ANY, OP_UNPOP, OP_NOTIFY, OP_PUBLISH, OP_POKE, OP_ADD, \
    OP_REENABLE, OP_AVAIL_IDX, OP_EVENT = range(11)


def op4(code, a=0, b=0, c=0):
    return bytes([code, a & 0xff, b & 0xff, c & 0xff])


def ring_image(size, chains, indirect_at=None):
    """RAM with a packed ring of the given size and the chains published:
    each chain a list of (addr, len, flags, next) descriptors at given
    indices, as (head, [(idx, addr, len, flags, next), ...])."""
    ram = bytearray(0x10000)
    avail = 16 * size
    used = (avail + 6 + 2 * size + 3) & ~3
    for k, (head, descs) in enumerate(chains):
        for idx, addr, ln, fl, nx in descs:
            struct.pack_into("<QIHH", ram, 16 * idx, addr, ln, fl, nx)
        struct.pack_into("<H", ram, avail + 4 + 2 * (k % size), head)
    struct.pack_into("<H", ram, avail + 2, len(chains))
    return ram, avail, used


ram, _, _ = ring_image(8, [(0, [(0, 0x9000, 16, 1, 1), (1, 0x9100, 512, 3, 2), (2, 0x9400, 1, 2, 0)]),
                           (3, [(3, 0xa000, 100, 0, 0)])])
put("virtq", bytes([3, 0, 6]) + op4(OP_POP) + op4(OP_POP) + op4(OP_PUSH, 1) + op4(OP_NOTIFY)
    + op4(OP_UNPOP, 1) + op4(OP_POP) + bytes(ram[:0x200]))
ram, _, _ = ring_image(4, [(0, [(0, 0x8000, 48, 4, 0)])])
for i, (addr, ln, fl, nx) in enumerate([(0x9000, 16, 1, 1), (0x9100, 64, 3, 2), (0x9200, 1, 2, 0)]):
    struct.pack_into("<QIHH", ram, 0x8000 + 16 * i, addr, ln, fl, nx)
put("virtq", bytes([2, 3, 4]) + op4(OP_POP) + op4(OP_PUSH, 65) + op4(OP_NOTIFY) + op4(OP_EVENT, 1)
    + bytes(ram))
put("virtq", bytes([4, 3, 12]) + b"".join(op4(OP_ADD, i * 37, i, 8) for i in range(6))
    + op4(OP_POP) * 3 + op4(OP_PUSH, 8) + op4(OP_NOTIFY) + op4(OP_AVAIL_IDX, 200)
    + op4(OP_POP) + op4(OP_REENABLE))
put("virtq", bytes([10, 1, 8]) + b"".join(op4(OP_ADD, 0x83, i, 4) for i in range(4))
    + op4(OP_POP) * 4)
put("virtq", bytes([5, 4 | 8]) + struct.pack("<III", 0x0, 0x200, 0x400) + bytes([2])
    + op4(OP_POP) + op4(OP_PUSH_ANY, 0xff, 0xff))
ram, _, _ = ring_image(2, [(0, [(0, 0xfff0, 0x20, 0, 0)]), (1, [(1, 0xfffffffffffff000, 0x1000, 0, 0)])])
put("virtq", bytes([1, 0, 2]) + op4(OP_POP) + op4(OP_POP) + bytes(ram[:0x40]))

# ---- mmio_blk: operations of 8 bytes, guest RAM ----
M_WRITE, M_READ, M_NOTIFY, M_COMPLETE, M_POLL, M_POKE, M_UP, M_REQ, M_SUBFAIL, M_RESET = range(10)


def op8(code, a=0, off=0, v=0):
    return struct.pack("<BBHI", code, a, off, v & 0xffffffff)


up = op8(M_UP, 4, 0, 0xffffffff)
put("mmio_blk", bytes([8]) + up + op8(M_REQ, 0, 3, 2) + op8(M_COMPLETE, 3) + op8(M_REQ, 1, 5, 0x30001)
    + op8(M_COMPLETE, 0, 0, 0x80) + op8(M_REQ, 2) + op8(M_REQ, 3) + op8(M_POLL))
put("mmio_blk", bytes([9]) + up + op8(M_REQ, 0x80, 10, 4) + op8(M_REQ, 4) + op8(M_REQ, 5)
    + op8(M_SUBFAIL, 1) + op8(M_REQ, 0, 159, 1) + op8(M_REQ, 0x40, 0, 511) + op8(M_COMPLETE, 7)
    + op8(M_RESET))
regs = [(M_READ, 0, 0), (M_READ, 0, 4), (M_READ, 0, 8), (M_WRITE, 0, 0x70, 1), (M_WRITE, 0, 0x70, 3),
        (M_WRITE, 0, 0x14, 1), (M_READ, 0, 0x10), (M_WRITE, 0, 0x24, 1), (M_WRITE, 0, 0x20, 1),
        (M_WRITE, 0, 0x70, 0xb), (M_WRITE, 0, 0x30, 0), (M_READ, 0, 0x34),
        (M_WRITE, 0, 0x38, 16), (M_WRITE, 0, 0x80, 0x1000), (M_WRITE, 0, 0x90, 0x1100),
        (M_WRITE, 0, 0xa0, 0x1200), (M_WRITE, 0, 0x44, 1), (M_WRITE, 0, 0x70, 0xf),
        (M_READ, 1, 0x100), (M_READ, 2, 0x10c), (M_READ, 3, 0x108), (M_WRITE, 1, 0x100, 5),
        (M_READ, 0, 0x60), (M_WRITE, 0, 0x64, 3), (M_READ, 0, 0xfc), (M_READ, 0, 0xb0),
        (M_NOTIFY, 0), (M_WRITE, 0, 0x70, 0)]
put("mmio_blk", bytes([len(regs)]) + b"".join(op8(*r) for r in regs))
# The one-write FEATURES_OK|DRIVER_OK with refused features (issue 11).
put("mmio_blk", bytes([3]) + op8(M_WRITE, 0, 0x70, 3) + op8(M_WRITE, 0, 0x70, 0xf) + op8(M_NOTIFY))

# ---- blk: negotiation, then chains ----


def chain(segs, hdr, then=1, pick=0, indirect=False):
    b = bytes([(len(segs) - 1) | (0x80 if indirect else 0)])
    for w, addr, ln in segs:
        b += struct.pack("<BHH", 1 if w else 0, addr, ln)
    return b + struct.pack("<IIQ", *hdr) + bytes([then, pick])


H, D, S = 0x0, 0x100, 0x2000          # (address - BUFS) / 4
put("blk", bytes([1 | 2 | 4, 4]) + chain([(0, H, 16), (1, D, 4096), (1, S, 1)], (0, 0, 8), 3)
    + chain([(0, H, 16), (0, D, 1024), (1, S, 1)], (1, 0, 2), 5, 0x33)
    + chain([(0, H, 16), (1, S, 1)], (4, 0, 0), 3)
    + chain([(0, H, 16), (1, D, 20), (1, S, 1)], (8, 0, 0), 1)
    + chain([(0, H, 16), (1, S, 1)], (99, 0, 0), 1, 0, True))
put("blk", bytes([8, 2]) + chain([(0, H, 16), (0, D, 512), (1, S, 1)], (1, 0, 0), 3)
    + chain([(0, H, 8), (1, S, 1)], (0, 0, 0), 3)
    + chain([(0, H, 16), (1, D, 512), (1, S, 1)], (0, 0, 127), 3)
    + chain([(0, H, 16), (1, D, 512), (1, S, 1)], (0, 0, 128), 3))
put("blk", bytes([0, 8]) + chain([(0, H, 16), (0, D, 700), (1, S, 1)], (1, 0, 3), 1)
    + chain([(0, H, 4), (0, H + 1, 12), (1, D, 511), (1, D + 128, 1), (1, S, 0)], (0, 0, 0), 3)
    + chain([(0, H, 16), (1, D, 0)], (0, 0, 0), 3))

# ---- net: backend, features, operations, RAM ----
N_RX, N_TX, N_KRX, N_KTX, N_FRAME, N_FULL, N_READY, N_POLL, N_POKE, N_WRITE, N_UP, N_ENDLESS = range(12)
ops = [op8(N_RX, 0x0c, 0, 1600 << 8), op8(N_KRX), op8(N_FRAME, 0, 0, 60), op8(N_FRAME, 0, 0, 1514),
       op8(N_TX, 1, 0x4000, 100 << 8), op8(N_KTX), op8(N_FULL, 1), op8(N_TX, 0, 0x5000, 200 << 8),
       op8(N_KTX), op8(N_READY), op8(N_POLL)]
put("net", bytes([1, 0xff, 8, len(ops)]) + b"".join(ops))
ops = [op8(N_RX, 0x23, 0, 0x7fff00), op8(N_KRX), op8(N_FRAME, 0, 0, 65000), op8(N_ENDLESS, 1),
       op8(N_FRAME, 0, 0, 100), op8(N_POLL), op8(N_TX, 0x80 | 2, 0x6000, 0x1000),
       op8(N_TX, 0x40, 0x7000, 0x2000), op8(N_KTX), op8(N_WRITE, 0, 0x70, 0), op8(N_UP, 0x1f),
       op8(N_RX, 0xc0, 0x100, 40 << 8), op8(N_KRX)]
put("net", bytes([3, 0x7f, 6, len(ops)]) + b"".join(ops))
ops = [op8(N_RX, 0, 0, 8 << 8), op8(N_KRX), op8(N_FRAME, 0, 0, 30), op8(N_TX, 0, 0, 5 << 8),
       op8(N_KTX), op8(N_POKE, 0, 0x10, 0xffffffff), op8(N_KRX)]
put("net", bytes([0, 0x80, 2, len(ops)]) + b"".join(ops))

# ---- pio: clock, then operations of 4 bytes ----
P_READ, P_WRITE, P_RECV, P_HOST = range(4)


def pio(code, dev, off, width, value):
    return bytes([code, dev | off << 3, width, value])


UART, KBC, RTC, PM, EXIT = range(5)
boot = [pio(P_HOST, 0, 0, 0, 1), pio(P_WRITE, UART, 3, 0, 0x80), pio(P_WRITE, UART, 0, 0, 1),
        pio(P_WRITE, UART, 3, 0, 3), pio(P_WRITE, UART, 2, 0, 0xc7), pio(P_WRITE, UART, 1, 0, 0x0f),
        pio(P_WRITE, UART, 4, 0, 0x1b), pio(P_READ, UART, 6, 0, 0), pio(P_WRITE, UART, 0, 0, 0x41),
        pio(P_RECV, 0, 0, 0x61, 20), pio(P_READ, UART, 5, 0, 0), pio(P_READ, UART, 0, 0, 0),
        pio(P_READ, UART, 2, 0, 0), pio(P_WRITE, UART, 7, 0, 0x55), pio(P_READ, UART, 7, 0, 0),
        pio(P_WRITE, UART, 4, 0, 0x10), pio(P_WRITE, UART, 0, 0, 0x42), pio(P_READ, UART, 0, 0, 0)]
put("pio", struct.pack("<I", 1764633600) + b"".join(boot))
kbc = [pio(P_READ, KBC, 4, 0, 0), pio(P_WRITE, KBC, 4, 0, 0x20), pio(P_READ, KBC, 0, 0, 0),
       pio(P_WRITE, KBC, 4, 0, 0x60), pio(P_WRITE, KBC, 0, 0, 0x45), pio(P_WRITE, KBC, 4, 0, 0xaa),
       pio(P_READ, KBC, 0, 0, 0), pio(P_WRITE, KBC, 4, 0, 0xd1), pio(P_WRITE, KBC, 0, 0, 0xdf),
       pio(P_READ, KBC, 1, 0, 0), pio(P_WRITE, KBC, 1, 0, 3), pio(P_WRITE, KBC, 4, 0, 0xfe)]
put("pio", struct.pack("<I", 0) + b"".join(kbc))
rtc = []
for reg in [0, 2, 4, 6, 7, 8, 9, 0x32, 0x0a, 0x0b, 0x0c, 0x0d, 0x40]:
    rtc += [pio(P_WRITE, RTC, 0, 0, reg), pio(P_READ, RTC, 1, 0, 0)]
rtc += [pio(P_WRITE, RTC, 0, 0, 0x0b), pio(P_WRITE, RTC, 1, 0, 0x06), pio(P_WRITE, RTC, 0, 0, 0),
        pio(P_READ, RTC, 1, 0, 0), pio(P_WRITE, RTC, 0, 0, 0x50), pio(P_WRITE, RTC, 1, 0, 0x99),
        pio(P_READ, RTC, 1, 0, 0), pio(P_READ, RTC, 1, 1, 0)]
put("pio", struct.pack("<I", 4102444799) + b"".join(rtc))
put("pio", struct.pack("<I", 86400) + pio(P_WRITE, PM, 0, 0, 0x24) + pio(P_READ, PM, 1, 0, 0)
    + pio(P_WRITE, PM, 0, 0, 0x34) + pio(P_WRITE, PM, 2, 0, 0x0e) + pio(P_WRITE, PM, 3, 0, 1)
    + pio(P_WRITE, EXIT, 0, 0, 42) + pio(P_WRITE, EXIT, 0, 2, 7) + pio(P_READ, EXIT, 0, 0, 0))

for t in sorted(n):
    print("  %-10s %d seeds" % (t, n[t]))
