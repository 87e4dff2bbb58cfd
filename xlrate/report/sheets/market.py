"""The Market sheet: each compared code of a payer with Transparency in Coverage files
against what that payer pays the other practices in them (:mod:`xlrate.analysis.market`).

Only written when the analysis has market rows. Sets ``book.market_ranges`` for the
Summary's and the Scenarios' market columns.
"""

from __future__ import annotations

import math
from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.sheets import Book, Record, finish_table, records

NOTES = (
    "Market figures: the payer's own Transparency in Coverage files; each other practice (TIN) "
    "counts once, at the median of its own rates; your TINs/NPIs ([practice] tin, npi in the "
    "profile) are never counted among them.",
    "Your rank: where your rate in the payer's files stands among those TINs and yours, lowest first.",
    "Change per year at the market median: (median - your rate) x annual volume, for codes "
    "paid below the median; the Scenarios sheet adds it up per payer.",
)


#: The chart is drawn for one payer with at most this many codes (beyond, the table says it
#: better; with several payers the same code would repeat down the chart).
CHART_ROWS = 30


def _chart(ws: Worksheet, first: int, last: int, row: int, payer: str) -> None:
    """Your rate and the market median, as percents of Medicare, code by code."""
    idx = L.numbers(L.MARKET_COLUMNS)
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = f"{payer}: your rate and the market median (% of Medicare)"
    chart.y_axis.numFmt = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"
    for key, colour in (("rate_pct", "2F5597"), ("median_pct", "A5A5A5")):
        data = Reference(ws, min_col=idx[key], min_row=L.MARKET_HEADER_ROW, max_row=last)
        chart.add_data(data, titles_from_data=True)
        chart.series[-1].graphicalProperties.solidFill = colour
    chart.set_categories(Reference(ws, min_col=idx["code"], min_row=first, max_row=last))
    chart.legend.position = "b"
    chart.gapWidth = 50
    chart.height = max(7.5, 1.2 * (last - first + 1) + 3.5)
    chart.width = 22
    ws.add_chart(chart, f"A{row}")


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def write(book: Book, ws: Worksheet) -> None:
    a, w = book.analysis, book.writer
    assert a.market is not None
    rows = a.market.rows
    w.put(ws, 1, 1, "What each payer pays other practices for your codes", "xlrate Title")
    w.put(
        ws,
        2,
        1,
        f"{a.profile.name}: your rates against the payers' published rates "
        "(Transparency in Coverage), with each as a percent of Medicare.",
        "xlrate Subtitle",
    )
    header = L.MARKET_HEADER_ROW
    for c, column in enumerate(L.MARKET_COLUMNS, start=1):
        w.put(ws, header, c, column.header, "xlrate Header")
        ws.column_dimensions[get_column_letter(c)].width = column.width
    ws.row_dimensions[header].height = L.MARKET_HEADER_HEIGHT
    cols = L.letters(L.MARKET_COLUMNS)
    base = {
        **cols,
        "amounts": book.medicare_range("amount"),
        "keys": book.medicare_range("key"),
    }
    first = header + 1
    row = first - 1
    for row, rec in enumerate(records(rows), start=first):
        rate, medicare = float(rec.rate), float(rec.medicare)
        median, volume = float(rec.market_median), _number(rec.volume)
        own = _number(rec.market_own_rate)
        below = rate < median
        values = {
            "payer": rec.payer,
            "code": rec.code,
            "modifier": rec.modifier,
            "setting": rec.setting,
            "volume": volume,
            "rate": rate,
            "tins": int(rec.market_tins),
            "p25": _number(rec.market_p25),
            "median": median,
            "p75": _number(rec.market_p75),
            "own_file_rate": own,
            "rank": rec.market_rank,
            "medicare": medicare,
            "rate_pct": rate / medicare,
            "p25_pct": float(rec.market_p25) / medicare,
            "median_pct": median / medicare,
            "p75_pct": float(rec.market_p75) / medicare,
            "own_file_pct": own / medicare if own is not None else None,
            "below": "yes" if below else "",
            "to_median": (median - rate) * volume if below and volume is not None else 0.0,
        }
        fields = {**base, "rng": book.payer_ranges(rec.payer)}
        w.row(ws, row, L.MARKET_COLUMNS, Record(values), fields)
    last = max(row, first)
    book.market_ranges = {
        key: f"{L.MARKET_SHEET}!${col}${first}:${col}${last}" for key, col in cols.items()
    }
    note_row = last + 2
    for offset, text in enumerate((*NOTES, *a.market.notes), start=note_row):
        w.put(ws, offset, 1, text, "xlrate Note")
    payers = set(rows["payer"])
    if len(payers) == 1 and last - first + 1 <= CHART_ROWS:
        _chart(ws, first, last, note_row + len(NOTES) + len(a.market.notes) + 1, *payers)
    finish_table(ws, header, len(L.MARKET_COLUMNS), last, f"E{first}")
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
