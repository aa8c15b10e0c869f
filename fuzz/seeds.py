#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (fuzz/seeds/TARGET/) from the project's own data.

    cargo build --release -p scenarios
    python3 fuzz/seeds.py target/release/holdtime

Sources: a short simulated run captured by `holdtime run --pcap --mrt` (pcapng, MRT), cut to
its first frames and records and also written as classic pcap and gzip; the first records of
the RIS update dump `corpus/ris/ris-updates-20100722-2015.mrt.gz`; BGP messages taken from
both; hand-built BFD control packets; the library's scenario files
(`scenarios/library/*.toml`) and a few of them shortened to fit the target's time bound.
Every seed is small (a few KB), so that the whole corpus stays far under a megabyte.
Re-running the script rewrites the same files, byte for byte, and keeps the regression inputs
(`regress-*`), which it does not make.
"""

import gzip
import hashlib
import os
import re
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "seeds")

SHORT_SCENARIO = """name = "seed: BFD, a silent cut and its repair"
description = "the fuzz seeds' capture"
topology = "expressroute-vpn-failover"
duration = "40s"
seed = 1

[bfd]
enabled = true
interval = "1s"
multiplier = 3

[[fault]]
at = "20s"
kind = "silent"
target = "circuit.primary"
duration = "10s"
"""


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    # mtime 0 and no file name: the same bytes on every run.
    return gzip.compress(data, compresslevel=9, mtime=0)


def pcapng_blocks(data):
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        yield btype, data[off : off + blen]
        off += blen


def cut_pcapng(data, packets):
    """The section and interface blocks and the first `packets` enhanced packet blocks."""
    out, n = [], 0
    for btype, block in pcapng_blocks(data):
        if btype == 6:
            if n == packets:
                continue
            n += 1
        out.append(block)
    return b"".join(out)


def pcapng_to_pcap(data, packets):
    """Classic pcap, nanosecond magic, Ethernet, of the first `packets` frames."""
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)]
    n = 0
    for btype, block in pcapng_blocks(data):
        if btype != 6 or n == packets:
            continue
        _, _, _, hi, lo, caplen, origlen = struct.unpack_from("<IIIIIII", block, 0)
        ts = (hi << 32) | lo
        frame = block[28 : 28 + caplen]
        out.append(struct.pack("<IIII", ts // 10**9, ts % 10**9, caplen, origlen) + frame)
        n += 1
    return b"".join(out)


def mrt_records(data):
    off = 0
    while off + 12 <= len(data):
        (length,) = struct.unpack_from(">I", data, off + 8)
        yield data[off : off + 12 + length]
        off += 12 + length


def mrt_messages(data):
    """(four_octet_as, BGP message) of every BGP4MP(_ET) MESSAGE record."""
    for rec in mrt_records(data):
        _, rtype, sub, _ = struct.unpack_from(">IHHI", rec, 0)
        body = rec[12:]
        if rtype == 17:
            body = body[4:]
        elif rtype != 16:
            continue
        if sub in (1, 4, 6, 7):
            four = sub in (4, 7)
            asl = 4 if four else 2
            afi = struct.unpack_from(">H", body, 2 * asl + 2)[0]
            ipl = 4 if afi == 1 else 16
            yield four, body[2 * asl + 4 + 2 * ipl :]


KEEPALIVE = b"\xff" * 16 + b"\x00\x13\x04"


def update(prefixes, path_ids=False):
    """An UPDATE from B (AS 65002, 4-octet AS, next hop 10.0.0.2) announcing /24s, each
    with a Path Identifier when `path_ids` (RFC 7911 §3)."""
    attrs = bytes([0x40, 1, 1, 0])  # ORIGIN IGP
    attrs += bytes([0x40, 2, 6, 2, 1]) + struct.pack(">I", 65002)  # AS_PATH SEQUENCE [65002]
    attrs += bytes([0x40, 3, 4, 10, 0, 0, 2])  # NEXT_HOP
    nlri = b""
    for i, p in enumerate(prefixes):
        if path_ids:
            nlri += struct.pack(">I", i + 1)
        nlri += bytes([24]) + bytes(p)
    body = struct.pack(">H", 0) + struct.pack(">H", len(attrs)) + attrs + nlri
    return b"\xff" * 16 + struct.pack(">H", 19 + len(body)) + b"\x02" + body


def bfd_packet(state, flags, mult, my, your, tx, rx, echo, auth=None):
    length = 24 + (len(auth) if auth else 0)
    b1 = (state << 6) | flags | (0x04 if auth else 0)
    p = struct.pack(">BBBBIIIII", (1 << 5), b1, mult, length, my, your, tx, rx, echo)
    return p + (auth or b"")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    holdtime = sys.argv[1]
    # Rewrite every seed but the regression inputs (`regress-*`: inputs that once failed,
    # kept so that every run starts from them).
    for t in os.listdir(CORPUS) if os.path.isdir(CORPUS) else []:
        for f in os.listdir(os.path.join(CORPUS, t)):
            if not f.startswith("regress-"):
                os.remove(os.path.join(CORPUS, t, f))

    with tempfile.TemporaryDirectory() as tmp:
        scenario = os.path.join(tmp, "seed.toml")
        with open(scenario, "w") as f:
            f.write(SHORT_SCENARIO)
        pcapng_path, mrt_path = os.path.join(tmp, "run.pcapng"), os.path.join(tmp, "run.mrt")
        subprocess.run(
            [holdtime, "run", scenario, "--pcap", pcapng_path, "--mrt", mrt_path],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        pcapng = open(pcapng_path, "rb").read()
        sim_mrt = open(mrt_path, "rb").read()

    with gzip.open(os.path.join(ROOT, "corpus", "ris", "ris-updates-20100722-2015.mrt.gz")) as f:
        ris = f.read()
    ris_records = list(mrt_records(ris))

    # capture: pcapng, pcap, MRT, each plain and gzip-compressed.
    head = cut_pcapng(pcapng, 100)
    pcap = pcapng_to_pcap(pcapng, 100)
    sim_mrt_head = b"".join(list(mrt_records(sim_mrt))[:80])
    ris_head = b"".join(ris_records[:30])
    for name, data in [
        ("sim.pcapng", head),
        ("sim.pcap", pcap),
        ("sim.mrt", sim_mrt_head),
        ("ris.mrt", ris_head),
    ]:
        write("capture", name, data)
        write("capture", name + ".gz", gz(data))

    # BGP messages: the simulator's (OPENs, UPDATEs, KEEPALIVEs, NOTIFICATIONs) and the
    # first distinct RIS UPDATEs; one of each (type, length) class.
    messages, seen = [], set()
    for four, m in list(mrt_messages(sim_mrt)) + list(mrt_messages(b"".join(ris_records[:400]))):
        key = (four, m[18], len(m) // 16)
        if key not in seen and len(m) <= 4096:
            seen.add(key)
            messages.append((four, m))
    for i, (four, m) in enumerate(messages):
        ctx = 0x01 if four else 0x00
        write("decode", f"msg-{i:02}", bytes([ctx]) + m)
        write("roundtrip", f"msg-{i:02}", bytes([ctx]) + m[18:])
    updates = [m for four, m in messages if four and m[18] == 2]
    stream = KEEPALIVE + b"".join(updates[:6]) + KEEPALIVE
    write("framer", "stream", bytes([0x31]) + stream)
    write("framer", "stream-1", bytes([0x01]) + b"".join(updates[6:12]))

    # speaker: [config][pace] + what B sends. Config 0: 4-octet AS, no options; 8: max-prefix.
    for name, config, pace, data in [
        ("updates", 0x00, 0x3F, stream),
        ("updates-slow", 0x00, 0xBF, b"".join(updates[:3])),
        ("max-prefix", 0x08, 0x3F, b"".join(updates[:12])),
        ("keepalives", 0x00, 0xD2, KEEPALIVE * 4),
        # 1,100 prefixes: 4,441 octets, more than a message may have without RFC 8654.
        ("extended", 0x02, 0x3F, update([(10, i // 256, i % 256) for i in range(1100)])),
        ("add-path", 0x04, 0x3F, update([(203, 0, 113)] * 3 + [(198, 18, 0)], path_ids=True)),
    ]:
        write("speaker", name, bytes([config, pace]) + data)
    notification = b"\xff" * 16 + b"\x00\x15\x03\x06\x02"
    write("speaker", "notification", bytes([0x00, 0x3F]) + KEEPALIVE + notification)

    # BFD packets: Down, Init, Up, Poll, Final, AdminDown, with authentication.
    packets = {
        "down": bfd_packet(1, 0, 3, 0x2002, 0, 1_000_000, 1_000_000, 0),
        "init": bfd_packet(2, 0, 3, 0x2002, 0x1001, 1_000_000, 1_000_000, 0),
        "up": bfd_packet(3, 0, 3, 0x2002, 0x1001, 300_000, 300_000, 0),
        "poll": bfd_packet(3, 0x20, 3, 0x2002, 0x1001, 300_000, 300_000, 0),
        "final": bfd_packet(3, 0x10, 3, 0x2002, 0x1001, 300_000, 300_000, 0),
        "admin-down": bfd_packet(0, 0, 3, 0x2002, 0x1001, 1_000_000, 1_000_000, 0),
        "auth": bfd_packet(3, 0, 3, 0x2002, 0x1001, 300_000, 300_000, 0, b"\x01\x07\x01abcd"),
    }
    for name, p in packets.items():
        write("bfd_packet", name, p)
    # bfd_session: [config] + ops. Op 0: raw packet (length, octets); op 1: built packet
    # (state<<6|diag, P|F<<1|mult<<2, your, tx/10ms, rx/10ms, echo); op 2: time (ms, 2
    # bytes); op 3: command.
    def raw(p):
        return bytes([0, len(p)]) + p

    def wait(ms):
        return bytes([2]) + struct.pack(">H", ms)

    handshake = raw(packets["down"]) + wait(1000) + raw(packets["up"]) + wait(2000)
    write("bfd_session", "handshake", bytes([0x33]) + handshake + wait(60000))
    write(
        "bfd_session",
        "built-up-poll",
        bytes([0x11])
        + bytes([1, 0x40, 0x0C, 0, 30, 30, 0])
        + wait(500)
        + bytes([1, 0xC0, 0x0D, 1, 30, 30, 0])
        + bytes([0x0B, 5, 5])
        + wait(300)
        + bytes([1, 0xC0, 0x0E, 1, 30, 30, 0])
        + wait(5000),
    )
    write(
        "bfd_session",
        "admin",
        bytes([0x82]) + handshake + bytes([0x03]) + wait(4000) + bytes([0x07]) + handshake,
    )

    # scenario: the library as written, and a few of its files shortened to fit the
    # target's bound (faults inside the first minutes).
    lib = os.path.join(ROOT, "scenarios", "library")
    for name in sorted(os.listdir(lib)):
        if not name.endswith(".toml"):
            continue
        text = open(os.path.join(lib, name), "rb").read()
        write("scenario", name, text)
        short = re.sub(rb'duration = "\d+m"', b'duration = "4m"', text, count=1)
        short = re.sub(rb'at = "(\d+)m"', b'at = "1m"', short)
        if short != text:
            write("scenario", "short-" + name, short)
    write("scenario", "seed.toml", SHORT_SCENARIO.encode())

    total = 0
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        total += size
        print(f"{t}: {len(files)} seeds, {size} bytes")
    print(f"total: {total} bytes")


if __name__ == "__main__":
    main()
