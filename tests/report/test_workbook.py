"""The demo workbook, recalculated by real LibreOffice, against the Python analysis."""

from __future__ import annotations

import hashlib
import math
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from report_helpers import SCENARIO_EDITS, TARGET_EDIT, Demo

from xlrate.analysis import scenarios
from xlrate.demo import demo_dir
from xlrate.errors import ReportError
from xlrate.report.workbook import ALLOWED_FUNCTIONS, build_workbook

ERROR_VALUES = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "Err:")


def formula_cells(path: Path) -> dict[tuple[str, str], str]:
    wb = openpyxl.load_workbook(path)
    return {
        (ws.title, cell.coordinate): cell.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.startswith("=")
    }


def values(path: Path) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {
        (ws.title, c.coordinate): c.value
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
    }


def same(actual: object, expected: object) -> bool:
    if isinstance(expected, str) or expected is None:
        return (actual or "") == (expected or "")
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    exp = float(expected)  # type: ignore[arg-type]
    if exp == 0:
        return abs(actual) < 1e-9
    return abs(actual - exp) / abs(exp) < 1e-9


def test_every_formula_cell_is_checked(demo: Demo) -> None:
    formulas = formula_cells(demo.path)
    assert len(formulas) > 500
    assert set(formulas) == set(demo.result.expected)


def test_libreoffice_agrees_with_python(demo: Demo) -> None:
    got = values(demo.recalculated)
    wrong = {
        key: (got.get(key), expected)
        for key, expected in demo.result.expected.items()
        if not same(got.get(key), expected)
    }
    assert not wrong, f"{len(wrong)} formula cells differ, e.g. {list(wrong.items())[:5]}"


def test_edge_cases_agree_too(demo: Demo) -> None:
    """No comparable codes, no volumes, a payer name with ' * ? in it."""
    got = values(demo.recalculated_edge)
    assert set(formula_cells(demo.edge.path)) == set(demo.edge.expected)
    wrong = {
        key: (got.get(key), expected)
        for key, expected in demo.edge.expected.items()
        if not same(got.get(key), expected)
    }
    assert not wrong, f"{len(wrong)} formula cells differ, e.g. {list(wrong.items())[:5]}"
    summary = demo.edge_analysis.summary.set_index("payer")
    assert summary.loc["Lab only", "codes_compared"] == 0
    assert math.isnan(summary.loc["No volumes", "weighted_pct"])


def test_no_error_values_anywhere(demo: Demo) -> None:
    for path in (demo.recalculated, demo.recalculated_edited, demo.recalculated_edge):
        errors = {
            key: value
            for key, value in values(path).items()
            if isinstance(value, str) and value.startswith(ERROR_VALUES)
        }
        assert not errors, path.name


def test_scenario_inputs_recalculate(demo: Demo) -> None:
    got = values(demo.recalculated_edited)
    before = values(demo.recalculated)
    rows = demo.analysis.rows
    payers = demo.analysis.payer_names
    expect = {
        "F": scenarios.target_change(rows, SCENARIO_EDITS["F5"], payers),
        "J": scenarios.target_change(rows, SCENARIO_EDITS["J5"], payers),
        "K": scenarios.floor_change(rows, SCENARIO_EDITS["K5"], payers),
        "L": scenarios.uniform_change(rows, SCENARIO_EDITS["L5"], payers),
    }
    for offset, payer in enumerate(payers):
        row = 7 + offset
        assert got[("Scenarios", f"A{row}")] == payer
        for column, series in expect.items():
            key = ("Scenarios", f"{column}{row}")
            assert same(got[key], series[payer]), (key, got[key], series[payer])
            assert not same(before[key], series[payer]) or series[payer] == 0
    total = ("Scenarios", f"K{7 + len(payers)}")
    assert same(got[total], float(expect["K"].sum()))


def test_a_payer_target_change_flows_to_the_summary(demo: Demo) -> None:
    got = values(demo.recalculated_edited)
    payer, target = TARGET_EDIT
    rows = demo.analysis.rows[
        (demo.analysis.rows["payer"] == payer) & demo.analysis.rows["compared"]
    ]
    row = 13 + demo.analysis.payer_names.index(payer)
    assert got[("Summary", f"A{row}")] == payer
    assert got[("Summary", f"I{row}")] == pytest.approx(target)
    assert got[("Summary", f"J{row}")] == int((rows["pct"] < target).sum())
    shortfall = scenarios.floor_change(rows, target, [payer])[payer]
    assert same(got[("Summary", f"L{row}")], shortfall)
    sheet = demo.result.payer_sheets[payer]
    assert same(got[(sheet, "I7")], float(rows["medicare"].iloc[0]) * target)


