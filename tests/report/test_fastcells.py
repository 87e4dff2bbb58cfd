"""The fast cell writer writes exactly what openpyxl's own writer writes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from xlrate.report.fastcells import fast_cells


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def test_same_bytes_as_openpyxl(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    values = [
        1,
        0,
        -3,
        1.5,
        0.1 + 0.2,
        1e-300,
        123456789.123456789,
        float("nan"),
        "99213",
        "a & b < c > d",
        " padded ",
        "",
        None,
        True,
        "=A1/B1",
        '=IF(A1>0,"x&y","")',
        'l\'apostrophe "quoted"',
    ]
    for row, value in enumerate(values, start=1):
        ws.cell(row, 1, value)
        styled = ws.cell(row, 2, value)
        styled.font = Font(bold=True)
        styled.number_format = "0.0%"
    plain, fast = tmp_path / "plain.xlsx", tmp_path / "fast.xlsx"
    wb.save(plain)
    with fast_cells():
        wb.save(fast)
    assert _sheet_xml(plain) == _sheet_xml(fast)
