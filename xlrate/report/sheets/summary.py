"""The Summary: the practice, one row per payer, All payers, a chart, Medicare's own change,
and the codes with the largest shortfall to target; with a contract audit, the dollars
underpaid in the period (``Summary_Underpaid``, the Underpayments sheets' totals added up).

The payer table's columns are named (``Summary_Payer``, ``Summary_WeightedPct``,
``Summary_Shortfall`` and the All payers cells) so the headline numbers of an e-mail are
read back by name.
"""

from __future__ import annotations

from typing import Any

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.analysis import Analysis
from xlrate.report import layout as L
from xlrate.report.cells import excel_string, quote
from xlrate.report.sheets import Book, Record, kinds, records, underpaid

CONTEXT = (
    "For context: commercial payers pay roughly 120-145% of Medicare for physician services on "
    "average (Milliman 2023: 139%; HCCI: 122% nationally, 98% to 188% by state)."
)


def write(book: Book, ws: Worksheet) -> None:
    a, w = book.analysis, book.writer
    _info(book, ws)
    scol = L.letters(L.SUMMARY_COLUMNS)
    idx = L.numbers(L.SUMMARY_COLUMNS)
    summary = a.summary.set_index("payer")
    first = L.SUMMARY_HEADER_ROW + 1
    row = first - 1
    for row, spec in enumerate(a.payers, start=first):
        payer = spec.name
        data = " + ".join(kinds(a.rows.loc[a.rows["payer"] == payer, "rate_source"]))
        record = {
            "payer": payer,
            "data": data + (" (SYNTHETIC)" if spec.synthetic else ""),
            **{str(k): v for k, v in summary.loc[payer].items()},
        }
        fields = {
            **scol,
            "sheet": quote(book.sheet_names[payer]),
            "rng": book.payer_ranges(payer),
            "lowest": book.lowest_range,
        }
        w.row(ws, row, L.SUMMARY_COLUMNS, Record(record), fields)
    last = row
    total = last + 1
    w.put(ws, total, 1, "All payers", "xlrate Total")
    for column in L.SUMMARY_COLUMNS[1:]:
        w.put(ws, total, idx[column.key], None, "xlrate Total", keep_blank=True)
    for key in L.SUMMARY_TOTALS:
        text = f"SUM({scol[key]}{first}:{scol[key]}{last})"
        w.formula(ws, total, idx[key], text, float(summary[key].sum()), "xlrate Total")
        ws.cell(total, idx[key]).number_format = ws.cell(first, idx[key]).number_format
    revenue, medicare_total = (
        float(summary["revenue"].sum()),
        float(summary["medicare_at_volume"].sum()),
    )
    w.formula(
        ws,
        total,
        idx["weighted_pct"],
        L.SUMMARY_TOTAL_WEIGHTED.format(r=total, **scol),
        revenue / medicare_total if medicare_total else None,
        "xlrate Total",
    )
    ws.cell(total, idx["weighted_pct"]).number_format = "0.0%"
    for name, key in (
        (L.SUMMARY_PAYERS, "payer"),
        (L.SUMMARY_WEIGHTED, "weighted_pct"),
        (L.SUMMARY_SHORTFALL, "shortfall"),
    ):
        book.define(name, ws, f"${scol[key]}${first}:${scol[key]}${max(last, first)}")
    book.define(L.SUMMARY_TOTAL_WEIGHTED_NAME, ws, f"${scol['weighted_pct']}${total}")
    book.define(L.SUMMARY_TOTAL_SHORTFALL, ws, f"${scol['shortfall']}${total}")
    if book.market_ranges:
        _market_columns(book, ws, first, last)
    ws.freeze_panes = f"B{first}"
    ws.print_title_rows = f"{L.SUMMARY_HEADER_ROW}:{L.SUMMARY_HEADER_ROW}"

    _underpaid_in_period(book, ws)
    row = _chart(ws, a, first, last, idx["weighted_pct"])
    row = _medicare_itself(book, ws, row)
    _top_underpaid(book, ws, row)


