"""Typed codes priced and printed: what both ways of running ``xlrate price CODES`` share.

Plain Python (no click, no pandas, no numpy). The click command (:mod:`xlrate.cli.medicare`)
and the quick path that skips loading click (:mod:`xlrate.cli.quick`) check the place, price
the codes and print the rows through these functions, so the two print the same text.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from xlrate.errors import InputError
from xlrate.text import csv_text, terminal_text

PRICE_COLUMNS = [
    "code",
    "modifier",
    "locality",
    "year",
    "release",
    "nonfacility_amount",
    "facility_amount",
    "status",
    "note",
    "schedule",
    "units",
]


def price_columns(setting: str) -> list[str]:
    """The columns ``xlrate price`` prints for ``--setting`` (both amounts, or the one asked)."""
    columns = list(PRICE_COLUMNS)
    if setting != "both":
        columns.remove("facility_amount" if setting == "nonfacility" else "nonfacility_amount")
    return columns


def render(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> str:
    """Rows as the text ``xlrate`` prints: an aligned table, CSV or JSON (with its line end)."""
    if fmt == "json":
        import json  # lazy: only for --format json

        return json.dumps(rows, indent=2, default=str) + "\n"
    if fmt == "csv":
        return csv_text(columns, ([r.get(c, "") for c in columns] for r in rows))
    rows = [{c: terminal_text(r.get(c, "")) for c in columns} for r in rows]
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


@contextmanager
def store_warnings() -> Iterator[list[str]]:
    """Collect the store's warnings (a damaged install served from the embedded copy).

    Yields a list that holds, when the block ends, each distinct warning once as the line
    to show (``Warning: ...``); other warnings go on to Python's usual display.
    """
    from xlrate.medicare.store import StoreWarning  # lazy: the CLI loads only what it runs

    lines: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoreWarning)
        try:
            yield lines
        finally:
            for w in caught:
                if not issubclass(w.category, StoreWarning):
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                    continue
                line = f"Warning: {terminal_text(str(w.message))}"
                if line not in lines:
                    lines.append(line)


def one_place(locality: str | None, zip_code: str | None, national: bool) -> None:
    """:class:`InputError` when more than one of ``--locality``, ``--zip`` and ``--national`` is given."""
    if sum(bool(x) for x in (locality, zip_code, national)) > 1:
        raise InputError("give only one of --locality, --zip and --national")


def checked_place(locality: str | None, zip_code: str | None) -> str | None:
    """The locality as CMS spells it; :class:`InputError` for an unknown one or a ZIP without one."""
    from xlrate.medicare.localities import check_locality, resolve_zip  # lazy: CLI start-up

    if locality:
        locality = check_locality(locality)
    if zip_code:
        match = resolve_zip(zip_code)
        if match.locality is None:
            raise InputError(match.note)
    return locality


def price_codes(
    codes: tuple[str, ...] | list[str],
    year: int,
    release: str,
    locality: str | None,
    zip_code: str | None,
    national: bool,
    setting: str,
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    """Typed codes through the scalar engine (``medicare_amount``): no pandas, no numpy."""
    from xlrate.codes import split_code_modifier  # lazy: the CLI loads only what it runs
    from xlrate.medicare.pricing import medicare_amount  # lazy: not for `xlrate localities`

    if not (locality or zip_code or national):
        raise InputError("say where: --locality 01112-05, --zip 94110 or --national")
    rows: list[dict[str, Any]] = []
    for typed in codes:
        code, modifier = split_code_modifier(typed)
        if not typed.strip().upper().startswith(code):
            raise InputError(
                f"{typed!r} is not a HCPCS/CPT code: codes have 5 characters, such as 99213, 00100 or G0008"
            )
        result = medicare_amount(
            code,
            modifier,
            locality="NATIONAL" if national else locality,
            zip=zip_code,
            setting=setting,
            year=year,
            release=release,
            **options,
        )
        amount = result.amount
        rows.append(
            {
                "code": code,
                "modifier": modifier,
                "locality": result.locality,
                "year": result.year,
                "release": result.release,
                "nonfacility_amount": _money(result.nonfacility),
                "facility_amount": _money(result.facility),
                "amount": None if amount is None else float(amount),
                "status": result.status,
                "note": result.note,
                "schedule": result.schedule,
                "units": f"{result.units:g}",
            }
        )
    return rows


def pricing_options(
    *,
    non_participating: bool = False,
    limiting_charge: bool = False,
    npp: bool = False,
    sequestration: bool = False,
    qp: bool = False,
    **schedule_options: str | None,
) -> dict[str, Any]:
    """The engine's keyword options from the command's flags (given schedule options only)."""
    options: dict[str, Any] = {
        "participating": not non_participating,
        "limiting_charge": limiting_charge,
        "npp": npp,
        "sequestration": sequestration,
        "qp": qp,
    }
    options.update({k: v for k, v in schedule_options.items() if v is not None})
    return options


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"
