"""``xlrate market``: what each payer pays other practices, from its Transparency-in-Coverage files."""

from __future__ import annotations

import csv
import io
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import click

from xlrate.errors import InputError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MONEY = {"min", "p25", "median", "p75", "max", "own_rate", "medicare"}
_PERCENT = {"median_pct_of_medicare"}


def _text(value: Any, column: str) -> str:
    """One CSV/terminal cell: money to the cent, percents to 0.1, text never a formula."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if column in _MONEY or column in _PERCENT or isinstance(value, float):
        places = Decimal("0.1") if column in _PERCENT else Decimal("0.01")
        return str(Decimal(repr(float(value))).quantize(places, rounding=ROUND_HALF_UP))
    text = str(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text  # a payer name must never become a spreadsheet formula
    return text


def _emit(frame: Any, columns: Sequence[str], fmt: str) -> None:
    rows = [
        [_text(value, column) for value, column in zip(record, columns, strict=True)]
        for record in frame[list(columns)].itertuples(index=False)
    ]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
        return
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


class _Progress:
    """Files done and, for files read in this process, bytes read: rich bars on a terminal."""

    def __init__(self, bar: Any = None, files_task: Any = None) -> None:
        self._bar = bar
        self._files = files_task
        self._tasks: dict[str, Any] = {}

    def done(self, result: Any) -> None:
        if self._bar is not None:
            self._bar.advance(self._files)
            task = self._tasks.pop(result.location, None)
            if task is not None:
                self._bar.remove_task(task)

    def read(self, location: str, done: int, total: int) -> None:
        if self._bar is None:
            return
        task = self._tasks.get(location)
        if task is None:
            name = location.rsplit("/", 1)[-1]
            task = self._tasks[location] = self._bar.add_task(name, total=total)
        self._bar.update(task, completed=done)


@contextmanager
def _progress(total: int) -> Iterator[_Progress]:
    if total < 1 or not sys.stderr.isatty():
        yield _Progress()
        return
    from rich.console import Console  # lazy: rich loads on use

    # lazy: rich loads on use
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        yield _Progress(bar, bar.add_task("payer files", total=total))


def _peer_file(path: str) -> tuple[list[str], list[str]]:
    """TINs marked ``peer`` and ``ghost`` in a file written by ``xlrate market peers``."""
    peers: list[str] = []
    ghosts: list[str] = []
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                status = (row.get("status") or "peer").strip().lower()
                tin = (row.get("tin") or "").strip()
                if tin and status == "peer":
                    peers.append(tin)
                elif tin and status == "ghost":
                    ghosts.append(tin)
    except OSError as exc:
        raise InputError(f"--peers {path} could not be read ({exc})") from exc
    return peers, ghosts


class _MarketGroup(click.Group):
    """``xlrate market FILE...`` runs the benchmark; ``xlrate market peers ...`` the peers."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["benchmark", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_MarketGroup)
def market_group() -> None:
    """What each payer pays other practices for the same codes (Transparency in Coverage).

    \b
    Examples:
      xlrate market uhc_in_network.json.gz --codes 99213,99214 --tin 11-3026610 --zip 10001
      xlrate market --toc https://payer.example/toc.json --plan "Choice Plus" --codes 99213
      xlrate market peers --nppes npidata.csv uhc.json.gz --codes 99213 --npi 1730666900
    """


_common = [
    click.argument("files", nargs=-1),
    click.option("--codes", "codes_text", multiple=True, required=True,
                 help="Codes to benchmark, comma separated (99213,99214)."),
    click.option("--toc", "tocs", multiple=True, metavar="URL",
                 help="A payer's table-of-contents file: read the in-network files it lists."),
    click.option("--plan", help="With --toc: only the files of plans whose name contains this."),
    click.option("--store", metavar="DIR|URL",
                 help="Where the Parquet store lives (default: the xlrate data folder; with "
                 "--dask a folder or fsspec URL every worker reaches)."),
    click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
                 help="Local processes reading files in parallel (one file each)."),
    click.option("--dask", "dask_address", metavar="ADDRESS",
                 help="Spread the files over a Dask cluster (tcp://scheduler:8786)."),
    click.option("--offline", is_flag=True, help="Do not fetch remote provider references."),
    click.option("--force", is_flag=True, help="Read the files again even when unchanged."),
]  # fmt: skip


