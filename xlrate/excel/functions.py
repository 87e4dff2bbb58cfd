"""Excel functions: ``PCT_MEDICARE``, ``MEDICARE_RATE`` and ``MEDICARE_LOCALITY``.

These are xlwings user-defined functions (Windows Excel; Mac Excel has no xlwings UDFs).
Each takes one cell or a whole range and answers in the same shape, so one call can fill
a column. Values arrive as Excel sends them: ``99213`` as ``99213.0``, an empty cell as
``None``. Arguments left out come from the workbook's named cells (``Locality``,
``MedicareYear``, ...), then from the practice profile. A function never raises: a code
Medicare does not price answers readable text (``not priced: status B (bundled)``), a
bad argument answers ``error: <what to fix>``.

Functions never touch the network; they read the installed Medicare data, which the
engine loads once and caches. Pricing goes through :func:`xlrate.price`, one call per
range, so a single cell and a column of 5,000 codes run the same code.

The same functions work from Python (``MEDICARE_RATE(99213.0, None, "01112-05")``): the
xlwings decorators only add metadata, and xlwings' VBA wrapper generator reads it.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import xlwings as xw

import xlrate
from xlrate.codes import clean_code, is_blank, is_valid_code, parse_modifiers
from xlrate.errors import XlrateError
from xlrate.profile import load_profile
from xlrate.report.readback import SETTING_NAMES

CATEGORY = "xlrate"

_SETTINGS_TTL_SECONDS = 2.0


# --------------------------------------------------------------------------------------
# Shapes: a cell, a row or column, a block
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """An argument as rows of cells, remembering how it came in."""

    rows: list[list[Any]]
    kind: str  # "scalar", "1d" (a Python list) or "2d"

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.rows), len(self.rows[0]) if self.rows else 0)

    def at(self, r: int, c: int) -> Any:
        if self.shape == (1, 1):
            return self.rows[0][0]
        return self.rows[r][c]


def _as_grid(value: Any) -> _Grid:
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy arrays and scalars
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return _Grid([[value]], "scalar")
    if not value:
        return _Grid([[None]], "1d")
    if all(isinstance(row, (list, tuple)) for row in value):
        rows = [list(row) for row in value]
        width = max(len(row) for row in rows)
        return _Grid([row + [None] * (width - len(row)) for row in rows], "2d")
    # A Python list is a column.
    return _Grid([[v] for v in value], "1d")


class _ShapeMismatch(Exception):
    pass


def _broadcast(named: dict[str, Any]) -> tuple[dict[str, _Grid], tuple[int, int], str]:
    grids = {name: _as_grid(v) for name, v in named.items()}
    big = {name: g for name, g in grids.items() if g.shape != (1, 1)}
    shapes = {g.shape for g in big.values()}
    if len(shapes) > 1:
        described = ", ".join(f"{name} is {g.shape[0]}x{g.shape[1]}" for name, g in big.items())
        raise _ShapeMismatch(
            f"error: ranges differ in size ({described}); give ranges of the same size "
            "or single cells"
        )
    shape = shapes.pop() if shapes else (1, 1)
    kinds = {g.kind for g in grids.values()}
    kind = "2d" if "2d" in kinds else "1d" if "1d" in kinds else "scalar"
    return grids, shape, kind


def _shape_result(cells: list[list[Any]], kind: str) -> Any:
    if kind == "scalar":
        return cells[0][0]
    if kind == "1d":
        return [row[0] for row in cells]
    return cells


def _never_raise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any exception into the text a cell shows: Excel users never see tracebacks."""

    @functools.wraps(fn)  # xlwings reads the signature, name and docstring through this
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _ShapeMismatch as exc:
            return str(exc)
        except Exception as exc:  # a cell must never show a Python traceback
            if isinstance(exc, XlrateError):
                return f"error: {exc}"
            return f"error: {type(exc).__name__}: {exc}"

    return guarded


# --------------------------------------------------------------------------------------
# Values as Excel sends them
# --------------------------------------------------------------------------------------


def _year(value: Any) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if hasattr(value, "year"):  # a date cell
        return int(value.year)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    raise ValueError(f"year {value!r} is not a year: write it as 2025")


