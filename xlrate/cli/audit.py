"""``xlrate audit``: every 835 line against the contract; underpayments by code and payer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from xlrate.errors import XlrateError

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_MONEY = ("expected", "allowed", "variance", "underpaid_amount", "amount")


def _fee_period(text: str) -> dict[str, str]:
    """``fees.csv`` or ``fees.csv@2025-01-01`` (in force from that date)."""
    path, at, start = text.rpartition("@")
    if at and path:
        try:
            dt.date.fromisoformat(start)
        except ValueError:
            pass
        else:
            return {"file": path, "from": start}
    return {"file": text}


def _cell(name: str, value: Any) -> str:
    from xlrate.analysis.audit import safe_cell  # lazy: the CLI loads only the command being run

    if value is None:
        return ""
    if isinstance(value, Decimal):
        if name in _MONEY:
            return f"{value:.2f}"
        return f"{value.normalize():f}"
    if isinstance(value, str):
        # Text from an input file: never a formula in a CSV, never a control sequence on a
        # terminal.
        return safe_cell(_CONTROL.sub("", value))
    return str(value)


def _emit(rows: list[dict[str, Any]], columns: Sequence[str], fmt: str, err: bool = False) -> None:
    cells = [[_cell(c, row.get(c)) for c in columns] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        click.echo(buffer.getvalue(), nl=False, err=err)
        return
    text = {"payer", "code", "modifier", "status", "finding"}
    widths = [len(c) for c in columns]
    for row in cells:
        widths = [max(w, len(v)) for w, v in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.ljust(w) if name in text else v.rjust(w)
            for v, w, name in zip(values, widths, columns, strict=True)
        ).rstrip()

    click.echo(line(columns), err=err)
    click.echo(line(["-" * w for w in widths]), err=err)
    for row in cells:
        click.echo(line(row), err=err)


@click.command("audit")
@click.option(
    "--era",
    "era",
    multiple=True,
    required=True,
    type=click.Path(),
    metavar="FILE",
    help="835 remittance file or folder (repeat for several).",
)
@click.option(
    "--contract",
    "contract",
    multiple=True,
    metavar="FEES_FILE[@FROM]",
    help="The payer's contracted fee schedule (CSV/.xlsx, as `xlrate fees` reads it). Repeat "
    "with @YYYY-MM-DD for each period: the file in force on the date of service applies.",
)
@click.option(
    "--pct-of-medicare",
    type=float,
    metavar="N",
    help="Contract pays N% of Medicare (with --contract: for codes the schedule lacks).",
)
@click.option("--medicare-year", type=int, metavar="Y", help="Medicare year of the contract.")
@click.option("--medicare-release", metavar="R", help="Medicare release, e.g. 2025D.")
@click.option("--locality", metavar="L", help="Medicare locality, e.g. 01112-05.")
@click.option("--zip", "zip_code", metavar="Z", help="ZIP code for the Medicare locality.")
@click.option("--payer", metavar="NAME", help="Audit only payers whose 835 name contains NAME.")
@click.option("--lesser-of-charges", is_flag=True, help="Pay the lesser of fee and billed charge.")
@click.option(
    "--mppr", is_flag=True, help="Multiple-procedure reduction 100/50/50 (MULT PROC 2 and 3)."
)
@click.option(
    "--tolerance",
    type=float,
    default=0.01,
    show_default=True,
    help="A shortfall under this many dollars per line is not an underpayment.",
)
@click.option(
    "--worklist",
    type=click.Path(dir_okay=False),
    metavar="PATH",
    help="Also write the underpaid lines (with claim numbers) to this CSV for appeals.",
)
@click.option("--force", is_flag=True, help="Replace an existing worklist file.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv"]),
    default="table",
    show_default=True,
    help="Output format of the by-code table (the by-payer summary is a table on stderr with csv).",
)
def audit_cmd(
    era: tuple[str, ...],
    contract: tuple[str, ...],
    pct_of_medicare: float | None,
    medicare_year: int | None,
    medicare_release: str | None,
    locality: str | None,
    zip_code: str | None,
    payer: str | None,
    lesser_of_charges: bool,
    mppr: bool,
    tolerance: float,
    worklist: str | None,
    force: bool,
    fmt: str,
) -> None:
    """Audit 835 payments against the contract: expected vs allowed for every service line.

    Prints one row per payer, code and modifier (lines, units, expected, allowed, variance =
    allowed - expected, underpaid lines and dollars, denied lines) and a by-payer summary.
    No patient names, member ids or claim numbers are printed; only --worklist writes claim
    numbers (never names or member ids), for the billing staff to appeal from.

    Rounding: the expected amount is the per-unit rate x units x the rule factors, rounded
    half-up to cents once per line. A payer that rounds per unit may be a cent or two under:
    such a line is not an underpayment (its reason says so). Any other shortfall of at
    least --tolerance dollars is one. Denied lines (nothing allowed) are counted apart.

    \b
    Examples:
      xlrate audit --era remits/ --pct-of-medicare 125 --medicare-year 2025 --zip 94110
      xlrate audit --era jan.835 --contract aetna_2024.csv@2024-01-01 \\
          --contract aetna_2025.csv@2025-01-01 --mppr --lesser-of-charges \\
          --worklist appeals.csv --format csv
    """
    from xlrate.analysis.audit import (  # lazy: the CLI loads only the command being run
        BY_CODE_COLUMNS,
        BY_PAYER_COLUMNS,
        audit_lines,
        parse_contract,
        write_worklist,
    )
    from xlrate.practice.era835 import read_era  # lazy: the CLI loads only the command being run

    if not contract and pct_of_medicare is None:
        raise click.UsageError("name the contract: --contract FEES_FILE or --pct-of-medicare N")
    if locality and zip_code:
        raise click.UsageError("give --locality or --zip, not both")
    if worklist:
        target = Path(worklist).resolve()
        inputs = [Path(p).resolve() for p in era] + [
            Path(_fee_period(c)["file"]).resolve() for c in contract
        ]
        if any(target == p or p in target.parents for p in inputs):
            raise click.UsageError(f"--worklist {worklist} is one of the input files")
    if worklist and Path(worklist).exists() and not force:
        raise click.ClickException(
            f"{worklist} exists; choose another name or add --force to replace it"
        )
    terms: dict[str, Any] = {
        "lesser_of_charges": lesser_of_charges,
        "mppr": mppr,
        "tolerance": tolerance,
    }
    if contract:
        terms["fees"] = [_fee_period(c) for c in contract]
    if pct_of_medicare is not None:
        terms["pct_of_medicare"] = pct_of_medicare
    for key, value in (
        ("medicare_year", medicare_year),
        ("medicare_release", medicare_release),
        ("locality", locality),
        ("zip", zip_code),
    ):
        if value is not None:
            terms[key] = value
    try:
        parsed = parse_contract(terms, where="audit")
        remits = read_era(list(era), skip_bad_files=True, lines=True)
        result = audit_lines(remits.lines, parsed, payer=payer)
    except XlrateError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in remits.warnings + result.warnings:
        click.echo(f"warning: {warning}", err=True)
    for refused in remits.refused:
        click.echo(f"Error: {refused} (left out of the audit)", err=True)
    click.echo(f"contract: {parsed.describe()}", err=True)
    if result.medicare:
        click.echo(f"medicare: {result.medicare}", err=True)
    _emit(result.by_code(), BY_CODE_COLUMNS, fmt)
    if fmt == "table":
        click.echo("")
    summary_columns = [c for c in BY_PAYER_COLUMNS if c != "units"]
    _emit(result.by_payer(), summary_columns, "table", err=fmt == "csv")
    findings = result.findings()
    if findings:
        click.echo("", err=fmt == "csv")
        _emit(
            findings, ["payer", "status", "finding", "lines", "amount"], "table", err=fmt == "csv"
        )
    if worklist:
        try:
            written = write_worklist(result, worklist, force=force)
        except XlrateError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(
            f"wrote {written} underpaid line(s) to {worklist}: it holds claim control numbers "
            "(no patient names or member ids); keep it inside the practice",
            err=True,
        )
    if remits.refused:
        raise SystemExit(1)
