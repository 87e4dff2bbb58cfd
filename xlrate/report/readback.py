"""Reading a built workbook back, only through the defined names the report writes.

The names are declared in :mod:`xlrate.report.layout` (``Locality``, ``MedicareYear``,
``MedicareReleaseInUse``, ``Summary_Payer``, ``Medicare_Code``...). Nothing here looks at a
heading or a label: a user can retitle, restyle or translate every header and the buttons,
the Excel functions and sharing still find their cells. A workbook without the names (one
not built by xlrate, or whose names were deleted) answers "not found" and the caller says
what to do (rebuild it with ``xlrate build``).

The functions take an openpyxl workbook; the Excel functions read a live xlwings book
through the same name lists (:data:`SETTING_NAMES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.cells import set_value

#: Workbook names each setting is looked up under, first match wins. ``MedicareRelease``
#: pins a release (a user may add it); the report itself names only the year.
SETTING_NAMES: dict[str, tuple[str, ...]] = {
    "locality": (L.LOCALITY, "MedicareLocality"),
    "zip": ("Zip", "ZipCode", "PracticeZip"),
    "year": (L.MEDICARE_YEAR, "Year"),
    "release": ("MedicareRelease", "Release"),
    "setting": ("Setting", "MedicareSetting"),
    # The release the Medicare sheet was priced with: a workbook without a year name
    # keeps that release's year.
    "release_in_use": (L.RELEASE_IN_USE,),
}
#: A named cell that, when present, shows a sentence about the release in use.
STATUS_NAME = "MedicareStatus"

#: Medicare sheet column (layout key) -> the column of ``xlrate.price(detail=True)`` (with
#: ``pe_rvu_setting``: the PE RVU of the row's setting) that the Refresh button writes there.
MEDICARE_PRICE_COLUMNS = {
    "amount": "amount",
    "status": "status",
    "schedule": "schedule",
    "work_rvu": "work_rvu",
    "pe_rvu": "pe_rvu_setting",
    "mp_rvu": "mp_rvu",
    "work_gpci": "work_gpci",
    "pe_gpci": "pe_gpci",
    "mp_gpci": "mp_gpci",
    "conversion_factor": "conversion_factor",
    "note": "note",
}


@dataclass(frozen=True)
class Area:
    """Where a defined name points: a sheet and a rectangle of cells (1-based, inclusive)."""

    sheet: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int


def area(wb: Workbook, name: str) -> Area | None:
    """The cells ``name`` refers to, or None when the workbook does not define it."""
    defined = wb.defined_names.get(name)
    if defined is None:
        return None
    for sheet, ref in defined.destinations:
        if sheet in wb.sheetnames:
            min_col, min_row, max_col, max_row = range_boundaries(ref.replace("$", ""))
            if min_col and min_row and max_col and max_row:
                return Area(sheet, min_row, min_col, max_row, max_col)
    return None


def constant(wb: Workbook, name: str) -> str | None:
    """The text of a name defined as a constant (``="2025D"``), else None."""
    defined = wb.defined_names.get(name)
    text = str(defined.attr_text or "").lstrip("=") if defined is not None else ""
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text[1:-1].replace('""', '"')
    return None


def named_value(wb: Workbook, *names: str) -> Any:
    """The value of the first of ``names`` that holds something (a cell or a constant)."""
    for name in names:
        text = constant(wb, name)
        if text is not None:
            return text
        where = area(wb, name)
        if where is None:
            continue
        value = wb[where.sheet].cell(where.min_row, where.min_col).value
        if value not in (None, ""):
            return value
    return None


def set_named(wb: Workbook, name: str, value: Any) -> bool:
    """Write ``value`` into the (first) cell ``name`` refers to; False when not defined."""
    where = area(wb, name)
    if where is None:
        return False
    set_value(wb[where.sheet].cell(where.min_row, where.min_col), value)
    return True


@dataclass(frozen=True)
class MedicareTable:
    """The Medicare sheet's table as the Refresh button needs it."""

    sheet: Worksheet
    rows: list[int]
    #: layout key (``code``, ``amount``...) -> column number
    columns: dict[str, int]


