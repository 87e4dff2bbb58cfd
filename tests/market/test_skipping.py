"""The byte-level skip of unwanted items gives exactly what parsing everything gives."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import CMS_EXAMPLES, UHC

from xlrate.market.reader import CHUNK, Row, _ItemSkipper, _skipping, read_rates

CODES = frozenset({"99213", "99214", "71046", "0001A", "A4253"})


def _read(data: bytes, codes: frozenset[str] | None, chunk: int = CHUNK) -> tuple[list[Row], int]:
    rows: list[Row] = []
    pieces = (data[i : i + chunk] for i in range(0, len(data), chunk))
    summary = read_rates(pieces, source="test", codes=codes, emit=rows.extend)
    return rows, summary.items


def _same_as_full_parse(data: bytes, codes: frozenset[str], chunk: int = CHUNK) -> None:
    everything, items = _read(data, None, chunk)
    kept, items_skipping = _read(data, codes, chunk)
    assert items_skipping == items
    assert sorted(map(repr, kept)) == sorted(map(repr, (r for r in everything if r[0] in codes)))
    assert kept


@pytest.mark.parametrize("chunk", [CHUNK, 4093])
def test_skipping_on_the_real_file(chunk: int) -> None:
    data = gzip.decompress(UHC.read_bytes())
    _same_as_full_parse(data, CODES, chunk)
    skipper = _ItemSkipper(CODES)
    passed = b"".join(_skipping((data[i : i + chunk] for i in range(0, len(data), chunk)), skipper))
    # Nearly every item is dropped before the parser: the fast path really runs.
    assert skipper.skipped > 13_000 and len(passed) < len(data) // 20


def test_skipping_with_brackets_in_strings_and_nested_codes() -> None:
    data = json.loads(gzip.decompress(UHC.read_bytes()))
    data["in_network"] = data["in_network"][:400]
    # Brackets inside strings unbalance the cheap count: such items must still come through.
    for item in data["in_network"][::3]:
        item["description"] = 'a "quoted" [bracket {brace'
    # A bundle whose covered service is a wanted code while its own code is not.
    bundle = dict(data["in_network"][1])
    bundle["billing_code"] = "99999"
    bundle["bundled_codes"] = [
        {"billing_code_type": "CPT", "billing_code": "99213", "description": "x"}
    ]
    data["in_network"].insert(5, bundle)
    # Codes written as numbers and in lower case.
    data["in_network"][7]["billing_code"] = 99213
    data["in_network"][9]["billing_code"] = "a4253"
    for indent in (None, 2):
        text = json.dumps(data, indent=indent).encode()
        _same_as_full_parse(text, CODES | {"99999"}, 2048)
        _same_as_full_parse(text, CODES, 2048)


@pytest.mark.parametrize("path", CMS_EXAMPLES, ids=lambda p: p.name[:40])
def test_skipping_on_the_cms_examples(path: Path) -> None:
    text = path.read_bytes()
    everything, _ = _read(text, None)
    codes = frozenset(r[0] for r in everything[:1])
    _same_as_full_parse(text, codes, 512)
