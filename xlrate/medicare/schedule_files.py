"""Read the CMS files of the other Medicare schedules (CLFS, ASP, DMEPOS, PEN) into columns.

Each file is a title block, a header row, then one row per code. Which header names mean
what is data, one CSV per schedule in ``layouts/<schedule>_columns.csv``:
``standard,required,<year>...`` (a cell may list alternatives with ``|``; ``{ST}`` stands
for a two-letter state, so ``{ST} (NR)`` matches ``AL (NR)``, ``AK (NR)``...). Header
names are compared without case and spaces. The header row is the first row holding every
required column; a file without one raises :class:`LayoutError` naming the file, the
schedule and the missing columns.

The readers take bytes (a ``.csv``, a ``.xlsx`` or a CMS ``.zip`` holding either) so the
build script and a refresh share one path. Nothing here imports pandas.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache

from xlrate.errors import LayoutError
from xlrate.medicare import layouts
from xlrate.text import decode_text

STATE_RE = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Column:
    standard: str
    required: bool
    names: tuple[str, ...]  # normalised header names (or patterns with {ST})


def normalize(name: object) -> str:
    """Upper case without spaces or a byte-order mark: ``AL (NR)`` and ``AL(NR)`` agree."""
    return "".join(str(name).replace("\ufeff", "").split()).upper()


@cache
def layout(schedule: str) -> dict[str, list[Column]]:
    """{layout year (or "any"): columns} from ``layouts/<schedule>_columns.csv``."""
    rows = layouts.rows(f"{schedule}_columns.csv")
    years = [k for k in rows[0] if k not in ("standard", "required")]
    return {
        year: [
            Column(
                r["standard"],
                r["required"] == "1",
                tuple(normalize(n) for n in r[year].split("|") if n.strip()),
            )
            for r in rows
            if r[year].strip()
        ]
        for year in years
    }


def _order(years: Sequence[str], year: int | None) -> list[str]:
    """The newest layout not after ``year`` first, then the others (newest first)."""
    numeric = sorted((y for y in years if y.isdigit()), key=int, reverse=True)
    if year is None:
        first = numeric
    else:
        first = [y for y in numeric if int(y) <= year] + [y for y in numeric if int(y) > year]
    return first + [y for y in years if not y.isdigit()]


def _match(column: Column, header: str) -> str | None:
    """The state (for a {ST} pattern), "" (a plain match) or None (no match)."""
    for name in column.names:
        if "{ST}" in name:
            prefix, suffix = name.split("{ST}", 1)
            if header.startswith(prefix) and header.endswith(suffix):
                state = header[len(prefix) : len(header) - len(suffix)]
                if STATE_RE.match(state):
                    return state
        elif header == name:
            return ""
    return None


@dataclass
class Table:
    """A file's data rows as text columns, plus state columns for per-state schedules."""

    columns: dict[str, list[str]]
    states: dict[str, list[str]]  # standard name -> states in file order
    state_columns: dict[str, list[list[str]]]  # standard name -> one text column per state
    header_row: int
    layout: str
    rows: int


def map_header(
    row: list[str], schedule: str, year: int | None
) -> tuple[str, dict[int, str], dict[int, tuple[str, str]]] | None:
    """(layout, {position: standard}, {position: (standard, state)}) when ``row`` is a header."""
    headers = [normalize(h) for h in row]
    layouts = layout(schedule)
    for name in _order(list(layouts), year):
        plain: dict[int, str] = {}
        per_state: dict[int, tuple[str, str]] = {}
        for column in layouts[name]:
            for i, header in enumerate(headers):
                if not header:
                    continue
                found = _match(column, header)
                if found is None:
                    continue
                if found:
                    per_state[i] = (column.standard, found)
                elif column.standard not in plain.values():
                    plain[i] = column.standard
        seen = set(plain.values()) | {s for s, _ in per_state.values()}
        if all(c.standard in seen for c in layouts[name] if c.required):
            return name, plain, per_state
    return None


