"""The market benchmark: what a payer pays the other practices in its own files.

From the rows of the market store (:mod:`xlrate.market.store`), per payer, code, modifier,
setting and billing class:

- every provider group counts once, by TIN: a TIN with several rates for the same code
  (several provider groups, plans or place lists) stands at the **median of its own rates**;
- ``tins, min, p25, median, p75, max`` describe the peers' per-TIN rates (quartiles by
  linear interpolation, DuckDB's ``quantile_cont``, the same as ``numpy.percentile``);
  the practice's own TINs are never among its peers;
- ``own_rate`` is the practice's own per-TIN rate (its TINs given by ``own_tins`` or by
  any of its NPIs, ``own_npis``) and ``own_rank`` its place among the peers and itself,
  lowest first (``1 of 8``: nobody is paid less; ties share the better place);
- ``medicare`` is the Medicare amount for the practice's locality (``xlrate.price``), for
  the row's setting (``mixed`` rows against the non-facility amount, which an office rate
  must cover), and ``median_pct_of_medicare`` the peers' median as a percent of it.

Only dollar rates (``negotiated``, ``fee schedule``, ``derived``) enter those figures.
``percentage`` rates (percent of billed charges) and ``per diem`` rates are summarised in a
separate table, never mixed with dollars. Rates that expired before the file's own date
are left out, and so are rates whose provider reference could not be resolved (no TIN).

Peers: every TIN in the payer's file by default, or the TINs/NPIs chosen (``peer_tins``,
``peer_npis``, e.g. from :func:`choose_peers` over an NPPES extract). Likely ghost rates
(``ghost_tins``: TINs none of whose NPIs has a taxonomy shared with the practice, see
:func:`choose_peers`) are flagged in the ``ghost_tins`` column, not dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlrate.codes import clean_code
from xlrate.errors import XlrateError
from xlrate.market.ingest import FileResult, IngestResult, ingest
from xlrate.market.reader import DOLLAR_TYPES, normalize_tin
from xlrate.market.store import Store
from xlrate.market.toc import read_toc

if TYPE_CHECKING:
    import pandas as pd

CSV_COLUMNS = [
    "payer",
    "code",
    "modifier",
    "setting",
    "billing_class",
    "tins",
    "min",
    "p25",
    "median",
    "p75",
    "max",
    "own_rate",
    "own_rank",
    "medicare",
    "median_pct_of_medicare",
]
GROUP = ["payer", "code", "modifier", "setting", "billing_class"]


@dataclass
class MarketBenchmark:
    """``dollars``: one row per group (``CSV_COLUMNS`` first, then ``p25_pct_of_medicare``,
    ``p75_pct_of_medicare``, ``own_pct_of_medicare``, ``ghost_tins``, ``medicare_note``).
    ``other_types``: percentage and per diem rates, per group and negotiated type."""

    dollars: pd.DataFrame
    other_types: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class PeerChoice:
    """Peers chosen from an NPPES extract, and the TINs flagged as likely ghost rates."""

    peers: set[str]
    ghosts: set[str]
    practice_taxonomies: set[str]
    notes: list[str] = field(default_factory=list)


def _own_tins(
    con: Any, own_tins: Iterable[str], own_npis: Iterable[int | str]
) -> tuple[set[str], list[str]]:
    tins = {normalize_tin(t) for t in own_tins}
    npis = sorted({int(n) for n in own_npis})
    notes: list[str] = []
    if npis:
        found = con.execute(
            "SELECT DISTINCT tin FROM valid WHERE list_has_any(npis, ?::BIGINT[])", [npis]
        ).fetchall()
        if not found:
            notes.append(
                f"none of the NPIs {', '.join(map(str, npis))} appears in the payer files read"
            )
        tins |= {row[0] for row in found}
    return tins, notes


def benchmark(
    rates: Any,
    *,
    own_tins: Iterable[str] = (),
    own_npis: Iterable[int | str] = (),
    peer_tins: Iterable[str] | None = None,
    peer_npis: Iterable[int | str] | None = None,
    ghost_tins: Iterable[str] = (),
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002 (same name as xlrate.price)
    year: int | None = None,
    release: str | None = None,
    medicare: Callable[..., pd.DataFrame] | None = None,
) -> MarketBenchmark:
    """The benchmark of ``rates`` (an Arrow table or DataFrame of market store rows)."""
    import duckdb  # lazy: optional extra "market"; `import xlrate` stays light
    import pandas as pd  # lazy: pandas loads on use

    con = duckdb.connect()
    try:
        con.register("raw", rates)
        # Expired before the file's own date: no longer a rate anyone is paid.
        con.execute(
            """
            CREATE TEMP VIEW valid AS
            SELECT * FROM raw
            WHERE tin IS NOT NULL AND tin <> ''
              AND (file_date IS NULL OR TRY_CAST(expiration_date AS DATE) IS NULL
                   OR TRY_CAST(expiration_date AS DATE) >= file_date)
            """
        )
        notes: list[str] = []
        without_tin = con.execute(
            "SELECT count(*) FROM raw WHERE tin IS NULL OR tin = ''"
        ).fetchone()
        if without_tin and without_tin[0]:
            notes.append(
                f"{without_tin[0]:,} rates have no TIN (unresolved provider references) "
                "and are left out of the figures"
            )
        own, own_notes = _own_tins(con, own_tins, own_npis)
        notes.extend(own_notes)
        peer_test = "TRUE"
        if peer_tins is not None or peer_npis is not None:
            con.execute(
                """
                CREATE TEMP TABLE peer_set AS SELECT DISTINCT tin FROM valid
                WHERE list_contains(?::VARCHAR[], tin) OR list_has_any(npis, ?::BIGINT[])
                """,
                [
                    sorted({normalize_tin(t) for t in (peer_tins or ())}),
                    sorted({int(n) for n in (peer_npis or ())}),
                ],
            )
            peer_test = "tin IN (SELECT tin FROM peer_set)"
        con.execute(
            f"""
            CREATE TEMP TABLE per_tin AS
            SELECT payer, code, modifier, setting, billing_class, tin,
                   median(rate) AS rate,
                   list_contains(?::VARCHAR[], tin) AS own,
                   {peer_test} AS peer
            FROM valid WHERE negotiated_type IN {tuple(DOLLAR_TYPES)!r}
            GROUP BY ALL
            """,
            [sorted(own)],
        )
        ghosts = sorted({normalize_tin(t) for t in ghost_tins})
        table = con.execute(
            """
            WITH peers AS (
                SELECT * FROM per_tin WHERE peer AND NOT own
            ), stats AS (
                SELECT payer, code, modifier, setting, billing_class,
                       count(*) AS tins, min(rate) AS min,
                       quantile_cont(rate, 0.25) AS p25, median(rate) AS median,
                       quantile_cont(rate, 0.75) AS p75, max(rate) AS max,
                       count(*) FILTER (WHERE list_contains(?::VARCHAR[], tin)) AS ghost_tins
                FROM peers GROUP BY ALL
            ), mine AS (
                SELECT payer, code, modifier, setting, billing_class, median(rate) AS own_rate
                FROM per_tin WHERE own GROUP BY ALL
            ), keys AS (
                SELECT payer, code, modifier, setting, billing_class FROM stats
                UNION SELECT payer, code, modifier, setting, billing_class FROM mine
            )
            SELECT k.*, coalesce(s.tins, 0) AS tins, s.min, s.p25, s.median, s.p75, s.max,
                   m.own_rate,
                   CASE WHEN m.own_rate IS NULL THEN NULL ELSE
                       1 + (SELECT count(*) FROM peers p WHERE p.payer = k.payer
                            AND p.code = k.code AND p.modifier = k.modifier
                            AND p.setting = k.setting AND p.billing_class = k.billing_class
                            AND p.rate < m.own_rate) END AS own_place,
                   coalesce(s.ghost_tins, 0) AS ghost_tins
            FROM keys k
            LEFT JOIN stats s USING (payer, code, modifier, setting, billing_class)
            LEFT JOIN mine m USING (payer, code, modifier, setting, billing_class)
            ORDER BY payer, code, modifier, setting, billing_class
            """,
            [ghosts],
        ).df()
        other = con.execute(
            f"""
            WITH t AS (
                SELECT payer, code, modifier, setting, billing_class, negotiated_type, tin,
                       median(rate) AS rate
                FROM valid WHERE negotiated_type NOT IN {tuple(DOLLAR_TYPES)!r}
                GROUP BY ALL
            )
            SELECT payer, code, modifier, setting, billing_class, negotiated_type,
                   count(*) FILTER (WHERE NOT list_contains(?::VARCHAR[], tin)) AS tins,
                   min(rate) FILTER (WHERE NOT list_contains(?::VARCHAR[], tin)) AS min,
                   median(rate) FILTER (WHERE NOT list_contains(?::VARCHAR[], tin)) AS median,
                   max(rate) FILTER (WHERE NOT list_contains(?::VARCHAR[], tin)) AS max,
                   median(rate) FILTER (WHERE list_contains(?::VARCHAR[], tin)) AS own_rate
            FROM t GROUP BY ALL ORDER BY ALL
            """,
            [sorted(own)] * 5,
        ).df()
    finally:
        con.close()

    table["own_rank"] = [
        "" if pd.isna(place) else f"{int(place)} of {int(tins) + 1}"
        for place, tins in table[["own_place", "tins"]].itertuples(index=False)
    ]
    table = table.drop(columns=["own_place"])
    table = _with_medicare(
        table, locality=locality, zip=zip, year=year, release=release, medicare=medicare
    )
    if ghosts:
        flagged = int(table["ghost_tins"].sum()) if len(table) else 0
        notes.append(
            f"{len(ghosts):,} TINs are flagged as likely ghost rates (no NPI with the "
            f"practice's taxonomy); {flagged:,} of their per-code rates are in the figures "
            "(column ghost_tins)"
            if flagged
            else f"{len(ghosts):,} TINs flagged as likely ghost rates are not among the peers"
        )
    if own and table["own_rate"].isna().all():
        notes.append(
            "the practice's TINs/NPIs have no dollar rate for these codes in the files read"
        )
    if len(other):
        kinds = ", ".join(sorted(set(other["negotiated_type"])))
        groups = "group" if len(other) == 1 else "groups"
        notes.append(
            f"{len(other):,} {groups} of {kinds} rates reported separately (--percentages): "
            "not dollars per service (a percentage is a percent of billed charges)"
        )
    extra = [c for c in table.columns if c not in CSV_COLUMNS]
    return MarketBenchmark(table[CSV_COLUMNS + extra], other, notes)


def _with_medicare(
    table: pd.DataFrame,
    *,
    locality: str | None,
    zip: str | None,  # noqa: A002
    year: int | None,
    release: str | None,
    medicare: Callable[..., pd.DataFrame] | None,
) -> pd.DataFrame:
    import pandas as pd  # lazy: pandas loads on use

    table = table.copy()
    for column in ("medicare", "median_pct_of_medicare", "p25_pct_of_medicare"):
        table[column] = float("nan")
    table["p75_pct_of_medicare"] = float("nan")
    table["own_pct_of_medicare"] = float("nan")
    table["medicare_note"] = ""
    if table.empty:
        return table
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.pricing import price

    price_with = medicare or price

    requests = pd.DataFrame(
        {
            "code": table["code"],
            "modifier": table["modifier"],
            # A rate for both settings is set against the non-facility amount.
            "setting": table["setting"].where(table["setting"] == "facility", "nonfacility"),
        }
    )
    place: dict[str, Any] = {"national": True}
    if locality:
        place = {"locality": locality}
    elif zip:
        place = {"zip": zip}
    try:
        priced = price_with(requests, year=year, release=release, **place)
    except XlrateError as exc:
        table["medicare_note"] = str(exc)
        return table
    amount = pd.to_numeric(priced["amount"], errors="coerce").to_numpy()
    table["medicare"] = amount
    table["medicare_note"] = priced["note"].fillna("").astype(str).to_numpy()
    for stat, column in (
        ("median", "median_pct_of_medicare"),
        ("p25", "p25_pct_of_medicare"),
        ("p75", "p75_pct_of_medicare"),
        ("own_rate", "own_pct_of_medicare"),
    ):
        values = pd.to_numeric(table[stat], errors="coerce") / table["medicare"] * 100
        table[column] = values.where(table["medicare"] > 0).round(1)
    return table


def choose_peers(
    tin_npis: Mapping[str, Iterable[int]],
    nppes: Mapping[int, tuple[str, frozenset[str]]],
    *,
    own_npis: Iterable[int] = (),
    taxonomies: Iterable[str] = (),
    zip_prefixes: Iterable[str] = (),
    in_locality: Callable[[str], bool] | None = None,
) -> PeerChoice:
    """Peers and likely ghosts from NPPES (``nppes``: NPI -> (practice ZIP, taxonomies)).

    - The practice's taxonomies are ``taxonomies``, or else those of its own NPIs.
    - A TIN is a **peer** when at least one of its NPIs practises in the area (ZIP starting
      with one of ``zip_prefixes``, or ``in_locality(zip)``; anywhere when neither is given)
      and has a taxonomy the practice has.
    - A TIN is a **likely ghost** when NPPES knows its NPIs but none has such a taxonomy:
      its rates for the practice's codes are probably for services it never bills.
    """
    practice = {t.strip().upper() for t in taxonomies if t.strip()}
    notes: list[str] = []
    if not practice:
        for npi in own_npis:
            info = nppes.get(int(npi))
            if info:
                practice |= set(info[1])
    if not practice:
        notes.append(
            "no practice taxonomy (give --taxonomy, or an --npi found in the NPPES file): "
            "peers cannot be matched by specialty"
        )
    prefixes = tuple(p.strip() for p in zip_prefixes if p.strip())

    def in_area(zip5: str) -> bool:
        if prefixes:
            return zip5.startswith(prefixes)
        if in_locality is not None:
            return in_locality(zip5)
        return True

    peers: set[str] = set()
    ghosts: set[str] = set()
    for tin, npis in tin_npis.items():
        known = [nppes[n] for n in npis if n in nppes]
        if not known:
            continue
        shares = [info for info in known if practice & info[1]] if practice else known
        if practice and not shares:
            ghosts.add(tin)
            continue
        if any(in_area(info[0]) for info in shares):
            peers.add(tin)
    return PeerChoice(peers, ghosts, practice, notes)


@dataclass
class MarketRun:
    """A benchmark and how its files were read."""

    benchmark: MarketBenchmark
    ingest: IngestResult


def market_benchmark(
    locations: Sequence[str],
    *,
    codes: Iterable[str],
    store: str | Path | None = None,
    workers: int = 1,
    dask: Any = None,
    fetch_remote: bool = True,
    force: bool = False,
    on_done: Callable[[FileResult], None] | None = None,
    on_bytes: Callable[[str, int, int], None] | None = None,
    **options: Any,
) -> MarketRun:
    """Read the payers' files (skipping unchanged ones) and benchmark ``codes``.

    ``options`` go to :func:`benchmark` (own/peer TINs and NPIs, ghosts, locality, zip...).
    """
    wanted = sorted({clean_code(c) for c in codes if str(c).strip()})
    target = Store(store)
    result = ingest(
        locations,
        codes=wanted,
        store=target,
        workers=workers,
        dask=dask,
        fetch_remote=fetch_remote,
        force=force,
        on_done=on_done,
        on_bytes=on_bytes,
    )
    rates = target.read(result.keys, codes=wanted)
    bench = benchmark(rates, **options)
    for file in result.files:
        bench.notes[:0] = [f"{file.location}: {note}" for note in file.notes]
    return MarketRun(bench, result)


@dataclass
class PeerTable:
    """Every TIN of the files read, with its NPPES verdict (``peer``, ``ghost``, ``other``)."""

    rows: pd.DataFrame  # tin, status, npis, npis_in_nppes, taxonomies
    choice: PeerChoice


def nppes_peers(
    rates: Any,
    nppes_path: str | Path,
    *,
    own_npis: Iterable[int] = (),
    taxonomies: Iterable[str] = (),
    zip_prefixes: Iterable[str] = (),
    locality: str | None = None,
) -> PeerTable:
    """Peers and likely ghosts among the TINs of ``rates`` (store rows), from NPPES."""
    import pandas as pd  # lazy: pandas loads on use

    # lazy: loaded on use, keeping this module's import light
    from xlrate.market.nppes import read_nppes

    frame = rates.select(["tin", "npis"]).to_pandas() if hasattr(rates, "select") else rates
    tin_npis: dict[str, set[int]] = {}
    for tin, npis in frame[["tin", "npis"]].itertuples(index=False):
        if tin:
            tin_npis.setdefault(str(tin), set()).update(
                int(n) for n in (npis if npis is not None else ())
            )
    own = [int(n) for n in own_npis]
    wanted = set(own).union(*tin_npis.values()) if tin_npis else set(own)
    nppes = read_nppes(nppes_path, wanted)
    in_locality = None
    if locality:
        # lazy: loaded on use, keeping this module's import light
        from xlrate.errors import LocalityError

        # lazy: loaded on use, keeping this module's import light
        from xlrate.medicare.localities import resolve_zip

        def in_locality(zip5: str) -> bool:
            try:
                match = resolve_zip(zip5)
            except LocalityError:
                return False
            return locality in match.candidates

    choice = choose_peers(
        tin_npis,
        nppes,
        own_npis=own,
        taxonomies=taxonomies,
        zip_prefixes=zip_prefixes,
        in_locality=in_locality,
    )
    rows = []
    for tin, npis in sorted(tin_npis.items()):
        known = [nppes[n] for n in npis if n in nppes]
        status = "peer" if tin in choice.peers else "ghost" if tin in choice.ghosts else "other"
        rows.append(
            {
                "tin": tin,
                "status": status,
                "npis": len(npis),
                "npis_in_nppes": len(known),
                "taxonomies": " ".join(sorted(set().union(*(k[1] for k in known))))
                if known
                else "",
            }
        )
    return PeerTable(
        pd.DataFrame(rows, columns=["tin", "status", "npis", "npis_in_nppes", "taxonomies"]), choice
    )


# --- the practice's rows against the market (for the workbook's Market sheet) -------------

MARKET_COLUMNS = [
    "market_tins",
    "market_p25",
    "market_median",
    "market_p75",
    "market_rank",
    "market_own_rate",
]


def against_market(
    rows: pd.DataFrame, dollars: pd.DataFrame, payer_names: Mapping[str, str]
) -> pd.DataFrame:
    """The practice's compared rows (payer, code, modifier, setting, rate, volume, ...) with
    the market figures of the same payer's TiC files added (``payer_names``: the practice's
    payer name -> the files' ``reporting_entity_name``).

    The market row is the professional one of the same setting, else the ``mixed`` one (a
    rate published for both settings). ``below_market_median`` is True when the practice's
    rate is under the peers' median.
    """
    import pandas as pd  # lazy: pandas loads on use

    market = dollars[dollars["billing_class"].isin(["professional", "both"])]
    market = market.sort_values("billing_class", key=lambda s: s != "professional")
    market = market.drop_duplicates(["payer", "code", "modifier", "setting"])
    lookup = {(r.payer, r.code, r.modifier, r.setting): r for r in market.itertuples(index=False)}
    found: list[list[Any]] = []
    for payer, code, modifier, setting in rows[["payer", "code", "modifier", "setting"]].itertuples(
        index=False
    ):
        tic_payer = payer_names.get(payer)
        hit = lookup.get((tic_payer, code, modifier, setting)) or lookup.get(
            (tic_payer, code, modifier, "mixed")
        )
        found.append(
            [hit.tins, hit.p25, hit.median, hit.p75, hit.own_rank, hit.own_rate]
            if hit is not None
            else [0, float("nan"), float("nan"), float("nan"), "", float("nan")]
        )
    out = rows.copy()
    extra = pd.DataFrame(found, columns=MARKET_COLUMNS, index=rows.index)
    for column in MARKET_COLUMNS:
        out[column] = extra[column]
    rate = pd.to_numeric(out["rate"], errors="coerce")
    out["below_market_median"] = rate < out["market_median"]
    return out


def market_summary(joined: pd.DataFrame, payers: Sequence[str] | None = None) -> pd.DataFrame:
    """Per payer: the market median as a percent of Medicare weighted by the practice's
    volume (sum of median x units / sum of Medicare x units, over codes with both), and the
    number of codes paid below the market median (the Summary sheet's two columns)."""
    import pandas as pd  # lazy: pandas loads on use

    has = joined["market_median"].notna() & (pd.to_numeric(joined["medicare"], errors="coerce") > 0)
    rows = joined[has]
    medicare_units = (rows["medicare"] * rows["volume"]).groupby(rows["payer"]).sum()
    median_units = (rows["market_median"] * rows["volume"]).groupby(rows["payer"]).sum()
    below = joined["below_market_median"].fillna(False).astype(bool)
    counts = below.groupby(joined["payer"]).sum()
    order = list(payers) if payers is not None else sorted(joined["payer"].unique())
    table = pd.DataFrame(index=pd.Index(order, name="payer"))
    table["market_median_pct"] = (median_units / medicare_units.where(medicare_units > 0)).reindex(
        order
    )
    table["codes_below_market_median"] = counts.reindex(order, fill_value=0).astype(int)
    return table.reset_index()


def market_median_change(joined: pd.DataFrame, payers: Sequence[str] | None = None) -> pd.Series:
    """Annual revenue change per payer if every code below the market median were raised to it."""
    import pandas as pd  # lazy: pandas loads on use

    rate = pd.to_numeric(joined["rate"], errors="coerce")
    gap = (joined["market_median"] - rate).where(joined["below_market_median"].fillna(False), 0.0)
    change = (gap.fillna(0.0) * joined["volume"]).groupby(joined["payer"]).sum()
    order = list(payers) if payers is not None else sorted(joined["payer"].unique())
    return change.reindex(order, fill_value=0.0).astype(float)


# --- the analysis's market part: the profile's payers with TiC files ----------------------


@dataclass
class PracticeMarket:
    """What :func:`xlrate.analysis.analyze` carries for the Market sheet.

    ``rows``: the practice's compared rows of payers with TiC files that have market
    figures (:func:`against_market` columns; ``market_tins`` > 0), in the analysis's order.
    ``summary``: per such payer ``market_median_pct``, ``codes_below_market_median`` and
    ``at_market_median`` (the annual change if every code below the median were raised to
    it). ``files``: (payer, how its file was read) for the Sources sheet.
    """

    rows: pd.DataFrame
    summary: pd.DataFrame
    store: str
    files: list[tuple[str, FileResult]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def practice_market(
    compared: pd.DataFrame,
    payers: Sequence[Any],
    *,
    own_tins: Iterable[str] = (),
    own_npis: Iterable[int] = (),
    store: str | Path | None = None,
    medicare: Callable[..., pd.DataFrame] | None = None,
    **options: Any,
) -> PracticeMarket:
    """Read each payer's TiC files (``payer.tic``, or its ``toc`` narrowed to ``plan``) for
    the codes the practice compares with that payer, and set its rows against the market.

    ``payers`` are :class:`xlrate.profile.PayerSpec`; the files' own payer name
    (``reporting_entity_name``) is replaced by the profile's payer name. ``options`` go to
    :func:`benchmark` (locality, zip, year, release). A file that cannot be read is a note,
    not a failure of the whole analysis.
    """
    import pandas as pd  # lazy: pandas, as in the rest of this module

    target = Store(store)
    notes: list[str] = []
    files: list[tuple[str, FileResult]] = []
    parts: list[pd.DataFrame] = []
    names: list[str] = []
    for payer in payers:
        if not (payer.tic or payer.toc):
            continue
        names.append(payer.name)
        mine = compared[compared["payer"] == payer.name]
        codes = sorted({clean_code(c) for c in mine["code"]})
        locations = list(payer.tic)
        if payer.toc:
            try:
                locations += [entry.location for entry in read_toc(payer.toc, payer.plan)]
            except XlrateError as exc:
                notes.append(f"{payer.name}: {exc}")
        if not codes or not locations:
            continue
        run = market_benchmark(
            locations,
            codes=codes,
            store=target.url,
            own_tins=own_tins,
            own_npis=own_npis,
            medicare=medicare,
            **options,
        )
        files += [(payer.name, f) for f in run.ingest.files]
        notes += [f"{payer.name}: {error}" for error in run.ingest.errors]
        if not run.ingest.keys:  # nothing read: the benchmark's own notes would mislead
            continue
        notes += [f"{payer.name}: {note}" for note in run.benchmark.notes]
        dollars = run.benchmark.dollars.copy()
        dollars["payer"] = payer.name
        parts.append(dollars)
    subset = compared[compared["payer"].isin(names)]
    dollars_all = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*CSV_COLUMNS])
    )
    joined = against_market(subset, dollars_all, {n: n for n in names})
    summary = market_summary(joined, names)
    summary["at_market_median"] = market_median_change(joined, names).to_numpy()
    rows = joined[joined["market_tins"] > 0].reset_index(drop=True)
    read = {payer for payer, f in files if f.status != "failed"}
    for name in names:
        if name in read and not (rows["payer"] == name).any():
            notes.append(
                f"{name}: its files have no professional dollar rates of other practices for "
                "the codes and settings compared (nothing for the Market sheet)"
            )
    return PracticeMarket(rows, summary, target.url, files, notes)
