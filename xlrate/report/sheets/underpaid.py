"""One Underpayments sheet per payer with a contract audit: its 835 lines by code against
what the contract says, with native SUM totals under defined names.

The rows are values the audit computed (lines, units, expected, allowed, lines and dollars
underpaid, denied lines); the variance per row and the All codes totals are formulas. The
totals are named ``Underpaid_02``, ``Underpaid_02_Lines``... (the payer's place in the
profile, as ``Target_02``), and the Summary's "underpaid in the period" adds them up.

No claim number, patient name or member id is on the sheet: the claim-level worklist is
``xlrate audit --worklist`` only.
"""

from __future__ import annotations

import math

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.analysis.audit import AuditSheet
from xlrate.report import layout as L
from xlrate.report.sheets import Book, finish_table, records

UNDERPAID_FILL = PatternFill("solid", fgColor="F8CBAD")


def period_text(period: tuple[object, object]) -> str:
    """``2026-01-05 to 2026-01-20`` (or "no dates of service")."""
    first, last = period
    if first is None or last is None:
        return "no dates of service"
    return f"{first} to {last}" if first != last else str(first)


def write(book: Book, ws: Worksheet, payer: str, index: int, audit: AuditSheet) -> None:
    """Fill ``ws`` with ``payer``'s audit; ``index`` is the payer's place in the profile."""
    w = book.writer
    spec = next(p for p in book.analysis.payers if p.name == payer)
    col = L.letters(L.UNDERPAID_COLUMNS)
    idx = L.numbers(L.UNDERPAID_COLUMNS)

    w.text(ws, "A1", f"Underpayments: {payer}" + (" (SYNTHETIC)" if spec.synthetic else ""))
    w.text(
        ws,
        "A2",
        "Every 835 service line against what the contract says it pays. Variance = allowed - "
        "expected (negative: paid less). Denied lines are counted apart, not as underpayments.",
    )
    terms = f"Contract: {audit.contract or 'no terms'}"
    w.put(
        ws,
        3,
        1,
        terms + (f". Medicare used: {audit.medicare}" if audit.medicare else ""),
        "xlrate Note",
    )
    w.put(
        ws,
        4,
        1,
        f"Dates of service {period_text(audit.period)}: {audit.lines} line(s) audited, "
        f"{audit.underpaid_lines} underpaid, {audit.denied_lines} denied, "
        f"{audit.no_term_lines} without a contract term; {audit.netted_lines} line(s) of the 835s "
        "netted out (reversals and corrections). Claim by claim: xlrate audit --worklist.",
        "xlrate Note",
    )
    for c, column in enumerate(L.UNDERPAID_COLUMNS, start=1):
        w.put(ws, L.UNDERPAID_HEADER_ROW, c, column.header, "xlrate Header")
        ws.column_dimensions[col[column.key]].width = column.width
    ws.row_dimensions[L.UNDERPAID_HEADER_ROW].height = L.HEADER_HEIGHT

    table = audit.table
    first = L.UNDERPAID_HEADER_ROW + 1
    last = first + max(len(table), 1) - 1
    for r, rec in enumerate(records(table), start=first):
        w.row(ws, r, L.UNDERPAID_COLUMNS, rec, col)
    total = last + 1
    w.put(ws, total, 1, "All codes", "xlrate Total")
    for column in L.UNDERPAID_COLUMNS[1:]:
        w.put(ws, total, idx[column.key], None, "xlrate Total", keep_blank=True)
    for key in L.UNDERPAID_TOTALS:
        values = table[key].dropna()
        if key == "lines" or key.endswith("_lines"):
            expected: float = int(values.sum())
        else:  # cents (units: whole or decimal units, summed as they are)
            expected = round(float(values.sum()), 2 if key != "units" else 6)
        w.formula(
            ws,
            total,
            idx[key],
            f"SUM({col[key]}{first}:{col[key]}{last})",
            expected,
            "xlrate Total",
        )
        ws.cell(total, idx[key]).number_format = ws.cell(first, idx[key]).number_format
        book.define(L.underpaid_name(index, key), ws, f"${col[key]}${total}")
    ws.conditional_formatting.add(
        f"{col['underpaid_amount']}{first}:{col['underpaid_amount']}{last}",
        CellIsRule(operator="greaterThan", formula=["0"], fill=UNDERPAID_FILL),
    )
    finish_table(ws, L.UNDERPAID_HEADER_ROW, len(L.UNDERPAID_COLUMNS), last, f"C{first}")
    _findings(book, ws, total + 2, audit)


def _findings(book: Book, ws: Worksheet, row: int, audit: AuditSheet) -> None:
    """Below the table: what explains the underpaid and denied lines (values, no formulas)."""
    if not audit.findings:
        return
    w = book.writer
    idx = L.numbers(L.UNDERPAID_COLUMNS)
    w.put(ws, row, 1, "What explains them", "xlrate Section")
    row += 1
    lines_col, dollars_col = idx["underpaid_lines"], idx["underpaid_amount"]
    # The finding's words in one merged, wrapped cell over the columns left of Lines.
    span = get_column_letter(lines_col - 1)
    width = sum(c.width for c in L.UNDERPAID_COLUMNS[: lines_col - 1])
    w.put(ws, row, 1, "Finding: what the payer's amount matches", "xlrate Header")
    w.put(ws, row, lines_col, "Lines", "xlrate Header")
    w.put(ws, row, dollars_col, "Dollars (short; denied: billed)", "xlrate Header")
    ws.merge_cells(f"A{row}:{span}{row}")
    ws.row_dimensions[row].height = L.HEADER_HEIGHT
    for status, finding, count, amount in audit.findings:
        row += 1
        text = f"{status.capitalize()}: {finding}"
        w.put(ws, row, 1, text, "xlrate Wrap")
        w.put(ws, row, lines_col, count, "xlrate Count")
        w.put(ws, row, dollars_col, amount, "xlrate Money")
        ws.merge_cells(f"A{row}:{span}{row}")
        # Spreadsheet apps do not grow a row for wrapped text on open: size it here.
        ws.row_dimensions[row].height = 13.5 * max(1, math.ceil(len(text) / (width * 1.1)))
