"""The Excel functions, called as xlwings calls them: Excel's values, cells and ranges.

Golden amounts come from CMS's own PFREV25C (CPT 76145, 2025, San Francisco 01112-05:
$1,339.81) and from the engine for everything else, so these tests check the Excel skin,
not the arithmetic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import xlrate
from xlrate.excel import functions
from xlrate.excel.functions import MEDICARE_LOCALITY, MEDICARE_RATE, PCT_MEDICARE

SF = "01112-05"


def amount(code: str, modifier: str | None = None, **kw: Any) -> float:
    result = xlrate.medicare_amount(code, modifier, **kw)
    assert result.amount is not None, result.note
    return float(result.amount)


@pytest.fixture(autouse=True)
def _fresh_settings_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLRATE_PROFILE", raising=False)
    functions._settings_cache.clear()
    functions._read_profile.cache_clear()


class FakeName:
    def __init__(self, value: Any) -> None:
        self.refers_to_range = type("R", (), {"value": value})()


class FakeBook:
    """The part of an xlwings Book the functions read: ``names[...]``, ``fullname``."""

    def __init__(self, names: dict[str, Any], fullname: str = "/tmp/practice/analysis.xlsm"):
        self.names = {k: FakeName(v) for k, v in names.items()}
        self.fullname = fullname


class FakeCaller:
    def __init__(self, book: FakeBook) -> None:
        self.sheet = type("S", (), {"book": book})()


def caller(fullname: str = "/tmp/practice/analysis.xlsm", **names: Any) -> FakeCaller:
    return FakeCaller(FakeBook(names, fullname))


# --- values as Excel sends them ------------------------------------------------------------


def test_cms_golden_amount_from_excel_floats() -> None:
    assert MEDICARE_RATE(76145.0, None, SF, None, 2025.0) == 1339.81


def test_scalar_matches_engine_for_codes_typed_as_numbers_and_text() -> None:
    expected = amount("99213", locality=SF, year=2025)
    assert MEDICARE_RATE(99213.0, None, SF, None, 2025.0) == expected
    assert MEDICARE_RATE("99213", "", "01112-05", "nonfacility", 2025) == expected
    # Excel drops the leading zeros of an anesthesia-style code; a number cell pads back.
    assert MEDICARE_RATE(100.0, None, SF) == MEDICARE_RATE("00100", None, SF)


def test_modifier_as_number_and_facility_setting() -> None:
    # 71046 (chest x-ray) splits into 26 and TC; Excel sends the modifier 26 as 26.0.
    assert MEDICARE_RATE(71046.0, 26.0, SF, None, 2025.0) == amount(
        "71046", "26", locality=SF, year=2025
    )
    facility = amount("99213", locality=SF, year=2025, setting="facility")
    assert MEDICARE_RATE(99213.0, None, SF, "facility", 2025.0) == facility
    assert MEDICARE_RATE(99213.0, None, SF, 22.0, 2025.0) == facility  # POS 22: outpatient
    assert MEDICARE_RATE(99213.0, None, SF, 11.0, 2025.0) == amount("99213", locality=SF, year=2025)


def test_locality_given_as_zip_number() -> None:
    assert MEDICARE_RATE(99213.0, None, 94110.0, None, 2025.0) == amount(
        "99213", locality=SF, year=2025
    )


def test_pct_medicare() -> None:
    medicare = amount("99213", locality=SF, year=2025)
    assert PCT_MEDICARE(125.0, 99213.0, None, SF, None, 2025.0) == pytest.approx(125 / medicare)
    assert PCT_MEDICARE("$1,339.81", 76145.0, None, SF, None, 2025.0) == pytest.approx(1.0)
    assert (
        PCT_MEDICARE("Not a benefit", 99213.0, None, SF)
        == "no rate: 'Not a benefit' is not an amount"
    )
    assert PCT_MEDICARE(None, 99213.0, None, SF) == ""


def test_date_cell_as_year() -> None:
    assert MEDICARE_RATE(99213.0, None, SF, None, dt.datetime(2025, 1, 1)) == amount(
        "99213", locality=SF, year=2025
    )


# --- ranges ---------------------------------------------------------------------------------


def test_column_range_in_column_out_with_blanks() -> None:
    codes = [[99213.0], [None], [76145.0], [99214.0]]
    out = MEDICARE_RATE(codes, None, SF, None, 2025.0)
    assert out == [
        [amount("99213", locality=SF, year=2025)],
        [""],
        [1339.81],
        [amount("99214", locality=SF, year=2025)],
    ]


def test_block_range_keeps_shape_and_broadcasts_single_cells() -> None:
    codes = [[99213.0, 99214.0, 99215.0], [76145.0, None, "G0008"]]
    out = MEDICARE_RATE(codes, None, [[SF]], None, 2025.0)
    assert len(out) == 2 and all(len(row) == 3 for row in out)
    assert out[1][0] == 1339.81 and out[1][1] == ""
    for row_codes, row_out in zip(codes, out, strict=True):
        for code, value in zip(row_codes, row_out, strict=True):
            if code is not None:
                assert value == MEDICARE_RATE(code, None, SF, None, 2025.0)


def test_pct_over_matching_ranges_and_per_row_localities() -> None:
    rates = [[150.0], [1500.0]]
    codes = [[99213.0], [76145.0]]
    localities = [[SF], ["NATIONAL"]]
    out = PCT_MEDICARE(rates, codes, None, localities, None, 2025.0)
    assert out[0][0] == pytest.approx(150 / amount("99213", locality=SF, year=2025))
    assert out[1][0] == pytest.approx(1500 / amount("76145", locality="NATIONAL", year=2025))


def test_numpy_array_and_python_list() -> None:
    out = MEDICARE_RATE(np.array([[99213.0], [99214.0]]), None, SF, None, 2025.0)
    assert out == [
        [amount("99213", locality=SF, year=2025)],
        [amount("99214", locality=SF, year=2025)],
    ]
    assert MEDICARE_RATE([99213.0, 99214.0], None, SF, None, 2025.0) == [
        amount("99213", locality=SF, year=2025),
        amount("99214", locality=SF, year=2025),
    ]


def test_mismatched_ranges_answer_text() -> None:
    out = PCT_MEDICARE([[1.0], [2.0]], [[99213.0], [99214.0], [99215.0]])
    assert out.startswith("error: ranges differ in size")


def test_locality_range() -> None:
    out = MEDICARE_LOCALITY([[94110.0], ["94110-1234"], [None], ["abc"]])
    assert out[0] == [SF] and out[1] == [SF] and out[2] == [""]
    assert out[3][0].startswith("error: 'abc' is not a ZIP code")


def test_locality_pads_zip_numbers() -> None:
    # Excel shows 02108 (Boston) but sends 2108.0.
    assert MEDICARE_LOCALITY(2108.0) == xlrate.resolve_zip("02108").locality


# --- missing arguments ------------------------------------------------------------------------


def test_missing_arguments_come_from_named_cells() -> None:
    book = caller(Locality=SF, MedicareYear=2025.0, Setting="facility")
    expected = amount("99213", locality=SF, year=2025, setting="facility")
    assert MEDICARE_RATE(99213.0, None, None, None, None, book) == expected
    # An argument given wins over the named cell.
    assert MEDICARE_RATE(99213.0, None, "NATIONAL", "nonfacility", 2025.0, book) == amount(
        "99213", locality="NATIONAL", year=2025
    )


def test_zip_in_the_locality_cell() -> None:
    book = caller(Locality=94110.0, MedicareYear=2025.0)
    assert MEDICARE_RATE(99213.0, None, None, None, None, book) == amount(
        "99213", locality=SF, year=2025
    )


def test_missing_arguments_come_from_the_profile(tmp_path: Any) -> None:
    (tmp_path / "practice.toml").write_text(
        '[practice]\nname = "Test"\nlocality = "01112-05"\nyear = 2025\nsetting = "facility"\n',
        encoding="utf-8",
    )
    book = caller(fullname=str(tmp_path / "analysis.xlsm"))
    assert MEDICARE_RATE(99213.0, None, None, None, None, book) == amount(
        "99213", locality=SF, year=2025, setting="facility"
    )


def test_no_caller_uses_engine_defaults() -> None:
    assert MEDICARE_RATE(99213.0) == float(xlrate.medicare_amount("99213").amount or Decimal(0))


# --- never an exception ---------------------------------------------------------------------


def test_status_b_reads_as_text() -> None:
    out = MEDICARE_RATE(20930.0, None, SF, None, 2025.0)
    assert out.startswith("not priced: status B (bundled)")
    assert PCT_MEDICARE(100.0, 20930.0, None, SF, None, 2025.0).startswith(
        "not priced: status B (bundled)"
    )


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("abc",), "error: 'abc' is not a HCPCS/CPT code"),
        ((99999.0, None, SF, None, 2025.0), "not priced: 99999 is not in the 2025D"),
        ((99213.0, "Office setting", SF), "error: modifier 'Office setting' is not a modifier"),
        ((99213.0, None, "99999-99"), "error: 99999-99 is not a Medicare locality"),
        ((99213.0, None, "Springfield"), "error: unknown locality 'Springfield'"),
        ((99213.0, None, "00000"), "error: ZIP 00000 is not in CMS's ZIP code"),
        ((99213.0, None, SF, "hospital-ish"), "error: 'hospital-ish' is not a setting"),
        ((99213.0, None, SF, None, 1999.0), "error: no Medicare data for 1999"),
        (({"not": "a cell"},), "error:"),
        ((True,), "error:"),
    ],
)
def test_bad_input_answers_text(args: tuple[Any, ...], start: str) -> None:
    out = MEDICARE_RATE(*args)
    assert isinstance(out, str) and out.startswith(start), out


def test_bad_rows_do_not_spoil_good_rows() -> None:
    out = MEDICARE_RATE([[99213.0], ["abc"], [20930.0], [76145.0]], None, SF, None, 2025.0)
    assert out[0][0] == amount("99213", locality=SF, year=2025)
    assert out[1][0].startswith("error:") and out[2][0].startswith("not priced:")
    assert out[3][0] == 1339.81


def test_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("a function tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    assert MEDICARE_RATE(76145.0, None, SF, None, 2025.0) == 1339.81
    assert MEDICARE_LOCALITY(94110.0) == SF


def test_decorated_for_excel_category_and_docs() -> None:
    from xlrate.excel.addin import functions_with_metadata

    with functions_with_metadata() as module:
        for name in ("PCT_MEDICARE", "MEDICARE_RATE", "MEDICARE_LOCALITY"):
            info = getattr(module, name).__xlfunc__
            assert info["category"] == "xlrate"
            assert info["ret"]["doc"] and "Positional" not in info["ret"]["doc"]
            visible = [a for a in info["args"] if a["name"] != "caller"]
            assert all(a["options"].get("ndim") == 2 for a in visible)
            assert all("convert" not in a["options"] for a in visible)
            assert all(not a["doc"].startswith("Positional argument") for a in visible)


def test_locality_and_release_in_use_from_the_report_names() -> None:
    """A report workbook without a year name: the release its Medicare sheet was priced with.

    Read by the names the report writes (``Locality``, ``MedicareReleaseInUse``), never
    from the Summary's display text.
    """
    book = caller(Locality="01112-05", MedicareReleaseInUse="2025D")
    assert MEDICARE_RATE(99213.0, None, None, None, None, book) == amount(
        "99213", locality=SF, release="2025D"
    )
    functions._settings_cache.clear()
    national = caller(
        "/tmp/practice/national.xlsm", Locality="NATIONAL", MedicareReleaseInUse="2026C"
    )
    # The workbook's release, not the engine's default (the newest complete one, 2025D).
    assert MEDICARE_RATE(99213.0, None, None, None, None, national) == amount(
        "99213", locality="NATIONAL", release="2026C"
    )
    assert amount("99213", locality="NATIONAL", release="2026C") != amount(
        "99213", locality="NATIONAL"
    )
