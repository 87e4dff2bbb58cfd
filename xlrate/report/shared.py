"""The shared copy of a workbook: an ``.xlsx`` that opens without Python, xlrate or macros.

:func:`prepare_shared_copy` writes ``<name> (shared).xlsx`` next to the workbook:

- every cell that calls an xlrate function (``PCT_MEDICARE``, ``MEDICARE_RATE``,
  ``MEDICARE_LOCALITY``) holds the value instead: the value Excel last computed, or, for a
  workbook Excel never calculated, the value the function returns now (the caller passes
  the functions in: the report does not import the Excel skin);
- no macros, no buttons, no ``xlwings.conf`` sheet;
- the Sources sheet lists the Medicare release(s) used (found by the workbook's
  ``MedicareReleaseInUse`` name), with CMS's files and checksums, and when and from what
  the copy was made;
- nothing from an 835 but aggregates: a cell holding X12 segment text, or a column whose
  heading names patient, member or claim identifiers, stops the copy with the cell named;
- text stays text: every value this module writes goes through the report's cell guard,
  so a file name or a function's answer starting with ``=`` is never a formula.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.cell import range_boundaries

from xlrate.errors import ShareError
from xlrate.files import atomic_path
from xlrate.medicare import store
from xlrate.report.cells import set_value
from xlrate.report.readback import SETTING_NAMES, named_value
from xlrate.xlsx import check_workbook

#: The Excel functions by name, as :data:`xlrate.excel.functions.FUNCTIONS` holds them.
Functions = Mapping[str, Callable[..., Any]]

#: Names of the xlrate worksheet functions, as they appear in formulas.
ADDIN_FUNCTIONS = ("PCT_MEDICARE", "MEDICARE_RATE", "MEDICARE_LOCALITY")
_FUNCTION_RE = re.compile(
    r"(?:'[^']*'!|\[\d+\]!|[A-Za-z0-9_.\\:]+!)?\b(" + "|".join(ADDIN_FUNCTIONS) + r")\s*\(",
    re.IGNORECASE,
)
SOURCES_SHEET = "Sources"
#: Sheets the shared copy never carries.
DROPPED_SHEETS = ("xlwings.conf", "_xlwings.conf")
# X12 segments that carry people or claims: their text in a cell means raw 835 content.
_X12_RE = re.compile(r"(?:^|[~\s])(?:ISA|GS|ST|CLP|NM1|SVC|CAS|DTM|REF|N1)\*", re.MULTILINE)
_PRIVATE_HEADING_RE = re.compile(
    r"\b(patient\s*(?:name|id|account)|member\s*(?:id|name)|subscriber\s*(?:id|name)|"
    r"insured\s*(?:id|name)|claim\s*(?:number|no\b|id|#)|icn|date\s*of\s*birth|dob)",
    re.IGNORECASE,
)

_EXCEL_ERRORS = frozenset(
    ("#NAME?", "#VALUE!", "#N/A", "#REF!", "#DIV/0!", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
)


@dataclass
class SharedCopy:
    """What :func:`prepare_shared_copy` wrote."""

    path: Path
    frozen: dict[str, Any] = field(default_factory=dict)  # "Sheet!A1" -> value now in the cell
    dropped_sheets: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)


def shared_copy_path(workbook: Path) -> Path:
    """``<name> (shared).xlsx`` next to the workbook."""
    stem = workbook.stem.removesuffix(" (shared)")
    return workbook.with_name(f"{stem} (shared).xlsx")


def calls_addin_function(formula: object) -> bool:
    return isinstance(formula, str) and bool(_FUNCTION_RE.search(formula))


def _formula_text(value: object) -> str | None:
    """The formula text of an openpyxl cell value (plain, array or data-table formula)."""
    if isinstance(value, str) and value.startswith("="):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text if text.startswith("=") else "=" + text
    return None


_REF_RE = re.compile(
    r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?"
    r"(?P<a>\$?[A-Za-z]{1,3}\$?\d+)(?::(?P<b>\$?[A-Za-z]{1,3}\$?\d+))?$"
)
_CALL_RE = re.compile(
    r"^=\s*(?:_xludf\.|'[^']*'!|\[\d+\]!)?(?P<name>"
    + "|".join(ADDIN_FUNCTIONS)
    + r")\s*\((?P<args>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _split_args(text: str) -> list[str]:
    args: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    args.append("".join(current).strip())
    return args if text.strip() else []


class _Unfreezable(Exception):
    pass


def _evaluate_call(
    formula: str, sheet_name: str, values: Any, formulas: Any, functions: Functions
) -> Any:
    """Evaluate ``=FUNC(arg, ...)`` whose arguments are cells, ranges or constants."""
    match = _CALL_RE.match(formula)
    if not match or match.group("name").upper() not in functions:
        raise _Unfreezable(formula)

    def cell_value(ws_values: Any, ws_formulas: Any, row: int, col: int) -> Any:
        value = ws_values.cell(row, col).value
        if value is None:
            raw = ws_formulas.cell(row, col).value
            if _formula_text(raw) is None:
                value = raw
        return value

    args: list[Any] = []
    for text in _split_args(match.group("args")):
        if text == "":
            args.append(None)
        elif text.startswith('"') and text.endswith('"'):
            args.append(text[1:-1].replace('""', '"'))
        elif text.upper() in ("TRUE", "FALSE"):
            args.append(text.upper() == "TRUE")
        elif re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
            args.append(float(text))
        else:
            ref = _REF_RE.match(text)
            if not ref:
                raise _Unfreezable(formula)
            target = ref.group("sheet") or sheet_name
            target = target[1:-1].replace("''", "'") if target.startswith("'") else target
            if target not in values.sheetnames:
                raise _Unfreezable(formula)
            ws_v, ws_f = values[target], formulas[target]
            a = ref.group("a").replace("$", "")
            b = (ref.group("b") or ref.group("a")).replace("$", "")
            min_col, min_row, max_col, max_row = range_boundaries(f"{a}:{b}")
            assert min_col and min_row and max_col and max_row
            if (min_col, min_row) == (max_col, max_row):
                args.append(cell_value(ws_v, ws_f, min_row, min_col))
            else:
                args.append(
                    [
                        [cell_value(ws_v, ws_f, r, c) for c in range(min_col, max_col + 1)]
                        for r in range(min_row, max_row + 1)
                    ]
                )
    return functions[match.group("name").upper()](*args)


def _grid(result: Any) -> list[list[Any]]:
    if isinstance(result, list):
        if result and isinstance(result[0], list):
            return result
        return [[v] for v in result]
    return [[result]]


def _check_private(ws: Any) -> None:
    """Refuse cells that carry raw 835 content or identify people and claims."""
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if not isinstance(value, str) or value.startswith("="):
                continue
            if _X12_RE.search(value):
                raise ShareError(
                    f"{ws.title}!{cell.coordinate} holds raw 835 (X12) text; a shared copy "
                    "carries only aggregates: remove that cell and try again"
                )
            if cell.row <= 30 and _PRIVATE_HEADING_RE.search(value) and len(value) <= 40:
                raise ShareError(
                    f"{ws.title}!{cell.coordinate} is headed {value!r}: patient, member and "
                    "claim identifiers from an 835 may not leave the practice; remove that "
                    "column and try again"
                )


def _releases_named(wb: Any) -> list[str]:
    """Release ids the workbook names: the release in use, or one a user pinned."""
    found = []
    for name in (*SETTING_NAMES["release_in_use"], *SETTING_NAMES["release"]):
        value = named_value(wb, name)
        if isinstance(value, str) and re.fullmatch(r"\d{4}[A-D]", value.strip().upper()):
            found.append(value.strip().upper())
    return list(dict.fromkeys(found))


def _complete_sources(wb: Any, workbook: Path, frozen: int) -> list[str]:
    """Make sure the Sources sheet names the Medicare data and how this copy was made."""
    ws = wb[SOURCES_SHEET] if SOURCES_SHEET in wb.sheetnames else wb.create_sheet(SOURCES_SHEET)
    existing = "\n".join(
        str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None
    )
    releases = _releases_named(wb)
    if not releases:
        try:
            releases = [store.resolve_release().release_id]
        except Exception:
            releases = []
    known = {info.release_id: info for info in store.list_releases()}
    rows: list[tuple[Any, ...]] = []
    for release_id in releases:
        info = known.get(release_id)
        if info is None:
            continue
        prov = info.provenance
        for entry in prov.get("files", []):
            sha = str(entry.get("sha256", ""))
            if sha and sha in existing:
                continue
            rows.append(
                (
                    f"Medicare PFS {release_id}",
                    entry.get("name"),
                    f"sha256 {sha}",
                    prov.get("source_url") or prov.get("landing_page") or "",
                )
            )
        cf = prov.get("conversion_factor")
        if cf and f"{release_id} conversion factor" not in existing:
            rows.append(
                (f"Medicare PFS {release_id} conversion factor", cf, prov.get("release_date"), "")
            )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows.append(
        (
            "Shared copy",
            f"made {now} from {workbook.name}",
            f"{frozen} xlrate function cell(s) replaced by their values",
            "no macros; 835 data as aggregates only",
        )
    )
    start = ws.max_row + 2 if ws.max_row > 1 or ws["A1"].value is not None else 1
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            set_value(ws.cell(start + offset, col), value)  # a file name is text, never a formula
    return releases


def prepare_shared_copy(
    workbook: Path | str,
    output: Path | str | None = None,
    *,
    force: bool = True,
    functions: Functions | None = None,
) -> SharedCopy:
    """Write the shared ``.xlsx`` copy of ``workbook`` and return what it holds.

    ``functions`` (name -> callable, :data:`xlrate.excel.functions.FUNCTIONS`) evaluates the
    function cells Excel saved no value for; the report never imports the Excel skin, so
    the caller passes them in. Raises :class:`ShareError` naming the cell when a function
    call cannot be frozen (a formula that mixes the function with other arithmetic, in a
    workbook Excel never calculated) or when the workbook carries 835 detail.
    """

    source = Path(workbook)
    if not source.is_file():
        raise ShareError(f"workbook {source} not found")
    target = Path(output) if output else shared_copy_path(source)
    if target.suffix.lower() != ".xlsx":
        raise ShareError(f"{target}: the shared copy is an .xlsx (no macros); name it so")
    if target.resolve() == source.resolve():
        raise ShareError(f"{target} is the workbook itself: choose another name")
    if target.exists() and not force:
        raise ShareError(f"{target} exists: pass --force to replace it")
    check_workbook(source)  # zip bombs and broken zips refused before openpyxl unpacks them
    try:
        formulas = openpyxl.load_workbook(source, keep_vba=False, keep_links=False)
        values = openpyxl.load_workbook(source, data_only=True, keep_links=False)
    except Exception as exc:
        raise ShareError(f"cannot read {source}: {exc}") from exc

    copy = SharedCopy(path=target)
    for name in DROPPED_SHEETS:
        if name in formulas.sheetnames:
            del formulas[name]
            copy.dropped_sheets.append(name)

    pending: list[tuple[Any, Any, str]] = []
    for ws in formulas.worksheets:
        ws_values = values[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                text = _formula_text(cell.value)
                if text is None or not calls_addin_function(text):
                    continue
                cached = ws_values[cell.coordinate].value
                if isinstance(cached, str) and cached in _EXCEL_ERRORS:
                    # Excel could not call Python (a Mac, no add-in): compute it here.
                    cached = None
                if cached is not None:
                    set_value(cell, cached)
                    copy.frozen[f"{ws.title}!{cell.coordinate}"] = cached
                else:
                    pending.append((ws, cell, text))
    for ws, cell, text in pending:
        try:
            result = _evaluate_call(text, ws.title, values, formulas, functions or {})
        except _Unfreezable:
            raise ShareError(
                f"{ws.title}!{cell.coordinate} ({text}) has no value saved by Excel and is "
                "not a plain call xlrate can evaluate: open the workbook in Excel, let it "
                "calculate, save, and try again"
            ) from None
        for dr, out_row in enumerate(_grid(result)):
            for dc, value in enumerate(out_row):
                target_cell = ws.cell(cell.row + dr, cell.column + dc)
                if (dr, dc) != (0, 0) and target_cell.value not in (None, ""):
                    continue  # never overwrite a cell the spill would not have
                if isinstance(value, float) and math.isnan(value):
                    value = None
                set_value(target_cell, value)
                copy.frozen[f"{ws.title}!{target_cell.coordinate}"] = value

    for name in list(formulas.defined_names):
        if calls_addin_function(formulas.defined_names[name].attr_text):
            del formulas.defined_names[name]
    for ws in formulas.worksheets:
        for name in list(ws.defined_names):
            if calls_addin_function(ws.defined_names[name].attr_text):
                del ws.defined_names[name]
        _check_private(ws)
        for row in ws.iter_rows():
            for cell in row:
                if calls_addin_function(_formula_text(cell.value)):
                    raise ShareError(f"{ws.title}!{cell.coordinate} still calls an xlrate function")

    copy.releases = _complete_sources(formulas, source, len(copy.frozen))
    formulas.vba_archive = None
    try:
        with atomic_path(target) as tmp:
            formulas.save(tmp)
    except OSError as exc:
        raise ShareError(
            f"cannot write {target}: {exc} (is it open in Excel? close it and try again)"
        ) from exc
    return copy
