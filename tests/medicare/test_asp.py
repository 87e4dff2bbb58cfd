"""ASP: payment limit per billing unit x units, half-up to cents; every row of the file loaded."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

import xlrate
from xlrate.medicare import schedule_store

ZIP = (
    Path(__file__).parents[1]
    / "data"
    / "schedules"
    / "asp_2025q1"
    / "january-2025-asp-pricing-file-12_19_24-final-file.zip"
)


def _file_rows() -> dict[str, tuple[str, str]]:
    """{code: (dosage, payment limit)} read straight from CMS's 508 CSV."""
    with zipfile.ZipFile(ZIP) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        text = zf.read(name).decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "HCPCS Code")
    return {r[0]: (r[2], r[3]) for r in rows[start + 1 :] if r and r[0].strip()}


def test_every_row_is_loaded() -> None:
    expected = _file_rows()
    rel = schedule_store.load_for("asp", 2025, "A")
    assert rel is not None
    assert len(rel.arrays["code"]) == len(expected)
    assert set(rel.arrays["code"].tolist()) == set(expected)


def test_j3301_and_90371_limits_per_billing_unit() -> None:
    rows = _file_rows()
    assert rows["J3301"] == ("10 MG", "0.898")
    assert rows["90371"] == ("1 ML", "146.312")
    one = xlrate.medicare_amount("J3301", year=2025)
    assert one.schedule == "ASP"
    assert one.amount == Decimal("0.90")
    assert "0.898 per billing unit of 10 MG" in one.note
    four = xlrate.medicare_amount("J3301", year=2025, units=4)
    assert four.amount == Decimal("3.59") and four.units == 4  # 3.592
    hep = xlrate.medicare_amount("90371", year=2025, units=3)
    assert hep.amount == Decimal("438.94")  # 438.936
    assert "1 ML" in hep.note


def test_units_column_and_half_up_rounding_against_the_file() -> None:
    rows = _file_rows()
    # Codes whose limit has a 5 in the third decimal: one unit rounds half-up.
    fives = [c for c, (_, limit) in rows.items() if limit.endswith("5") and "." in limit][:20]
    assert fives
    frame = pd.DataFrame({"code": fives * 2, "units": [1] * len(fives) + [7] * len(fives)})
    priced = xlrate.price(frame, year=2025, national=True)
    for code, units, amount, schedule in zip(
        priced["code"], priced["units"], priced["amount"], priced["schedule"], strict=True
    ):
        if schedule != "ASP":
            continue  # a code the PFS prices stays PFS
        expected = (Decimal(rows[code][1]) * Decimal(int(units))).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        )
        assert Decimal(str(amount)).quantize(Decimal("0.01")) == expected, code


def test_a_limit_written_n_a_has_no_amount() -> None:
    rows = _file_rows()
    na = [c for c, (_, limit) in rows.items() if limit == "N/A"]
    assert na
    result = xlrate.medicare_amount(na[0], year=2025)
    assert result.amount is None
    assert result.schedule == "ASP" and "no payment limit" in result.note
