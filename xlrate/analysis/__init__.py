"""The analysis: a practice's payer rates against Medicare, as DataFrames.

:func:`analyze` reads what a :class:`~xlrate.profile.Profile` names (fee
schedules, 835s, volumes, charges), prices every code through the Medicare engine and
returns an :class:`Analysis`: the compared rows, the per-payer summary, the Medicare table
with RVUs and GPCIs, Medicare year over year, the scenarios, and the provenance of every
input. :func:`xlrate.report.build_workbook` turns it into the workbook.

The Medicare engine and the importers are reached through :class:`MedicareSource` and two
reader callables, so a test can hand in small tables and the real code paths still run.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from xlrate.analysis import audit, compare, scenarios
from xlrate.codes import clean_code, parse_modifiers
from xlrate.errors import ImportFileError, InputError
from xlrate.files import file_digest
from xlrate.medicare import localities, pricing, schedule_store, store
from xlrate.practice import era835, fee_schedules

# The profile lives in xlrate.profile (below the analysis, no pandas); these names stay
# here because they are the documented way in (``xlrate.analysis.load_profile``).
from xlrate.profile import (
    PayerSpec,
    Profile,
    ScenarioSpec,
    build_profile,
    load_profile,
    parse_profile,
    profile_template,
    with_payers,
)
from xlrate.xlsx import read_sheets

if TYPE_CHECKING:
    from xlrate.analysis.market import PracticeMarket

__all__ = [
    "Analysis",
    "InputFile",
    "MedicareSource",
    "PayerSpec",
    "Profile",
    "ScenarioSpec",
    "analyze",
    "build_profile",
    "compare",
    "load_profile",
    "parse_profile",
    "profile_template",
    "scenarios",
    "with_payers",
]


@dataclass(frozen=True)
class InputFile:
    """One file the analysis read, for the Sources sheet."""

    role: str  # "fee schedule", "835", "volumes", "charges", "profile", "contract fees"
    payer: str
    name: str
    sha256: str
    bytes: int
    rows_read: int | None = None
    rows_used: int | None = None
    synthetic: bool = False
    source: str = ""
    notes: str = ""  # how the file was read: header row, repeats, skipped rows


def _fee_report_notes(report: Any) -> str:
    """One line from an importer's read report (best effort: any attribute may be absent)."""
    if report is None:
        return ""
    parts = []
    if getattr(report, "header_row", 0):
        parts.append(f"header on row {report.header_row}")
    if getattr(report, "repeats_collapsed", 0):
        parts.append(f"{report.repeats_collapsed} identical repeats collapsed")
    skipped = getattr(report, "skipped", None) or {}
    for reason, count in sorted(skipped.items(), key=lambda item: -item[1])[:3]:
        parts.append(f"skipped {count}: {reason}")
    return "; ".join(parts)


@dataclass
class Analysis:
    """Everything the workbook shows, computed in Python."""

    profile: Profile
    payers: list[PayerSpec]
    rows: pd.DataFrame  # compare.COMPARED_COLUMNS, ordered for the payer sheets
    summary: pd.DataFrame  # compare.payer_summary
    lowest: pd.DataFrame  # compare.lowest_payer
    medicare: pd.DataFrame  # compare.medicare_table (+ yoy_old, yoy_new, yoy_change)
    scenarios: pd.DataFrame  # scenarios.scenario_table
    yoy_label: str
    yoy_years: tuple[str, str] | None
    locality: str
    locality_name: str
    year: int
    release: str
    cms_provenance: dict[str, Any]
    inputs: list[InputFile]
    generated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    warnings: list[str] = field(default_factory=list)
    #: release id -> CMS provenance of the two releases of the year-over-year columns
    #: (those the engine could load), for the Sources sheet
    yoy_provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The market benchmark of the payers with TiC files (None when no payer has any).
    market: PracticeMarket | None = None
    #: payer -> its underpayment audit (payers with a ``contract`` and 835s), for the
    #: Underpayments sheets; no claim, patient or member identifier
    audits: dict[str, audit.AuditSheet] = field(default_factory=dict)
    #: "CLFS 2025A" -> provenance (CMS files with sha256) of each other schedule's release
    #: that priced a row of the Medicare sheet, for the Sources sheet
    schedule_provenance: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def payer_names(self) -> list[str]:
        return [p.name for p in self.payers]

    @property
    def targets(self) -> dict[str, float]:
        return {p.name: p.target for p in self.payers}


