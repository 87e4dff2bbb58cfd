"""Line-level 835 records (read_era(..., lines=True)): consistent with the totals, no PHI."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from xlrate.practice.era835 import read_era

ERA = Path(__file__).parent.parent / "data" / "practice" / "era835"
GOOD = sorted(p for p in ERA.iterdir() if not p.name.startswith("MALFORMED__"))


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_lines_add_up_to_the_totals(path: Path) -> None:
    result = read_era(path, lines=True)
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
    for line in result.lines:
        row = sums[(line.payer, line.code, line.modifiers)]
        sign = -1 if line.claim_status == "22" else 1
        row[0] += sign
        row[1] += line.units
        row[2] += line.billed
        row[3] += line.allowed
        row[4] += line.paid
    frame = result.by_code
    assert len(frame) == len(sums)
    for record in frame.to_dict("records"):
        row = sums[(record["payer"], record["code"], record["modifiers"])]
        assert int(row[0]) == record["lines"]
        assert float(row[1]) == pytest.approx(record["units"])
        for index, name in ((2, "billed"), (3, "allowed"), (4, "paid")):
            assert float(row[index]) == pytest.approx(record[name], abs=0.005)


def test_totals_unchanged_by_the_option() -> None:
    plain = read_era(GOOD)
    with_lines = read_era(GOOD, lines=True)
    assert plain.by_code.equals(with_lines.by_code)
    assert plain.by_payer.equals(with_lines.by_payer)
    assert plain.lines == []


def test_fields_of_a_known_line() -> None:
    # keironstoddart__united_healthcare_legacy_sample.txt, first claim, second line:
    # SVC*HC:B4152*184.86*0**277~ DTM*472*20210101~ CAS*PR*1*105.26~ CAS*CO*45*79.6~
    lines = read_era(ERA / "keironstoddart__united_healthcare_legacy_sample.txt", lines=True).lines
    line = lines[1]
    assert (line.claim, line.claim_status, line.line) == ("001-18573-358", "1", 2)
    assert line.service_date == date(2021, 1, 1)
    assert (line.code, line.modifiers, line.units) == ("B4152", "", Decimal(277))
    assert (line.billed, line.paid) == (Decimal("184.86"), Decimal(0))
    assert line.allowed == Decimal("105.26")  # paid 0 + PR 105.26 (no AMT*B6)
    assert line.adjustments == (("PR", "1", Decimal("105.26")), ("CO", "45", Decimal("79.6")))


def test_reversal_lines_are_negative() -> None:
    lines = read_era(ERA / "oopfactory__Example1_GripElements_4010.txt", lines=True).lines
    reversals = [line for line in lines if line.claim_status == "22"]
    assert reversals
    assert all(line.units < 0 and line.billed <= 0 for line in reversals)


def test_no_names_or_member_ids_in_line_records() -> None:
    checked = 0
    for path in GOOD:
        text = path.read_bytes().decode("latin-1")
        element = text[3] if text.startswith("ISA") else "*"
        names: set[str] = set()
        for segment in text.replace("\n", "~").split("~"):
            parts = segment.strip().split(element)
            if parts[0] == "NM1" and len(parts) > 3 and parts[1] in ("QC", "IL", "74"):
                names.update(p for p in parts[3:] if len(p) > 2 and p not in ("MI", "34", "HN"))
        records = repr(read_era(path, lines=True).lines)
        for name in names:
            assert f"'{name}'" not in records, (path.name, name)
        checked += len(names)
    assert checked > 10  # the files do name patients and members


def test_a_garbled_adjustment_amount_changes_nothing_else(tmp_path: Path) -> None:
    text = (ERA / "tigershark__835-example.txt").read_text("latin-1")
    bad = tmp_path / "bad.835"
    bad.write_text(text.replace("CAS|CO|45|11130.91", "CAS|CO|45|ELEVEN"), "latin-1")
    plain, with_lines = read_era(bad), read_era(bad, lines=True)
    assert plain.skipped_segments == with_lines.skipped_segments
    assert plain.by_code.equals(with_lines.by_code)
    assert with_lines.lines[1].adjustments == ()


def test_claim_dates_when_the_line_has_none(tmp_path: Path) -> None:
    # Without DTM*472 at the line, the claim's DTM*232 (statement period start) is used.
    text = (ERA / "tigershark__835-example.txt").read_text("latin-1")
    path = tmp_path / "no472.835"
    path.write_text(text.replace("~DTM|472|20120221", ""), "latin-1")
    lines = read_era(path, lines=True).lines
    assert [line.service_date for line in lines] == [date(2012, 2, 22), date(2012, 2, 23)]
