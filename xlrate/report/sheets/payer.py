"""One sheet per payer: its codes against Medicare, the payer's target as an input.

The compared table runs from :data:`~xlrate.report.layout.PAYER_HEADER_ROW` down, largest
revenue first; the rows that cannot be compared follow below it with the reason. The
header block (target, weighted percent, revenue, codes below target, median, shortfall)
recalculates from the table.
"""

from __future__ import annotations

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.analysis import PayerSpec
from xlrate.report import layout as L
from xlrate.report.sheets import Book, finish_table, kinds, records

BELOW_TARGET_FILL = PatternFill("solid", fgColor="F8CBAD")
#: Shown for the rows below the table: what they are, values only.
_NOT_COMPARED = (
    "code",
    "modifier",
    "description",
    "setting",
    "volume",
    "rate",
    "era_allowed",
    "note",
)


def write(book: Book, ws: Worksheet, spec: PayerSpec) -> None:
    """Fill ``ws`` (a copy of the template's Payer sheet) for the payer ``spec``."""
    a, w = book.analysis, book.writer
    payer = spec.name
    rows = a.rows[a.rows["payer"] == payer]
    compared = rows[rows["compared"]]
    others = rows[~rows["compared"]]
    summary = a.summary.set_index("payer").loc[payer]
    col = L.letters(L.PAYER_COLUMNS)
    idx = L.numbers(L.PAYER_COLUMNS)

    w.text(ws, "A1", payer + (" (SYNTHETIC)" if spec.synthetic else ""))
    data = " and ".join(kinds(rows["rate_source"])) or "no rates"
    # The first clause of the source only: the full provenance is on the Sources sheet.
    source = (
        spec.source.split(";")[0].strip() if spec.source else "Files listed on the Sources sheet"
    )
    w.text(ws, "A2", f"Rates from: {data}. {source}.")

    first = L.PAYER_HEADER_ROW + 1
    last = first + max(len(compared), 1) - 1
    book.payer_rows[payer] = (first, last)
    target = L.absolute(L.PAYER_TARGET)
    fields = {
        **col,
        "amounts": book.medicare_range("amount"),
        "keys": book.medicare_range("key"),
        "target": target,
        "total_revenue": L.absolute(L.PAYER_REVENUE),
        "first": first,
    }
    revenue_total = float(compared["revenue"].sum())
    cumulative = (compared["revenue"].cumsum() / revenue_total).tolist() if revenue_total else []
    for i, rec in enumerate(records(compared)):
        expected = {
            "cumulative_share": cumulative[i] if revenue_total else None,
            "above_charge": "yes" if rec.at_or_above_charge else "",
            "key": f"{rec.code}|{rec.modifier}|{rec.setting}",
        }
        w.row(ws, first + i, L.PAYER_COLUMNS, rec, fields, expected)

    # Header block: the target is an input; the rest recalculates from the table.
    target_row, target_col = coordinate_to_tuple(L.PAYER_TARGET)
    w.put(ws, target_row, target_col, spec.target, "xlrate Input")
    ranges = {key: f"${c}${first}:${c}${last}" for key, c in col.items()}
    for cell, (key, formula, style) in L.PAYER_BLOCK.items():
        text = formula.format(rng=ranges, target=target)
        row, column = coordinate_to_tuple(cell)
        w.formula(ws, row, column, text, summary[key], style)

    ws.conditional_formatting.add(
        f"{col['pct']}{first}:{col['pct']}{last}",
        CellIsRule(operator="lessThan", formula=[target], fill=BELOW_TARGET_FILL),
    )

    # Rows that cannot be compared, with the reason, below the table.
    if len(others):
        w.put(
            ws,
            last + 2,
            1,
            f"Not compared ({len(others)}): no Medicare amount, or no numeric rate",
            "xlrate Section",
        )
        for r, rec in enumerate(records(others), start=last + 3):
            for key in _NOT_COMPARED:
                value = getattr(rec, key)
                w.put(
                    ws,
                    r,
                    idx[key],
                    None if value == "" else value,
                    L.PAYER_COLUMNS[idx[key] - 1].style,
                )
    # Hide the columns this payer has nothing for (a user can unhide them). Description
    # stays: the header block's labels spill over it.
    for key, source_column in (
        ("charge", "charge"),
        ("above_charge", "charge"),
        ("era_allowed", "era_allowed"),
        ("era_pct", "era_allowed"),
    ):
        if rows[source_column].isna().all():
            ws.column_dimensions[col[key]].hidden = True
    finish_table(ws, L.PAYER_HEADER_ROW, len(L.PAYER_COLUMNS), last, f"C{first}")
