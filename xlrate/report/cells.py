"""The one way the report writes a cell: values, text that never becomes a formula, formulas.

Every sheet module writes through :class:`Writer`; nothing in :mod:`xlrate.report` assigns
``cell.value`` or ``ws[...]`` itself (``tests/report/test_text_guard.py`` checks the source).
So text from the user's inputs (payer and practice names, file names, descriptions, notes,
a profile's source line) is stored as a string cell whatever it starts with: a payer named
``=HYPERLINK("http://evil","x")`` or ``=cmd|' /C calc'!A0`` shows as that text and is
never evaluated. Formulas are only what the report itself composes (:meth:`Writer.formula`),
and any text inside one goes through :func:`excel_string`.

Only openpyxl's public API is used (``Worksheet.cell``, ``Cell.value``, ``Cell.data_type``,
``Cell.style``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.styles import named_styles

#: How a cell's text starts when a spreadsheet would read it as a formula (OWASP's CSV
#: injection list): such text is stored as a string with Excel's quote prefix, so editing
#: the cell does not turn it into a formula either.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_LETTERS = [""] + [get_column_letter(i) for i in range(1, 400)]


@dataclass
class BuildResult:
    """Where the workbook went and the value each formula cell should show."""

    path: Path
    expected: dict[tuple[str, str], Any] = field(default_factory=dict)
    payer_sheets: dict[str, str] = field(default_factory=dict)
    #: payer -> its Underpayments sheet (payers with a contract audit)
    audit_sheets: dict[str, str] = field(default_factory=dict)
    backup: Path | None = None


def blank(value: Any) -> Any:
    """Python's missing values (None, NaN, pd.NA) as None; anything else unchanged."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ == "NAType":  # pandas.NA, without importing pandas here
        return None
    return value


def excel_string(text: str) -> str:
    """``text`` as a string literal inside a formula (quotes doubled)."""
    return '"' + str(text).replace('"', '""') + '"'


def quote(sheet: str) -> str:
    """A sheet name as a formula refers to it: ``'O''Brien'``."""
    return "'" + sheet.replace("'", "''") + "'"


def set_text(cell: Cell, text: str) -> None:
    """Store ``text`` in ``cell`` as a string, never as a formula."""
    cell.value = text
    cell.data_type = "s"  # openpyxl reads a leading "=" as a formula: undo that
    if text.startswith(FORMULA_STARTS):
        cell.quotePrefix = True


def set_value(cell: Cell, value: Any) -> None:
    """Store an input value (number, text, None): text always as a string cell."""
    value = blank(value)
    if isinstance(value, str):
        set_text(cell, value)
    else:
        cell.value = value


#: Excel's error values a cell may hold (never text that merely looks like one).
EXCEL_ERRORS = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"))


def set_error(cell: Cell, error: str) -> None:
    """Store one of Excel's error values (``#N/A``): ISNA and IFERROR see an error."""
    if error not in EXCEL_ERRORS:
        raise ValueError(f"{error!r} is not an Excel error value")
    cell.value = error
    cell.data_type = "e"


class Writer:
    """Writes cells with the template's named styles and records formula expectations."""

    def __init__(self, wb: Workbook, result: BuildResult) -> None:
        self.wb = wb
        self.result = result
        defaults = {style.name: style for style in named_styles()}
        for name in L.STYLE_NAMES:
            if name not in wb.named_styles:
                wb.add_named_style(defaults[name])  # a template from before this style existed

    def put(
        self,
        ws: Worksheet,
        row: int,
        column: int,
        value: Any,
        style: str | None = None,
        keep_blank: bool = False,
    ) -> None:
        """Write a value with a named style; text is always a string cell.

        A blank value writes nothing unless ``keep_blank`` (a styled empty cell, as in a
        totals row). A bool is shown as "yes" or nothing.
        """
        value = blank(value)
        if value is None and not keep_blank:
            return
        if isinstance(value, bool):
            value = "yes" if value else ""
        cell = ws.cell(row, column)
        if style:
            cell.style = style  # first: a named style replaces the quote prefix of set_text
        set_value(cell, value)

    def text(self, ws: Worksheet, ref: str, text: str, style: str | None = None) -> None:
        """Write text at a cell reference (``A2``), keeping the template's style unless given."""
        cell = ws[ref]
        if style:
            cell.style = style
        set_text(cell, text)

    def formula(
        self,
        ws: Worksheet,
        row: int,
        column: int,
        text: str,
        expected: Any,
        style: str | None = None,
    ) -> None:
        """Write ``=text`` and record the value the analysis computed for it."""
        cell = ws.cell(row, column)
        cell.value = "=" + text
        if style:
            cell.style = style
        expected = blank(expected)
        self.result.expected[(ws.title, f"{_LETTERS[column]}{row}")] = (
            "" if expected is None else expected
        )

    def row(
        self,
        ws: Worksheet,
        r: int,
        columns: list[L.Column],
        record: Any,
        fields: dict[str, Any],
        expected: dict[str, Any] | None = None,
    ) -> None:
        """One table row: each column's formula template filled, or the record's value.

        ``fields`` fills the templates (column letters and the sheet's own fields);
        ``expected`` overrides the record's attribute as a formula's expected value.
        """
        for c, column in enumerate(columns, start=1):
            if column.formula is None:
                value = getattr(record, column.key, None)
                self.put(ws, r, c, None if value == "" else value, column.style)
                continue
            if column.when is not None and blank(getattr(record, column.when)) is None:
                continue
            want = (
                expected[column.key]
                if expected and column.key in expected
                else getattr(record, column.key, None)
            )
            text = column.formula.format(r=r, here=_LETTERS[c], **fields)
            self.formula(ws, r, c, text, want, column.style)