def medicare_table(wb: Workbook) -> MedicareTable | None:
    """The named Medicare columns (``Medicare_Code``...), or None when the names are missing."""
    areas = {key: area(wb, name) for key, name in L.MEDICARE_NAMES.items()}
    code = areas.get("code")
    if code is None:
        return None
    columns = {
        key: where.min_col
        for key, where in areas.items()
        if where is not None and where.sheet == code.sheet
    }
    return MedicareTable(wb[code.sheet], list(range(code.min_row, code.max_row + 1)), columns)


# ---------------------------------------------------------------------------- headline


def headline(workbook: Path | str) -> list[str]:
    """The headline numbers, as lines: weighted % of Medicare per payer, revenue at stake.

    Read from the Summary's named payer table: the values a spreadsheet saved, or, for a
    workbook none has calculated yet (as ``xlrate build`` writes it), the values of its
    formulas computed by pyopenvba's formula engine. An empty list when the workbook has
    no such names, so a message still goes out.
    """
    path = Path(workbook)
    try:
        wb = load_workbook(path, data_only=True, read_only=True)
    except Exception:
        return []
    try:
        names = (
            L.SUMMARY_PAYERS,
            L.SUMMARY_WEIGHTED,
            L.SUMMARY_SHORTFALL,
            L.SUMMARY_TOTAL_WEIGHTED_NAME,
            L.SUMMARY_TOTAL_SHORTFALL,
        )
        areas = [area(wb, name) for name in names]
        if any(a is None for a in areas[:3]):
            return []
        columns = [_read(wb, a) if a is not None else [] for a in areas]
    finally:
        wb.close()
    for i in range(1, len(columns)):
        if None in columns[i]:  # formulas without saved values
            try:
                columns[i] = _compute(path, areas[i])
            except Exception:
                return []
    return _lines(*columns)


def _read(wb: Workbook, where: Area) -> list[Any]:
    ws = wb[where.sheet]
    return [
        row[0]
        for row in ws.iter_rows(
            min_row=where.min_row,
            max_row=where.max_row,
            min_col=where.min_col,
            max_col=where.min_col,
            values_only=True,
        )
    ]


def _compute(path: Path, where: Area | None) -> list[Any]:
    if where is None:
        return []
    # A second to import, and only a workbook nobody has calculated needs it.
    from pyopenvba.apps.excel import ExcelApplication  # lazy: pyopenvba's formula engine

    app = ExcelApplication.open(path, with_vba=False)
    col = get_column_letter(where.min_col)
    value = app.sheet(where.sheet).value(f"{col}{where.min_row}:{col}{where.max_row}")
    if not isinstance(value, list):
        return [value]
    return [row[0] if isinstance(row, list) else row for row in value]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _line(payer: Any, pct: Any, stake: Any) -> str | None:
    share = _number(pct)
    if share is None:
        return None  # no comparable codes: nothing to say in a headline
    line = f"{payer}: {share * 100:.0f}% of Medicare (weighted by volume)"
    below = _number(stake)
    if below is not None:
        line += f", {_money(below)} a year below target"
    return line


def _lines(
    payers: list[Any],
    weighted: list[Any],
    shortfall: list[Any],
    total_weighted: list[Any],
    total_shortfall: list[Any],
) -> list[str]:
    lines = []
    for i, payer in enumerate(payers):
        if payer in (None, ""):
            continue
        pct = weighted[i] if i < len(weighted) else None
        stake = shortfall[i] if i < len(shortfall) else None
        line = _line(payer, pct, stake)
        if line:
            lines.append(line)
    all_weighted = total_weighted[0] if total_weighted else None
    all_shortfall = total_shortfall[0] if total_shortfall else None
    total = _line("All payers", all_weighted, all_shortfall)
    if total:
        lines.append(total)
    stake = _number(all_shortfall)
    if stake is not None:
        lines.append(f"Revenue at stake: {_money(stake)} a year (every payer at its target)")
    return lines