def _info(book: Book, ws: Worksheet) -> None:
    """The practice block (B4:B9) and the subtitle."""
    a, w = book.analysis, book.writer
    profile = a.profile
    synthetic = [p.name for p in a.payers if p.synthetic]
    practice = profile.name + (" (synthetic demo practice)" if profile.synthetic_note else "")
    info = {
        "practice": practice,
        "locality": a.locality
        + (f" ({a.locality_name})" if a.locality_name else "")
        + (f", from ZIP {profile.zip}" if profile.zip and not profile.locality else ""),
        "setting": profile.setting,
        "generated": a.generated.strftime("%Y-%m-%d %H:%M UTC"),
        "data": (
            f"SYNTHETIC payers (invented for the demo): {', '.join(synthetic)}. {profile.synthetic_note}".strip()
            if synthetic
            else "Your own fee schedules and remittances (see Sources)."
        ),
    }
    for key, text in info.items():
        w.text(ws, L.SUMMARY_INFO[key], text)
    # The release from its named cell, so the Refresh button's new release shows here too.
    row, column = coordinate_to_tuple(L.SUMMARY_INFO["release"])
    w.formula(
        ws,
        row,
        column,
        f'"CY"&{L.MEDICARE_YEAR}&{excel_string(" Medicare Physician Fee Schedule, release ")}'
        f"&{L.RELEASE_IN_USE}",
        f"CY{a.year} Medicare Physician Fee Schedule, release {a.release}",
    )
    book.define(L.PRACTICE, ws, L.absolute(L.SUMMARY_INFO["practice"]))
    w.text(
        ws,
        "A2",
        f"{profile.name}: what each payer pays as a percent of Medicare, weighted by annual "
        "volume. Yellow cells on the payer and Scenarios sheets are inputs.",
    )


def _underpaid_in_period(book: Book, ws: Worksheet) -> None:
    """ "Underpaid in the period": the audited payers' totals added up, by their names."""
    a, w = book.analysis, book.writer
    audited = [(i, name) for i, name in enumerate(a.payer_names, start=1) if name in a.audits]
    if not audited:
        return
    label_row, label_col = coordinate_to_tuple(L.SUMMARY_UNDERPAID_LABEL)
    w.put(ws, label_row, label_col, "Underpaid in the period", "xlrate Label")
    row, column = coordinate_to_tuple(L.SUMMARY_UNDERPAID)
    names = ",".join(L.underpaid_name(i) for i, _ in audited)
    total = sum(a.audits[name].underpaid_amount for _, name in audited)
    w.formula(ws, row, column, f"SUM({names})", round(total, 2), "xlrate Money")
    ws.cell(row, column).number_format = "$#,##0.00"
    book.define(L.SUMMARY_UNDERPAID_NAME, ws, L.absolute(L.SUMMARY_UNDERPAID))
    days = [d for _, name in audited for d in a.audits[name].period if d is not None]
    period = underpaid.period_text((min(days), max(days)) if days else (None, None))
    sheets = book.writer.result.audit_sheets
    where = ", ".join(f"{name} ({sheets[name]} sheet)" for _, name in audited)
    note_row, note_col = coordinate_to_tuple(L.SUMMARY_UNDERPAID_NOTE)
    w.put(
        ws,
        note_row,
        note_col,
        f"Dates of service {period}: 835 lines paid below the contract, {where}",
        "xlrate Note",
    )


def _chart(ws: Worksheet, a: Analysis, first: int, last: int, weighted_col: int) -> int:
    """The bar chart of weighted percent by payer below the table; returns the next free row."""
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Weighted percent of Medicare by payer"
    chart.y_axis.title = None
    chart.y_axis.numFmt = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"
    chart.y_axis.scaling.min = 0
    chart.legend = None
    data = Reference(ws, min_col=weighted_col, min_row=L.SUMMARY_HEADER_ROW, max_row=last)
    cats = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    labels = DataLabelList()
    labels.showVal = True
    labels.showSerName = labels.showCatName = labels.showLegendKey = labels.showPercent = False
    labels.numFmt = "0%"
    chart.series[0].dLbls = labels
    chart.series[0].graphicalProperties.solidFill = "2F5597"
    chart.gapWidth = 60
    chart.height = max(6.0, 1.1 * len(a.payer_names) + 2.5)
    chart.width = 18
    chart_row = last + 3
    ws.add_chart(chart, f"A{chart_row}")
    return chart_row + int(chart.height / 0.53) + 2