def _release(value: Any) -> str | None:
    if is_blank(value):
        return None
    return str(value).strip().upper()


def _setting(value: Any) -> str:
    """``facility`` or ``nonfacility`` from a word or a place-of-service code."""
    # lazy: numpy and the Medicare data load on the first call, not at Excel start-up
    from xlrate.medicare.pricing import setting_name

    return setting_name(value)


def _zip5(value: Any) -> str | None:
    """A five-digit ZIP from a cell (94110.0, 2108 -> 02108, '94110-1234'), else None."""
    # lazy: numpy and the Medicare data load on the first call, not at Excel start-up
    from xlrate.medicare.localities import normalize_zip

    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return normalize_zip(value)


def _locality_id(value: Any) -> str | None:
    """``MAC-LOC`` from ``01112-05`` / ``1112-5``, ``NATIONAL``, else None."""
    # lazy: numpy and the Medicare data load on the first call, not at Excel start-up
    from xlrate.medicare.localities import normalize_locality

    return normalize_locality(value) if isinstance(value, str) else None


def _rate(value: Any) -> float | str:
    """A payer rate as a float, or the text to show when the cell holds none."""
    if isinstance(value, bool):
        return f"no rate: {value!r} is not an amount"
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("$", "").replace(",", "")
    try:
        return float(text)
    except ValueError:
        return f"no rate: {str(value).strip()!r} is not an amount"


# --------------------------------------------------------------------------------------
# Defaults: the workbook's named cells, then the practice profile
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defaults:
    """What a function uses for an argument left out."""

    locality: str | None = None
    zip: str | None = None
    year: int | None = None
    release: str | None = None
    setting: str | None = None


_settings_cache: dict[str, tuple[float, Defaults]] = {}


def _book_of(caller: Any) -> Any:
    try:
        return caller.sheet.book
    except Exception:
        return None


def _named_value(book: Any, names: Iterable[str]) -> Any:
    for name in names:
        try:
            value = book.names[name].refers_to_range.value
        except Exception:
            continue  # not defined in this workbook, or not a cell
        if not is_blank(value):
            return value
    return None


def _profile_defaults(book_dir: Path | None) -> Defaults:
    """Defaults from the practice profile: ``XLRATE_PROFILE``, or practice.toml beside the book."""
    candidates = []
    if os.environ.get("XLRATE_PROFILE"):
        candidates.append(Path(os.environ["XLRATE_PROFILE"]))
    if book_dir is not None:
        candidates.append(book_dir / "practice.toml")
    for path in candidates:
        if path.is_file():
            return _read_profile(str(path))
    return Defaults()


@lru_cache(maxsize=8)
def _read_profile(path: str) -> Defaults:
    try:
        profile: Any = load_profile(Path(path))
    except XlrateError:
        return Defaults()  # a broken profile must not break every cell: the defaults apply

    def pick(*names: str) -> Any:
        for name in names:
            value = profile.get(name) if isinstance(profile, dict) else getattr(profile, name, None)
            if not is_blank(value):
                return value
        return None

    year = pick("year", "medicare_year")
    setting = pick("setting")
    return Defaults(
        locality=_locality_id(pick("locality")),
        zip=_zip5(pick("zip")),
        year=_year(year) if year is not None else None,
        release=_release(pick("release", "medicare_release")),
        setting=str(setting) if setting is not None else None,
    )


