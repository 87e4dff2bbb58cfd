"""A faster cell serializer for openpyxl's pure-Python (no lxml) save path.

Without lxml, openpyxl builds an ElementTree element per cell and serializes it through
et_xmlfile, about 20-40 microseconds a cell: most of the time of a 30-payer workbook. The
cells this package writes are plain: numbers, short strings and formulas. For those,
:func:`fast_cells` writes the same XML text directly; anything else (rich text, dates,
booleans, array formulas, hyperlinks, strings needing ``xml:space``) goes through
openpyxl's own writer. ``tests/report/test_fastcells.py`` holds the two to byte-identical
output. With lxml installed openpyxl is fast already and nothing is patched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from openpyxl.compat import safe_string

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def _writer(original: Callable[..., None]) -> Callable[..., None]:
    def write_cell(xf: Any, worksheet: Any, cell: Any, styled: Any = None) -> None:
        value = cell._value
        kind = cell.data_type
        out = getattr(xf, "_file", None)
        if out is None or cell.hyperlink is not None or kind not in ("n", "s", "f"):
            return original(xf, worksheet, cell, styled)
        style = f' s="{cell.style_id}"' if styled else ""
        if kind == "f":
            if not isinstance(value, str):  # ArrayFormula, DataTableFormula
                return original(xf, worksheet, cell, styled)
            out(f'<c r="{cell.coordinate}"{style}><f>{value[1:].translate(_ESCAPES)}</f><v /></c>')
        elif kind == "s":
            if value is None or value == "":
                out(f'<c r="{cell.coordinate}"{style} t="inlineStr" />')
            elif type(value) is str and value == value.strip():
                out(
                    f'<c r="{cell.coordinate}"{style} t="inlineStr"><is><t>{value.translate(_ESCAPES)}</t></is></c>'
                )
            else:
                return original(xf, worksheet, cell, styled)
        elif value is None:
            out(f'<c r="{cell.coordinate}"{style} t="n" />')
        elif type(value) in (int, float):
            text = safe_string(value)  # "" for NaN / infinity
            body = f"<v>{text}</v>" if text else "<v />"
            out(f'<c r="{cell.coordinate}"{style} t="n">{body}</c>')
        else:
            return original(xf, worksheet, cell, styled)
        return None

    return write_cell


@contextmanager
def fast_cells() -> Iterator[None]:
    """Use the fast cell writer for the saves inside the ``with`` block."""
    import openpyxl.worksheet._writer as sheet_writer
    from openpyxl.cell import _writer as cell_writer

    original = sheet_writer.write_cell
    if original is not cell_writer.etree_write_cell:  # lxml: already fast
        yield
        return
    sheet_writer.write_cell = _writer(original)
    try:
        yield
    finally:
        sheet_writer.write_cell = original
