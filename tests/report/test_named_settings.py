"""The analysis workbook names its Medicare settings, and the Excel functions answer from them."""

from __future__ import annotations

from typing import Any

import openpyxl
from report_helpers import Demo

from xlrate.medicare.pricing import medicare_amount


class _Name:
    def __init__(self, value: Any) -> None:
        self.refers_to_range = type("Range", (), {"value": value})()


class _Book:
    """The two things the functions read of an xlwings Book, taken from the saved file."""

    def __init__(self, path: Any) -> None:
        wb = openpyxl.load_workbook(path)
        self.fullname = str(path)
        self.names = {}
        for name, defined in wb.defined_names.items():
            for sheet, ref in defined.destinations:
                if ":" in ref:
                    continue  # a column of a table, not a setting
                self.names[name] = _Name(wb[sheet][ref.replace("$", "")].value)


def test_workbook_defines_locality_year_and_release(demo: Demo) -> None:
    book = _Book(demo.path)
    assert book.names["Locality"].refers_to_range.value == demo.analysis.locality
    assert book.names["MedicareYear"].refers_to_range.value == demo.analysis.year
    # The release is not pinned: the Refresh button moves the workbook to the year's newest.
    assert "MedicareRelease" not in book.names


def test_function_cells_pass_the_workbooks_locality_and_year(demo: Demo, tmp_path: Any) -> None:
    """The macro workbook's function cells name Locality and MedicareYear as arguments, and
    those names hold the analysis's locality and year, so the cells price for them."""
    from xlrate.excel import addin
    from xlrate.medicare import cells

    built = addin.build_addin(tmp_path / "analysis.xlsm", template=demo.path)
    book = _Book(built)
    locality = book.names["Locality"].refers_to_range.value
    year = book.names["MedicareYear"].refers_to_range.value
    ws = openpyxl.load_workbook(built)[addin.FUNCTIONS_SHEET]
    assert ws["C4"].value == '=MEDICARE_RATE(A4,B4,Locality,"nonfacility",MedicareYear)'
    got = cells.medicare_rate(ws["A4"].value, ws["B4"].value, locality, "nonfacility", year)
    want = medicare_amount(ws["A4"].value, locality=demo.analysis.locality, year=demo.analysis.year)
    assert want.amount is not None and got == float(want.amount)
