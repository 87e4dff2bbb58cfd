"""Medicare amounts for worksheet cells: what the Excel functions compute, in the library.

Both editions call these: the classic add-in (Windows, through xlwings' COM server) and the
xlwings Lite edition (Windows, Mac and Excel on the web, in Pyodide). They use only the
standard library and the engine's scalar path, so they import and run in the browser.

Every argument is what Excel hands over: one cell (``99213.0``, ``"01112-05"``, ``None`` for
an empty cell) or a range as rows of cells. Ranges broadcast against single cells, and the
answer has the shape of the largest argument, so ``=MEDICARE_RATE(A2:A500, , Locality)``
fills a column.

A cell that cannot be answered gets :data:`NA` (``"#N/A"``): xlwings Lite turns it into
Excel's real ``#N/A`` error and the classic wrapper does the same (``CVErr``), so ISNA,
IFERROR and comparisons treat "not priced" as missing, never as a number or as text that
sorts above every number. ``MEDICARE_NOTE`` gives the reason in words for the same arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from xlrate.codes import is_blank
from xlrate.errors import XlrateError

NA = "#N/A"
"""The value a cell gets when it has no answer; both editions show it as Excel's #N/A."""

Cell = Any
Grid = list[list[Cell]]

ARGUMENT_HELP = {
    "rate": "Payer rate(s) in dollars; one cell or a range",
    "code": "HCPCS/CPT code(s), e.g. 99213; one cell or a range",
    "modifier": "Modifier(s): 26, TC, 50, 51, 62, 80...; leave empty for none",
    "locality": (
        "Medicare locality (01112-05), NATIONAL or a ZIP code; pass the workbook's "
        "Locality cell so Excel recalculates when it changes. Empty: the practice's default"
    ),
    "setting": "nonfacility (office) or facility, or a place-of-service code; empty: nonfacility",
    "year": "Medicare year, e.g. 2025; pass the MedicareYear cell. Empty: the release in force today",
    "zip": "5-digit ZIP code(s), e.g. 94110; one cell or a range",
}

FUNCTION_HELP = {
    "MEDICARE_RATE": "What Medicare pays for a code in a locality and setting (#N/A if it has no amount).",
    "PCT_MEDICARE": "A payer's rate as a fraction of Medicare's (1.25 = 125%); #N/A if Medicare has no amount.",
    "MEDICARE_NOTE": "Why MEDICARE_RATE has no amount for these arguments (empty when it has one).",
    "MEDICARE_LOCALITY": "The Medicare locality (MAC-LOC) of a ZIP code; #N/A for a split or unknown ZIP.",
}


@dataclass(frozen=True)
class Defaults:
    """What an omitted argument means: the practice's locality, year and release."""

    locality: str | None = None
    zip: str | None = None
    year: int | None = None
    release: str | None = None


@dataclass(frozen=True)
class Answer:
    """One cell's answer: a number, or no number and the reason."""

    value: float | str | None
    note: str = ""

    @property
    def cell(self) -> float | str:
        if self.value is None:
            return NA
        return self.value


# --------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------


SCALAR, FLAT, BLOCK = 0, 1, 2  # one cell; a Python list; rows of cells (what Excel sends)


