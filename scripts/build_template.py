"""Build workbook/template.xlsx, the designed template the analysis workbook is filled from.

    .venv/bin/python scripts/build_template.py

The template carries the look: the named cell styles (``xlrate Title``, ``xlrate Header``,
``xlrate Money``...), the header blocks and their labels, column widths and the Read me
sheet. To rebrand, open a copy in Excel, change the cell styles (Home > Cell Styles >
Modify) or the titles, save it, and pass it with ``xlrate build --template``. The code
writes data at fixed places (see xlrate/report/workbook.py) and applies the named styles,
so keep the sheets and the header block rows where they are.
"""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.workbook.defined_name import DefinedName

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlrate.report.layout import (  # noqa: E402
    MATRIX_FIXED,
    MEDICARE_COLUMNS,
    PAYER_COLUMNS,
    SCENARIO_COLUMNS,
    SOURCES_CMS_COLUMNS,
    STYLE_NAMES,
    SUMMARY_COLUMNS,
    UNDERPAID_COLUMNS,
    UNDERPAID_HEADER_ROW,
    UNDERPAID_SHEET,
    Column,
)
from xlrate.report.styles import named_styles  # noqa: E402


def header_row(ws, row: int, columns: list[Column]) -> None:  # type: ignore[no-untyped-def]
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row, index, column.header)
        cell.style = "xlrate Header"
        ws.column_dimensions[cell.column_letter].width = column.width
    ws.row_dimensions[row].height = 45


