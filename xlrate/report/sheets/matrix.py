"""The Matrix: codes down, payers across, each payer's percent of Medicare, and the lowest payer."""

from __future__ import annotations

from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.sheets import Book, finish_table, records


def write(book: Book, ws: Worksheet) -> None:
    """Fill the Matrix; sets ``book.lowest_range`` (its Lowest payer column)."""
    a, w = book.analysis, book.writer
    payers = a.payer_names
    compared = a.rows[a.rows["compared"]]
    keys = (
        compared[["code", "modifier", "setting"]]
        .drop_duplicates()
        .sort_values(["code", "modifier", "setting"])
    )
    present = set(
        zip(
            compared["payer"],
            compared["code"],
            compared["modifier"],
            compared["setting"],
            strict=True,
        )
    )
    fixed = len(L.MATRIX_FIXED)
    first_payer = fixed + 1
    last_payer = fixed + len(payers)
    lowest_col = last_payer + 1
    header = L.MATRIX_HEADER_ROW
    for i, payer in enumerate(payers):
        c = first_payer + i
        w.put(ws, header, c, payer, "xlrate Header")
        ws.column_dimensions[get_column_letter(c)].width = L.MATRIX_PAYER_WIDTH
    w.put(ws, header, lowest_col, "Lowest payer", "xlrate Header")
    ws.column_dimensions[get_column_letter(lowest_col)].width = L.MATRIX_LOWEST_WIDTH
    ws.row_dimensions[header].height = L.HEADER_HEIGHT

    lowest = a.lowest.set_index(["code", "modifier", "setting"])["lowest_payer"].to_dict()
    pct = compared.set_index(["payer", "code", "modifier", "setting"])["pct"].to_dict()
    medicare = (
        compared.drop_duplicates(["code", "modifier", "setting"])
        .set_index(["code", "modifier", "setting"])["medicare"]
        .to_dict()
    )
    fp, lp = get_column_letter(first_payer), get_column_letter(last_payer)
    fields = {
        **L.letters(L.MATRIX_FIXED),
        "amounts": book.medicare_range("amount"),
        "keys": book.medicare_range("key"),
        "names": f"${fp}${header}:${lp}${header}",
    }
    ranges = {payer: book.payer_ranges(payer) for payer in payers}
    first = header + 1
    row = first - 1
    for row, rec in enumerate(records(keys), start=first):
        key = (rec.code, rec.modifier, rec.setting)
        w.put(ws, row, 1, rec.code, "xlrate Code")
        w.put(ws, row, 2, rec.modifier or None, "xlrate Code")
        w.put(ws, row, 3, rec.setting, "xlrate Text")
        w.formula(
            ws, row, 4, L.MATRIX_MEDICARE.format(r=row, **fields), medicare[key], "xlrate Money"
        )
        for i, payer in enumerate(payers):
            if (payer, *key) in present:
                text = L.MATRIX_PAYER.format(r=row, rng=ranges[payer])
                w.formula(ws, row, first_payer + i, text, pct[(payer, *key)], "xlrate Percent")
        span = f"{fp}{row}:{lp}{row}"
        text = L.MATRIX_LOWEST.format(span=span, **fields)
        w.formula(ws, row, lowest_col, text, lowest.get(key, ""), "xlrate Text")
    last = max(row, first)
    ws.conditional_formatting.add(
        f"{fp}{first}:{lp}{last}",
        ColorScaleRule(
            start_type="num",
            start_value=0.8,
            start_color="F8696B",
            mid_type="num",
            mid_value=1.2,
            mid_color="FFEB84",
            end_type="num",
            end_value=1.6,
            end_color="63BE7B",
        ),
    )
    finish_table(ws, header, lowest_col, last, f"D{first}")
    lc = get_column_letter(lowest_col)
    book.lowest_range = f"Matrix!${lc}${first}:${lc}${last}"