def _as_grid(value: Cell) -> tuple[Grid, int]:
    """(rows of cells, how the argument came: SCALAR, FLAT or BLOCK)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # a numpy array handed over by the classic edition
    if isinstance(value, tuple):
        value = list(value)
    if not isinstance(value, list):
        return [[value]], SCALAR
    if not value:
        return [[None]], FLAT
    if not isinstance(value[0], (list, tuple)):
        return [list(value)], FLAT
    return [list(row) for row in value], BLOCK


def _broadcast(args: dict[str, Cell]) -> tuple[dict[str, Grid], tuple[int, int], int]:
    grids: dict[str, Grid] = {}
    shape = (1, 1)
    any_range = SCALAR
    for name, value in args.items():
        grid, kind = _as_grid(value)
        any_range = max(any_range, kind)
        grids[name] = grid
        this = (len(grid), len(grid[0]))
        if this == (1, 1):
            continue
        if shape == (1, 1):
            shape = this
        elif this != shape:
            raise XlrateError(
                f"the ranges have different sizes ({shape[0]}x{shape[1]} and "
                f"{this[0]}x{this[1]}): give ranges of one size, or single cells"
            )
    return grids, shape, any_range


def _at(grid: Grid, r: int, c: int) -> Cell:
    if len(grid) == 1 and len(grid[0]) == 1:
        return grid[0][0]
    return grid[r][c]


def over_cells(
    args: dict[str, Cell], one: Callable[..., Answer], *, pick: Callable[[Answer], Cell]
) -> Cell:
    """Apply ``one`` to every cell of the broadcast arguments, answer in their shape."""
    try:
        grids, (rows, cols), any_range = _broadcast(args)
    except XlrateError:
        return NA
    out: Grid = []
    for r in range(rows):
        out.append([pick(one(**{k: _at(g, r, c) for k, g in grids.items()})) for c in range(cols)])
    if any_range == SCALAR or (rows, cols) == (1, 1):
        return out[0][0]
    if any_range == FLAT:
        return out[0]
    return out


# --------------------------------------------------------------------------------------
# One cell
# --------------------------------------------------------------------------------------


def _year(value: Cell, default: int | None) -> int | None:
    if is_blank(value):
        return default
    if isinstance(value, bool):
        raise XlrateError(f"year {value!r} is not a year: write it as 2025")
    if isinstance(value, (int, float)):
        if float(value).is_integer():
            return int(value)
        raise XlrateError(f"year {value!r} is not a year: write it as 2025")
    if isinstance(value, (date, datetime)):
        return value.year
    text = str(value).strip()
    if text.isdigit() and len(text) == 4:
        return int(text)
    raise XlrateError(f"year {value!r} is not a year: write it as 2025")


def _code_text(value: Cell) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _modifier_text(value: Cell) -> str | None:
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _setting(value: Cell) -> Cell:
    if is_blank(value):
        return "nonfacility"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _place(value: Cell, defaults: Defaults) -> dict[str, str | None]:
    """The engine's locality/zip keyword arguments for a locality cell."""
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.localities import normalize_locality, normalize_zip

    if is_blank(value):
        return {"locality": defaults.locality, "zip": None if defaults.locality else defaults.zip}
    if isinstance(value, str):
        locality = normalize_locality(value)
        if locality:
            return {"locality": locality, "zip": None}
    if not isinstance(value, bool) and isinstance(value, (int, float, str)):
        zip5 = normalize_zip(value)
        if zip5:
            return {"locality": None, "zip": zip5}
    raise XlrateError(
        f"unknown locality {value!r}: write it as MAC-LOC (01112-05), NATIONAL or a ZIP code"
    )


def medicare_answer(
    code: Cell,
    modifier: Cell = None,
    locality: Cell = None,
    setting: Cell = None,
    year: Cell = None,
    *,
    defaults: Defaults = Defaults(),
) -> Answer:
    """Medicare's amount for one cell's arguments, or the reason it has none."""
    if is_blank(code):
        return Answer("", "")  # an empty row of a filled-down column stays empty
    try:
        place = _place(locality, defaults)
        the_year = _year(year, defaults.year)
        release = defaults.release if the_year == defaults.year else None
        result = _amount(
            _code_text(code),
            _modifier_text(modifier),
            place["locality"],
            place["zip"],
            _setting(setting),
            the_year,
            release,
        )
    except XlrateError as exc:
        return Answer(None, str(exc))
    if result[0] is None:
        return Answer(None, result[1])
    return Answer(float(result[0]), result[1])


@lru_cache(maxsize=65536)
def _amount(
    code: str,
    modifier: str | None,
    locality: str | None,
    zip5: str | None,
    setting: Cell,
    year: int | None,
    release: str | None,
) -> tuple[Decimal | None, str]:
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.pricing import medicare_amount

    result = medicare_amount(
        code, modifier, locality=locality, zip=zip5, setting=setting, year=year, release=release
    )
    if result.amount is None:
        return None, result.note or result.status.replace("_", " ")
    return result.amount, ""


def rate_value(value: Cell) -> float | None:
    """A payer rate cell as dollars, or None when it holds no amount."""
    if isinstance(value, bool) or is_blank(value):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("$", "").replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def pct_answer(
    rate: Cell,
    code: Cell,
    modifier: Cell = None,
    locality: Cell = None,
    setting: Cell = None,
    year: Cell = None,
    *,
    defaults: Defaults = Defaults(),
) -> Answer:
    """A payer's rate as a fraction of Medicare's amount (1.25 = 125%)."""
    if is_blank(rate) or is_blank(code):
        return Answer("", "")
    dollars = rate_value(rate)
    if dollars is None:
        return Answer(None, f"no rate: {rate!r} is not an amount")
    medicare = medicare_answer(code, modifier, locality, setting, year, defaults=defaults)
    if not isinstance(medicare.value, float):
        return Answer(None, medicare.note)
    if medicare.value == 0:
        return Answer(None, "Medicare's amount is $0.00: no percent of Medicare")
    return Answer(dollars / medicare.value)


