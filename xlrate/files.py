"""Writing user files safely: to a temporary file beside the target, then one rename.

A crash, a full disk or Excel holding the file open never leaves a half-written workbook
behind, and the previous file stays intact until the new one is complete. The finished
file gets ordinary permissions (0666 less the umask), not the 0600 of a temporary file.

Also the one SHA-256 helper (:func:`sha256_hex`, :func:`file_digest`) used for provenance and
pinned downloads.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: Path | str, *, backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` in one rename.

    With ``backup=True`` an existing target is kept as ``<name>.bak`` first.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{target.stem}-", suffix=target.suffix + ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if backup and target.exists():
            os.replace(target, target.with_name(target.name + ".bak"))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def sha256_hex(data: bytes | Path | str) -> str:
    """The SHA-256 hex digest of ``data`` (bytes), or of the file at a path (read in blocks)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        return hashlib.sha256(data).hexdigest()
    return file_digest(data)[0]


def file_digest(path: Path | str) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
