"""The demo workbook, built once per session, and the same recalculated by real LibreOffice."""

from __future__ import annotations

import openpyxl
import pytest
from report_helpers import SCENARIO_EDITS, Demo, recalculate

from xlrate.analysis import analyze
from xlrate.demo import demo_profile_path
from xlrate.report.workbook import build_workbook


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    analysis = analyze(demo_profile_path())
    result = build_workbook(analysis, root / "demo.xlsx")
    edited = root / "edited.xlsx"
    wb = openpyxl.load_workbook(result.path)
    for ref, value in SCENARIO_EDITS.items():
        wb["Scenarios"][ref] = value
    wb.save(edited)
    out = recalculate([result.path, edited], root / "recalculated", root / "lo-profile")
    return Demo(analysis, result, result.path, edited, out[0], out[1])
