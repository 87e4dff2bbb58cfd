"""Benchmarks for the infrastructure issue 9 replaced with libraries (each beside what it replaced).

    .venv/bin/python scripts/benches/base.py

- .xlsx values: ``xlrate.xlsx.read_sheets`` (zip guard + python-calamine) against the
  readers it replaced, on the same generated 20,000-row fee schedule: the hand-written
  ElementTree reader (``practice/_xlsx.py`` as of 42a5840, loaded from git history when the
  checkout has it), openpyxl read-only (the old fallback) and ``pandas.read_excel`` (the old
  volumes/charges reader).
- Zip bomb: time to refuse a real 4 MB .xlsx whose extra member inflates to 4 GB, against
  reading the genuine 20,000-row workbook (the guard must cost less than a real read).
- Update lock: ``filelock.FileLock`` acquire + release against the old primitive
  (``os.open`` + ``fcntl.flock`` + unlock + close), 2,000 times each.
- SHA-256: ``xlrate.files.file_digest`` (1 MB blocks) against ``hashlib.sha256(read_bytes())``
  (the old ``share.sha256``) on a 64 MB file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scripts/, run on its own
from benches import best  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def _old_xlsx_reader() -> types.ModuleType | None:
    """practice/_xlsx.py as it was before calamine replaced it (from git), or None."""
    try:
        source = subprocess.run(
            ["git", "show", "42a5840:xlrate/practice/_xlsx.py"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("old_xlsx")
    exec(compile(source, "old_xlsx.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def _row(
    name: str, value: float, unit: str, baseline: str, base: float, target: str
) -> dict[str, object]:
    return {
        "benchmark": name,
        "value": round(value, 4),
        "unit": unit,
        "baseline": baseline,
        "baseline_value": round(base, 4),
        "target": target,
    }


def xlsx_rows(tmp: Path) -> list[dict[str, object]]:
    import openpyxl
    import pandas as pd
    from practice import make_fee_xlsx

    from xlrate.xlsx import read_sheets

    path = tmp / "fees_20000.xlsx"
    make_fee_xlsx(path)

    def ours() -> int:
        return sum(len(list(rows)) for _, rows in read_sheets(path))

    def with_openpyxl() -> int:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return sum(1 for ws in book.worksheets for _ in ws.iter_rows(values_only=True))
        finally:
            book.close()

    assert ours() == with_openpyxl()
    new = best(ours)
    results = []
    old = _old_xlsx_reader()
    if old is not None:

        def with_old() -> int:
            reader = old.XlsxReader(path)
            try:
                return sum(len(list(reader.rows(part))) for _, part in reader.sheets())
            finally:
                reader.close()

        results.append(
            _row(
                "read every value of a 20,000-row .xlsx (zip guard + calamine)",
                new,
                "s",
                "the hand-written ElementTree reader it replaced (42a5840)",
                best(with_old),
                "faster than what it replaced",
            )
        )
    results.append(
        _row(
            "read every value of a 20,000-row .xlsx (zip guard + calamine)",
            new,
            "s",
            "openpyxl read-only values (the old fallback)",
            best(with_openpyxl, 1),
            "faster than what it replaced",
        )
    )
    results.append(
        _row(
            "read every value of a 20,000-row .xlsx (zip guard + calamine)",
            new,
            "s",
            "pandas.read_excel (the old volumes/charges reader)",
            best(lambda: pd.read_excel(path, header=4), 1),
            "faster than what it replaced",
        )
    )
    return results


def bomb_rows(tmp: Path) -> list[dict[str, object]]:
    from zipbomb import bomb_xlsx

    from xlrate.errors import XlrateError
    from xlrate.xlsx import read_sheets

    bomb = bomb_xlsx(tmp / "bomb.xlsx", 4095)
    real = tmp / "fees_20000.xlsx"

    def refuse() -> None:
        try:
            list(read_sheets(bomb))
        except XlrateError:
            return
        raise SystemExit("the zip bomb was not refused")

    size = bomb.stat().st_size / 2**20
    return [
        _row(
            f"refuse a {size:.1f} MB .xlsx that inflates to 4 GB (one-line error)",
            best(refuse) * 1000,
            "ms",
            "reading the genuine 20,000-row .xlsx",
            best(lambda: [list(rows) for _, rows in read_sheets(real)]) * 1000,
            "well under 1 s (was 36 s and 4.3 GB)",
        )
    ]


def lock_rows(tmp: Path) -> list[dict[str, object]]:
    from filelock import FileLock

    path = tmp / ".update.lock"
    n = 2000

    def with_filelock() -> None:
        lock = FileLock(path)
        for _ in range(n):
            lock.acquire()
            lock.release()

    def with_flock() -> None:
        import fcntl

        for _ in range(n):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    if sys.platform == "win32":
        return []
    return [
        _row(
            "update lock: acquire + release (filelock), per call",
            best(with_filelock) / n * 1e6,
            "us",
            "the old primitive: os.open + fcntl.flock + unlock + close",
            best(with_flock) / n * 1e6,
            "slower, by 0.1 ms once per update (which takes seconds): filelock's "
            "bookkeeping (thread-local state, stat checks) buys Windows/POSIX in one tested lock",
        )
    ]


def sha_rows(tmp: Path) -> list[dict[str, object]]:
    from xlrate.files import file_digest

    path = tmp / "blob.bin"
    path.write_bytes(os.urandom(1 << 20) * 64)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    assert file_digest(path)[0] == expected
    return [
        _row(
            "sha256 of a 64 MB file (files.file_digest, 1 MB blocks)",
            best(lambda: file_digest(path)),
            "s",
            "hashlib.sha256(path.read_bytes()) (the old share.sha256)",
            best(lambda: hashlib.sha256(path.read_bytes()).hexdigest()),
            "within 1.2x, flat memory",
        )
    ]


def rows() -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="xlrate-bench-") as name:
        tmp = Path(name)
        return xlsx_rows(tmp) + bomb_rows(tmp) + lock_rows(tmp) + sha_rows(tmp)


if __name__ == "__main__":
    for row in rows():
        print(json.dumps(row))
