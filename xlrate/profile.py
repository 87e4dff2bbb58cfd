"""The practice profile: one TOML file that says what to compare (and where to e-mail it).

A profile names the practice, its Medicare locality (or ZIP), the year and release, the
default setting, the payers with their input files and target percents, the output path
and, optionally, the SMTP server for ``xlrate email``. ``xlrate init`` writes a commented one
(:data:`PROFILE_TEMPLATE`). Paths in the file are relative to the file itself, so a profile
and its inputs can travel together.

Percents are written as people say them (``target = 125`` means 125% of Medicare) and held
as fractions (1.25) once loaded.

Every value is checked for its type when the file is loaded: a wrong one raises
:class:`ProfileError` naming the file, the key and what to write instead. Loading needs no
pandas (the Excel functions read the profile on every recalculation).
"""

from __future__ import annotations

import builtins
import sys
from collections.abc import Mapping, Sequence
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
KEYRING_SERVICE = "xlrate-smtp"


class ProfileError(InputError):
    """A practice profile that cannot be read, or a value in it of the wrong kind."""


@dataclass(frozen=True)
class PayerSpec:
    """One payer: its name, its files, and what the practice wants from it.

    An empty ``name`` means "the payer the 835 files name" (``xlrate build --era`` without
    ``--payer``); :func:`xlrate.analysis.analyze` fills it in when it reads them.
    """

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
    # The payer's Transparency in Coverage in-network files (URLs as written, paths made
    # absolute), or its table of contents (``toc``, optionally narrowed to ``plan``): the
    # market benchmark (xlrate.analysis.market) reads them.
    tic: tuple[str, ...] = ()
    toc: str | None = None
    plan: str | None = None

    @property
    def has_market(self) -> bool:
        return bool(self.tic or self.toc)


@dataclass(frozen=True)
class ScenarioSpec:
    """The starting values of the Scenarios sheet's input cells (fractions)."""

    targets: tuple[float, ...] = DEFAULT_TARGETS
    user_target: float = 1.25
    floor: float = 1.00
    uniform_increase: float = 0.03


@dataclass(frozen=True)
class SmtpSpec:
    """The profile's ``[smtp]`` table: where and as whom ``xlrate email`` sends.

    The password is never here: it comes from ``XLRATE_SMTP_PASSWORD`` or the keyring.
    ``starttls`` None means "STARTTLS when the port is 587".
    """

    host: str | None = None
    port: int | None = None
    starttls: bool | None = None
    user: str | None = None
    sender: str | None = None


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
    smtp: SmtpSpec | None = None
    path: Path | None = None
    #: The practice's own TINs (digits only) and NPIs: its rates in the payers' TiC files.
    tin: tuple[str, ...] = ()
    npi: tuple[int, ...] = ()

    def input_files(self) -> list[Path]:
        """Every file an analysis of this profile reads (none may be its output)."""
        paths = [p for p in (self.path, self.volumes, self.charges) if p is not None]
        for payer in self.payers:
            paths.extend(payer.fees)
            paths.extend(payer.era)
            paths.extend(Path(t) for t in payer.tic if not _is_url(t))
        return paths


# --------------------------------------------------------------------------- value checks


def parse_percent(value: Any, where: str) -> float:
    """``125`` or ``"125%"`` -> 1.25. Fractions under 5 (``1.25``) are taken as written.

    >>> parse_percent(125, "target"), parse_percent("127.5%", "target"), parse_percent(1.1, "t")
    (1.25, 1.275, 1.1)
    """
    text = str(value).strip().rstrip("%").strip()
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(text)
    except ValueError:
        raise ProfileError(
            f"{where}: {value!r} is not a percent; write it like 125 (for 125%)"
        ) from None
    return number / 100.0 if abs(number) >= 5 else number


