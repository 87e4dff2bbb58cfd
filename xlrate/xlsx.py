"""Reading the cell values of an .xlsx/.xlsm workbook: the zip guard, then python-calamine.

Every workbook the program reads for its values (a payer's fee schedule, a volumes or
charges table) comes through :func:`read_sheets`. The file is first checked as a zip
(:func:`xlrate.ziputil.check_zip` with :data:`~xlrate.ziputil.XLSX_LIMITS`), from its
central directory alone, so a 4 MB file that would unpack to 4 GB is refused in
milliseconds. Then python-calamine (Rust; it does not expand DTDs or external entities)
reads the values, several times faster than openpyxl.

Values come back as openpyxl gives them with ``data_only=True``: ``None`` for an empty
cell, ``int`` for an integral number, ``float``, ``str``, ``bool``, ``datetime`` for dates.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import python_calamine

from xlrate.errors import ImportFileError
from xlrate.ziputil import XLSX_LIMITS, ZipLimits, ZipRefused, check_zip

_HINTS = {
    "broken": "Open it in Excel and save it again as .xlsx, or export it as CSV",
    "unsafe": "Open it in Excel and save it again as .xlsx, or export it as CSV",
    "too_big": "No fee schedule is that large: check it is the right file, or export it as CSV",
}


class XlsxError(ImportFileError):
    """A workbook that is refused (zip guard) or cannot be read."""


def check_workbook(
    path: Path | IO[bytes], limits: ZipLimits = XLSX_LIMITS, *, name: str | None = None
) -> None:
    """Refuse a workbook whose zip is broken, unsafe or a zip bomb (one clear line)."""
    name = name or (path.name if isinstance(path, Path) else "the workbook")
    try:
        check_zip(path, limits, what="workbook", name=name)
    except ZipRefused as exc:
        if exc.kind == "broken":
            raise XlsxError(
                f"{name}: this is not a readable .xlsx workbook (not a complete zip). "
                f"{_HINTS['broken']}."
            ) from None
        raise XlsxError(f"{exc.reason}. {_HINTS[exc.kind]}.") from None


def _value(value: Any) -> Any:
    if value == "" and isinstance(value, str):
        return None
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if type(value) is dt.date:  # openpyxl gives every date cell as a datetime
        return dt.datetime(value.year, value.month, value.day)
    return value


def read_sheets(
    source: Path | str | bytes, limits: ZipLimits = XLSX_LIMITS, *, name: str | None = None
) -> Iterator[tuple[str, Iterator[list[Any]]]]:
    """(sheet title, rows of values) for each worksheet, in workbook order.

    ``source`` is a path, or the workbook's bytes (a member of a CMS zip); ``name`` is what
    messages call it (default: the file name). Raises :class:`XlsxError` naming the file
    when it is refused or cannot be read.
    """
    if isinstance(source, bytes):
        name = name or "the workbook"
        check_workbook(io.BytesIO(source), limits, name=name)
    else:
        source = Path(source)
        name = name or source.name
        check_workbook(source, limits, name=name)
    try:
        if isinstance(source, bytes):
            book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        else:
            book = python_calamine.CalamineWorkbook.from_path(str(source))
    except Exception as exc:  # calamine raises its own and OS errors on a damaged package
        raise XlsxError(
            f"{name}: this is not a readable .xlsx workbook ({type(exc).__name__}). Open it "
            "in Excel and save it again as .xlsx, or export it as CSV."
        ) from None
    try:
        for meta in book.sheets_metadata:
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue  # chart and dialog sheets hold no cells
            try:
                rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            except Exception as exc:  # a damaged sheet part
                raise XlsxError(
                    f"{name}: sheet {meta.name!r} cannot be read ({type(exc).__name__}). "
                    "Open it in Excel and save it again as .xlsx."
                ) from None
            yield meta.name, ([_value(v) for v in row] for row in rows)
    finally:
        book.close()
