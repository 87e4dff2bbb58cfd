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

import zipfile
import zlib
from pathlib import Path

from xlrate.errors import UpdateError
from xlrate.ziputil import ZipLimits, ZipRefused, check_zip

__all__ = ["ArchiveError", "ZipLimits", "check_archive", "verify_members"]

_CHUNK = 1 << 16


class ArchiveError(UpdateError):
    """A zip that is incomplete, unsafe or implausible; ``reason``/``hint`` as in downloads."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason}. {hint}".strip() if hint else reason)
        self.reason = reason
        self.hint = hint


_HINTS = {
    "broken": "The download was probably cut short: run the update again, or download the zip "
    "from CMS yourself and run `xlrate medicare install PATH.zip`",
    "unsafe": "Download the zip from CMS again",
    "too_big": "Check the file is the CMS zip",
}


def check_archive(path: Path, limits: ZipLimits | None = None) -> list[zipfile.ZipInfo]:
    """The members of a zip that passed every check (directories left out).

    The checks live in :mod:`xlrate.ziputil` (shared with .xlsx reading); here they get
    the hints of a CMS download.
    """
    try:
        return check_zip(path, limits)
    except ZipRefused as exc:
        raise ArchiveError(exc.reason, _HINTS[exc.kind]) from exc


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
