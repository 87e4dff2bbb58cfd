"""The demo workbook, built once per session, and the same recalculated by real LibreOffice."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from report_helpers import SCENARIO_EDITS, TARGET_EDIT, Demo, recalculate

from xlrate.analysis import PayerSpec, Profile, analyze
from xlrate.demo import demo_profile_path
from xlrate.report.workbook import build_workbook


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        # Session fixtures run before the per-test isolated home: use the embedded data only.
        patch.setenv("XLRATE_HOME", str(root / "home"))
        from xlrate.medicare import store

        store.clear_cache()
        return _build(root)


def _build(root: Path) -> Demo:
    analysis = analyze(demo_profile_path())
    result = build_workbook(analysis, root / "demo.xlsx")
    edited = root / "edited.xlsx"
    wb = openpyxl.load_workbook(result.path)
    for ref, value in SCENARIO_EDITS.items():
        wb["Scenarios"][ref] = value
    payer, target = TARGET_EDIT
    wb[result.payer_sheets[payer]]["D3"] = target
    wb.save(edited)
    edge_analysis = analyze(edge_profile(root))
    edge = build_workbook(edge_analysis, root / "edge.xlsx")
    out = recalculate([result.path, edited, edge.path], root / "recalculated", root / "lo-profile")
    return Demo(analysis, result, result.path, edited, out[0], out[1], edge_analysis, edge, out[2])


def edge_profile(root: Path) -> Profile:
    """Payers that stress the formulas: nothing comparable, no volumes, a name with ' * ?."""
    # Lab codes the MAC prices (CLFS indicator L): no Medicare amount, so nothing comparable.
    (root / "lab.csv").write_text("Code,Fee\n0020M,3.00\n0420U,4.50\n", "utf-8")
    (root / "novol.csv").write_text("Code,Fee\n99213,95.00\n99214,120.00\n", "utf-8")
    (root / "odd.csv").write_text(
        "Code,Mod,Fee,Volume\n99213,,70.00,10\n99214,,150.00,3\n71046,26,9.00,4\n", "utf-8"
    )
    return Profile(
        name="Edge cases",
        zip="35203",
        year=2025,
        release="2025D",
        payers=(
            PayerSpec("Lab only", fees=(root / "lab.csv",), target=1.0),
            PayerSpec("No volumes", fees=(root / "novol.csv",), target=1.2),
            PayerSpec("O'Brien Health* (PPO?)", fees=(root / "odd.csv",), target=1.3),
        ),
    )