def test_only_portable_functions_no_macros_no_addins(demo: Demo) -> None:
    with zipfile.ZipFile(demo.path) as archive:
        names = archive.namelist()
        types = archive.read("[Content_Types].xml").decode()
    assert not [n for n in names if "vba" in n.lower() or n.endswith(".bin")]
    assert "macroEnabled" not in types and "externalLink" not in types
    used: set[str] = set()
    for text in formula_cells(demo.path).values():
        assert "_xlfn" not in text and "_xll" not in text and "[" not in text
        used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", text))
    assert used <= ALLOWED_FUNCTIONS, used - ALLOWED_FUNCTIONS
    assert {"INDEX", "MATCH", "SUMPRODUCT"} <= used


def test_medicare_amounts_come_from_the_medicare_sheet_by_index_match(demo: Demo) -> None:
    formulas = formula_cells(demo.path)
    first_payer = demo.result.payer_sheets[demo.analysis.payer_names[0]]
    assert formulas[(first_payer, "G7")].startswith("=INDEX(Medicare!")
    assert "MATCH(" in formulas[(first_payer, "G7")]


def test_sources_lists_every_input_with_its_checksum(demo: Demo) -> None:
    wb = openpyxl.load_workbook(demo.path)
    text = "\n".join(
        " | ".join("" if v is None else str(v) for v in row)
        for row in wb["Sources"].iter_rows(values_only=True)
    )
    for path in sorted(demo_dir().iterdir()):
        if path.suffix in (".csv", ".835", ".toml"):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            line = next((ln for ln in text.splitlines() if path.name in ln), "")
            assert digest in line, path.name
    for item in demo.analysis.cms_provenance["files"]:
        assert item["sha256"] in text
    assert "32.3465" in text  # the 2025 conversion factor
    assert "xlrate version" in text and "Generated" in text
    assert text.count("SYNTHETIC") >= 3
    assert "Alabama Medicaid Agency" in text


def test_summary_labels_synthetic_payers(demo: Demo) -> None:
    ws = openpyxl.load_workbook(demo.path)["Summary"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=13, max_row=16, values_only=True)}
    assert "SYNTHETIC" not in rows["Alabama Medicaid"][1]
    for payer in ("Blue Harbor PPO", "Summit Health HMO", "Lakeside Medicare Advantage"):
        assert "SYNTHETIC" in rows[payer][1]
    assert "SYNTHETIC" in str(ws["B9"].value)


def test_sheets_and_print_setup(demo: Demo) -> None:
    wb = openpyxl.load_workbook(demo.path)
    assert wb.sheetnames[:1] == ["Summary"]
    for name in ("Matrix", "Scenarios", "Medicare", "Sources", *demo.result.payer_sheets.values()):
        assert name in wb.sheetnames
    for ws in wb.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    payer = wb[demo.result.payer_sheets["Blue Harbor PPO"]]
    assert payer.freeze_panes == "C7" and payer.auto_filter.ref.startswith("A6:")
    assert payer.print_title_rows == "$6:$6"
    assert payer["F7"].number_format.startswith("#,##0.00") and payer["H7"].number_format == "0.0%"
    assert wb["Matrix"].conditional_formatting


def test_refuses_to_overwrite_without_force_and_keeps_a_backup(demo: Demo, tmp_path: Path) -> None:
    out = tmp_path / "a.xlsx"
    out.write_bytes(b"old")
    with pytest.raises(ReportError, match="--force"):
        build_workbook(demo.analysis, out)
    assert out.read_bytes() == b"old"
    result = build_workbook(demo.analysis, out, force=True)
    assert result.backup is not None and result.backup.read_bytes() == b"old"
    assert zipfile.is_zipfile(out)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_rebranded_template_is_used(demo: Demo, tmp_path: Path) -> None:
    from xlrate.report.workbook import default_template

    wb = openpyxl.load_workbook(default_template())
    wb["Summary"]["A1"] = "Acme Billing: payer review"
    template = tmp_path / "brand.xlsx"
    wb.save(template)
    result = build_workbook(demo.analysis, tmp_path / "b.xlsx", template=template)
    assert (
        openpyxl.load_workbook(result.path)["Summary"]["A1"].value == "Acme Billing: payer review"
    )


