"""Anesthesia: (base units + time units) x the locality's anesthesia conversion factor.

- The anesthesia CF per locality is the ANES table of the PFS release (``ANES2025.csv``);
  the national CF (20.3178 in 2025) is in that file's header only, so it is data here:
  ``layouts/anesthesia_conversion_factors.csv``.
- Base units come from CMS's anesthesia base units file, which xlrate does not ship (we
  have no copy). The user gives it (``base_units=PATH`` or a ``{code: units}`` mapping,
  ``--base-units FILE``) or saves it as ``<XLRATE_HOME>/medicare/anesthesia_base_units.csv``
  (CSV or XLSX with a code and a base units column; names in
  ``layouts/anesthesia_columns.csv``). Without it an anesthesia code says so.
- Time units: minutes / 15, to one decimal (rounded half-up; MAC rules vary). Without
  minutes the amount is for the base units only, and the note says so.
- Medical direction (``layouts/anesthesia_modifiers.csv``): AA 100%, QZ 100%, QK/QX/QY 50%;
  AD (medical supervision of more than 4 concurrent procedures) is 3 base units and no
  time units (CMS allows one time unit more when the physician was present at induction:
  not applied, the note says so).

Everything is exact: units in tenths x CF x 10**4 x percent, rounded half-up to cents once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from pathlib import Path

import numpy as np

from xlrate.codes import clean_code, is_valid_code
from xlrate.errors import InputError, LayoutError
from xlrate.medicare import layouts
from xlrate.medicare import schedule_files as sf
from xlrate.settings import medicare_home

SCHEDULE = "ANES"
DEFAULT_FILE = "anesthesia_base_units.csv"
CMS_PAGE = "https://www.cms.gov/medicare/payment/fee-schedules/physician/anesthesiologists-center"

BaseUnitsSource = str | os.PathLike[str] | Mapping[str, object] | None


@dataclass(frozen=True)
class ModifierRule:
    percent: int
    base_units: int | None  # replaces the code's base units (AD: 3)
    time_units: bool  # False: no time units (AD)
    note: str


@cache
def modifier_rules() -> dict[str, ModifierRule]:
    return {
        r["modifier"]: ModifierRule(
            int(r["percent"]),
            int(r["base_units"]) if r["base_units"] else None,
            r["time_units"] != "0",
            r["note"],
        )
        for r in layouts.rows("anesthesia_modifiers.csv")
    }


@cache
def national_cf() -> dict[int, int]:
    """{year: national anesthesia CF x 10**4}."""
    return {
        int(r["year"]): int(Decimal(r["national_cf"]).scaleb(4))
        for r in layouts.rows("anesthesia_conversion_factors.csv")
    }


def default_path() -> Path:
    return _default_path(os.environ.get("XLRATE_HOME"))


@lru_cache(maxsize=8)
def _default_path(home: str | None) -> Path:
    """The store folder depends only on XLRATE_HOME (else the per-user folder): worked out
    once, not for each of the hundreds of anesthesia codes a table may hold."""
    return medicare_home() / DEFAULT_FILE


def missing_note(code: str) -> str:
    return (
        f"{code} is an anesthesia code: Medicare pays (base units + time units) x the locality's "
        "anesthesia CF, and the base units are in CMS's anesthesia base units file, which xlrate "
        f"does not have: download it from CMS ({CMS_PAGE}) and give it with --base-units FILE "
        f"(base_units=PATH), or save it as {default_path()}"
    )


def read_base_units(data: bytes, name: str) -> dict[str, int]:
    """{code: base units x 10} from a CSV or XLSX with a code and a base units column."""
    table = sf.read_rows(sf.file_rows(data, name), "anesthesia", None, name)
    out: dict[str, int] = {}
    first = table.header_row + 2
    for i, (code_text, units) in enumerate(
        zip(table.columns["code"], table.columns["base_units"], strict=True)
    ):
        code = clean_code(code_text)
        if not is_valid_code(code):
            continue  # notes and footers under the table
        out[code] = sf.scaled(units, 1, "base units", name, first + i)
    if not out:
        raise LayoutError(f"{name}: no anesthesia codes with base units found")
    return out


_loaded: dict[tuple[str, float], dict[str, int]] = {}


def base_units(source: BaseUnitsSource = None) -> dict[str, int] | None:
    """The base units table (tenths) from ``source`` or the default file; None when absent."""
    if isinstance(source, Mapping):
        out = {}
        for k, v in source.items():
            try:
                out[clean_code(k)] = int(Decimal(str(v)).scaleb(1))
            except InvalidOperation:
                raise InputError(f"base units for {k!r}: {v!r} is not a number") from None
        return out
    path = Path(source) if source is not None else default_path()
    if not path.is_file():
        if source is not None:
            raise InputError(f"anesthesia base units file {path} does not exist")
        return None
    key = (str(path), path.stat().st_mtime)
    found = _loaded.get(key)
    if found is None:
        found = read_base_units(path.read_bytes(), path.name)
        _loaded[key] = found
    return found


@dataclass(frozen=True)
class AnesQuote:
    tenths: int  # base units x 10 (after a modifier's override); -1 when unknown
    percent: int
    time_units: bool
    status: str
    note: str


def quote(table: dict[str, int] | None, code: str, mods: tuple[str, ...]) -> AnesQuote:
    if table is None:
        return AnesQuote(-1, 100, True, "base_units_missing", missing_note(code))
    units = table.get(code)
    if units is None:
        return AnesQuote(
            -1, 100, True, "unknown_code", f"{code} is not in the anesthesia base units file given"
        )
    rules = modifier_rules()
    rule = next((rules[m] for m in mods if m in rules), None)
    notes = []
    percent, time_units = 100, True
    if rule is not None:
        percent, time_units = rule.percent, rule.time_units
        if rule.base_units is not None:
            units = rule.base_units * 10
        notes.append(rule.note)
    return AnesQuote(units, percent, time_units, "priced", "; ".join(notes))


def time_tenths(minutes: np.ndarray) -> np.ndarray:
    """Time units x 10 from minutes: minutes / 15 to one decimal, half-up (exact)."""
    milli = np.rint(np.asarray(minutes, dtype=np.float64) * 1000).astype(np.int64)
    # tenths = floor(minutes / 1.5 + 0.5) = floor((milli * 20 + 15000) / 30000)
    return (milli * 20 + 15000) // 30000


def amount_cents(tenths: np.ndarray, cf: np.ndarray, percent: np.ndarray) -> np.ndarray:
    """(units x 10) x (CF x 10**4) x percent / 100, in cents half-up."""
    exact = tenths.astype(np.int64) * cf.astype(np.int64) * percent.astype(np.int64)
    return (exact + 50_000) // 100_000


def fmt_units(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def fmt_cf(cf: int) -> str:
    """20.3178 from 203178; 19.31 from 193100 (at least two decimals, as CMS prints them)."""
    text = f"{cf // 10000}.{cf % 10000:04d}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text
