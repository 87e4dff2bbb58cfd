"""``xlrate price CODES`` answered without loading click: the command line's quick path.

Typing a code or two is what people run most, and loading click is most of what that costs
beyond the pricing itself (10-20 ms of a 130 ms run). This module reads only the plain form of
that command line: ``price``, codes, and the options in :data:`FLAGS` and :data:`VALUES`, each
at most once and written ``--name value``. Any other command line (help, ``--input``,
``--date``, ``--name=value``, a typo) goes to the click command, and so does any failure here:
this path prints nothing unless the codes priced, and the click command then runs the same
command line and reports what went wrong as it always does. Both print through
:mod:`xlrate.cli.prices`; ``tests/cli/test_quick.py`` holds them to the same output.
"""

from __future__ import annotations

import sys
from typing import Any

# option -> the click command's parameter name (xlrate.cli.medicare.price_cmd)
FLAGS = {
    "--national": "national",
    "--non-participating": "non_participating",
    "--limiting-charge": "limiting_charge",
    "--npp": "npp",
    "--sequestration": "sequestration",
    "--qp": "qp",
}
VALUES = {
    "--locality": "locality",
    "--zip": "zip_code",
    "--year": "year",
    "--release": "release",
    "--setting": "setting",
    "--format": "fmt",
    "--units": "units",
    "--minutes": "minutes",
    "--state": "state",
}
CHOICES = {"setting": ("nonfacility", "facility", "both"), "fmt": ("table", "csv", "json")}
DEFAULTS: dict[str, Any] = {"setting": "both", "fmt": "table"}


class Answer:
    """What ``xlrate price`` prints: the rows' text and the store's warnings."""

    __slots__ = ("out", "warnings")

    def __init__(self, out: str, warnings: tuple[str, ...]) -> None:
        self.out = out
        self.warnings = warnings

    def write(self) -> None:
        """Print the warnings on stderr, then the answer on stdout (as click.echo would)."""
        for line in self.warnings:
            print(line, file=sys.stderr)
        sys.stdout.write(self.out)
        sys.stdout.flush()


def parse(args: list[str]) -> dict[str, Any] | None:
    """The price command's parameters from a plain ``price CODES`` command line, else None."""
    if len(args) < 2 or args[0] != "price":
        return None
    params: dict[str, Any] = {"codes": []}
    rest = iter(args[1:])
    for token in rest:
        if not token.startswith("-"):
            params["codes"].append(token)
        elif token in FLAGS and FLAGS[token] not in params:
            params[FLAGS[token]] = True
        elif token in VALUES and VALUES[token] not in params:
            name, value = VALUES[token], next(rest, None)
            if not value or value.startswith("-"):
                return None
            if name in CHOICES and value not in CHOICES[name]:
                return None
            if name == "year":
                if not (value.isascii() and value.isdigit()):
                    return None
                params[name] = int(value)
            else:
                params[name] = value
        else:
            return None  # help, --input, --date, a repeat, a typo: the click command's to answer
    if not params["codes"]:
        return None
    return {**DEFAULTS, **params}


def answer(args: list[str]) -> Answer | None:
    """The text ``xlrate ARGS`` prints, when ARGS is a plain ``price CODES`` that prices cleanly.

    None for any other command line and for any failure, which the click command then reports.
    """
    params = parse(args)
    if params is None:
        return None
    try:
        return _price(**params)
    except Exception:  # noqa: BLE001 - the click command runs next and reports it in one line
        return None


def _price(
    codes: list[str],
    setting: str,
    fmt: str,
    locality: str | None = None,
    zip_code: str | None = None,
    national: bool = False,
    year: int | None = None,
    release: str | None = None,
    **flags: Any,
) -> Answer:
    from xlrate.cli.prices import (  # lazy: imported after the command line is read
        checked_place,
        one_place,
        price_codes,
        price_columns,
        pricing_options,
        render,
        store_warnings,
    )
    from xlrate.medicare.store import load_release  # lazy: after the command line is read

    one_place(locality, zip_code, national)
    with store_warnings() as said:
        rel = load_release(year, release)
        locality = checked_place(locality, zip_code)
        rows = price_codes(
            tuple(codes),
            rel.year,
            rel.quarter,
            locality,
            zip_code,
            national,
            setting,
            pricing_options(**flags),
        )
    return Answer(render(rows, price_columns(setting), fmt), tuple(said))
