"""The practice profile: one TOML file that says what to compare.

A profile names the practice, its Medicare locality (or ZIP), the year and release, the
default setting, the payers with their input files and target percents, and the output
path. ``xlrate init`` writes a commented one (:data:`PROFILE_TEMPLATE`). Paths in the file
are relative to the file itself, so a profile and its inputs can travel together.

Percents are written as people say them (``target = 125`` means 125% of Medicare) and held
as fractions (1.25) once loaded.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xlrate.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SETTINGS = ("nonfacility", "facility")
DEFAULT_TARGETS = (1.10, 1.20, 1.30, 1.40)


@dataclass(frozen=True)
class PayerSpec:
    """One payer: its name, its files, and what the practice wants from it."""

    name: str
    fees: tuple[Path, ...] = ()
    era: tuple[Path, ...] = ()
    target: float = 1.25
    setting: str | None = None
    synthetic: bool = False
    source: str = ""
    mapping: Mapping[str, Any] | None = None
    # The [[payers]] contract table for the audit, fee paths made absolute; read by
    # xlrate.analysis.audit.parse_contract (the profile does not import the analysis).
    contract: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ScenarioSpec:
    """The starting values of the Scenarios sheet's input cells (fractions)."""

    targets: tuple[float, ...] = DEFAULT_TARGETS
    user_target: float = 1.25
    floor: float = 1.00
    uniform_increase: float = 0.03


@dataclass(frozen=True)
class Profile:
    name: str
    locality: str | None = None
    zip: str | None = None
    year: int | None = None
    release: str | None = None
    setting: str = "nonfacility"
    payers: tuple[PayerSpec, ...] = ()
    volumes: Path | None = None
    charges: Path | None = None
    output: Path = Path("analysis.xlsx")
    scenarios: ScenarioSpec = field(default_factory=ScenarioSpec)
    synthetic_note: str = ""
    path: Path | None = None


def parse_percent(value: Any, where: str) -> float:
    """``125`` or ``"125%"`` -> 1.25. Fractions under 5 (``1.25``) are taken as written."""
    text = str(value).strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        raise InputError(
            f"{where}: {value!r} is not a percent; write it like 125 (for 125%)"
        ) from None
    return number / 100.0 if abs(number) >= 5 else number


def _setting(value: Any, where: str) -> str:
    text = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if text not in SETTINGS:
        raise InputError(f"{where}: setting {value!r} must be 'nonfacility' or 'facility'")
    return text


def _paths(value: Any, base: Path, where: str) -> tuple[Path, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(item, str) for item in items):
        raise InputError(f"{where}: expected a file name or a list of file names, got {value!r}")
    return tuple((base / item).expanduser() for item in items)