def locality_answer(zip_value: Cell) -> Answer:
    """The locality of a ZIP code, or why it has none (split or unknown ZIP)."""
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.localities import normalize_zip, resolve_zip

    if is_blank(zip_value):
        return Answer("", "")  # an empty row of a filled-down column stays empty
    if isinstance(zip_value, bool):
        return Answer(None, f"{zip_value!r} is not a 5-digit ZIP code")
    zip5 = normalize_zip(zip_value) if isinstance(zip_value, (int, float, str)) else None
    if not zip5:
        return Answer(None, f"{zip_value!r} is not a 5-digit ZIP code")
    try:
        match = resolve_zip(zip5)
    except XlrateError as exc:
        return Answer(None, str(exc))
    if not match.locality:
        return Answer(None, match.note or f"ZIP {zip5} is not in Medicare's ZIP file")
    return Answer(str(match.locality), match.note or "")


# --------------------------------------------------------------------------------------
# The functions, cell or range in, same shape out
# --------------------------------------------------------------------------------------


def _value(answer: Answer) -> Cell:
    return answer.cell


def _note(answer: Answer) -> Cell:
    return answer.note


def _medicare_cells(
    args: dict[str, Cell], defaults: Defaults, pick: Callable[[Answer], Cell]
) -> Cell:
    """MEDICARE_RATE and MEDICARE_NOTE: one answer per cell, the amount or its reason."""

    def one(**kw: Cell) -> Answer:
        return medicare_answer(**kw, defaults=defaults)

    return over_cells(args, one, pick=pick)


def medicare_rate(
    code: Cell,
    modifier: Cell = None,
    locality: Cell = None,
    setting: Cell = None,
    year: Cell = None,
    *,
    defaults: Defaults = Defaults(),
) -> Cell:
    """=MEDICARE_RATE(code, [modifier], [locality], [setting], [year])."""
    args = {"code": code, "modifier": modifier, "locality": locality, "setting": setting}
    return _medicare_cells({**args, "year": year}, defaults, _value)


def medicare_note(
    code: Cell,
    modifier: Cell = None,
    locality: Cell = None,
    setting: Cell = None,
    year: Cell = None,
    *,
    defaults: Defaults = Defaults(),
) -> Cell:
    """=MEDICARE_NOTE(...): the reason behind an #N/A of MEDICARE_RATE (empty when priced)."""
    args = {"code": code, "modifier": modifier, "locality": locality, "setting": setting}
    return _medicare_cells({**args, "year": year}, defaults, _note)


def pct_medicare(
    rate: Cell,
    code: Cell,
    modifier: Cell = None,
    locality: Cell = None,
    setting: Cell = None,
    year: Cell = None,
    *,
    defaults: Defaults = Defaults(),
) -> Cell:
    """=PCT_MEDICARE(rate, code, [modifier], [locality], [setting], [year])."""
    args = {"rate": rate, "code": code, "modifier": modifier, "locality": locality}
    args.update(setting=setting, year=year)

    def one(**kw: Cell) -> Answer:
        return pct_answer(**kw, defaults=defaults)

    return over_cells(args, one, pick=_value)


def medicare_locality(zip_code: Cell) -> Cell:
    """=MEDICARE_LOCALITY(zip)."""

    def one(zip_code: Cell) -> Answer:
        return locality_answer(zip_code)

    return over_cells({"zip_code": zip_code}, one, pick=_value)


def reprice_rows(rows: Grid, locality: Cell, year: Cell) -> Grid:
    """Medicare amount and note for rows of (code, modifier): what the reprice script writes."""
    out: Grid = []
    for row in rows:
        code, modifier = (list(row) + [None, None])[:2]
        if is_blank(code):
            break
        answer = medicare_answer(code, modifier, locality, None, year)
        out.append([answer.value if answer.value is not None else "", answer.note])
    return out


def cells(grid: Cell) -> Iterator[Cell]:
    """Every cell of an answer, for tests and for freezing a shared copy."""
    if isinstance(grid, list):
        for row in grid:
            yield from row
    else:
        yield grid


def clear_caches() -> None:
    """Forget memoised answers (after the Medicare data store changed)."""
    _amount.cache_clear()
