"""The buttons' work, on an openpyxl workbook: the demo workbook the report builds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from xlrate.errors import ReportError, UpdateError
from xlrate.excel import buttons


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xlrate.cli import cli

    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    result = CliRunner().invoke(cli, ["demo", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def medicare_cells(wb: Any) -> list[list[Any]]:
    return [[c.value for c in row] for row in wb["Medicare"].iter_rows()]


def test_settings_from_the_summary_sheet(demo: Path) -> None:
    settings = buttons.workbook_settings(openpyxl.load_workbook(demo))
    assert settings.year == 2025 and settings.release is None
    assert settings.locality is not None


def test_refresh_reprices_the_medicare_sheet_as_the_report_wrote_it(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    before = medicare_cells(wb)
    wb["Medicare"]["D5"] = 0.01  # a stale amount
    calls: list[tuple[Any, Any]] = []

    class Result:
        message = "Medicare release 2025D is up to date."

    def updater(year: Any, release: Any) -> Result:
        calls.append((year, release))
        return Result()

    result = buttons.refresh_medicare(wb, updater=updater)
    assert calls == [(2025, None)]  # the workbook's year, the newest release of it
    assert result.release == "2025D" and result.rows > 10
    assert "Medicare release 2025D in use" in result.message
    assert medicare_cells(wb) == before  # the engine's amounts, RVUs, GPCIs, CF, notes


def test_refresh_reads_the_workbook_by_its_names_not_its_headings(demo: Path) -> None:
    """Retitled headings and labels change nothing: the table is found by Medicare_Code..."""
    from xlrate.report.readback import named_value

    wb = openpyxl.load_workbook(demo)
    for cell in wb["Medicare"][4]:
        if isinstance(cell.value, str):
            cell.value = "Spalte " + cell.value  # e.g. a translated template
    before = medicare_cells(wb)
    wb["Medicare"]["D5"] = 0.01
    result = buttons.refresh_medicare(wb, update=False)
    assert medicare_cells(wb) == before
    # The release in use is one named cell; the Summary and Medicare!A2 state it by formula.
    assert named_value(wb, "MedicareReleaseInUse") == result.release == "2025D"
    assert "MedicareReleaseInUse" in wb["Medicare"]["A2"].value


def test_failed_update_leaves_the_workbook_unchanged(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    wb["Medicare"]["D5"] = 0.01
    before = medicare_cells(wb)

    def offline(year: Any, release: Any) -> None:
        raise UpdateError("cannot reach www.cms.gov: check the connection")

    with pytest.raises(UpdateError, match="not refreshed: cannot reach www.cms.gov"):
        buttons.refresh_medicare(wb, updater=offline)
    assert medicare_cells(wb) == before


def test_refresh_without_medicare_sheet_says_what_to_do() -> None:
    wb = openpyxl.Workbook()
    with pytest.raises(ReportError, match="xlrate build"):
        buttons.refresh_medicare(wb, update=False)


def test_rebuild_copies_fresh_sheets_into_the_workbook(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo)
    wb["Summary"]["A1"] = "edited"
    wb.create_sheet("Notes")["A1"] = "mine"
    refreshed = buttons.rebuild_analysis(wb, built=demo)
    assert "Summary" in refreshed and "Medicare" in refreshed
    assert wb["Summary"]["A1"].value == openpyxl.load_workbook(demo)["Summary"]["A1"].value
    assert wb["Notes"]["A1"].value == "mine"


def test_rebuild_needs_the_profile(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    with pytest.raises(ReportError, match="cannot find the practice profile"):
        buttons.rebuild_analysis(wb, tmp_path / "book.xlsm")


class FakeRange:
    def __init__(
        self, sheet: FakeSheet, address: tuple[int, int], last: tuple[int, int] | None = None
    ) -> None:
        self.sheet, self.address, self.last = sheet, address, last

    @property
    def formula(self) -> Any:
        return self.sheet.cells.get(self.address)

    @formula.setter
    def formula(self, value: Any) -> None:
        self.sheet.calls += 1
        if self.last is None:
            self.sheet.cells[self.address] = value
            return
        r, c0 = self.address
        assert self.last[0] == r and len(value) == self.last[1] - c0 + 1  # one row
        for offset, item in enumerate(value):
            self.sheet.cells[(r, c0 + offset)] = item

    def clear_contents(self) -> None:
        self.sheet.cells.pop(self.address, None)


class FakeUsed:
    def __init__(self, sheet: FakeSheet) -> None:
        rows = [r for r, _ in sheet.cells] or [1]
        cols = [c for _, c in sheet.cells] or [1]
        self.row, self.column = min(rows), min(cols)
        self.formula = [
            [sheet.cells.get((r, c)) for c in range(self.column, max(cols) + 1)]
            for r in range(self.row, max(rows) + 1)
        ]


class FakeSheet:
    def __init__(self, name: str, cells: dict[tuple[int, int], Any]) -> None:
        self.name, self.cells = name, dict(cells)
        self.calls = 0

    @property
    def used_range(self) -> FakeUsed:
        return FakeUsed(self)

    def range(self, address: tuple[int, int], last: tuple[int, int] | None = None) -> FakeRange:
        return FakeRange(self, address, last)


class FakeBook:
    """The part of an xlwings Book that mirror/write_back use."""

    def __init__(self, sheets: list[FakeSheet]) -> None:
        self._sheets = sheets
        self.names: list[Any] = []

    @property
    def sheets(self) -> Any:
        book = self

        class Sheets(list):  # type: ignore[type-arg]
            def __getitem__(self, key: Any) -> Any:
                if isinstance(key, str):
                    return next(s for s in book._sheets if s.name == key)
                return list.__getitem__(self, key)

            def add(self, name: str, after: Any = None) -> FakeSheet:
                sheet = FakeSheet(name, {})
                book._sheets.append(sheet)
                return sheet

        return Sheets(self._sheets)


def test_mirror_and_write_back_touch_only_changed_cells() -> None:
    book = FakeBook(
        [
            FakeSheet("Summary", {(1, 1): "Title", (2, 2): "=1+1"}),
            FakeSheet("Medicare", {(4, 1): "Code", (5, 1): "99213", (5, 4): 1.0}),
        ]
    )
    before = buttons.mirror(book)
    after = buttons.mirror(book)
    assert after["Summary"]["B2"].value == "=1+1"
    after["Medicare"]["D5"] = 93.99
    after["Medicare"]["E5"] = "priced"
    after["Medicare"]["F5"] = 1.3
    after["Medicare"]["A5"] = None
    after.create_sheet("New")["A1"] = "x"
    changed = buttons.write_back(book, before, after)
    assert changed == ["Medicare", "New"]
    medicare = book.sheets["Medicare"].cells
    assert medicare == {(4, 1): "Code", (5, 4): 93.99, (5, 5): "priced", (5, 6): 1.3}
    assert book.sheets["Medicare"].calls == 1  # D5:F5 in one write
    assert book.sheets["New"].cells == {(1, 1): "x"}
    assert book.sheets["Summary"].cells == {(1, 1): "Title", (2, 2): "=1+1"}


def test_macro_workbook_from_a_profile_rebuilds_from_it(tmp_path: Path) -> None:
    """`xlrate addin build --profile`: the analysis inside, and Rebuild re-reads the profile."""
    from xlrate.cli import cli
    from xlrate.excel import addin

    profile = Path(addin.__file__).resolve().parents[1] / "demo" / "practice.toml"
    out = tmp_path / "analysis.xlsm"
    result = CliRunner().invoke(
        cli, ["addin", "build", "--profile", str(profile), "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert "Alabama Medicaid" in wb.sheetnames
    assert buttons.profile_path(wb, out) == profile.resolve()
    wb["Summary"]["A1"] = "edited"
    wb["Alabama Medicaid"]["F7"] = 0.01
    refreshed = buttons.rebuild_analysis(wb, out)
    fresh = openpyxl.load_workbook(out)
    assert {"Summary", "Alabama Medicaid", "Medicare", "Sources"} <= set(refreshed)
    assert wb["Summary"]["A1"].value == fresh["Summary"]["A1"].value
    assert wb["Alabama Medicaid"]["F7"].value == fresh["Alabama Medicaid"]["F7"].value