def _with_common(func: Callable[..., Any]) -> Callable[..., Any]:
    for decorator in reversed(_common):
        func = decorator(func)
    return func


def _locations(files: Sequence[str], tocs: Sequence[str], plan: str | None) -> list[str]:
    from xlrate.market.toc import read_toc  # lazy: the CLI loads only the command being run

    if plan and not tocs:
        raise click.UsageError("--plan needs --toc")
    locations = list(files)
    for toc in tocs:
        locations += [entry.location for entry in read_toc(toc, plan)]
    if not locations:
        raise click.UsageError("give at least one payer file (path or URL) or --toc URL")
    return locations


@market_group.command("benchmark")
@_with_common
@click.option("--tin", "tins", multiple=True, help="The practice's TIN (repeatable).")
@click.option("--npi", "npis", multiple=True, help="The practice's NPI (repeatable).")
@click.option("--peer-tin", "peer_tins", multiple=True, help="Only these TINs are peers.")
@click.option("--peer-npi", "peer_npis", multiple=True, help="Only TINs with these NPIs are peers.")
@click.option("--peers", "peers_file", metavar="CSV",
              help="Peers (and ghosts) from `xlrate market peers`.")  # fmt: skip
@click.option("--keep-ghosts", is_flag=True,
              help="With --peers: keep the TINs marked ghost among the peers (flagged).")  # fmt: skip
@click.option("--locality", help="The practice's Medicare locality (01112-05).")
@click.option("--zip", "zip_code", help="The practice's ZIP code (instead of --locality).")
@click.option("--year", type=int, help="Medicare year (default: the newest installed).")
@click.option("--release", help="Medicare release, e.g. 2025D.")
@click.option("--percentages", is_flag=True,
              help="Show the percentage and per diem rates instead of the dollar benchmark.")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table",
              show_default=True)  # fmt: skip
def benchmark_cmd(
    files: tuple[str, ...],
    codes_text: tuple[str, ...],
    tocs: tuple[str, ...],
    plan: str | None,
    store: str | None,
    workers: int,
    dask_address: str | None,
    offline: bool,
    force: bool,
    tins: tuple[str, ...],
    npis: tuple[str, ...],
    peer_tins: tuple[str, ...],
    peer_npis: tuple[str, ...],
    peers_file: str | None,
    keep_ghosts: bool,
    locality: str | None,
    zip_code: str | None,
    year: int | None,
    release: str | None,
    percentages: bool,
    fmt: str,
) -> None:
    """Benchmark codes against what the payer pays other practices.

    One row per payer, code, modifier, setting and billing class: the number of TINs,
    min/p25/median/p75/max of their rates (a TIN with several rates counts once, at its
    median), your own rate and rank (`1 of 8` = the lowest), the Medicare amount for your
    locality and the market median as a percent of it.

    \b
    Example:
      xlrate market uhc.json.gz --codes 99213,99214 --tin 113026610 --zip 10001 --format csv
    """
    # lazy: the CLI loads only the command being run
    from xlrate.analysis.market import CSV_COLUMNS, market_benchmark

    if locality and zip_code:
        raise click.UsageError("give --locality or --zip, not both")
    locations = _locations(files, tocs, plan)
    chosen_tins: list[str] | None = list(_split(peer_tins)) if peer_tins else None
    chosen_npis: list[str] | None = list(_split(peer_npis)) if peer_npis else None
    ghosts: list[str] = []
    if peers_file:
        from_file, ghosts = _peer_file(peers_file)
        chosen_tins = (chosen_tins or []) + from_file + (ghosts if keep_ghosts else [])
    with _progress(len(locations)) as progress:
        run = market_benchmark(
            locations,
            codes=_split(codes_text),
            store=store,
            workers=workers,
            dask=dask_address,
            fetch_remote=not offline,
            force=force,
            on_done=progress.done,
            on_bytes=progress.read,
            own_tins=_split(tins),
            own_npis=[int(n) for n in _split(npis) if n.isdigit()],
            peer_tins=chosen_tins,
            peer_npis=[int(n) for n in chosen_npis if n.isdigit()] if chosen_npis else None,
            ghost_tins=ghosts,
            locality=locality,
            zip=zip_code,
            year=year,
            release=release,
        )
    for error in run.ingest.errors:
        click.echo(f"Error: {error}", err=True)
    for note in run.benchmark.notes:
        click.echo(f"Note: {note}", err=True)
    if not peers_file and not chosen_tins and not chosen_npis:
        click.echo(
            "Note: every TIN in the files counts as a peer and ghost rates are not checked; "
            "choose peers with `xlrate market peers --nppes FILE` and --peers",
            err=True,
        )
    if percentages:
        frame = run.benchmark.other_types
        _emit(frame, list(frame.columns), fmt)
    else:
        _emit(run.benchmark.dollars, CSV_COLUMNS, fmt)
    if run.ingest.errors:
        sys.exit(1)


