"""The Scenarios sheet: what each payer would pay at other targets, with the targets as inputs."""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.cells import quote
from xlrate.report.sheets import Book, Record

NOTES = (
    "All codes at a percent: every compared code paid at that percent of Medicare (rates above it come down too).",
    "Floor: every code paid below the percent is raised to it; the others stay as they are.",
    "Uniform raise: every rate goes up by the percent.",
    "Market median (with a Market sheet): every code paid below the median of what the payer "
    "pays other practices is raised to it (from the Market sheet).",
    "Only codes with both a rate and a Medicare amount count; volumes are the annual volumes on the payer sheets.",
)


def write(book: Book, ws: Worksheet) -> None:
    a, w = book.analysis, book.writer
    spec = a.profile.scenarios
    idx = L.numbers(L.SCENARIO_COLUMNS)
    scol = L.letters(L.SCENARIO_COLUMNS)
    inputs = {
        "at_target_1": spec.targets[0],
        "at_target_2": spec.targets[1],
        "at_target_3": spec.targets[2],
        "at_target_4": spec.targets[3],
        "at_user_target": spec.user_target,
        "floor": spec.floor,
        "uniform": spec.uniform_increase,
    }
    in_row = L.SCENARIO_INPUT_ROW
    for key, label in L.SCENARIO_INPUTS.items():
        w.put(ws, in_row - 1, idx[key], label, "xlrate Label")
        w.put(ws, in_row, idx[key], inputs[key], "xlrate Input")
        book.define(L.SCENARIO_NAMES[key], ws, f"${scol[key]}${in_row}")
    table = a.scenarios.set_index("payer")
    first = L.SCENARIO_HEADER_ROW + 1
    row = first - 1
    for row, payer in enumerate(a.payer_names, start=first):
        fields = {
            **scol,
            "sheet": quote(book.sheet_names[payer]),
            "rng": book.payer_ranges(payer),
            "input_row": in_row,
        }
        record = Record({"payer": payer, **{str(k): v for k, v in table.loc[payer].items()}})
        w.row(ws, row, L.SCENARIO_COLUMNS, record, fields)
    last = row
    total = last + 1
    w.put(ws, total, 1, "All payers", "xlrate Total")
    for column in L.SCENARIO_COLUMNS[1:]:
        key = column.key
        if key in ("weighted_pct", "target"):
            w.put(ws, total, idx[key], None, "xlrate Total", keep_blank=True)
            continue
        text = f"SUM({scol[key]}{first}:{scol[key]}{last})"
        w.formula(ws, total, idx[key], text, float(table[key].sum()), "xlrate Total")
        ws.cell(total, idx[key]).number_format = "$#,##0;[Red]-$#,##0"
    if book.market_ranges:
        _market_columns(book, ws, first, last)
    for offset, text in enumerate(NOTES, start=total + 2):
        w.put(ws, offset, 1, text, "xlrate Note")
    ws.freeze_panes = f"B{first}"
    ws.print_title_rows = f"{in_row - 1}:{L.SCENARIO_HEADER_ROW}"


def _market_columns(book: Book, ws: Worksheet, first: int, last: int) -> None:
    """The market scenario, right of the others (only with a Market sheet)."""
    a, w = book.analysis, book.writer
    assert a.market is not None
    change = a.market.summary.set_index("payer")
    start = len(L.SCENARIO_COLUMNS) + 1
    for c, column in enumerate(L.SCENARIO_MARKET_COLUMNS, start=start):
        w.put(ws, L.SCENARIO_HEADER_ROW, c, column.header, "xlrate Header")
        ws.column_dimensions[get_column_letter(c)].width = column.width
    fields = {"payer": L.letter(L.SCENARIO_COLUMNS, "payer"), "mk": book.market_ranges}
    for row, payer in enumerate(a.payer_names, start=first):
        if payer not in change.index:
            continue
        for c, column in enumerate(L.SCENARIO_MARKET_COLUMNS, start=start):
            assert column.formula is not None
            text = column.formula.format(r=row, **fields)
            value = float(change[column.key].to_dict()[payer])
            w.formula(ws, row, c, text, value, column.style)
    for c, column in enumerate(L.SCENARIO_MARKET_COLUMNS, start=start):
        col = get_column_letter(c)
        text = f"SUM({col}{first}:{col}{last})"
        w.formula(ws, last + 1, c, text, float(change[column.key].sum()), "xlrate Total")
        ws.cell(last + 1, c).number_format = "$#,##0;[Red]-$#,##0"
