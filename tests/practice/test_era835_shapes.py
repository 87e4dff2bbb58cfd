"""Issue 10 item 10: an 835's reading does not depend on its shape.

Each ISA declares its own delimiters; a bundle of many payers' remits mixes them. Every
file here is read whole and compared with the sum of its interchanges read one by one,
at several read-chunk sizes (so interchanges and ISAs straddle chunk boundaries)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import xlrate.practice.era835 as era835
from xlrate.practice.era835 import read_era

SAMPLES = Path(__file__).parents[1] / "data" / "practice" / "era835"
# (element, component, terminator as written); none of these occurs in the sample's data
SETS = [
    ("*", ">", "~"),
    ("|", "}", "\n"),
    ("!", "{", "~\n"),
    ("*", ">", "~\r\n"),
    ("|", ">", "'"),
    ("*", "}", "~"),
]


def _interchange(control: int, delims: tuple[str, str, str]) -> str:
    text = (SAMPLES / "keironstoddart__united_healthcare_legacy_sample.txt").read_text("latin-1")
    text = text.strip()
    isa_end = text.index("~")
    fields = text[:isa_end].split("*")
    fields[13] = f"{control:09d}"
    text = "*".join(fields) + text[isa_end:]
    iea = text.rindex("IEA*")
    text = text[:iea] + f"IEA*1*{control:09d}~"
    element, component, terminator = delims
    text = text.translate({ord("*"): element, ord(">"): component})
    return text.replace("~", terminator)


def _totals(paths: list[Path]) -> tuple[int, float, float]:
    result = read_era([str(p) for p in paths])
    by_payer = result.by_payer
    return (
        int(by_payer["claims"].sum()),
        round(float(by_payer["billed"].sum()), 2),
        round(float(by_payer["paid"].sum()), 2),
    )


@pytest.mark.parametrize("seed", range(6))
def test_interchanges_with_their_own_delimiters_read_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = random.Random(seed)
    pieces = [_interchange(n + 1, rng.choice(SETS)) for n in range(12)]
    singles = []
    for n, piece in enumerate(pieces):
        path = tmp_path / f"single{n}.835"
        path.write_text(piece, "latin-1")
        singles.append(path)
    expected = _totals(singles)
    whole = tmp_path / "bundle.835"
    whole.write_text("".join(p + rng.choice(["", "\n", "\r\n"]) for p in pieces), "latin-1")
    for chunk in (777, 1500, 4096, 1 << 20):
        monkeypatch.setattr(era835, "CHUNK_SIZE", chunk)
        assert _totals([whole]) == expected, chunk


def test_every_character_is_split_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Per-interchange work costs nothing: a change of delimiters does not re-join and
    re-split the rest of the read chunk (which made a mixed file 30x slower)."""
    rng = random.Random(7)
    path = tmp_path / "bundle.835"
    path.write_text("".join(_interchange(n + 1, rng.choice(SETS)) for n in range(300)), "latin-1")
    split_chars = 0
    real_split = era835._split

    def counting(text: str, terminator: str) -> list[str]:
        nonlocal split_chars
        split_chars += len(text)
        return real_split(text, terminator)

    monkeypatch.setattr(era835, "_split", counting)
    monkeypatch.setattr(era835, "CHUNK_SIZE", 1 << 16)
    read_era([str(path)])
    size = path.stat().st_size
    assert size * 0.95 <= split_chars <= size
