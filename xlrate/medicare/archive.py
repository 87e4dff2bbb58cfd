"""Open a downloaded zip without trusting it: completeness, zip-slip and zip-bomb guards.

A CMS bundle is a few dozen CSV, TXT and XLSX files of a few MB each. Anything else (a
member whose name climbs out of the folder, a symlink, an encrypted member, a member or a
total far larger than any CMS file, a compression ratio only a zip bomb reaches, a CRC that
does not match) is refused before the parsers see a byte of it.

Declared sizes are not trusted either: extraction counts the bytes it writes and stops at
the declared size and the limits, and ``zipfile`` checks each member's CRC at its end.
Nothing is extracted: the parsers read the members straight from the checked zip.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from xlrate.errors import UpdateError

_CHUNK = 1 << 16


class ArchiveError(UpdateError):
    """A zip that is incomplete, unsafe or implausible; ``reason``/``hint`` as in downloads."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason}. {hint}".strip() if hint else reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class ZipLimits:
    """What a CMS zip may hold. The largest real member is ZIP9 (about 85 MB)."""

    max_members: int = 1000
    max_member_bytes: int = 256 * 2**20
    max_total_bytes: int = 1 * 2**30
    # CSV compresses about 5-10 to 1 and XLSX barely at all; 1 MB of zeros reaches 1000 to 1.
    max_ratio: float = 100.0
    ratio_floor_bytes: int = 1 * 2**20  # small members may compress well: no ratio test


def _unsafe_name(name: str) -> str | None:
    """Why a member name could land outside the target folder, or None when it is safe."""
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


def check_archive(path: Path, limits: ZipLimits | None = None) -> list[zipfile.ZipInfo]:
    """The members of a zip that passed every check (directories left out)."""
    limits = limits or ZipLimits()
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(
            f"{name} is not a complete zip file ({exc})",
            "The download was probably cut short: run the update again, or download the zip "
            "from CMS yourself and run `xlrate medicare install PATH.zip`",
        ) from exc
    if len(infos) > limits.max_members:
        raise ArchiveError(
            f"{name} holds {len(infos):,} files, more than the {limits.max_members:,} a CMS "
            "bundle could",
            "Check the file is the CMS zip",
        )
    seen: set[str] = set()
    total = 0
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        why = _unsafe_name(info.filename)
        if why:
            raise ArchiveError(
                f"{name} refused: member {info.filename!r} has {why} (it could write outside "
                "the data folder)",
                "Download the zip from CMS again",
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveError(
                f"{name} refused: member {info.filename!r} is a symbolic link",
                "Download the zip from CMS again",
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{name} refused: member {info.filename!r} is encrypted",
                "Download the zip from CMS again",
            )
        key = info.filename.replace("\\", "/").rstrip("/").lower()
        if key in seen:
            raise ArchiveError(
                f"{name} refused: member {info.filename!r} appears twice",
                "Download the zip from CMS again",
            )
        seen.add(key)
        if info.is_dir():
            continue
        _check_size(name, info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"{name} refused: its files would unpack to more than "
                f"{limits.max_total_bytes:,} bytes",
                "Check the file is the CMS zip",
            )
        files.append(info)
    return files


def _check_size(zip_name: str, member: str, size: int, compressed: int, limits: ZipLimits) -> None:
    if size > limits.max_member_bytes:
        raise ArchiveError(
            f"{zip_name} refused: member {member!r} would unpack to {size:,} bytes, more than "
            f"the {limits.max_member_bytes:,} allowed",
            "Check the file is the CMS zip",
        )
    if size > limits.ratio_floor_bytes and size > limits.max_ratio * max(compressed, 1):
        raise ArchiveError(
            f"{zip_name} refused: member {member!r} expands {size / max(compressed, 1):,.0f} "
            "times (a zip bomb?)",
            "Check the file is the CMS zip",
        )


def verify_members(path: Path, limits: ZipLimits | None = None) -> list[zipfile.ZipInfo]:
    """Check ``path`` and read every member through once, without writing anything.

    Reading counts the bytes each member really yields (declared sizes can lie) and lets
    ``zipfile`` compare every CRC, so a damaged or doctored member is caught here rather
    than half-way through an install. Returns the checked file members.
    """
    limits = limits or ZipLimits()
    infos = check_archive(path, limits)
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in infos:
                size = 0
                with archive.open(info) as source:
                    while chunk := source.read(_CHUNK):
                        size += len(chunk)
                        total += len(chunk)
                        if size > info.file_size:
                            raise ArchiveError(
                                f"{path.name} refused: member {info.filename!r} unpacks to more "
                                "than it declares",
                                "Download the zip from CMS again",
                            )
                        if total > limits.max_total_bytes:
                            raise ArchiveError(
                                f"{path.name} refused: its files unpack to more than "
                                f"{limits.max_total_bytes:,} bytes",
                                "Check the file is the CMS zip",
                            )
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(
            f"{path.name} is damaged ({exc})",
            "The download was probably cut short: run the update again, or download the zip "
            "from CMS yourself and run `xlrate medicare install PATH.zip`",
        ) from exc
    return infos
