"""`xlrate price`, `xlrate localities`, `xlrate releases`: Medicare amounts on the command line."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import click

from xlrate.errors import InputError

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
]


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> None:
    """Print rows as an aligned table, CSV or JSON."""
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if fmt == "csv":
        import csv

        writer = csv.DictWriter(
            sys.stdout, fieldnames=columns, lineterminator="\n", extrasaction="ignore"
        )
        writer.writeheader()
        writer.writerows(rows)
        return
    widths = {c: max([len(c)] + [len(str(r.get(c, ""))) for r in rows]) for c in columns}
    click.echo("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for r in rows:
        click.echo("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns).rstrip())


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


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
@click.option("--year", type=int, help="Fee schedule year (default: the newest complete release).")
@click.option("--release", help="Quarterly release A, B, C or D (or 2025D).")
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
    setting: str,
    non_participating: bool,
    limiting_charge: bool,
    npp: bool,
    sequestration: bool,
    qp: bool,
    fmt: str,
) -> None:
    """What Medicare pays for CODES (99213, 99214-25, 76145-26) in a locality.

    Codes typed here are priced one by one (no pandas: fast to start); a file given with
    --input is read, priced and written in chunks of rows, so any size runs in flat memory.
    A file row with neither a locality nor a ZIP needs --locality, --zip or --national.

    \b
    Examples:
      xlrate price 99213 99214-25 76145-26 --locality 01112-05
      xlrate price 99213 --zip 94110 --setting nonfacility --format csv
      xlrate price 99213 --national --year 2026
      xlrate price --input requests.csv --zip 94110 --format csv
    """
    from xlrate.medicare.localities import check_locality, resolve_zip
    from xlrate.medicare.store import load_release

    if sum(bool(x) for x in (locality, zip_code, national)) > 1:
        raise InputError("give only one of --locality, --zip and --national")
    if not codes and not input_path:
        raise click.UsageError("give codes (xlrate price 99213 99214-25) or --input FILE")
    options = {
        "participating": not non_participating,
        "limiting_charge": limiting_charge,
        "npp": npp,
        "sequestration": sequestration,
        "qp": qp,
    }
    columns = list(PRICE_COLUMNS)
    if setting != "both":
        columns.remove("facility_amount" if setting == "nonfacility" else "nonfacility_amount")
    with say_store_warnings():
        rel = load_release(year, release)  # an unknown year or release fails here, in one line
        if locality:
            locality = check_locality(locality)
        if zip_code:
            match = resolve_zip(zip_code)
            if match.locality is None:
                raise InputError(match.note)
        if input_path:
            from xlrate.medicare.bulk import price_csv

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
        if not (locality or zip_code or national):
            raise InputError("say where: --locality 01112-05, --zip 94110 or --national")
        emit(
            _price_codes(
                codes, rel.year, rel.quarter, locality, zip_code, national, setting, options
            ),
            columns,
            fmt,
        )


def _price_codes(
    codes: tuple[str, ...],
    year: int,
    release: str,
    locality: str | None,
    zip_code: str | None,
    national: bool,
    setting: str,
    options: dict[str, bool],
) -> list[dict[str, Any]]:
    """Typed codes through the scalar engine (``medicare_amount``): no pandas, no numpy."""
    from xlrate.codes import split_code_modifier
    from xlrate.medicare.pricing import medicare_amount

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
            }
        )
    return rows


@contextmanager
def say_store_warnings() -> Iterator[None]:
    """Show the store's warnings (a damaged install served from the embedded copy) as one line each."""
    from xlrate.medicare.store import StoreWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoreWarning)
        try:
            yield
        finally:
            said: set[str] = set()
            for w in caught:
                if not issubclass(w.category, StoreWarning):
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                elif str(w.message) not in said:
                    said.add(str(w.message))
                    click.echo(f"Warning: {w.message}", err=True)


@click.command("repair")
def repair_cmd() -> None:
    """Check the installed Medicare data and remove what is damaged or stray.

    A damaged release that xlrate also embeds is served from the embedded copy again;
    any other is named with the command that downloads it again.

    \b
    Example:
      xlrate medicare repair
    """
    from xlrate.medicare.store import repair

    done = repair()
    for line in done:
        click.echo(line)
    if not done:
        click.echo("nothing to repair: every installed release and ZIP file reads back intact")


@click.command("localities")
@click.option("--zip", "zip_code", help="Show the locality of a ZIP code.")
@click.option("--search", help="Words to find in locality names, counties and states.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
def localities_cmd(zip_code: str | None, search: str | None, fmt: str) -> None:
    """List Medicare payment localities, find one by ZIP code or by name.

    \b
    Examples:
      xlrate localities --zip 94110
      xlrate localities --search "san francisco"
    """
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
                ],
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
            click.echo(f"  {f['name']:<28} sha256 {f['sha256']}  {f['bytes']:>9} bytes")
