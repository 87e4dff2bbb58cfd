"""The classic edition's Excel functions: ``MEDICARE_RATE``, ``PCT_MEDICARE``,
``MEDICARE_NOTE`` and ``MEDICARE_LOCALITY`` as xlwings user-defined functions (Windows Excel,
through xlwings' COM server; Mac and Excel on the web use the Lite edition).

A skin: the work is :mod:`xlrate.medicare.cells`, which the Lite edition runs too, so both
answer alike. Each function takes one cell or a range and answers in the same shape.

Everything a function depends on is an argument. The workbooks xlrate writes pass the
``Locality`` and ``MedicareYear`` cells explicitly (``=MEDICARE_RATE(A5, , Locality, ,
MedicareYear)``), so Excel's dependency graph recalculates a function when they change. An
argument left out falls back to the practice profile (``XLRATE_PROFILE``, or
``practice.toml`` beside the workbook), then to the release in force today, nationally.

A cell Medicare does not price answers ``#N/A`` (an error value: the VBA wrapper turns
the text into ``CVErr(xlErrNA)``), and ``MEDICARE_NOTE`` says why. Functions never touch
the network and never raise.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import xlwings as xw

from xlrate.codes import is_blank
from xlrate.errors import XlrateError
from xlrate.medicare import cells
from xlrate.medicare.cells import ARGUMENT_HELP, FUNCTION_HELP, NA, Defaults
from xlrate.profile import load_profile

CATEGORY = "xlrate"


def _never_raise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Excel shows #N/A (and the status bar the reason) rather than a COM error dialog."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception:  # a function in a cell must answer, whatever went wrong
            return NA

    return wrapper


def _book_dir(caller: Any) -> Path | None:
    try:
        full = str(caller.sheet.book.fullname)
    except Exception:  # called from Python, or a book not saved yet
        return None
    return Path(full).parent if (os.sep in full or "/" in full) else None


def profile_defaults(book_dir: Path | None = None) -> Defaults:
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
    except XlrateError:  # a broken profile must not break every cell: no defaults then
        return Defaults()
    year = getattr(profile, "year", None)
    return Defaults(
        locality=getattr(profile, "locality", None) or None,
        zip=getattr(profile, "zip", None) or None,
        year=int(year) if isinstance(year, int) else None,
        release=getattr(profile, "release", None) or None,
    )


# No type annotations on the functions Excel sees: xlwings turns an annotation into a
# converter. ``caller`` is xlwings' reserved argument (the calling Range), not part of the
# Excel signature; it is used only to find practice.toml beside the workbook.
# call_in_wizard=False: the Function Arguments dialog does not run Python while one types.


@xw.func(category=CATEGORY, call_in_wizard=False)
@xw.arg("code", ndim=2, doc=ARGUMENT_HELP["code"])
@xw.arg("modifier", ndim=2, doc=ARGUMENT_HELP["modifier"])
@xw.arg("locality", ndim=2, doc=ARGUMENT_HELP["locality"])
@xw.arg("setting", ndim=2, doc=ARGUMENT_HELP["setting"])
@xw.arg("year", ndim=2, doc=ARGUMENT_HELP["year"])
@xw.ret(doc=FUNCTION_HELP["MEDICARE_RATE"])
@_never_raise
def MEDICARE_RATE(code, modifier=None, locality=None, setting=None, year=None, caller=None):  # type: ignore[no-untyped-def]
    """What Medicare pays for a code in a locality and setting (#N/A if it has no amount)."""
    defaults = profile_defaults(_book_dir(caller))
    return cells.medicare_rate(code, modifier, locality, setting, year, defaults=defaults)


@xw.func(category=CATEGORY, call_in_wizard=False)
@xw.arg("code", ndim=2, doc=ARGUMENT_HELP["code"])
@xw.arg("modifier", ndim=2, doc=ARGUMENT_HELP["modifier"])
@xw.arg("locality", ndim=2, doc=ARGUMENT_HELP["locality"])
@xw.arg("setting", ndim=2, doc=ARGUMENT_HELP["setting"])
@xw.arg("year", ndim=2, doc=ARGUMENT_HELP["year"])
@xw.ret(doc=FUNCTION_HELP["MEDICARE_NOTE"])
@_never_raise
def MEDICARE_NOTE(code, modifier=None, locality=None, setting=None, year=None, caller=None):  # type: ignore[no-untyped-def]
    """Why MEDICARE_RATE has no amount for these arguments (empty when it has one)."""
    defaults = profile_defaults(_book_dir(caller))
    return cells.medicare_note(code, modifier, locality, setting, year, defaults=defaults)


@xw.func(category=CATEGORY, call_in_wizard=False)
@xw.arg("rate", ndim=2, doc=ARGUMENT_HELP["rate"])
@xw.arg("code", ndim=2, doc=ARGUMENT_HELP["code"])
@xw.arg("modifier", ndim=2, doc=ARGUMENT_HELP["modifier"])
@xw.arg("locality", ndim=2, doc=ARGUMENT_HELP["locality"])
@xw.arg("setting", ndim=2, doc=ARGUMENT_HELP["setting"])
@xw.arg("year", ndim=2, doc=ARGUMENT_HELP["year"])
@xw.ret(doc=FUNCTION_HELP["PCT_MEDICARE"])
@_never_raise
def PCT_MEDICARE(rate, code, modifier=None, locality=None, setting=None, year=None, caller=None):  # type: ignore[no-untyped-def]
    """A payer's rate as a fraction of Medicare's (1.25 = 125%); #N/A if Medicare has no amount."""
    defaults = profile_defaults(_book_dir(caller))
    return cells.pct_medicare(rate, code, modifier, locality, setting, year, defaults=defaults)


@xw.func(category=CATEGORY, call_in_wizard=False)
@xw.arg("zip", ndim=2, doc=ARGUMENT_HELP["zip"])
@xw.ret(doc=FUNCTION_HELP["MEDICARE_LOCALITY"])
@_never_raise
def MEDICARE_LOCALITY(zip, caller=None):  # type: ignore[no-untyped-def]
    """The Medicare locality (MAC-LOC) of a ZIP code; #N/A for a split or unknown ZIP."""
    return cells.medicare_locality(zip)


def clear_caches() -> None:
    """Forget cached data and answers: after new Medicare data is installed."""
    from xlrate.medicare import store  # lazy: loaded on use, keeping this module's import light

    store.clear_cache()
    cells.clear_caches()
    _read_profile.cache_clear()


#: The functions this module gives Excel, by name.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "MEDICARE_RATE": MEDICARE_RATE,
    "PCT_MEDICARE": PCT_MEDICARE,
    "MEDICARE_NOTE": MEDICARE_NOTE,
    "MEDICARE_LOCALITY": MEDICARE_LOCALITY,
}


# --------------------------------------------------------------------------------------
# Parsing helpers the buttons use for the workbook's settings cells (read by name through
# xlrate.report.readback); the functions themselves take everything as arguments.
# --------------------------------------------------------------------------------------


def _locality_id(value: Any) -> str | None:
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.localities import normalize_locality

    return normalize_locality(value) if isinstance(value, str) else None


def _zip5(value: Any) -> str | None:
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.localities import normalize_zip

    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return normalize_zip(value)


def _year(value: Any) -> int | None:
    return cells._year(value, None)


def _release(value: Any) -> str | None:
    return None if is_blank(value) else str(value).strip().upper()


def _setting(value: Any) -> str:
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.pricing import setting_name

    return setting_name(value)
