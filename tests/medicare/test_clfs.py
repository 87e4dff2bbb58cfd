"""CLFS: every row of CMS's files is loaded, and the published limits come out to the cent.

Expected values are read from CMS's files here with csv/openpyxl (not with xlrate's reader).
"""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import xlrate
from xlrate.medicare import clfs, schedule_store

DATA = Path(__file__).parents[1] / "data" / "schedules"
ZIP_2025 = DATA / "clfs_2025q1" / "25CLABQ1.zip"
XLSX_2026 = DATA / "clfs_2026q1" / "CLFS_2026_Q1V1.xlsx"


def _rows_2025() -> list[list[str]]:
    with zipfile.ZipFile(ZIP_2025) as zf:
        text = zf.read("CLFS 2025 Q1V1.csv").decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r[:2] == ["YEAR", "HCPCS"])
    return [r for r in rows[start + 1 :] if r and r[0].strip()]


def _rows_2026() -> list[list[str]]:
    from openpyxl import load_workbook

    ws = load_workbook(XLSX_2026, read_only=True).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(rows) if r[:2] == ["YEAR", "HCPCS"])
    return [["" if v is None else str(v) for v in r] for r in rows[start + 1 :] if r[1] is not None]


def test_every_2025_row_is_loaded_with_its_rate() -> None:
    expected = _rows_2025()
    assert len(expected) == 2087  # 2,087 data rows under the header of CMS's CSV
    rel = schedule_store.load_for("clfs", 2025, "A")
    assert rel is not None and rel.info.release_id == "2025A"
    a = rel.arrays
    assert len(a["code"]) == len(expected)
    for i, r in enumerate(expected):
        assert (a["code"][i], a["modifier"][i], a["indicator"][i]) == (r[1], r[2], r[4])
        assert a["rate_cents"][i] == int(Decimal(r[5]) * 100)


def test_85025_is_7_77_in_2025_q1() -> None:
    result = xlrate.medicare_amount("85025", year=2025)
    assert result.schedule == "CLFS"
    assert result.amount == Decimal("7.77")
    assert result.release == "2025A"
    assert result.status == "priced"
    qw = xlrate.medicare_amount("85025", "QW", year=2025)
    assert qw.amount == Decimal("7.77") and "85025-QW" in qw.note


def test_indicator_l_has_no_national_amount() -> None:
    local = [r for r in _rows_2025() if r[4] == "L"]
    assert local
    result = xlrate.medicare_amount(local[0][1], year=2025)
    assert result.amount is None
    assert result.status == "carrier_priced"
    assert "priced by your MAC" in result.note


def test_2026_workbook_numeric_codes_are_padded_and_every_row_loaded() -> None:
    expected = _rows_2026()
    rel = schedule_store.load_for("clfs", 2026, "A")
    assert rel is not None and rel.info.release_id == "2026A"
    assert len(rel.arrays["code"]) == len(expected) == 2162
    # Excel stores 80053 as a number; the file's codes padded to 5 characters match ours.
    file_codes = [str(r[1]).removesuffix(".0").zfill(5) for r in expected]
    assert rel.arrays["code"].tolist() == file_codes
    frame = pd.DataFrame({"code": ["80053", "85025", "80061"]})
    priced = xlrate.price(frame, year=2026, national=True)
    assert priced["schedule"].tolist() == ["CLFS"] * 3
    assert priced["amount"].tolist() == [10.56, 7.77, 13.39]
    assert set(priced["release"]) == {"2026A"}


def test_reader_parses_the_zip_and_refuses_a_file_without_the_columns() -> None:
    arrays = clfs.read(ZIP_2025.read_bytes(), ZIP_2025.name, 2025)
    assert clfs.release_id(arrays) == "2025A"
    with pytest.raises(xlrate.XlrateError, match="no header row with the CLFS columns"):
        clfs.read(b"a,b,c\n1,2,3\n", "broken.csv", 2025)
