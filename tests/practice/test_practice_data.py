"""The sample files are byte-for-byte copies: checksums pinned in SHA256SUMS."""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA = Path(__file__).parents[1] / "data" / "practice"


def test_samples_match_their_checksums() -> None:
    lines = (DATA / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 16  # 13 remittances, 3 fee schedules
    for line in lines:
        digest, name = line.split(maxsplit=1)
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name
    listed = {line.split(maxsplit=1)[1] for line in lines}
    on_disk = {
        str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.is_file() and p.parent != DATA
    }
    assert listed == on_disk