def workbook_defaults(caller: Any) -> Defaults:
    """Defaults for a call from ``caller`` (an xlwings Range, or None from Python).

    Read from the workbook's named cells (:data:`SETTING_NAMES`), falling back to the
    practice profile; cached for two seconds so a sheet recalculating thousands of cells
    asks Excel once, while an edit to a setting shows on the next recalculation.
    """
    book = _book_of(caller)
    key = "<python>"
    book_dir: Path | None = None
    if book is not None:
        try:
            key = str(book.fullname)
            book_dir = Path(key).parent if os.sep in key or "/" in key else None
        except Exception:
            key = repr(book)
    now = time.monotonic()
    cached = _settings_cache.get(key)
    if cached is not None and now - cached[0] < _SETTINGS_TTL_SECONDS:
        return cached[1]
    profile = _profile_defaults(book_dir)
    found: dict[str, Any] = {}
    if book is not None:
        # The workbook's defined names (xlrate.report.readback), never its display text.
        for field, names in SETTING_NAMES.items():
            found[field] = _named_value(book, names)
        if found.get("year") is None and found.get("release") is None:
            found["release"] = found.get("release_in_use")
    locality_cell = found.get("locality")
    defaults = Defaults(
        locality=_locality_id(locality_cell) if locality_cell is not None else profile.locality,
        zip=_zip5(found["zip"]) if found.get("zip") is not None else profile.zip,
        year=_year(found["year"]) if found.get("year") is not None else profile.year,
        release=_release(found["release"]) if found.get("release") is not None else profile.release,
        setting=str(found["setting"]) if found.get("setting") is not None else profile.setting,
    )
    if defaults.locality is None and locality_cell is not None and _zip5(locality_cell):
        # A ZIP typed into the Locality cell.
        defaults = Defaults(
            locality=None,
            zip=_zip5(locality_cell),
            year=defaults.year,
            release=defaults.release,
            setting=defaults.setting,
        )
    _settings_cache[key] = (now, defaults)
    return defaults


# --------------------------------------------------------------------------------------
# Pricing: one xlrate.price call per range
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _zip_to_locality(zip5: str) -> tuple[str | None, str]:
    """(locality, note) for a ZIP; locality None with the reason when it has none."""
    # lazy: numpy and the Medicare data load on the first call, not at Excel start-up
    from xlrate.medicare.localities import resolve_zip

    try:
        match = resolve_zip(zip5)
    except Exception as exc:
        return None, f"error: {exc}"
    if not match.locality:
        note = getattr(match, "note", "") or f"ZIP {zip5} is not in Medicare's ZIP file"
        return None, f"error: {note}"
    return str(match.locality), ""


def _locality_for(value: Any, defaults: Defaults) -> tuple[str | None, str]:
    """(locality id or None for the engine's default, error text)."""
    if is_blank(value):
        if defaults.locality:
            return defaults.locality, ""
        if defaults.zip:
            return _zip_to_locality(defaults.zip)
        return None, ""
    locality = _locality_id(value)
    if locality:
        return locality, ""
    zip5 = _zip5(value)
    if zip5:
        return _zip_to_locality(zip5)
    return None, (
        f"error: unknown locality {value!r}: write it as MAC-LOC (01112-05), NATIONAL, "
        "or a ZIP code"
    )


def _unpriced_text(status: str, note: str) -> str:
    """The engine's note already reads ``not priced: status B (bundled): ...``."""
    note = (note or "").strip()
    if note.startswith(("not priced", "carrier priced")):
        return note
    if status in ("not_priced", "carrier_priced", "na_setting", "no_component", "unknown_code"):
        return f"not priced: {note or status.replace('_', ' ')}"
    return f"error: {note or status.replace('_', ' ')}"


@dataclass
class _Row:
    cell: tuple[int, int]
    code: str
    modifier: str
    locality: str | None
    setting: str
    year: int | None
    release: str | None


