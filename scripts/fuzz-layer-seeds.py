#!/usr/bin/env python3
"""Writes seed layers for `scripts/fuzz layer` into the folder given: the shapes that once cost
minutes or gigabytes or let the scanned image differ from the booted one (issue 13), each small
enough for the fuzzer's 64 KiB inputs, so that mutations start next to the limits."""
import io
import sys
import tarfile
from pathlib import Path

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)


def info(name, kind=tarfile.REGTYPE, size=0, link="", pax=None):
    t = tarfile.TarInfo(name)
    t.type, t.size, t.linkname, t.mode = kind, size, link, 0o755 if kind == tarfile.DIRTYPE else 0o644
    if pax:
        t.pax_headers = pax
    return t


def layer(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for t, data in entries:
            tar.addfile(t, io.BytesIO(data) if data else None)
    return buf.getvalue()


def file(name, data=b"", pax=None):
    return info(name, size=len(data), pax=pax), data


def write(name, data):
    assert len(data) <= 65536, name
    (out / name).write_bytes(data)


# Deep paths: 2,000 levels (just within Linux's 4096 bytes), and one past it.
write("deep-path.tar", layer([file("a/" * 2000 + "f", b"x")]))
write("too-deep-path.tar", layer([file("a/" * 2049 + "f", b"x")]))
# A GNU long name and a name with a component over 255 bytes.
write("gnu-long-name.tar", layer([file("d/" + "n" * 300, b"x")], tarfile.GNU_FORMAT))
# Repeated whiteouts and opaque markers over a few folders.
marks = [(info("d", tarfile.DIRTYPE), None)]
marks += [file("d/.wh..wh..opq")] * 2 + [file("d/.wh.f")] * 2
marks += [file(f"d/s{i}/f{j}", b"x") for i in range(8) for j in range(4)]
marks += [file(f"d/s{i}/.wh..wh..opq") for i in range(8)]
write("repeated-whiteouts.tar", layer(marks))
# Hard-link fan-out: one file with a 4 KiB attribute, 80 links to it.
fan = [file("f", b"x", {"SCHILY.xattr.user.big": "v" * 4096})]
fan += [(info(f"l{i}", tarfile.LNKTYPE, link="f"), None) for i in range(80)]
write("hardlink-fan-out.tar", layer(fan))
# Size lies: a PAX size larger than the data that follows; a header size past the end.
lie = bytearray(layer([file("f", b"data", {"size": "999999"}), file("g", b"y")]))
write("pax-size-lie.tar", bytes(lie))
write("pax-size-malformed.tar", layer([file("f", b"data", {"size": "12x", "mtime": "1.5.6"})]))
# Layers ending early: without the closing blocks (umoci <= 0.4.7), without the last padding too,
# and cut inside the data (an error). One header of 512 bytes, then "hello".
whole = layer([file("etc/motd", b"hello")])
write("footerless.tar", whole[:1024])
write("padless.tar", whole[: 512 + 5])
write("cut-in-data.tar", whole[: 512 + 2])
# A NUL in a PAX path beside the benign name it would shorten to; an empty PAX path.
write("nul-in-name.tar", layer([file("bin/sh", b"benign"), file("x", b"hidden", {"path": "bin/sh\0hidden"})]))
write("empty-pax-path.tar", layer([file("x", b"data", {"path": ""})]))