@market_group.command("peers")
@_with_common
@click.option("--nppes", "nppes_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="An NPPES extract (npidata_pfile CSV, or a cut with its columns).")  # fmt: skip
@click.option("--npi", "npis", multiple=True, help="The practice's NPI (its taxonomies count).")
@click.option("--taxonomy", "taxonomies", multiple=True,
              help="The practice's taxonomy codes (207Q00000X), instead of --npi's.")  # fmt: skip
@click.option("--zip-prefix", "zip_prefixes", multiple=True,
              help="Peers practise in ZIPs starting with this (100, 1001).")  # fmt: skip
@click.option("--locality", help="Peers practise in this Medicare locality.")
def peers_cmd(
    files: tuple[str, ...],
    codes_text: tuple[str, ...],
    tocs: tuple[str, ...],
    plan: str | None,
    store: str | None,
    workers: int,
    dask_address: str | None,
    offline: bool,
    force: bool,
    nppes_path: str,
    npis: tuple[str, ...],
    taxonomies: tuple[str, ...],
    zip_prefixes: tuple[str, ...],
    locality: str | None,
) -> None:
    """List the TINs of the payer files as peers, likely ghosts or others (CSV on stdout).

    A peer has an NPI practising in the area that shares a taxonomy with the practice; a
    likely ghost has NPIs in NPPES but none with the practice's taxonomies. Save the output
    and pass it to `xlrate market --peers FILE`.

    \b
    Example:
      xlrate market peers --nppes npidata.csv uhc.json.gz --codes 99213 --npi 1730666900 \\
          --zip-prefix 100 > peers.csv
    """
    from xlrate.analysis.market import nppes_peers  # lazy: the CLI loads only the command being run
    from xlrate.market.ingest import ingest  # lazy: the CLI loads only the command being run
    from xlrate.market.store import Store  # lazy: the CLI loads only the command being run

    locations = _locations(files, tocs, plan)
    codes = _split(codes_text)
    target = Store(store)
    with _progress(len(locations)) as progress:
        result = ingest(
            locations,
            codes=codes,
            store=target,
            workers=workers,
            dask=dask_address,
            fetch_remote=not offline,
            force=force,
            on_done=progress.done,
            on_bytes=progress.read,
        )
    for error in result.errors:
        click.echo(f"Error: {error}", err=True)
    table = nppes_peers(
        target.read(result.keys, codes=codes),
        nppes_path,
        own_npis=[int(n) for n in _split(npis) if n.isdigit()],
        taxonomies=_split(taxonomies),
        zip_prefixes=_split(zip_prefixes),
        locality=locality,
    )
    for note in table.choice.notes:
        click.echo(f"Note: {note}", err=True)
    _emit(table.rows, list(table.rows.columns), "csv")
    if result.errors:
        sys.exit(1)