def _price_rows(rows: list[_Row]) -> dict[tuple[int, int], float | str]:
    """Medicare amount (float) or the text to show, for each row's cell."""
    if not rows:
        return {}
    # lazy: pandas stays out of Excel's start-up
    import pandas as pd

    out: dict[tuple[int, int], float | str] = {}
    groups: dict[tuple[int | None, str | None], list[_Row]] = {}
    for row in rows:
        groups.setdefault((row.year, row.release), []).append(row)
    for (year, release), members in groups.items():
        if len(members) == 1:
            # One cell: the engine's scalar entry, which caches (a column filled with
            # one formula per row calls this thousands of times).
            r = members[0]
            try:
                result = xlrate.medicare_amount(
                    r.code,
                    r.modifier,
                    locality=r.locality,
                    setting=r.setting,
                    year=year,
                    release=release,
                )
            except Exception as exc:
                out[r.cell] = f"error: {exc}" if isinstance(exc, XlrateError) else f"error: {exc!r}"
                continue
            out[r.cell] = (
                round(float(result.amount), 2)
                if result.amount is not None
                else _unpriced_text(result.status, result.note)
            )
            continue
        frame = pd.DataFrame(
            {
                "code": [r.code for r in members],
                "modifier": [r.modifier for r in members],
                "setting": [r.setting for r in members],
            }
        )
        # None: the engine's default locality for that row.
        frame["locality"] = [r.locality for r in members]
        try:
            priced = xlrate.price(frame, year=year, release=release)
        except Exception as exc:
            text = f"error: {exc}" if isinstance(exc, XlrateError) else f"error: {exc!r}"
            for r in members:
                out[r.cell] = text
            continue
        for r, amount, status, note in zip(
            members, priced["amount"], priced["status"], priced["note"], strict=True
        ):
            if amount is None or (isinstance(amount, float) and math.isnan(amount)):
                out[r.cell] = _unpriced_text(str(status), str(note) if note is not None else "")
            else:
                out[r.cell] = round(float(amount), 2)
    return out


def _medicare_amounts(
    grids: dict[str, _Grid], shape: tuple[int, int], defaults: Defaults
) -> list[list[Any]]:
    """The Medicare amount or the text to show for every cell of ``shape``."""
    n_rows, n_cols = shape
    cells: list[list[Any]] = [[None] * n_cols for _ in range(n_rows)]
    to_price: list[_Row] = []
    for r in range(n_rows):
        for c in range(n_cols):
            try:
                raw_code = grids["code"].at(r, c)
                if is_blank(raw_code):
                    cells[r][c] = ""
                    continue
                code = clean_code(raw_code)
                if not is_valid_code(code):
                    cells[r][c] = (
                        f"error: {raw_code!r} is not a HCPCS/CPT code: expected 5 characters "
                        "such as 99213, 00100 or G0008"
                    )
                    continue
                mods = parse_modifiers(grids["modifier"].at(r, c))
                if mods.note:
                    cells[r][c] = (
                        f"error: modifier {mods.note!r} is not a modifier: write 26, TC or 25-59"
                    )
                    continue
                locality, problem = _locality_for(grids["locality"].at(r, c), defaults)
                if problem:
                    cells[r][c] = problem
                    continue
                setting_value = grids["setting"].at(r, c)
                setting = _setting(defaults.setting if is_blank(setting_value) else setting_value)
                year_value = grids["year"].at(r, c)
                year = _year(year_value) if not is_blank(year_value) else defaults.year
                to_price.append(
                    _Row((r, c), code, mods.text, locality, setting, year, defaults.release)
                )
            except ValueError as exc:
                cells[r][c] = f"error: {exc}"
    for (r, c), value in _price_rows(to_price).items():
        cells[r][c] = value
    return cells


# --------------------------------------------------------------------------------------
# The functions Excel sees
# --------------------------------------------------------------------------------------
# No type annotations on these three: xlwings turns an argument's or the result's
# annotation into a converter, and ``Any`` is not one. ``caller`` is xlwings' reserved
# argument (the calling Range); it is not part of the Excel signature.

_CODE_DOC = "HCPCS/CPT code(s), e.g. 99213; one cell or a range"
_MODIFIER_DOC = "Optional modifier(s): 26, TC, 25-59; blank for none"
_LOCALITY_DOC = (
    "Optional MAC-LOC locality (01112-05), NATIONAL or a ZIP; default: the Locality cell"
)
_SETTING_DOC = "Optional: nonfacility (default), facility, or a place-of-service code"
_YEAR_DOC = "Optional fee schedule year, e.g. 2025; default: the MedicareYear cell or newest"


