"""Every entry of tests/slow_tests.py names a test file (and function) that exists."""

from __future__ import annotations

from pathlib import Path

from slow_tests import SLOW

ROOT = Path(__file__).resolve().parents[1]


def test_slow_entries_exist() -> None:
    stale = []
    for entry in sorted(SLOW):
        path, _, function = entry.partition("::")
        file = ROOT / path
        if not file.is_file() or (function and f"def {function}(" not in file.read_text("utf-8")):
            stale.append(entry)
    assert not stale, f"remove or rename in tests/slow_tests.py: {stale}"