def test_a_template_without_the_styles_is_refused(demo: Demo, tmp_path: Path) -> None:
    template = tmp_path / "plain.xlsx"
    openpyxl.Workbook().save(template)
    with pytest.raises(ReportError, match="template"):
        build_workbook(demo.analysis, tmp_path / "c.xlsx", template=template)


def test_expected_values_are_finite(demo: Demo) -> None:
    for value in demo.result.expected.values():
        assert not (isinstance(value, float) and math.isnan(value))


def test_shipped_templates_match_the_layout() -> None:
    from xlrate.report import layout
    from xlrate.report.workbook import default_template

    repo_template = Path(__file__).resolve().parents[2] / "workbook" / "template.xlsx"
    for path in (default_template(), repo_template):
        wb = openpyxl.load_workbook(path)
        for sheet, row, columns in (
            ("Payer", layout.PAYER_HEADER_ROW, layout.PAYER_COLUMNS),
            ("Summary", layout.SUMMARY_HEADER_ROW, layout.SUMMARY_COLUMNS),
            ("Scenarios", layout.SCENARIO_HEADER_ROW, layout.SCENARIO_COLUMNS),
            ("Medicare", layout.MEDICARE_HEADER_ROW, layout.MEDICARE_COLUMNS),
            ("Matrix", layout.MATRIX_HEADER_ROW, layout.MATRIX_FIXED),
        ):
            headers = [wb[sheet].cell(row, i).value for i in range(1, len(columns) + 1)]
            assert headers == [c.header for c in columns], (path, sheet)
        assert set(wb.named_styles) >= set(layout.STYLE_NAMES)


def test_text_from_a_payer_file_never_becomes_a_formula(tmp_path: Path) -> None:
    from xlrate.report.cells import BuildResult, Writer
    from xlrate.report.workbook import default_template

    wb = openpyxl.load_workbook(default_template())
    writer = Writer(wb, BuildResult(tmp_path / "x.xlsx"))
    ws = wb["Summary"]
    writer.put(ws, 30, 1, '=HYPERLINK("http://example.invalid","click")', "xlrate Text")
    writer.formula(ws, 30, 2, "1+1", 2)
    assert ws["A30"].data_type == "s" and ws["B30"].data_type == "f"
    wb.save(tmp_path / "x.xlsx")
    assert openpyxl.load_workbook(tmp_path / "x.xlsx")["Summary"]["A30"].data_type == "s"


def test_sheet_names_are_valid_and_unique() -> None:
    from xlrate.report.workbook import sheet_names

    names = sheet_names(["O'Brien Health* (PPO?)", "Summary", "B" * 40, "B" * 35, "x/y:z"])
    assert names["O'Brien Health* (PPO?)"] == "O'Brien Health (PPO)"
    assert names["Summary"] == "Summary (2)"  # the fixed sheets keep their names
    assert names["B" * 40] != names["B" * 35] and all(len(n) <= 31 for n in names.values())
    assert names["x/y:z"] == "x y z"


def test_inputs_are_named_and_checked(demo: Demo) -> None:
    wb = openpyxl.load_workbook(demo.path)
    assert wb.defined_names["Scenario_Floor"].attr_text == "Scenarios!$K$5"
    first = demo.result.payer_sheets[demo.analysis.payer_names[0]]
    assert wb.defined_names["Target_01"].attr_text == f"'{first}'!$D$3"
    assert [str(v.sqref) for v in wb["Scenarios"].data_validations.dataValidation] == [
        "F5 G5 H5 I5 J5 K5 L5"
    ]
    assert [str(v.sqref) for v in wb[first].data_validations.dataValidation] == ["D3"]
    assert wb.calculation.fullCalcOnLoad


def test_matrix_and_top_codes_find_rows_by_key(demo: Demo) -> None:
    """Sorting a payer sheet with its filter must not scramble the Matrix or the Summary."""
    formulas = formula_cells(demo.path)
    matrix = [f for (sheet, _), f in formulas.items() if sheet == "Matrix" and "!$H$" in f]
    assert matrix and all("MATCH(" in f for f in matrix)
    top = [f for (sheet, ref), f in formulas.items() if sheet == "Summary" and "INDEX(" in f]
    assert top and all('MATCH("' in f for f in top)
