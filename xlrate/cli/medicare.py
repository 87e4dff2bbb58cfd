"""`xlrate price`, `xlrate localities`, `xlrate releases`: Medicare amounts on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from xlrate.cli import prices
from xlrate.errors import InputError
from xlrate.text import terminal_text


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    """Print rows as an aligned table, CSV or JSON."""
    click.echo(prices.render(rows, columns, fmt), nl=False)


@click.command("price")
@click.argument("codes", nargs=-1)
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False),
    help="CSV of requests: code, modifier, locality or zip, setting or pos.",
)
@click.option("--locality", help="Locality id MAC-LOC, e.g. 01112-05 (San Francisco).")
@click.option(
    "--zip", "zip_code", help="5-digit ZIP code, resolved with CMS's ZIP-to-locality file."
)
@click.option("--national", is_flag=True, help="National amounts (all GPCIs 1).")
@click.option("--year", type=int, help="Fee schedule year (default: the release in force today).")
@click.option("--release", help="Quarterly release A, B, C or D (or 2025D, 2024AR).")
@click.option(
    "--date",
    "service_date",
    metavar="YYYY-MM-DD",
    help="Date of service: price with the release in force on that date (says which).",
)
@click.option(
    "--setting",
    type=click.Choice(["nonfacility", "facility", "both"]),
    default="both",
    show_default=True,
)
@click.option("--non-participating", is_flag=True, help="Non-participating fee (95%).")
@click.option(
    "--limiting-charge", is_flag=True, help="Limiting charge (109.25% of the fee schedule amount)."
)
@click.option("--npp", is_flag=True, help="Nurse practitioner / physician assistant (85%).")
@click.option(
    "--sequestration", is_flag=True, help="After the 2% sequestration cut (98.4% of allowed)."
)
@click.option(
    "--qp", is_flag=True, help="Qualifying APM participant conversion factor (2026 and later)."
)
@click.option(
    "--units",
    help="Units per code (drugs: billing units of the ASP dosage); amounts are for these units.",
)
@click.option("--minutes", help="Anesthesia time in minutes (time units = minutes / 15).")
@click.option(
    "--base-units",
    type=click.Path(exists=True, dir_okay=False),
    help="CMS's anesthesia base units file (CSV/XLSX), needed for anesthesia codes.",
)
@click.option("--state", help="State for DMEPOS/PEN fees when no --zip is given (e.g. NY).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def price_cmd(
    codes: tuple[str, ...],
    input_path: str | None,
    locality: str | None,
    zip_code: str | None,
    national: bool,
    year: int | None,
    release: str | None,
    service_date: str | None,
    setting: str,
    non_participating: bool,
    limiting_charge: bool,
    npp: bool,
    sequestration: bool,
    qp: bool,
    units: str | None,
    minutes: str | None,
    base_units: str | None,
    state: str | None,
    fmt: str,
) -> None:
    """What Medicare pays for CODES (99213, 99214-25, 76145-26) in a locality.

    Each code is priced by its schedule (column schedule): the physician fee schedule,
    or for codes it does not price the lab (CLFS), drug (ASP), DMEPOS, PEN or anesthesia
    schedule.

    \b
    Examples:
      xlrate price 99213 99214-25 76145-26 --locality 01112-05
      xlrate price 85025 J3301 E0260-RR --zip 10001 --units 2 --format csv
      xlrate price 99213 --zip 94110 --setting nonfacility --format csv
      xlrate price 99213 --national --year 2026
      xlrate price 99213 --national --date 2025-02-14
      xlrate price --input requests.csv --zip 94110 --format csv
    """
    from xlrate.medicare.store import load_release  # lazy: the CLI loads only what it runs

    prices.one_place(locality, zip_code, national)
    if not codes and not input_path:
        raise click.UsageError("give codes (xlrate price 99213 99214-25) or --input FILE")
    if service_date and (year or release):
        raise InputError("give --date or --year/--release, not both")
    options = prices.pricing_options(
        non_participating=non_participating,
        limiting_charge=limiting_charge,
        npp=npp,
        sequestration=sequestration,
        qp=qp,
        units=units,
        minutes=minutes,
        base_units=base_units,
        state=state,
    )
    columns = prices.price_columns(setting)
    with say_store_warnings():
        # An unknown year or release fails here, in one line.
        rel = load_release(year, release, service_date)
        if service_date:
            from xlrate.medicare.releases import date_note  # lazy: only with --date

            click.echo(date_note(rel.release_id, service_date), err=True)
        locality = prices.checked_place(locality, zip_code)
        if input_path:
            from xlrate.medicare.bulk import price_csv  # lazy: pandas, for files only

            price_csv(
                input_path,
                sys.stdout,
                columns=columns,
                fmt=fmt,
                year=rel.year,
                release=rel.quarter,
                locality=locality,
                zip=zip_code,
                national=national,
                setting=setting,
                **options,
            )
            return
        rows = prices.price_codes(
            codes, rel.year, rel.quarter, locality, zip_code, national, setting, options
        )
        emit(rows, columns, fmt)


@contextmanager
def say_store_warnings() -> Iterator[None]:
    """Show the store's warnings (a damaged install served from the embedded copy) as one line each."""
    lines: list[str] = []
    try:
        with prices.store_warnings() as lines:
            yield
    finally:
        for line in lines:
            click.echo(line, err=True)