def read_rows(rows: list[list[str]], schedule: str, year: int | None, source: str) -> Table:
    """Find the header row and return the data rows below it as columns."""
    for index, row in enumerate(rows[:60]):
        mapped = map_header(row, schedule, year)
        if mapped is None:
            continue
        name, plain, per_state = mapped
        data = [r for r in rows[index + 1 :] if any(str(c).strip() for c in r)]
        width = max([len(r) for r in data] + [0])
        padded = [r + [""] * (width - len(r)) for r in data]
        columns = {std: [r[i].strip() for r in padded] for i, std in plain.items()}
        states: dict[str, list[str]] = {}
        state_columns: dict[str, list[list[str]]] = {}
        for i, (std, state) in sorted(per_state.items()):
            states.setdefault(std, []).append(state)
            state_columns.setdefault(std, []).append([r[i].strip() for r in padded])
        return Table(columns, states, state_columns, index, name, len(data))
    required = sorted(
        {n for cols in layout(schedule).values() for c in cols if c.required for n in c.names}
    )
    raise LayoutError(
        f"{source}: no header row with the {schedule.upper()} columns ({', '.join(required)}) "
        f"in its first 60 rows. If CMS changed the file, add a column to "
        f"xlrate/medicare/layouts/{schedule}_columns.csv."
    )


# --------------------------------------------------------------------------- file formats


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text CMS wrote (80053.0 -> "80053", 7.77 -> "7.77")."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet of a workbook as text rows (python-calamine, else openpyxl)."""
    try:
        from python_calamine import CalamineWorkbook  # lazy: fast and safe; optional

        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0).to_python()
        return [[_cell_text(v) for v in row] for row in sheet]
    except ImportError:
        from openpyxl import load_workbook  # lazy: fallback: slower, always installed

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        return [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]


def _zip_names(data: bytes) -> list[str] | None:
    if data[:2] != b"PK":
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.namelist()
    except zipfile.BadZipFile:
        return None


def is_bundle(data: bytes) -> bool:
    """True for a zip of files (CMS's quarterly zip), False for a workbook or a CSV.

    Decided by content, not name: a refresh hands over a temporary file."""
    names = _zip_names(data)
    return names is not None and "[Content_Types].xml" not in names


def file_rows(data: bytes, name: str) -> list[list[str]]:
    """Rows of a .csv or .xlsx file (an .xlsx is a zip holding [Content_Types].xml)."""
    names = _zip_names(data)
    if names is not None and "[Content_Types].xml" in names:
        return xlsx_rows(data)
    return list(csv.reader(io.StringIO(decode_text(data))))


def zip_member(data: bytes, pattern: str, source: str) -> tuple[str, bytes]:
    """The member of a CMS zip whose name matches ``pattern`` (a regex, case-insensitive)."""
    regex = re.compile(pattern, re.IGNORECASE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = [n for n in zf.namelist() if regex.search(n.rsplit("/", 1)[-1])]
        if not names:
            raise LayoutError(
                f"{source}: no member matching {pattern!r} (members: {', '.join(zf.namelist())})"
            )
        info = zf.getinfo(sorted(names)[0])
        if info.file_size > 200 * 1024 * 1024:
            raise LayoutError(f"{source}: member {info.filename} is too large to be a fee schedule")
        return info.filename, zf.read(info)


# --------------------------------------------------------------------------- values


def scaled(text: str, places: int, what: str, source: str, row: int) -> int:
    """Exact integer ``text x 10**places`` ("00007.77", "$1,234.5", "" -> 0)."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    if not cleaned:
        return 0
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise LayoutError(f"{source}: row {row}: {what} {text!r} is not a number") from None
    result = value.scaleb(places)
    if result != result.to_integral_value():
        raise LayoutError(f"{source}: row {row}: {what} {text!r} has more than {places} decimals")
    return int(result)


def pad_code(text: str) -> str:
    """All-numeric HCPCS stored as numbers lose their zeros: 100 -> 00100."""
    code = text.strip().upper()
    if code.endswith(".0") and code[:-2].isdigit():
        code = code[:-2]
    return code.zfill(5) if code.isdigit() and len(code) < 5 else code