def _contract(value: Any, base: Path, where: str) -> Mapping[str, Any] | None:
    """A payer's ``contract = {...}`` table, with its fee schedule paths resolved."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InputError(
            f'{where}: write contract as a table, e.g. contract = {{ fees = "fees.csv", '
            "pct_of_medicare = 125, medicare_year = 2024 }"
        )
    contract = dict(value)
    fees = contract.get("fees")
    items = fees if isinstance(fees, list) else [] if fees is None else [fees]
    resolved: list[Any] = []
    for item in items:
        if isinstance(item, str):
            resolved.append(str((base / item).expanduser()))
        elif isinstance(item, Mapping) and isinstance(item.get("file"), str):
            resolved.append({**item, "file": str((base / item["file"]).expanduser())})
        else:
            resolved.append(item)  # parse_contract names what is wrong with it
    if fees is not None:
        contract["fees"] = resolved
    return contract


def parse_profile(
    data: Mapping[str, Any], base: Path = Path("."), source: str = "profile"
) -> Profile:
    """Build a :class:`Profile` from parsed TOML (``base`` resolves relative paths)."""
    practice = dict(data.get("practice", {}))
    name = str(practice.get("name") or "").strip()
    if not name:
        raise InputError(
            f'{source}: [practice] needs a name, e.g. name = "Riverbend Family Medicine"'
        )
    locality = practice.get("locality")
    zip_code = practice.get("zip")
    year = practice.get("year")
    payers: list[PayerSpec] = []
    for index, entry in enumerate(data.get("payers", []), start=1):
        where = f"{source}: payer {index}"
        payer_name = str(entry.get("name") or "").strip()
        if not payer_name:
            raise InputError(f"{where} needs a name")
        fees = _paths(entry.get("fees"), base, where)
        era = _paths(entry.get("era"), base, where)
        if not fees and not era:
            raise InputError(f'{where} ({payer_name}) needs fees = "file" or era = ["file.835"]')
        payers.append(
            PayerSpec(
                name=payer_name,
                fees=fees,
                era=era,
                target=parse_percent(entry.get("target", 125), f"{where} target"),
                setting=_setting(entry["setting"], where) if entry.get("setting") else None,
                synthetic=bool(entry.get("synthetic", False)),
                source=str(entry.get("source", "")),
                mapping=entry.get("mapping"),
                contract=_contract(entry.get("contract"), base, f"{where} contract"),
            )
        )
    names = [payer.name for payer in payers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InputError(f"{source}: payer names must be unique; repeated: {', '.join(duplicates)}")
    scen = dict(data.get("scenarios", {}))
    targets = tuple(
        parse_percent(t, f"{source}: scenarios.targets")
        for t in scen.get("targets", [110, 120, 130, 140])
    )
    if len(targets) != 4:
        raise InputError(
            f"{source}: scenarios.targets needs exactly four percents, e.g. [110, 120, 130, 140]"
        )
    scenarios = ScenarioSpec(
        targets=targets,
        user_target=parse_percent(scen.get("user_target", 125), f"{source}: scenarios.user_target"),
        floor=parse_percent(scen.get("floor", 100), f"{source}: scenarios.floor"),
        # A uniform raise is small (3%), so it is always read as a percent.
        uniform_increase=float(str(scen.get("uniform_increase", 3)).rstrip("%")) / 100.0,
    )
    volumes = _paths(practice.get("volumes"), base, source)
    charges = _paths(practice.get("charges"), base, source)
    return Profile(
        name=name,
        locality=str(locality) if locality else None,
        zip=str(zip_code).zfill(5) if zip_code else None,
        year=int(year) if year else None,
        release=str(practice["release"]) if practice.get("release") else None,
        setting=_setting(practice.get("setting", "nonfacility"), f"{source}: [practice]"),
        payers=tuple(payers),
        volumes=volumes[0] if volumes else None,
        charges=charges[0] if charges else None,
        output=(base / str(practice.get("output", "analysis.xlsx"))).expanduser(),
        scenarios=scenarios,
        synthetic_note=str(practice.get("synthetic_note", "")),
        path=None,
    )


def load_profile(path: str | Path) -> Profile:
    """Read a practice profile TOML; raise :class:`InputError` naming the problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: profile not found; create one with `xlrate init {path}`"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    return replace(parse_profile(data, base=path.parent, source=str(path)), path=path)


PROFILE_TEMPLATE = """\
# xlrate practice profile: what to compare with Medicare.
# Build the workbook with:  xlrate build --profile {filename}
# Paths below are relative to this file.

[practice]
name = "My Practice"

# Medicare locality as MAC-locality (see `xlrate localities alabama`), or a ZIP code.
locality = "10112-00"
# zip = "35203"

# Medicare year and quarterly release (A, B, C, D). Leave out for the newest complete one.
# year = 2025
# release = "2025D"

# Default setting for rows without one: "nonfacility" (office) or "facility".
setting = "nonfacility"

# Optional: annual units per code (CSV with code, modifier, volume and optionally payer).
# volumes = "volumes.csv"
# Optional: your own charges per code (CSV with code, modifier, charge), for the
# lesser-of-charges check.
# charges = "charges.csv"

output = "analysis.xlsx"

# The Scenarios sheet's starting inputs (you can change them in the workbook too).
[scenarios]
targets = [110, 120, 130, 140]   # percent of Medicare
user_target = 125                # your own target percent
floor = 100                      # raise every code below this percent to it
uniform_increase = 3             # percent added to every rate

# One [[payers]] block per payer. A payer needs a fee schedule (fees), remittances
# (era, a list of 835 files), or both side by side.
[[payers]]
name = "Example PPO"
fees = "example_ppo_fee_schedule.xlsx"
# era = ["remits/example_ppo_2025.835"]
target = 130                     # the percent of Medicare you want from this payer
# setting = "facility"           # overrides the practice default for this payer

# [[payers]]
# name = "State Medicaid"
# fees = "medicaid_fees.csv"
# target = 100
"""


def profile_template(filename: str = "practice.toml") -> str:
    """The commented profile that ``xlrate init`` writes."""
    return PROFILE_TEMPLATE.replace("{filename}", filename)