def _table(value: Any, where: str, example: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ProfileError(f"{where} must be a table, not {value!r}; write it as {example}")
    return dict(value)


def _text(value: Any, where: str, example: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ProfileError(f"{where} must be text, not {value!r}; write it like {example}")
    return str(value).strip() or None


def _int(value: Any, where: str, example: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ProfileError(f"{where} {value!r} is not a whole number; write it like {example}")


def _bool(value: Any, where: str) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    raise ProfileError(f"{where} {value!r} must be true or false (no quotes)")


def _setting(value: Any, where: str) -> str:
    text = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if text not in SETTINGS:
        raise ProfileError(f"{where}: setting {value!r} must be 'nonfacility' or 'facility'")
    return text


def _paths(value: Any, base: Path, where: str) -> tuple[Path, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ProfileError(
            f'{where} must be a file name or a list of file names, not {value!r}; write it like "fees.csv" or ["a.835", "b.835"]'
        )
    return tuple((base / item).expanduser() for item in items)


def _is_url(text: str) -> bool:
    return text.split("://", 1)[0].lower() in ("http", "https") and "://" in text


def _locations(value: Any, base: Path, where: str) -> tuple[str, ...]:
    """TiC file locations: URLs as written, local paths relative to the profile."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not all(isinstance(item, str) and item.strip() for item in items)
        or not items
    ):
        raise ProfileError(
            f"{where} must be a URL or file name, or a list of them, not {value!r}; write it "
            'like tic = ["https://payer.example/in-network.json.gz", "uhc_ny.json.gz"]'
        )
    return tuple(
        item.strip() if _is_url(item.strip()) else str((base / item.strip()).expanduser())
        for item in items
    )


def _location(value: Any, base: Path, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(
            f'{where} must be one URL or file name, not {value!r}; write it like toc = "https://payer.example/toc.json"'
        )
    return _locations(value, base, where)[0]


def _id_items(value: Any) -> list[tuple[Any, str]]:
    """An identifier setting (one value or a list) as (item, its text): text and whole
    numbers only; anything else (true, 1.5, a table) has no text and is refused by the caller."""
    items = [] if value is None else value if isinstance(value, list) else [value]
    return [
        (
            item,
            str(item).strip()
            if isinstance(item, (str, int)) and not isinstance(item, bool)
            else "",
        )
        for item in items
    ]


def _tins(value: Any, where: str) -> tuple[str, ...]:
    """``practice.tin``: one TIN or a list; ``12-3456789`` and ``123456789`` are the same."""
    out = []
    for item, text in _id_items(value):
        digits = "".join(ch for ch in text if ch.isdigit())
        # The market store keeps TINs as digits only (xlrate.market.reader.normalize_tin).
        if (
            not digits
            or any(not (ch.isdigit() or ch in "- ") for ch in text)
            or len(digits) not in (9, 10)
        ):
            raise ProfileError(
                f"{where} {item!r} is not a TIN (9 digits, 12-3456789 or 123456789); write it "
                'like tin = "12-3456789" or tin = ["123456789", "987654321"]'
            )
        out.append(digits)
    return tuple(dict.fromkeys(out))


def _npis(value: Any, where: str) -> tuple[int, ...]:
    """``practice.npi``: one NPI or a list, 10 digits each."""
    out = []
    for item, text in _id_items(value):
        if not (text.isdigit() and len(text) == 10):
            raise ProfileError(
                f"{where} {item!r} is not an NPI (10 digits); write it like "
                "npi = 1234567893 or npi = [1234567893, 1098765432]"
            )
        out.append(int(text))
    return tuple(dict.fromkeys(out))


def _contract(value: Any, base: Path, where: str) -> Mapping[str, Any] | None:
    """A payer's ``contract = {...}`` table, with its fee schedule paths resolved."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProfileError(
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


def parse_smtp(value: Any, source: str = "profile") -> SmtpSpec | None:
    """The ``[smtp]`` table, checked; None when the profile has none."""
    if value is None:
        return None
    where = f"{source}: [smtp]"
    table = _table(value, where, '[smtp] with host = "smtp.example.com", port = 587')
    if "password" in table:
        raise ProfileError(
            f"{source}: the practice profile's [smtp] table holds a password: remove it; set "
            f"XLRATE_SMTP_PASSWORD or store it in the system keyring (service {KEYRING_SERVICE!r})"
        )
    return SmtpSpec(
        host=_text(table.get("host"), f"{where} host", '"smtp.example.com"'),
        port=_int(table.get("port"), f"{where} port", "587"),
        starttls=_bool(table.get("starttls"), f"{where} starttls"),
        user=_text(table.get("user"), f"{where} user", '"office@practice.example"'),
        sender=_text(
            table.get("from", table.get("sender")),
            f"{where} from",
            '"Front desk <office@practice.example>"',
        ),
    )


def _payer(entry: Any, base: Path, where: str) -> PayerSpec:
    entry = _table(entry, where, '[[payers]] with name = "..." and fees = "file.csv"')
    payer_name = _text(entry.get("name"), f"{where} name", '"BCBS PPO"')
    if not payer_name:
        raise ProfileError(f'{where} needs a name, e.g. name = "BCBS PPO"')
    fees = _paths(entry.get("fees"), base, f"{where} ({payer_name}) fees")
    era = _paths(entry.get("era"), base, f"{where} ({payer_name}) era")
    tic = _locations(entry.get("tic"), base, f"{where} ({payer_name}) tic")
    toc = _location(entry.get("toc"), base, f"{where} ({payer_name}) toc")
    plan = _text(entry.get("plan"), f"{where} ({payer_name}) plan", '"Choice Plus"')
    if plan and not toc:
        raise ProfileError(
            f'{where} ({payer_name}) plan needs toc = "URL of the table of contents"'
        )
    if not fees and not era:
        raise ProfileError(f'{where} ({payer_name}) needs fees = "file" or era = ["file.835"]')
    mapping = entry.get("mapping")
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ProfileError(
            f'{where} ({payer_name}) mapping must be a table, e.g. mapping = {{ code = "CPT" }}'
        )
    return PayerSpec(
        name=payer_name,
        fees=fees,
        era=era,
        target=parse_percent(entry.get("target", 125), f"{where} target"),
        setting=_setting(entry["setting"], where) if entry.get("setting") else None,
        synthetic=bool(_bool(entry.get("synthetic"), f"{where} synthetic")),
        source=_text(entry.get("source"), f"{where} source", '"where the schedule came from"')
        or "",
        mapping=mapping,
        contract=_contract(entry.get("contract"), base, f"{where} ({payer_name}) contract"),
        tic=tic,
        toc=toc,
        plan=plan,
    )


def _scenarios(value: Any, source: str) -> ScenarioSpec:
    scen = _table(value, f"{source}: scenarios", "[scenarios] with targets = [110, 120, 130, 140]")
    raw_targets = scen.get("targets", [110, 120, 130, 140])
    if not isinstance(raw_targets, list) or len(raw_targets) != 4:
        raise ProfileError(
            f"{source}: scenarios.targets needs exactly four percents, e.g. [110, 120, 130, 140]"
        )
    targets = tuple(parse_percent(t, f"{source}: scenarios.targets") for t in raw_targets)
    # A uniform raise is small (3%), so it is always read as a percent.
    uniform = scen.get("uniform_increase", 3)
    try:
        if isinstance(uniform, bool):
            raise ValueError
        uniform_fraction = float(str(uniform).strip().rstrip("%")) / 100.0
    except ValueError:
        raise ProfileError(
            f"{source}: scenarios.uniform_increase {uniform!r} is not a percent; write it like 3 (for 3%)"
        ) from None
    return ScenarioSpec(
        targets=targets,
        user_target=parse_percent(scen.get("user_target", 125), f"{source}: scenarios.user_target"),
        floor=parse_percent(scen.get("floor", 100), f"{source}: scenarios.floor"),
        uniform_increase=uniform_fraction,
    )


def parse_profile(
    data: Mapping[str, Any], base: Path = Path("."), source: str = "profile"
) -> Profile:
    """Build a :class:`Profile` from parsed TOML (``base`` resolves relative paths)."""
    practice = _table(
        data.get("practice"), f"{source}: practice", '[practice] with name = "My Practice"'
    )
    where = f"{source}: [practice]"
    name = _text(practice.get("name"), f"{where} name", '"Riverbend Family Medicine"')
    if not name:
        raise ProfileError(
            f'{source}: [practice] needs a name, e.g. name = "Riverbend Family Medicine"'
        )
    raw_payers = data.get("payers", [])
    if not isinstance(raw_payers, list):
        raise ProfileError(
            f"{source}: payers must be [[payers]] blocks, not payers = {raw_payers!r}; write "
            '[[payers]] then name = "..." and fees = "file.csv" on the lines below'
        )
    payers = [
        _payer(entry, base, f"{source}: payer {index}")
        for index, entry in enumerate(raw_payers, start=1)
    ]
    names = [payer.name for payer in payers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ProfileError(
            f"{source}: payer names must be unique; repeated: {', '.join(duplicates)}"
        )
    zip_code = _text(practice.get("zip"), f"{where} zip", '"35203"')
    year = _int(practice.get("year"), f"{where} year", "year = 2025")
    volumes = _paths(practice.get("volumes"), base, f"{where} volumes")
    charges = _paths(practice.get("charges"), base, f"{where} charges")
    output = _text(practice.get("output"), f"{where} output", '"analysis.xlsx"')
    return Profile(
        name=name,
        locality=_text(practice.get("locality"), f"{where} locality", '"10112-00"'),
        zip=zip_code.zfill(5) if zip_code else None,
        year=year or None,
        release=_text(practice.get("release"), f"{where} release", '"2025D"'),
        setting=_setting(practice.get("setting", "nonfacility"), where),
        payers=tuple(payers),
        volumes=volumes[0] if volumes else None,
        charges=charges[0] if charges else None,
        output=(base / (output or "analysis.xlsx")).expanduser(),
        scenarios=_scenarios(data.get("scenarios"), source),
        synthetic_note=_text(practice.get("synthetic_note"), f"{where} synthetic_note", '"..."')
        or "",
        smtp=parse_smtp(data.get("smtp"), source),
        path=None,
        tin=_tins(practice.get("tin"), f"{where} tin"),
        npi=_npis(practice.get("npi"), f"{where} npi"),
    )


# --------------------------------------------------------------------------- files


def read_toml(path: str | Path) -> dict[str, Any]:
    """The profile file as TOML tables; one :class:`ProfileError` for every way it can fail."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ProfileError(
            f"{path}: profile not found; create one with `xlrate init {path}`"
        ) from None
    except IsADirectoryError:
        raise ProfileError(f"{path}: is a folder, not a profile file") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(
            f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 in your editor"
        ) from None
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from None


def load_profile(path: str | Path) -> Profile:
    """Read a practice profile TOML; raise :class:`ProfileError` naming the problem."""
    path = Path(path)
    data = read_toml(path)
    return replace(parse_profile(data, base=path.parent, source=str(path)), path=path)


def load_smtp(path: str | Path) -> SmtpSpec | None:
    """Only the ``[smtp]`` table of a profile (a mail-only profile needs no [practice])."""
    return parse_smtp(read_toml(path).get("smtp"), str(path))


# --------------------------------------------------------------------------- command line


def with_payers(profile: Profile, extra: Sequence[PayerSpec]) -> Profile:
    """``profile`` with ``extra`` payers added (a payer of the same name is replaced)."""
    names = {p.name for p in extra}
    kept = [p for p in profile.payers if p.name not in names]
    return replace(profile, payers=tuple(kept) + tuple(extra))


def build_profile(
    path: str | Path | None = None,
    *,
    fees: Sequence[Path] = (),
    payers: Sequence[str] = (),
    era: Sequence[Path] = (),
    target: float | None = None,
    locality: str | None = None,
    zip: str | None = None,  # noqa: A002 - the name users know
    year: int | None = None,
    release: str | None = None,
    output: Path | None = None,
) -> Profile:
    """The profile ``xlrate build`` works from: the file (if any) plus command-line choices.

    ``fees[i]`` belongs to ``payers[i]``; ``era`` files belong to the payer named after the
    last fees/payer pair, or, with no such name, to the payer the 835s name (filled in by
    the analysis when it reads them). Locality/ZIP/year/release/output override the file.
    """
    profile = load_profile(path) if path is not None else Profile(name="My practice")
    if len(payers) < len(fees) or len(payers) > len(fees) + (1 if era else 0):
        raise ProfileError(
            "give one --payer per --fees file (and one more for --era files without --fees)"
        )
    goal = parse_percent(target, "--target") if target is not None else 1.25
    extra = [
        PayerSpec(name=name, fees=(fee,), target=goal)
        for fee, name in builtins.zip(fees, payers[: len(fees)], strict=True)
    ]
    if era:
        name = payers[-1] if payers else ""
        same = [p for p in extra if name and p.name == name]
        existing = [p for p in profile.payers if name and p.name == name]
        if same:
            extra[extra.index(same[0])] = replace(same[0], era=tuple(era))
        elif existing:
            extra.append(replace(existing[0], era=tuple(era)))
        else:
            extra.append(PayerSpec(name=name, era=tuple(era), target=goal))
    profile = with_payers(profile, extra)
    changes: dict[str, Any] = {}
    if locality:
        changes.update(locality=locality, zip=None)
    elif zip:
        changes.update(zip=zip, locality=None)
    if year:
        changes["year"] = year
    if release:
        changes["release"] = release
    if output is not None:
        changes["output"] = output
    elif path is None:
        changes["output"] = Path("analysis.xlsx")
    profile = replace(profile, **changes)
    if not profile.locality and not profile.zip:
        raise ProfileError(
            'no Medicare locality: put locality = "10112-00" (or zip) in the profile, or pass --locality'
        )
    return profile


PROFILE_TEMPLATE = """\
# xlrate practice profile: what to compare with Medicare.
# Build the workbook with:  xlrate build --profile {filename}
# Paths below are relative to this file.

[practice]
name = "My Practice"

# Medicare locality as MAC-locality (see `xlrate localities --search alabama`), or a ZIP code.
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

# Optional, for the Market sheet: the practice's own TINs and NPIs, to find its own rates
# in the payers' Transparency in Coverage files (see tic under [[payers]]).
# tin = "12-3456789"
# npi = [1234567893]

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
# The payer's Transparency in Coverage in-network files (URLs or paths, .json or .json.gz):
# adds the Market sheet, what this payer pays the other practices in its files.
# tic = ["https://payer.example/2025-01_in-network-rates.json.gz"]
# or its table of contents, narrowed to your plan:
# toc = "https://payer.example/2025-01_index.json"
# plan = "Choice Plus"

# [[payers]]
# name = "State Medicaid"
# fees = "medicaid_fees.csv"
# target = 100
"""


def profile_template(filename: str = "practice.toml") -> str:
    """The commented profile that ``xlrate init`` writes."""
    return PROFILE_TEMPLATE.replace("{filename}", filename)
