"""Build zip-bomb workbooks for the guard's tests and benchmark (no 4 GB is ever written).

:func:`bomb_xlsx` writes a real, valid .xlsx (openpyxl) with one more member: ``megabytes``
MB of zeros as genuine deflate data (one 1 MB block compressed once and repeated, which
deflate allows after a full flush) with its true CRC, so any reader that trusted it would
really inflate that much. Sizes stay below 4 GiB, so no zip64 records are needed.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import openpyxl

MB = 1 << 20


def bomb_xlsx(path: Path, megabytes: int, member: str = "xl/media/padding.bin") -> Path:
    if megabytes * MB >= 1 << 32:
        raise ValueError("keep the bomb under 4 GiB (no zip64 here)")
    book = openpyxl.Workbook()
    book.active.append(["Code", "Fee"])
    book.active.append(["99213", 90])
    book.save(path)

    zeros = bytes(MB)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    size = megabytes * MB
    compressed = len(block) * megabytes + len(tail)

    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    name = member.encode()
    with open(path, "wb") as out:
        central = b""
        for info, data in parts:
            offset = out.tell()
            packed = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = packed.compress(data) + packed.flush()
            entry = (zlib.crc32(data), len(body), len(data))
            raw = info.filename.encode()
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, *entry, len(raw), 0))
            out.write(raw + body)
            central += (
                struct.pack(
                    "<IHHHHHHIIIHHHHHII",
                    0x02014B50,
                    20,
                    20,
                    0,
                    8,
                    0,
                    0,
                    *entry,
                    len(raw),
                    0,
                    0,
                    0,
                    0,
                    0,
                    offset,
                )
                + raw
            )
        offset = out.tell()
        entry = (crc, compressed, size)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, *entry, len(name), 0))
        out.write(name)
        for _ in range(megabytes):
            out.write(block)
        out.write(tail)
        central += (
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                *entry,
                len(name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + name
        )
        start = out.tell()
        out.write(central)
        count = len(parts) + 1
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(central), start, 0))
    return path
