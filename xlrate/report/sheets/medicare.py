"""The Medicare sheet: each code's Medicare amount with its RVUs, GPCIs and conversion factor.

Every other sheet finds a Medicare amount here by its lookup key (INDEX/MATCH), so this
sheet is written first. Its columns are named (``Medicare_Code``, ``Medicare_Amount``...)
for the Refresh button.
"""

from __future__ import annotations

from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.cells import excel_string
from xlrate.report.sheets import Book, finish_table, records


def write(book: Book, ws: Worksheet) -> None:
    a, w = book.analysis, book.writer
    cols = L.numbers(L.MEDICARE_COLUMNS)
    note = (
        "; amounts rounded half-up to cents as CMS does. "
        f"Prior year / newest year: {a.yoy_label or 'not available'}."
    )
    # The locality, year and release from their named cells, so a refresh restates them.
    w.formula(
        ws,
        2,
        1,
        f'"Locality "&{L.LOCALITY}&", CY"&{L.MEDICARE_YEAR}&" release "&{L.RELEASE_IN_USE}'
        f"&{excel_string(note)}",
        f"Locality {a.locality}, CY{a.year} release {a.release}{note}",
    )
    if a.yoy_years:
        old, new = a.yoy_years
        suffix = " (national)" if "national" in a.yoy_label else ""
        header = L.MEDICARE_HEADER_ROW
        w.put(ws, header, cols["yoy_old"], f"{old} amount{suffix}")
        w.put(ws, header, cols["yoy_new"], f"{new} amount{suffix}")
        w.put(ws, header, cols["yoy_change"], f"Change {old[:4]} to {new[:4]}")
    first = L.MEDICARE_HEADER_ROW + 1
    fields = L.letters(L.MEDICARE_COLUMNS)
    table = a.medicare.assign(status=a.medicare["status"].astype(str).str.replace("_", " "))
    row = first - 1
    for row, rec in enumerate(records(table), start=first):  # noqa: B007
        w.row(
            ws,
            row,
            L.MEDICARE_COLUMNS,
            rec,
            fields,
            {"key": f"{rec.code}|{rec.modifier}|{rec.setting}"},
        )
    last = max(row, first)
    book.medicare_rows = (first, last)
    for key, name in L.MEDICARE_NAMES.items():
        col = fields[key]
        book.define(name, ws, f"${col}${first}:${col}${last}")
    finish_table(ws, L.MEDICARE_HEADER_ROW, len(L.MEDICARE_COLUMNS), row, "D5")