@click.command("repair")
def repair_cmd() -> None:
    """Check the installed Medicare data and remove what is damaged or stray.

    A damaged release that xlrate also embeds is served from the embedded copy again;
    any other is named with the command that downloads it again.

    \b
    Example:
      xlrate medicare repair
    """
    from xlrate.medicare.store import repair  # lazy: the CLI loads only what it runs

    done = repair()
    for line in done:
        click.echo(line)
    if not done:
        click.echo("nothing to repair: every installed release and ZIP file reads back intact")


@click.command("localities")
@click.argument("words", nargs=-1)
@click.option("--zip", "zip_code", help="Show the locality of a ZIP code.")
@click.option("--search", help="Words to find in locality names, counties and states.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def localities_cmd(
    words: tuple[str, ...], zip_code: str | None, search: str | None, fmt: str
) -> None:
    """List Medicare payment localities, find one by ZIP code or by name (WORDS or --search).

    \b
    Examples:
      xlrate localities alabama
      xlrate localities --zip 94110
      xlrate localities --search "san francisco"
    """
    if words:
        search = " ".join([*words, search or ""]).strip()
    # lazy: the CLI loads only the command being run
    # lazy: the CLI loads only the command being run
    from xlrate.medicare.localities import locality_table, resolve_zip, search_localities

    columns = ["locality", "state", "name", "counties"]
    if zip_code:
        match = resolve_zip(zip_code)
        table = {x.locality: x for x in locality_table()}
        rows = [
            {
                "zip": match.zip,
                "locality": c,
                "state": table[c].state if c in table else "",
                "name": table[c].name if c in table else "",
                "split": match.split,
                "note": match.note,
            }
            for c in (match.candidates if match.locality is None else (match.locality,))
        ]
        emit(rows, ["zip", "locality", "state", "name", "split", "note"], fmt)
        return
    found = search_localities(search) if search else locality_table()
    if not found:
        raise InputError(f"no locality matches {search!r}: try a county, a city or a state name")
    emit([x.__dict__ for x in found], columns, fmt)


@click.command("releases")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def releases_cmd(fmt: str) -> None:
    """List the Medicare releases available here, with their provenance.

    \b
    Example:
      xlrate releases --format json
    """
    # lazy: the CLI loads only the command being run
    from xlrate.medicare.store import check_installed, list_releases, resolve_release

    default = resolve_release().release_id
    infos = list_releases()
    for path, why in check_installed():
        click.echo(f"Warning: {path}: {why}; run `xlrate medicare repair`", err=True)
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "release": i.release_id,
                        "source": i.source,
                        "default": i.release_id == default,
                        "path": str(i.path),
                        **i.provenance,
                    }
                    for i in infos
                ]
                + _other_schedules_json(),
                indent=2,
            )
        )
        return
    rows = []
    for i in infos:
        p = i.provenance
        rows.append(
            {
                "release": i.release_id + (" (default)" if i.release_id == default else ""),
                "source": i.source,
                "released": p.get("release_date", ""),
                "cf": p.get("conversion_factor", ""),
                "gpci": "yes" if i.complete else "no (national only)",
                "from": p.get("source_url", ""),
                "downloaded": p.get("downloaded_at", ""),
            }
        )
    emit(rows, ["release", "source", "released", "cf", "gpci", "from", "downloaded"], "table")
    for i in infos:
        click.echo(f"\n{i.release_id} files:")
        for f in i.provenance.get("files", []):
            line = f"  {f['name']:<28} sha256 {f['sha256']}  {f['bytes']:>9} bytes"
            click.echo(terminal_text(line))
    _other_schedules()


def _other_schedules_json() -> list[dict[str, Any]]:
    from xlrate.medicare.schedule_store import list_schedule_releases  # lazy: numpy

    return [
        {
            "release": i.release_id,
            "schedule": i.schedule.upper(),
            "source": i.source,
            "path": str(i.path),
            **i.provenance,
        }
        for i in list_schedule_releases()
    ]


def _other_schedules() -> None:
    """The CLFS, ASP, DMEPOS and PEN releases (xlrate.medicare.schedule_store)."""
    from xlrate.medicare.schedule_store import list_schedule_releases  # lazy: numpy

    others = list_schedule_releases()
    if not others:
        return
    click.echo("\nOther schedules:")
    for i in others:
        for f in i.provenance.get("files", []):
            click.echo(
                f"  {i.schedule.upper():<7}{i.release_id}  {i.source:<9}  {f['name']:<40} "
                f"sha256 {f['sha256']}  {f['bytes']:>9} bytes"
            )
