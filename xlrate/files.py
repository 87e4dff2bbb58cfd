"""Writing user files safely: one rule for every output path, then temp file + one rename.

The rule (:func:`prepare_output`, called by every command before it writes):

- an output is never one of the command's inputs (``xlrate email keep.xlsx --eml keep.xlsx``
  refuses instead of replacing the workbook with the message);
- an output is never a folder, and a folder is never moved aside, ``--force`` or not;
- an existing file is replaced only with ``--force``, and then the previous file is kept
  as a numbered backup (``out.xlsx.bak``, ``out.xlsx.1.bak``, ...), so two forced builds
  keep both originals.

:func:`atomic_path` then writes: to a temporary file beside the target, then one rename.
A crash, a full disk or Excel holding the file open never leaves a half-written file
behind, and the previous file stays intact until the new one is complete. The finished
file gets ordinary permissions (0666 less the umask), not the 0600 of a temporary file.

Also the one SHA-256 helper (:func:`sha256_hex`, :func:`file_digest`) used for provenance and
pinned downloads.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from xlrate.errors import OutputError

BACKUP_SUFFIX = ".bak"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def backups_of(target: Path | str) -> list[Path]:
    """The backups of ``target`` kept so far, oldest first."""
    target = Path(target)
    found = []
    first = target.with_name(target.name + BACKUP_SUFFIX)
    if first.exists():
        found.append(first)
    number = 1
    while True:
        candidate = target.with_name(f"{target.name}.{number}{BACKUP_SUFFIX}")
        if not candidate.exists():
            return found
        found.append(candidate)
        number += 1


def keep_backup(target: Path | str) -> Path | None:
    """Keep the current ``target`` under the next free backup name; return that name.

    The backup is a hard link (a copy where links are not possible), so ``target`` itself
    stays in place until the new file replaces it. Calling it twice for the same file
    keeps one backup, not two. Returns None when there is no file to keep.
    """
    target = Path(target)
    if not target.is_file():
        return None
    existing = backups_of(target)
    if existing and _same_file(existing[-1], target):
        return existing[-1]
    number = len(existing)
    while True:
        name = (
            f"{target.name}{BACKUP_SUFFIX}"
            if number == 0
            else f"{target.name}.{number}{BACKUP_SUFFIX}"
        )
        backup = target.with_name(name)
        if not backup.exists():
            break
        number += 1
    try:
        os.link(target, backup)
    except OSError:
        shutil.copy2(target, backup)
    return backup


def prepare_output(
    path: Path | str,
    *,
    inputs: Iterable[Path | str | None] = (),
    force: bool = False,
    what: str = "output",
) -> Path | None:
    """Check ``path`` against the output rule; with ``force`` keep a backup of an existing file.

    Returns the backup's path (None when nothing was there). Raises :class:`OutputError`
    in one line when ``path`` is an input, a folder, or an existing file without ``force``.
    """
    check_output(path, inputs=inputs, force=force, what=what)
    return keep_backup(path)


def check_output(
    path: Path | str,
    *,
    inputs: Iterable[Path | str | None] = (),
    force: bool = False,
    what: str = "output",
) -> None:
    """The checks of :func:`prepare_output` without keeping a backup (call it before slow work)."""
    target = Path(path)
    for item in inputs:
        if item is None:
            continue
        source = Path(item)
        if _same_file(source, target) or (
            not target.exists() and source.resolve() == target.resolve()
        ):
            raise OutputError(
                f"{target} is also an input of this command ({what} and input cannot be the "
                "same file): choose another name for the " + what
            )
    if target.is_dir():
        raise OutputError(
            f"{target} is a folder: name a file for the {what} (a folder is never replaced)"
        )
    if (target.exists() or target.is_symlink()) and not force:
        raise OutputError(
            f"{target} already exists: pass --force to replace it (the old file is kept "
            "as a numbered .bak)"
        )


def describe_os_error(exc: OSError, target: Path | str, *, open_elsewhere: bool = False) -> str:
    """One line for a failed write: full disk, read-only or missing folder, or a locked file.

    ``open_elsewhere`` adds "is it open in Excel?" only for a file Excel could be holding.
    """
    target = Path(target)
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"cannot write {target}: the disk is full; free some space and try again"
    if exc.errno in (errno.EROFS,):
        return f"cannot write {target}: the folder is on a read-only disk; choose another folder"
    if exc.errno in (errno.EACCES, errno.EPERM):
        if open_elsewhere and target.exists():
            return f"cannot write {target}: {reason} (is it open in Excel? close it and try again)"
        return (
            f"cannot write {target}: no permission to write in {target.parent or '.'}; "
            "choose another folder"
        )
    if exc.errno == errno.ENOENT:
        return f"cannot write {target}: the folder {target.parent} does not exist"
    return f"cannot write {target}: {reason}"


@contextmanager
def atomic_path(target: Path | str, *, backup: bool = False) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` in one rename.

    With ``backup=True`` an existing target is kept under the next free backup name
    (:func:`keep_backup`; never overwriting an older backup).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}-", suffix=target.suffix + ".tmp", dir=target.parent
        )
    except OSError as exc:
        _name_target(exc, target)
        raise
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        if backup:
            keep_backup(target)
        os.replace(tmp, target)
    except OSError as exc:
        _name_target(exc, target)
        raise
    finally:
        if tmp.exists():
            tmp.unlink()


def sha256_hex(data: bytes | Path | str) -> str:
    """The SHA-256 hex digest of ``data`` (bytes), or of the file at a path (read in blocks)."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        import hashlib  # lazy: OpenSSL's loading costs a command's start-up when unused

        return hashlib.sha256(data).hexdigest()
    return file_digest(data)[0]


