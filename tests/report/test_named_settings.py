"""The analysis workbook names its Medicare settings, and the Excel functions answer from them."""

from __future__ import annotations

from typing import Any

import openpyxl
from report_helpers import Demo

from xlrate.excel import functions
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


def test_functions_in_the_workbook_price_for_its_locality(demo: Demo) -> None:
    functions._settings_cache.clear()
    caller = type("Caller", (), {"sheet": type("Sheet", (), {"book": _Book(demo.path)})()})()
    got = functions.MEDICARE_RATE(99213.0, None, None, None, None, caller)
    want = medicare_amount("99213", locality=demo.analysis.locality, year=demo.analysis.year)
    assert want.amount is not None and got == float(want.amount)