def build(path: Path) -> None:
    wb = Workbook()
    for style in named_styles():
        wb.add_named_style(style)
    assert {s.name for s in named_styles()} >= set(STYLE_NAMES)

    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "Payer rates against Medicare"
    ws["A1"].style = "xlrate Title"
    ws["A2"] = (
        "Built by xlrate. Percent of Medicare = the payer's rate / the Medicare amount for the same code, locality and setting."
    )
    ws["A2"].style = "xlrate Subtitle"
    labels = [
        "Practice",
        "Medicare locality",
        "Medicare release",
        "Default setting",
        "Generated",
        "Data",
    ]
    for offset, label in enumerate(labels):
        ws.cell(4 + offset, 1, label).style = "xlrate Label"
        ws.cell(4 + offset, 2).style = "xlrate Value"
    ws.cell(11, 1, "Payers").style = "xlrate Section"
    header_row(ws, 12, SUMMARY_COLUMNS)
    ws.column_dimensions["A"].width = 34

    proto = wb.create_sheet("Payer")
    proto["A1"] = "Payer"
    proto["A1"].style = "xlrate Title"
    proto["A2"].style = "xlrate Subtitle"
    for row, label in ((3, "Target (% of Medicare)"), (4, "Weighted % of Medicare")):
        proto.cell(row, 1, label).style = "xlrate Label"
    for row, label in ((3, "Annual revenue"), (4, "Codes below target")):
        proto.cell(row, 6, label).style = "xlrate Label"
    for row, label in ((3, "Median % of Medicare"), (4, "Shortfall to target")):
        proto.cell(row, 11, label).style = "xlrate Label"
    header_row(proto, 6, PAYER_COLUMNS)

    # Copied once per payer with a contract audit (removed when there is none).
    under = wb.create_sheet(UNDERPAID_SHEET)
    under["A1"] = "Underpayments"
    under["A1"].style = "xlrate Title"
    under["A2"].style = "xlrate Subtitle"
    header_row(under, UNDERPAID_HEADER_ROW, UNDERPAID_COLUMNS)

    matrix = wb.create_sheet("Matrix")
    matrix["A1"] = "Percent of Medicare by code and payer"
    matrix["A1"].style = "xlrate Title"
    matrix["A2"] = (
        "Red: lowest percents, green: highest. Lowest payer: the payer paying the least percent of Medicare for the code (codes with two or more payers)."
    )
    matrix["A2"].style = "xlrate Subtitle"
    header_row(matrix, 4, MATRIX_FIXED)

    scen = wb.create_sheet("Scenarios")
    scen["A1"] = "Scenarios: what a change is worth per year"
    scen["A1"].style = "xlrate Title"
    scen["A2"] = (
        "Change the yellow percents: every result below recalculates. Amounts are annual revenue changes at this year's volumes."
    )
    scen["A2"].style = "xlrate Subtitle"
    scen.cell(5, 1, "Scenario inputs").style = "xlrate Label"
    header_row(scen, 6, SCENARIO_COLUMNS)

    med = wb.create_sheet("Medicare")
    med["A1"] = "Medicare amounts used"
    med["A1"].style = "xlrate Title"
    med["A2"].style = "xlrate Subtitle"
    header_row(med, 4, MEDICARE_COLUMNS)

    src = wb.create_sheet("Sources")
    src["A1"] = "Sources"
    src["A1"].style = "xlrate Title"
    src["A2"] = (
        "Every file behind these numbers, with its SHA-256 checksum, so anyone can check they have the same data."
    )
    src["A2"].style = "xlrate Subtitle"
    for index, column in enumerate(SOURCES_CMS_COLUMNS, start=1):
        src.column_dimensions[src.cell(1, index).column_letter].width = column.width

    readme = wb.create_sheet("Read me")
    readme["A1"] = "How to read this workbook"
    readme["A1"].style = "xlrate Title"
    lines = [
        "Summary: each payer's volume-weighted percent of Medicare (sum of rate x volume / sum of Medicare x volume), median, codes below your target, and the top underpaid codes.",
        "One sheet per payer: every code with its rate, the Medicare amount, percent of Medicare, your target and the annual impact of the gap. Yellow cells are inputs: change the target and the sheet recalculates.",
        'Underpayments (payers with a contract in the profile): every 835 line against what the contract says it pays, by code: expected, allowed, variance, lines and dollars underpaid, denied lines. The Summary\'s "Underpaid in the period" adds up their totals. No claim numbers or patient details: the claim-by-claim worklist comes from xlrate audit --worklist.',
        "Matrix: percent of Medicare for every code and payer side by side, with the payer paying the least.",
        "Scenarios: what a payer moving to a percent of Medicare, a floor, or a uniform raise is worth per year. Change the yellow cells.",
        "Medicare: the Medicare amounts used, with RVUs, GPCIs and the conversion factor, and the change from the prior year.",
        "Sources: the CMS files (release, SHA-256, conversion factor) and every input file with its checksum and row counts.",
        "All figures are native Excel formulas (no macros, no add-ins): the file recalculates the same in Excel, LibreOffice and Google Sheets.",
        "Named cells (the Name box): Locality, MedicareYear and MedicareReleaseInUse on Sources, Target_01... on the payer sheets, Underpaid_01... on the Underpayments sheets, Scenario_... on Scenarios, and the Summary and Medicare tables. The add-in's buttons and functions find everything by these names, so headings and labels can be retitled freely.",
        "CPT codes are the American Medical Association's; descriptions appear only when your own files carry them.",
    ]
    for offset, line in enumerate(lines, start=3):
        readme.cell(offset, 1, line).style = "xlrate Wrap"
        readme.row_dimensions[offset].height = 14 * (1 + len(line) // 95)
    readme.column_dimensions["A"].width = 100

    for sheet in wb.worksheets:
        sheet.sheet_view.showGridLines = False
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_options.horizontalCentered = False
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.5
        sheet.oddFooter.center.text = "&A  -  page &P of &N"
        sheet.oddFooter.center.size = 8

    wb.defined_names["xlrate_template_version"] = DefinedName(
        "xlrate_template_version", attr_text='"1"'
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


if __name__ == "__main__":
    targets = (
        [Path(sys.argv[1])]
        if len(sys.argv) > 1
        else [
            ROOT / "workbook" / "template.xlsx",
            ROOT / "xlrate" / "report" / "template.xlsx",  # the copy shipped in the package
        ]
    )
    for target in targets:
        build(target)
        print(f"wrote {target}")