@xw.func(category=CATEGORY)
@xw.arg("rate", ndim=2, doc="Payer rate(s) in dollars; one cell or a range")
@xw.arg("code", ndim=2, doc=_CODE_DOC)
@xw.arg("modifier", ndim=2, doc=_MODIFIER_DOC)
@xw.arg("locality", ndim=2, doc=_LOCALITY_DOC)
@xw.arg("setting", ndim=2, doc=_SETTING_DOC)
@xw.arg("year", ndim=2, doc=_YEAR_DOC)
@_never_raise
def PCT_MEDICARE(rate, code, modifier=None, locality=None, setting=None, year=None, caller=None):  # type: ignore[no-untyped-def]
    """Payer rate as a fraction of the Medicare amount (1.25 = 125%). Ranges in, range out."""
    grids, shape, kind = _broadcast(
        {
            "rate": rate,
            "code": code,
            "modifier": modifier,
            "locality": locality,
            "setting": setting,
            "year": year,
        }
    )
    amounts = _medicare_amounts(grids, shape, workbook_defaults(caller))
    cells: list[list[Any]] = []
    for r, row in enumerate(amounts):
        out_row: list[Any] = []
        for c, amount in enumerate(row):
            raw_rate = grids["rate"].at(r, c)
            if is_blank(raw_rate) or amount == "":
                out_row.append("")
                continue
            if isinstance(amount, str):
                out_row.append(amount)
                continue
            payer_rate = _rate(raw_rate)
            if isinstance(payer_rate, str):
                out_row.append(payer_rate)
            elif amount == 0:
                out_row.append("not priced: Medicare amount is $0.00")
            else:
                out_row.append(payer_rate / amount)
        cells.append(out_row)
    return _shape_result(cells, kind)


@xw.func(category=CATEGORY)
@xw.arg("code", ndim=2, doc=_CODE_DOC)
@xw.arg("modifier", ndim=2, doc=_MODIFIER_DOC)
@xw.arg("locality", ndim=2, doc=_LOCALITY_DOC)
@xw.arg("setting", ndim=2, doc=_SETTING_DOC)
@xw.arg("year", ndim=2, doc=_YEAR_DOC)
@_never_raise
def MEDICARE_RATE(code, modifier=None, locality=None, setting=None, year=None, caller=None):  # type: ignore[no-untyped-def]
    """Medicare Physician Fee Schedule amount in dollars. Ranges in, range out."""
    grids, shape, kind = _broadcast(
        {"code": code, "modifier": modifier, "locality": locality, "setting": setting, "year": year}
    )
    return _shape_result(_medicare_amounts(grids, shape, workbook_defaults(caller)), kind)


@xw.func(category=CATEGORY)
@xw.arg("zip", ndim=2, doc="5-digit ZIP code(s), e.g. 94110; one cell or a range")
@_never_raise
def MEDICARE_LOCALITY(zip, caller=None):  # type: ignore[no-untyped-def]
    """Medicare payment locality (MAC-LOC, e.g. 01112-05) for a ZIP code. Ranges in, range out."""
    grids, shape, kind = _broadcast({"zip": zip})
    cells: list[list[Any]] = []
    for r in range(shape[0]):
        row: list[Any] = []
        for c in range(shape[1]):
            value = grids["zip"].at(r, c)
            if is_blank(value):
                row.append("")
                continue
            zip5 = _zip5(value)
            if zip5 is None:
                row.append(f"error: {value!r} is not a ZIP code: write 5 digits, e.g. 94110")
                continue
            locality, problem = _zip_to_locality(zip5)
            row.append(locality if locality else problem)
        cells.append(row)
    return _shape_result(cells, kind)


def clear_caches() -> None:
    """Forget cached data and answers: after new Medicare data is installed."""
    # lazy: numpy and the Medicare data load on the first call, not at Excel start-up
    from xlrate.medicare import pricing, store

    store.clear_cache()
    _zip_to_locality.cache_clear()
    _read_profile.cache_clear()
    _settings_cache.clear()
    cached = getattr(pricing, "_medicare_amount_cached", None)
    if cached is not None and hasattr(cached, "cache_clear"):
        cached.cache_clear()


#: The functions this module gives Excel, by name.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "PCT_MEDICARE": PCT_MEDICARE,
    "MEDICARE_RATE": MEDICARE_RATE,
    "MEDICARE_LOCALITY": MEDICARE_LOCALITY,
}