def file_digest(path: Path | str) -> tuple[str, int]:
    """(SHA-256 hex digest, size in bytes) of a file, read in 1 MB blocks."""
    import hashlib  # lazy: OpenSSL's loading costs a command's start-up when unused

    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _name_target(exc: OSError, target: Path) -> None:
    """Make the error name the file the user asked for, not our temporary file."""
    if not exc.filename or str(exc.filename).endswith(".tmp"):
        exc.filename = str(target)


def write_text_atomic(target: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically: a full disk leaves no 0-byte file."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_text(text, "utf-8")
    return target


def save_workbook(workbook: object, path: Path | str) -> None:
    """``workbook.save(path)`` for an openpyxl workbook, leaving nothing open when it fails.

    openpyxl's own save leaves its ZipFile open when a write fails (a full disk): the
    interpreter then closes it at exit, writes again, fails again and prints "Exception
    ignored in ZipFile.__del__" with a traceback after the one-line error. Here a failed
    save closes the file without writing the zip directory.
    """
    # Function-local: openpyxl is heavy and this module is imported by ``import xlrate``.
    import datetime  # lazy: used only here
    from zipfile import ZIP_DEFLATED, ZipFile  # lazy: used only here

    from openpyxl.writer.excel import ExcelWriter  # lazy: openpyxl loads on use

    archive = ZipFile(path, "w", ZIP_DEFLATED, allowZip64=True)
    try:
        props = getattr(workbook, "properties", None)
        if props is not None:
            props.modified = datetime.datetime.now(tz=datetime.timezone.utc).replace(tzinfo=None)
        ExcelWriter(workbook, archive).save()
    except BaseException:
        fp, archive.fp = archive.fp, None  # close() must not write to a failing disk again
        if fp is not None:
            with suppress(OSError):
                fp.close()
        raise


_XML_ATTACKS = ("DTDForbidden", "EntitiesForbidden", "ExternalReferenceForbidden")


def describe_read_error(exc: BaseException) -> str:
    """The real reason a workbook could not be read, in one line.

    openpyxl wraps the parser's error in "Unable to read workbook ... Please see the
    exception for more details" and the CLI shows no exception: name the cause instead,
    and say plainly when it was our refusal of an XML DTD (the XXE guard).
    """
    cause: BaseException = exc
    seen = 0
    while (cause.__cause__ or cause.__context__) is not None and seen < 10:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
        seen += 1
    name = type(cause).__name__
    text = " ".join(str(cause).split())
    if name in _XML_ATTACKS or "has a DTD" in text:
        return (
            "it declares an XML DTD or entities, which xlrate refuses (a known attack on "
            "XML readers); open it in Excel and save it again as .xlsx"
        )
    if "Please see the exception" in text:
        text = text.split(" This is most probably")[0]
    return f"{name}: {text[:200]}" if text else name
