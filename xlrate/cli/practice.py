"""``xlrate fees`` and ``xlrate era``: read the practice's own files and show what was read."""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from decimal import Decimal

import click

from xlrate.errors import XlrateError

_PAIR_RE = re.compile(r"""(\w[\w-]*)\s*=\s*("[^"]*"|'[^']*'|.*?)(?=\s+\w[\w-]*\s*=|\s*$)""")


def _parse_map(values: Sequence[str]) -> dict[str, str]:
    """``code=Procedure amount="Allowed Amount"`` (one or several pairs per value)."""
    mapping: dict[str, str] = {}
    for value in values:
        pairs = _PAIR_RE.findall(value.strip())
        if not pairs:
            raise click.BadParameter(
                f'{value!r}: write ROLE=COLUMN, e.g. --map code="Procedure"', param_hint="--map"
            )
        for role, name in pairs:
            name = name.strip()
            if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
                name = name[1:-1]
            mapping[role] = name
    return mapping


def _amount_text(value: float) -> str:
    """A plain decimal: two places, more only when the file has them (4-decimal fees)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    cents = round(value * 100)
    if abs(value * 100 - cents) < 1e-6:
        return f"{value:.2f}"
    return format(Decimal(repr(value)).normalize(), "f")


def _number_text(value: float) -> str:
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))).normalize(), "f")


def _emit(rows: list[list[str]], columns: list[str], fmt: str, right: set[str]) -> None:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if name in right else c.ljust(w)
            for c, w, name in zip(cells, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    click.echo(line(columns))
    click.echo(line(["-" * w for w in widths]))
    for row in rows:
        click.echo(line(row))


@click.command("fees", context_settings={"ignore_unknown_options": False})
@click.argument("file", type=click.Path(dir_okay=False))
@click.argument("extra_map", nargs=-1, metavar="[ROLE=COLUMN]...")
@click.option(
    "--payer", metavar="NAME", help="Payer name (default: the payer column, or the file name)."
)
@click.option(
    "--map",
    "map_",
    multiple=True,
    metavar="ROLE=COLUMN",
    help="Name a column the reader does not recognise. Roles: code, modifier, amount, "
    "nonfacility, facility, description, payer, pos, volume.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def fees_cmd(
    file: str, extra_map: tuple[str, ...], payer: str | None, map_: tuple[str, ...], fmt: str
) -> None:
    """Read a payer fee schedule (CSV or .xlsx) and print the normalized rates.

    Columns: payer, code, modifier, setting, amount, note. The read report (rows read,
    kept, skipped and why, invalid codes, conflicting repeats) goes to stderr.

    \b
    Examples:
      xlrate fees aetna_2025.xlsx --payer Aetna
      xlrate fees export.csv --map code="Procedure" amount="Allowed Amount" --format csv
    """
    # lazy: the CLI imports only the command being run (pandas)
    from xlrate.practice.fee_schedules import read_fee_schedule

    for item in extra_map:
        if "=" not in item:
            raise click.UsageError(f"unexpected argument {item!r}: name one file per command")
    mapping = _parse_map(list(map_) + list(extra_map)) or None
    try:
        schedule = read_fee_schedule(file, payer=payer, mapping=mapping)
    except XlrateError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(schedule.report.text(), err=True)
    frame = schedule.rows
    columns = ["payer", "code", "modifier", "setting", "amount", "note"]
    rows = [
        [str(p), str(c), str(m), str(s), _amount_text(a), str(n)]
        for p, c, m, s, a, n in zip(
            frame["payer"],
            frame["code"],
            frame["modifier"],
            frame["setting"],
            frame["amount"],
            frame["note"],
            strict=True,
        )
    ]
    _emit(rows, columns, fmt, right={"amount"})


@click.command("era")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--by",
    type=click.Choice(["payer", "code"]),
    default="payer",
    show_default=True,
    help="Totals per payer, or per payer + code + modifiers.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="Output format.",
)
def era_cmd(files: tuple[str, ...], by: str, fmt: str) -> None:
    """Read 835 remittance files (or folders of them) and total what each payer paid.

    No patient names, member ids or claim numbers are shown: only totals. Broken segments
    that were skipped, and other warnings, go to stderr. A file that is not a readable 835
    is left out whole, named on stderr, and the exit code is 1 (the others are still totalled).

    \b
    Examples:
      xlrate era remits/
      xlrate era jan.835 feb.835 --by code --format csv
    """
    # lazy: the CLI imports only the command being run (pandas)
    from xlrate.practice.era835 import read_era

    try:
        result = read_era(list(files), skip_bad_files=True)
    except XlrateError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for refused in result.refused:
        click.echo(f"Error: {refused} (left out of the totals)", err=True)
    money = ["billed", "allowed", "paid"]
    frame = result.by_payer if by == "payer" else result.by_code
    if by == "payer":
        columns = ["payer", "claims", "lines", *money]
    else:
        columns = ["payer", "code", "modifiers", "lines", "units", *money]
    rows = []
    for record in frame.to_dict("records"):
        cells = [str(record[c]) for c in columns if c not in money and c != "units"]
        if by == "code":
            cells.append(_number_text(float(record["units"])))
        rows.append(cells + [f"{float(record[m]):.2f}" for m in money])
    _emit(rows, columns, fmt, right={"claims", "lines", "units", *money})
    if not rows:
        click.echo("(no service lines)" if by == "code" else "(no claims)", err=True)
    if result.refused:
        raise SystemExit(1)
