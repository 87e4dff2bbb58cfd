"""Open a zip without trusting it: zip-slip and zip-bomb guards, before any parser runs.

Used for CMS bundles (:mod:`xlrate.medicare.archive`) and for every .xlsx/.xlsm the program
reads (an .xlsx is a zip): names that climb out of a folder, symlinks, encrypted members,
duplicate names, a member or a total far larger than the file could honestly hold, or a
compression ratio only a zip bomb reaches are refused from the central directory alone, so
a 4 MB file that would unpack to 4 GB is refused in milliseconds, before a byte is inflated.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import IO

from xlrate.errors import XlrateError


class ZipRefused(XlrateError):
    """A zip that is not complete, or unsafe, or implausibly large.

    ``kind`` is ``"broken"`` (not a readable zip), ``"unsafe"`` (a member that could write
    outside a folder, a link, encryption, a repeated name) or ``"too_big"`` (sizes, ratio).
    """

    def __init__(self, reason: str, kind: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class ZipLimits:
    """What a zip may hold. The defaults fit a CMS bundle (largest member, ZIP9: ~85 MB)."""

    max_members: int = 1000
    max_member_bytes: int = 256 * 2**20
    max_total_bytes: int = 1 * 2**30
    # CSV and sheet XML compress about 5-12 to 1; 1 MB of zeros reaches 1000 to 1.
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * 2**20  # small members may compress well: no ratio test


#: Limits for an .xlsx workbook (a fee schedule, a workbook to share): the largest real
#: sheet seen (CMS PPRRVU, 19 MB of XML) is far inside them.
XLSX_LIMITS = ZipLimits(max_members=10_000, max_member_bytes=512 * 2**20, max_total_bytes=2**30)


def unsafe_member_name(name: str) -> str | None:
    """Why a member name could land outside the target folder, or None when it is safe.

    >>> unsafe_member_name("xl/worksheets/sheet1.xml") is None
    True
    >>> unsafe_member_name("../evil.csv"), unsafe_member_name("C:/Windows/x.dll")
    ("a '..' path", 'an absolute path')
    """
    if not name or "\x00" in name:
        return "an empty or NUL name"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        return "an absolute path"
    if any(part == ".." for part in PurePosixPath(posix).parts):
        return "a '..' path"
    if ":" in posix:
        return "a ':' in its name (a drive or an NTFS stream)"
    return None


def check_zip(
    path: Path | IO[bytes],
    limits: ZipLimits | None = None,
    *,
    what: str = "zip",
    name: str | None = None,
) -> list[zipfile.ZipInfo]:
    """The file members of the zip at ``path`` (or in an open binary file) that passed
    every check (folders left out).

    Raises :class:`ZipRefused`; its message names the file (``name``, default the path's
    name) and the member. ``what`` says what the file should have been ("zip", "workbook").
    """
    limits = limits or ZipLimits()
    name = name or (path.name if isinstance(path, Path) else "the file")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ZipRefused(f"{name} is not a complete {what} file ({exc})", "broken") from exc
    if len(infos) > limits.max_members:
        raise ZipRefused(
            f"{name} holds {len(infos):,} files, more than the {limits.max_members:,} a {what} could",
            "too_big",
        )
    seen: set[str] = set()
    total = 0
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        why = unsafe_member_name(info.filename)
        if why:
            raise ZipRefused(
                f"{name} refused: member {info.filename!r} has {why} (it could write outside "
                "the data folder)",
                "unsafe",
            )
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ZipRefused(
                f"{name} refused: member {info.filename!r} is a symbolic link", "unsafe"
            )
        if info.flag_bits & 0x1:
            raise ZipRefused(f"{name} refused: member {info.filename!r} is encrypted", "unsafe")
        key = info.filename.replace("\\", "/").rstrip("/").lower()
        if key in seen:
            raise ZipRefused(f"{name} refused: member {info.filename!r} appears twice", "unsafe")
        seen.add(key)
        if info.is_dir():
            continue
        check_member_size(name, info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ZipRefused(
                f"{name} refused: its files would unpack to more than "
                f"{limits.max_total_bytes:,} bytes",
                "too_big",
            )
        files.append(info)
    return files


def check_member_size(
    zip_name: str, member: str, size: int, compressed: int, limits: ZipLimits
) -> None:
    """Refuse a member larger than the limit, or compressed like a zip bomb."""
    if size > limits.max_member_bytes:
        raise ZipRefused(
            f"{zip_name} refused: member {member!r} would unpack to {size:,} bytes, more than "
            f"the {limits.max_member_bytes:,} allowed",
            "too_big",
        )
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        raise ZipRefused(
            f"{zip_name} refused: member {member!r} expands {size / max(compressed, 1):,.0f} "
            "times (a zip bomb?)",
            "too_big",
        )