class MedicareSource:
    """The Medicare engine as the analysis uses it (the real one by default)."""

    def price(self, frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        return pricing.price(frame, **kwargs)

    def release(self, year: int | None, release: str | None) -> tuple[int, str, dict[str, Any]]:
        """(year, release id, provenance) of the release ``price`` will use."""
        loaded = store.load_release(year, release)
        return int(loaded.year), str(loaded.release_id), dict(loaded.provenance)

    def schedule_provenance(self, schedule: str, release: str) -> dict[str, Any]:
        """Provenance of a CLFS/ASP/DMEPOS/PEN release (its CMS files), {} when unknown."""
        for info in schedule_store.list_schedule_releases(schedule.lower()):
            if info.release_id == release:
                return dict(info.provenance)
        return {}

    def locality_name(self, locality: str) -> str:
        """The locality's name in words (``ALABAMA``), or "" when unknown."""
        try:
            names = {loc.locality: loc.name for loc in localities.locality_table()}
        except Exception:  # a display nicety: never fail the analysis over it
            return ""
        return str(names.get(locality, "")).title() if locality != "NATIONAL" else "national"

    def newest_years(self) -> list[tuple[int, str]]:
        """The newest release of each of the two newest years, oldest first."""
        newest: dict[int, str] = {}
        for info in store.list_releases():
            if info.quarter >= newest.get(info.year, ""):
                newest[info.year] = info.quarter
        years = sorted(newest)[-2:]
        return [(y, newest[y]) for y in years]


def _read_table(path: Path, role: str, required: Sequence[str]) -> pd.DataFrame:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = _first_sheet(path)
        else:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(
            f"{path}: {role} file not found; check the path in the profile"
        ) from None
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(f"{path}: cannot read the {role} file ({exc})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if role == "charges" and "charge" not in frame and "amount" in frame:
        frame = frame.rename(columns={"amount": "charge"})
    if role == "volumes" and "volume" not in frame and "units" in frame:
        frame = frame.rename(columns={"units": "volume"})
    missing = [c for c in required if c not in frame]
    if missing:
        raise ImportFileError(
            f"{path}: the {role} file needs the columns {', '.join(required)} "
            f"(missing: {', '.join(missing)}; it has: {', '.join(frame.columns)})"
        )
    frame["code"] = frame["code"].map(clean_code)
    if "modifier" in frame:
        frame["modifier"] = frame["modifier"].map(lambda m: parse_modifiers(m).text)
    return frame


def _first_sheet(path: Path) -> pd.DataFrame:
    """The first sheet of a workbook as text, its first row the header (as read_excel did)."""
    _, rows = next(read_sheets(path), ("", iter([])))
    table = list(rows)
    if not table:
        return pd.DataFrame()
    header = [str(c) if c is not None else f"Unnamed: {i}" for i, c in enumerate(table[0])]
    body = [[None if v is None else str(v) for v in row] for row in table[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)


def _default_fee_reader(path: Path, payer: str, mapping: Any) -> Any:
    return fee_schedules.read_fee_schedule(path, payer=payer, mapping=mapping)


def _default_era_reader(paths: Sequence[Path]) -> Any:
    return era835.read_era(list(paths))


def analyze(
    profile: Profile | str | Path,
    *,
    medicare: MedicareSource | None = None,
    read_fees: Callable[[Path, str, Any], Any] | None = None,
    read_era: Callable[[Sequence[Path]], Any] | None = None,
    generated: datetime | None = None,
) -> Analysis:
    """Run the whole comparison for ``profile`` (a :class:`Profile` or a TOML path)."""
    if not isinstance(profile, Profile):
        profile = load_profile(profile)
    if not profile.payers:
        raise InputError(
            "the profile names no payers: add a [[payers]] block with fees or era files"
        )
    medicare = medicare or MedicareSource()
    read_fees = read_fees or _default_fee_reader
    # With the default reader, a payer with a contract has its 835s read once, with the
    # service lines the audit needs (else they would be read twice).
    audit_read = read_era is None
    read_era = read_era or _default_era_reader

    inputs: list[InputFile] = []
    warnings: list[str] = []
    era_results: dict[str, Any] = {}
    profile = _name_era_payers(profile, read_era, era_results)
    remits: dict[str, Any] = {}
    if audit_read:
        for payer in profile.payers:
            if payer.contract is not None and payer.era and payer.name not in era_results:
                remits[payer.name] = era835.read_era(list(payer.era), lines=True)
                era_results[payer.name] = remits[payer.name]
    if profile.path is not None and profile.path.exists():
        sha, size = file_digest(profile.path)
        inputs.append(
            InputFile(
                "profile", "", profile.path.name, sha, size, synthetic=bool(profile.synthetic_note)
            )
        )

    volumes = charges = None
    if profile.volumes is not None:
        volumes = _read_table(profile.volumes, "volumes", ["code", "volume"])
        sha, size = file_digest(profile.volumes)
        inputs.append(
            InputFile(
                "volumes",
                "",
                profile.volumes.name,
                sha,
                size,
                len(volumes),
                len(volumes),
                synthetic=bool(profile.synthetic_note),
            )
        )
    if profile.charges is not None:
        charges = _read_table(profile.charges, "charges", ["code", "charge"])
        sha, size = file_digest(profile.charges)
        inputs.append(
            InputFile(
                "charges",
                "",
                profile.charges.name,
                sha,
                size,
                len(charges),
                len(charges),
                synthetic=bool(profile.synthetic_note),
            )
        )

    rate_frames = []
    for payer in profile.payers:
        setting = payer.setting or profile.setting
        fee_rows = None
        if payer.fees:
            parts = []
            for path in payer.fees:
                schedule = read_fees(path, payer.name, payer.mapping)
                parts.append(schedule.rows)
                report = getattr(schedule, "report", None)
                sha, size = file_digest(path)
                inputs.append(
                    InputFile(
                        "fee schedule",
                        payer.name,
                        path.name,
                        sha,
                        size,
                        getattr(report, "rows_read", None),
                        getattr(report, "rows_kept", len(schedule.rows)),
                        payer.synthetic,
                        payer.source,
                        _fee_report_notes(report),
                    )
                )
                conflicts = list(getattr(report, "conflicts", []) or [])
                if conflicts:
                    warnings.append(
                        f"{payer.name}: {path.name} lists {len(conflicts)} code(s) more than once with "
                        f"different amounts; the first numeric amount is compared (e.g. {conflicts[0]})"
                    )
            fee_rows = pd.concat(parts, ignore_index=True)
        era_rows = None
        if payer.era:
            result = era_results.pop(payer.name, None) or read_era(payer.era)
            era_rows = result.by_code
            warnings.extend(f"{payer.name}: {w}" for w in getattr(result, "warnings", []))
            for path in payer.era:
                sha, size = file_digest(path)
                inputs.append(
                    InputFile(
                        "835",
                        payer.name,
                        path.name,
                        sha,
                        size,
                        int(pd.to_numeric(era_rows["lines"], errors="coerce").sum())
                        if len(payer.era) == 1
                        else None,
                        len(era_rows) if len(payer.era) == 1 else None,
                        payer.synthetic,
                        payer.source,
                    )
                )
        rate_frames.append(
            compare.payer_rates(
                payer.name,
                setting=setting,
                fees=fee_rows,
                era=era_rows,
                volumes=volumes,
                charges=charges,
            )
        )
    rates = pd.concat(rate_frames, ignore_index=True)

    year, release_id, provenance = medicare.release(profile.year, profile.release)
    table = compare.medicare_table(
        rates,
        medicare.price,
        locality=profile.locality,
        zip=profile.zip,
        year=year,
        release=release_id,
    )
    locality = (
        str(table["locality"].dropna().iloc[0])
        if len(table) and table["locality"].notna().any()
        else (profile.locality or "NATIONAL")
    )
    targets = {p.name: p.target for p in profile.payers}
    payer_names = [p.name for p in profile.payers]
    compared = compare.order_for_sheet(compare.compare_rates(rates, table, targets))
    # Keep the profile's payer order on the sheets.
    compared["_order"] = compared["payer"].map({n: i for i, n in enumerate(payer_names)})
    compared = (
        compared.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)
    )

    yoy_label, yoy_years = "", None
    years = medicare.newest_years()
    table["yoy_old"] = float("nan")
    table["yoy_new"] = float("nan")
    table["yoy_change"] = float("nan")
    if len(years) == 2 and len(table):
        yoy, yoy_label = compare.year_over_year(
            table, medicare.price, years, locality=profile.locality, zip=profile.zip
        )
        table["yoy_old"] = yoy["old"].to_numpy()
        table["yoy_new"] = yoy["new"].to_numpy()
        table["yoy_change"] = yoy["change"].to_numpy()
        yoy_years = (yoy.attrs["old"], yoy.attrs["new"])
    yoy_provenance = _yoy_provenance(medicare, yoy_years)
    schedule_provenance = _schedule_provenance(medicare, table)

    market = None
    if any(p.has_market for p in profile.payers):
        market = _market(profile, compared, medicare, locality, year, release_id, inputs)
        warnings.extend(market.notes)
    audits: dict[str, audit.AuditSheet] = {}
    if any(p.contract is not None for p in profile.payers):
        for name, result in audit.audit_profile(profile, remits).items():
            audits[name] = result.sheet()
            for path in audits[name].fee_files:
                sha, size = file_digest(path)
                audited = next(p for p in profile.payers if p.name == name)
                inputs.append(
                    InputFile(
                        "contract fees",
                        name,
                        path.name,
                        sha,
                        size,
                        synthetic=audited.synthetic,
                        notes="the contract's fee schedule the Underpayments sheet audits against",
                    )
                )
            # The 835 reader's warnings are there already (from the comparison's read).
            warnings.extend(
                f"{name} audit: {w}" for w in result.warnings if f"{name}: {w}" not in warnings
            )

    spec = profile.scenarios
    return Analysis(
        profile=profile,
        payers=list(profile.payers),
        rows=compared,
        summary=compare.payer_summary(compared, payer_names, targets),
        lowest=compare.lowest_payer(compared, payer_names),
        medicare=table,
        scenarios=scenarios.scenario_table(
            compared,
            payer_names,
            targets,
            target_pcts=spec.targets,
            user_target=spec.user_target,
            floor=spec.floor,
            uniform=spec.uniform_increase,
        ),
        yoy_label=yoy_label,
        yoy_years=yoy_years,
        locality=locality,
        locality_name=medicare.locality_name(locality),
        year=year,
        release=release_id,
        cms_provenance=provenance,
        inputs=inputs,
        generated=generated or datetime.now(timezone.utc),
        warnings=warnings,
        yoy_provenance=yoy_provenance,
        market=market,
        audits=audits,
        schedule_provenance=schedule_provenance,
    )


def _schedule_provenance(medicare: MedicareSource, table: pd.DataFrame) -> dict[str, Any]:
    """The other schedules' releases that priced a row (an amount), with their CMS files."""
    if "schedule" not in table or not len(table):
        return {}
    priced = table[pd.to_numeric(table["amount"], errors="coerce").notna()]
    used = {
        (str(s), str(r))
        for s, r in zip(priced["schedule"], priced["release"], strict=True)
        if str(s) not in ("PFS", "ANES", "", "None", "nan") and r is not None
    }
    found: dict[str, Any] = {}
    for schedule, release in sorted(used):
        provenance = medicare.schedule_provenance(schedule, release)
        if provenance:
            found[f"{schedule} {release}"] = provenance
    return found


def _market(
    profile: Profile,
    compared: pd.DataFrame,
    medicare: MedicareSource,
    locality: str,
    year: int,
    release: str,
    inputs: list[InputFile],
) -> PracticeMarket:
    """The payers' TiC files against the practice's compared rows (see PracticeMarket).

    The files go into the user's market store (``<data home>/market``, the same one
    ``xlrate market`` uses), so a second build skips files that have not changed.
    """
    missing = [m for m in ("pyarrow", "duckdb", "ijson") if importlib.util.find_spec(m) is None]
    if missing:
        raise InputError(
            f"{profile.path or 'the profile'}: reading payers' tic files needs "
            f"{', '.join(missing)}: pip install 'xlrate[market]' (or remove tic from the profile)"
        )
    # lazy: pyarrow/duckdb/ijson (the "market" extra) load only for profiles with TiC files
    from xlrate.analysis.market import practice_market

    market = practice_market(
        compared[compared["compared"]],
        profile.payers,
        own_tins=profile.tin,
        own_npis=profile.npi,
        medicare=medicare.price,
        locality=None if locality == "NATIONAL" else locality,
        year=year,
        release=release,
    )
    for payer, file in market.files:
        if file.status == "failed":  # named in the warnings
            continue
        entry = file.entry
        inputs.append(
            InputFile(
                "TiC file",
                payer,
                Path(file.location).name,
                str(entry.get("sha256", "")),
                int(entry.get("bytes") or 0),
                entry.get("items"),  # in-network items in the file
                entry.get("items_kept"),  # those of the codes compared
                source=file.location,
                notes=f"{entry.get('payer', '')}, file of {entry.get('last_updated_on', '')}; "
                f"{'unchanged since the last read' if file.status == 'unchanged' else 'read now'}"
                f" into {market.store}",
            )
        )
    return market


def _name_era_payers(
    profile: Profile, read_era: Callable[[Sequence[Path]], Any], results: dict[str, Any]
) -> Profile:
    """Give a payer without a name (``xlrate build --era`` alone) the name its 835s carry.

    The 835s read here are kept in ``results`` (by the name given) so they are read once.
    A payer of that name already in the profile takes the 835s (they replace its own).
    """
    if all(p.name for p in profile.payers):
        return profile
    payers = [p for p in profile.payers if p.name]
    for unnamed in (p for p in profile.payers if not p.name):
        result = read_era(unnamed.era)
        by_payer = result.by_payer
        name = str(by_payer["payer"].iloc[0]).title() if len(by_payer) else "835 payer"
        results[name] = result
        same = [p for p in payers if p.name == name]
        if same:
            payers[payers.index(same[0])] = replace(same[0], era=unnamed.era)
        else:
            payers.append(replace(unnamed, name=name))
    return replace(profile, payers=tuple(payers))


def _yoy_provenance(
    medicare: MedicareSource, releases: tuple[str, str] | None
) -> dict[str, dict[str, Any]]:
    """Provenance of the year-over-year releases; best effort (they priced moments ago)."""
    out: dict[str, dict[str, Any]] = {}
    for release_id in releases or ():
        try:
            _, loaded_id, provenance = medicare.release(int(release_id[:4]), release_id[4:])
        except Exception:  # a display nicety on the Sources sheet: never fail the analysis
            continue
        out[loaded_id] = provenance
    return out
