"""Anesthesia: (base units + time units) x the locality's anesthesia CF, medical direction.

The base units file is one the test writes (xlrate has no copy of CMS's); the conversion
factors are the real 2025 ANES file's, read here with csv.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import xlrate

ANES = Path(__file__).parents[1] / "data" / "cms" / "rvu25d" / "ANES2025.csv"


def _cfs() -> tuple[Decimal, dict[str, Decimal]]:
    with open(ANES, newline="") as fh:
        rows = list(csv.reader(fh))
    national = Decimal(rows[0][3].rsplit(" ", 1)[1])
    local = {
        f"{r[0].strip()}-{r[1].strip()}": Decimal(r[3].strip())
        for r in rows[1:]
        if r and r[0].strip()
    }
    return national, local


@pytest.fixture
def base_units(tmp_path: Path) -> Path:
    path = tmp_path / "base_units.csv"
    path.write_text(
        "Code,Descriptor,Base Units\n00100,Anesth salivary gland,5\n00140,Anesth procedures on eye,5\n01402,Anesth knee arthroplasty,7\n"
    )
    return path


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_national_cf_is_20_3178_and_time_units_are_minutes_over_15(base_units: Path) -> None:
    national, _ = _cfs()
    assert national == Decimal("20.3178")
    result = xlrate.medicare_amount("00100", year=2025, base_units=base_units, minutes=60)
    assert result.schedule == "ANES" and result.status == "priced"
    assert result.amount == _money((5 + Decimal("4.0")) * national)
    # 37 minutes = 2.466... -> 2.5 time units (one decimal)
    odd = xlrate.medicare_amount("01402", year=2025, base_units=base_units, minutes=37)
    assert odd.amount == _money((7 + Decimal("2.5")) * national)
    assert "2.5 time units" in odd.note


def test_locality_cf_and_medical_direction(base_units: Path) -> None:
    _, local = _cfs()
    cf = local["01112-05"]
    frame = pd.DataFrame(
        {
            "code": ["00140"] * 6,
            "modifier": ["AA", "QZ", "QK", "QX", "QY", "AD"],
            "minutes": [45] * 6,
        }
    )
    priced = xlrate.price(frame, year=2025, locality="01112-05", base_units=base_units)
    full = (5 + Decimal(3)) * cf
    expected = [full, full, full / 2, full / 2, full / 2, 3 * cf]  # AD: 3 base units, no time
    assert [Decimal(str(a)).quantize(Decimal("0.01")) for a in priced["amount"]] == [
        _money(e) for e in expected
    ]
    assert set(priced["schedule"]) == {"ANES"}
    assert "present at induction" in priced["note"][5]


def test_without_a_base_units_file_the_note_says_so() -> None:
    result = xlrate.medicare_amount("00100", year=2025, minutes=30)
    assert result.schedule == "ANES"
    assert result.amount is None
    assert result.status == "base_units_missing"
    assert "base units file" in result.note and "xlrate does not have" in result.note


def test_without_minutes_base_units_only(base_units: Path) -> None:
    national, _ = _cfs()
    result = xlrate.medicare_amount("00100", year=2025, base_units=base_units)
    assert result.amount == _money(5 * national)
    assert "base units only" in result.note
    # price() also takes the base units as a mapping {code: units}.
    priced = xlrate.price(pd.DataFrame({"code": ["00100"]}), year=2025, base_units={"00100": 6})
    assert priced["amount"][0] == float(_money(6 * national))