def _medicare_itself(book: Book, ws: Worksheet, row: int) -> int:
    """Medicare's own change year over year, and context; returns the next free row."""
    a, w = book.analysis, book.writer
    w.put(ws, row, 1, "Medicare itself", "xlrate Section")
    row += 1
    if a.yoy_years:
        old, new = a.yoy_years
        change = a.medicare["yoy_change"].dropna()
        span = book.medicare_range("yoy_change")
        text = f"Medicare {old} to {new}: median change over the codes in use"
        w.put(ws, row, 1, text, "xlrate Text")
        w.put(ws, row, 6, f"({a.yoy_label}; per code on the Medicare sheet)", "xlrate Note")
        w.formula(
            ws,
            row,
            5,
            f'IF(COUNT({span})=0,"",MEDIAN({span}))',
            float(change.median()) if len(change) else None,
            "xlrate Percent",
        )
        row += 1
    w.put(ws, row, 1, CONTEXT, "xlrate Note")
    return row + 2


def _top_underpaid(book: Book, ws: Worksheet, row: int) -> None:
    """The codes with the largest shortfall to target, across payers."""
    a, w = book.analysis, book.writer
    top = _largest_shortfalls(a)
    text = f"Top {len(top)} codes by shortfall to target (annual volume x gap per unit)"
    w.put(ws, row, 1, text, "xlrate Section")
    row += 1
    for i, column in enumerate(L.TOP_COLUMNS, start=1):
        w.put(ws, row, i, column.header, "xlrate Header")
    ws.row_dimensions[row].height = L.HEADER_HEIGHT
    for r, rec in enumerate(top, start=row + 1):
        ranges = book.payer_ranges(rec.payer)
        key = excel_string(f"{rec.code}|{rec.modifier}|{rec.setting}")
        fields = {
            "sheet": quote(book.sheet_names[rec.payer]),
            "rng": ranges,
            "match": L.TOP_MATCH.format(key=key, rng=ranges),
        }
        expected = {"shortfall": -rec.impact, "modifier": rec.modifier or None}
        w.row(ws, r, L.TOP_COLUMNS, rec, fields, expected)


def _largest_shortfalls(a: Analysis) -> list[Any]:
    """The compared rows with the largest shortfall (most negative impact), across payers."""
    out = []
    for payer in a.payer_names:
        compared = a.rows[(a.rows["payer"] == payer) & a.rows["compared"]]
        out += [rec for rec in records(compared) if rec.impact < 0]
    out.sort(key=lambda rec: (rec.impact, rec.payer, rec.code))
    return out[: L.TOP_UNDERPAID]


def _market_columns(book: Book, ws: Worksheet, first: int, last: int) -> None:
    """The payer table's market columns, right of its own (only with a Market sheet)."""
    a, w = book.analysis, book.writer
    assert a.market is not None
    market = a.market.summary.set_index("payer")
    start = len(L.SUMMARY_COLUMNS) + 1
    for c, column in enumerate(L.SUMMARY_MARKET_COLUMNS, start=start):
        w.put(ws, L.SUMMARY_HEADER_ROW, c, column.header, "xlrate Header")
        ws.column_dimensions[get_column_letter(c)].width = column.width
    fields = {"payer": L.letter(L.SUMMARY_COLUMNS, "payer"), "mk": book.market_ranges}
    for row, spec in enumerate(a.payers, start=first):
        if spec.name not in market.index:
            continue
        figures = market.loc[spec.name]
        for c, column in enumerate(L.SUMMARY_MARKET_COLUMNS, start=start):
            assert column.formula is not None
            expected = figures[column.key]
            w.formula(ws, row, c, column.formula.format(r=row, **fields), expected, column.style)
    total = last + 1
    rows = a.market.rows
    medicare_units = float((rows["medicare"] * rows["volume"]).sum())
    median_units = float((rows["market_median"] * rows["volume"]).sum())
    totals = {
        "market_median_pct": (
            L.SUMMARY_MARKET_TOTAL.format(mk=book.market_ranges),
            median_units / medicare_units if medicare_units else None,
        ),
        "codes_below_market_median": (
            f"SUM({{col}}{first}:{{col}}{last})",
            int(market["codes_below_market_median"].sum()),
        ),
    }
    for c, column in enumerate(L.SUMMARY_MARKET_COLUMNS, start=start):
        text, expected = totals[column.key]
        text = text.format(col=get_column_letter(c))
        w.formula(ws, total, c, text, expected, "xlrate Total")
        ws.cell(total, c).number_format = ws.cell(first, c).number_format
        letter = get_column_letter(c)
        book.define(L.SUMMARY_MARKET_NAMES[column.key], ws, f"${letter}${first}:${letter}${last}")
        if column.key == "market_median_pct":
            book.define(L.SUMMARY_TOTAL_MARKET_MEDIAN, ws, f"${letter}${total}")
