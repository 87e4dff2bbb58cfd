"""One module per sheet of the analysis workbook; :class:`Book` is what they share.

The order they run in (:func:`xlrate.report.workbook.build_workbook`): Medicare first (every
Medicare amount is looked up there), the payer sheets, the Matrix (its Lowest payer column
feeds the Summary), the Market sheet when a payer has TiC files (the Summary and the
Scenarios add up its columns), the Summary, the Scenarios, the Sources.
"""

from __future__ import annotations

import re
from collections import namedtuple
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.worksheet import Worksheet

from xlrate.analysis import Analysis
from xlrate.report import layout as L
from xlrate.report.cells import Writer, quote


@dataclass
class Book:
    """The workbook being built and where each table landed."""

    writer: Writer
    analysis: Analysis
    template: Path
    #: payer -> its sheet's name
    sheet_names: dict[str, str]
    #: (first, last) data row of the Medicare table
    medicare_rows: tuple[int, int] = (0, 0)
    #: payer -> (first, last) row of its compared table
    payer_rows: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: the Matrix's Lowest payer column (an absolute range on the Matrix sheet)
    lowest_range: str = ""
    #: column key -> absolute range of the Market sheet's column (empty: no Market sheet)
    market_ranges: dict[str, str] = field(default_factory=dict)

    def payer_ranges(self, payer: str) -> dict[str, str]:
        """Column key -> ``'Sheet'!$G$7:$G$99`` over the payer's compared table."""
        sheet = quote(self.sheet_names[payer])
        first, last = self.payer_rows[payer]
        return {
            key: f"{sheet}!${col}${first}:${col}${last}"
            for key, col in L.letters(L.PAYER_COLUMNS).items()
        }

    def medicare_range(self, key: str) -> str:
        col = L.letter(L.MEDICARE_COLUMNS, key)
        first, last = self.medicare_rows
        return f"Medicare!${col}${first}:${col}${last}"

    def define(self, name: str, ws: Worksheet, cells: str) -> None:
        """A workbook-level defined name for ``cells`` (``$B$5`` or ``$A$13:$A$16``) on ``ws``."""
        sheet = ws.title if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", ws.title) else quote(ws.title)
        ref = f"{sheet}!{cells}"
        self.writer.wb.defined_names[name] = DefinedName(name, attr_text=ref)


class Record:
    """A dict's keys as attributes (what :meth:`~xlrate.report.cells.Writer.row` reads)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def records(frame: pd.DataFrame) -> list[Any]:
    """Rows as namedtuples of plain Python values (much faster than itertuples on string columns)."""
    row_type = namedtuple("row_type", list(frame.columns))  # type: ignore[misc]
    columns = [frame[c].tolist() for c in frame.columns]
    return [row_type._make(values) for values in zip(*columns, strict=True)]


def kinds(sources: pd.Series) -> list[str]:
    """Where a payer's rates came from, fee schedule first."""
    present = set(sources)
    return [kind for kind in ("fee schedule", "835") if kind in present]


def finish_table(ws: Worksheet, header_row: int, last_col: int, last_row: int, freeze: str) -> None:
    ws.freeze_panes = freeze
    ws.auto_filter.ref = (
        f"A{header_row}:{get_column_letter(last_col)}{max(last_row, header_row + 1)}"
    )
    ws.print_title_rows = f"{header_row}:{header_row}"
