"""Sharing the workbook the report actually builds (the demo practice)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlrate.excel import addin
from xlrate.excel.functions import FUNCTIONS
from xlrate.report.readback import headline
from xlrate.report.shared import prepare_shared_copy


@pytest.fixture(scope="module")
def demo_xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xlrate.cli import cli

    folder = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--output", str(folder / "demo.xlsx")])
    assert result.exit_code == 0, result.output
    return addin.build_addin(folder / "demo.xlsm", template=folder / "demo.xlsx")


def test_headline_numbers_of_an_uncalculated_workbook(demo_xlsm: Path) -> None:
    lines = headline(demo_xlsm.with_suffix(".xlsx"))
    assert lines[0].startswith("Alabama Medicaid: 80% of Medicare (weighted by volume), $")
    assert any(line.startswith("All payers: ") for line in lines)
    assert lines[-1].startswith("Revenue at stake: $")


def test_shared_copy_of_the_report_workbook(demo_xlsm: Path) -> None:
    copy = prepare_shared_copy(
        demo_xlsm, functions=FUNCTIONS
    )  # no false alarm from the 835 aggregates
    wb = openpyxl.load_workbook(copy.path)
    original = openpyxl.load_workbook(demo_xlsm)
    assert wb.sheetnames == [n for n in original.sheetnames if n != "xlwings.conf"]
    for name in wb.sheetnames:
        if name == "Sources":
            continue
        # An empty-string cell is not stored at all, so it reads back as None.
        ours = {c.coordinate: c.value or None for row in wb[name].iter_rows() for c in row}
        theirs = {c.coordinate: c.value or None for row in original[name].iter_rows() for c in row}
        assert ours == theirs, name  # native formulas untouched
    sources = "\n".join(
        str(v) for row in wb["Sources"].iter_rows(values_only=True) for v in row if v
    )
    assert "PPRRVU2025_Oct.csv" in sources and "Shared copy" in sources
