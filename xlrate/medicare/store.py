"""Medicare releases: the embedded default and the user's installed ones.

A release is a folder ``<root>/releases/<ID>/`` holding ``tables.npz`` (the normalised
tables as plain numpy arrays: no pickle, loads in milliseconds without pandas) and
``provenance.json`` (CMS files with sha256, release date, conversion factor, source URL,
download time). ZIP-to-locality files live in ``<root>/zip5/<YYYYQ>/`` the same way.

Two roots are searched: the embedded data shipped in the package
(``xlrate/medicare/data``, built by ``scripts/build_embedded_data.py``) and the user's store
(``xlrate.settings.medicare_home()``). An installed release with the same id as an embedded
one wins (it is a newer download of the same release).

Installing writes into a temporary folder next to the target and renames it into place,
so a reader never sees a half-written release and the previous one stays until the new one
is complete.

Reading needs only the standard library (:mod:`xlrate.medicare.npz`): the scalar pricing
core runs without numpy (Pyodide); :attr:`MedicareRelease.arrays` gives numpy views of the
same bytes to the vectorised engine. What is loaded is checked (array names, dtypes and
lengths, the provenance's shape, the folder name's pattern). A damaged installed release
is reported in one line; when the package embeds the same release, that copy is served
instead, with a :class:`StoreWarning` (and ``ReleaseInfo.note``) saying so, and
``xlrate medicare repair`` removes the damaged install.

Folder listings and resolved releases are cached until :func:`clear_cache` (every install
calls it), so a price does not stat the store.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlrate.codes import parse_release
from xlrate.errors import DataError
from xlrate.medicare import releases
from xlrate.medicare.npz import Column, Tables, dtype_kind, read_npz
from xlrate.settings import medicare_home

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from xlrate.medicare.cms_files import Bundle

EMBEDDED_ROOT = Path(__file__).parent / "data"
TABLES_FILE = "tables.npz"
PROVENANCE_FILE = "provenance.json"
NATIONAL = "NATIONAL"

#: Folder names the store writes: a release ``2025D`` (or a correction ``2024AR``), a ZIP5
#: data quarter ``20254``.
RELEASE_ID_RE = re.compile(r"^(\d{4})([A-D](?:R\d*)?)$")  # 2025D; corrections 2024AR, 2024AR1
ZIP_QUARTER_RE = re.compile(r"^(\d{4})([1-4])$")
_PATTERNS = {"releases": RELEASE_ID_RE, "zip5": ZIP_QUARTER_RE}
_MOVED_ASIDE = re.compile(r"^\.(.+)\.old-\d+$")

# What a release's tables must hold: array -> dtype kind (U text, i int64, b bool). Tables
# other than pprrvu are optional, but all-or-nothing; arrays beyond these are allowed.
_RELEASE_SCHEMA: dict[str, dict[str, str]] = {
    "pprrvu": {
        "code": "U",
        "modifier": "U",
        "status_code": "U",
        "work_rvu": "i",
        "pe_rvu_nonfacility": "i",
        "pe_rvu_facility": "i",
        "mp_rvu": "i",
        "na_nonfacility": "b",
        "na_facility": "b",
        "pctc": "U",
        "mult_proc": "U",
        "bilat_surg": "U",
        "asst_surg": "U",
        "co_surg": "U",
    },
    "meta": {"conversion_factor": "i", "qp_conversion_factor": "i"},
    "gpci": {"locality": "U", "work_gpci": "i", "pe_gpci": "i", "mp_gpci": "i"},
    "oppscap": {
        "code": "U",
        "modifier": "U",
        "locality": "U",
        "cap_facility": "i",
        "cap_nonfacility": "i",
    },
    "anes": {"locality": "U", "anesthesia_cf": "i"},
}
_REQUIRED_TABLES = ("pprrvu", "meta")
_ZIP_SCHEMA = {"zip": "U", "locality": "U", "plus4": "b"}

_lock = threading.Lock()
_on_clear: list[Callable[[], None]] = []
_cache: dict[tuple[str, str], MedicareRelease] = {}
_zip_cache: dict[str, ZipTable] = {}
_scans: dict[tuple[str, str], dict[str, ReleaseInfo]] = {}
_resolved: dict[tuple[object, object, object, dt.date], ReleaseInfo] = {}
_damaged: dict[str, str] = {}
_homes: dict[str | None, Path | None] = {}
_day = dt.date.min
_day_ends = 0.0  # path -> why, found while loading (until clear_cache)


class StoreWarning(UserWarning):
    """The store served something other than what was asked (a damaged install's stand-in)."""


@dataclass(frozen=True)
class ReleaseInfo:
    """What is known about a release without loading its tables."""

    release_id: str
    year: int
    quarter: str
    path: Path
    source: str  # "embedded" or "installed"
    provenance: dict[str, Any] = field(hash=False, compare=False)
    #: Why this installed release cannot be read ("" when it is fine).
    damage: str = field(default="", compare=False)
    #: Set when this (embedded) copy stands in for a damaged installed one: says so.
    note: str = field(default="", compare=False)

    @property
    def complete(self) -> bool:
        return bool(self.provenance.get("complete"))


def _home() -> Path | None:
    """The user's store, remembered until :func:`clear_cache` (a lookup costs 25 us).

    Change XLRATE_HOME in a running process only together with ``clear_cache()``.
    """
    key = None
    try:
        return _homes[key]
    except KeyError:
        pass
    try:
        home: Path | None = medicare_home()
    except ImportError:  # no platformdirs (Pyodide) and no XLRATE_HOME: embedded data only
        home = None
    _homes[key] = home
    return home


def _roots(home: Path | None) -> list[tuple[str, Path]]:
    roots = [("embedded", EMBEDDED_ROOT)]
    if home is not None:
        roots.append(("installed", home))
    return roots


def check_provenance(kind: str, name: str, provenance: object) -> str:
    """Why ``provenance`` is not a store's provenance.json for ``name`` ("" when it is)."""
    if not isinstance(provenance, dict):
        return f"{PROVENANCE_FILE} is not a JSON object"
    own_id = provenance.get("release_id" if kind == "releases" else "quarter")
    if own_id is not None and str(own_id) != name:
        return f"{PROVENANCE_FILE} is for {own_id}, not {name}"
    files = provenance.get("files", [])
    if not isinstance(files, list) or not all(
        isinstance(f, dict) and isinstance(f.get("name"), str) for f in files
    ):
        return f"{PROVENANCE_FILE}: 'files' is not a list of files with names"
    for key in ("conversion_factor", "release_date"):
        value = provenance.get(key)
        if value is not None and not isinstance(value, str):
            return f"{PROVENANCE_FILE}: {key!r} is {value!r}, not text"
    if kind == "releases" and not isinstance(provenance.get("complete", False), bool):
        return f"{PROVENANCE_FILE}: 'complete' is not true or false"
    return ""


def _read_provenance(kind: str, name: str, folder: Path) -> tuple[dict[str, Any], str]:
    """(provenance, damage): the folder's provenance.json and what is wrong with it."""
    path = folder / PROVENANCE_FILE
    try:
        provenance = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}, f"{PROVENANCE_FILE} is missing"
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        return {}, f"{PROVENANCE_FILE} is not readable JSON ({str(exc).splitlines()[0]})"
    problem = check_provenance(kind, name, provenance)
    if not problem and not (folder / TABLES_FILE).is_file():
        problem = f"{TABLES_FILE} is missing"
    return (provenance if isinstance(provenance, dict) else {}), problem


def _info(kind: str, name: str, folder: Path, source: str) -> ReleaseInfo:
    provenance, damage = _read_provenance(kind, name, folder)
    damage = _damaged.get(str(folder), damage)
    match = _PATTERNS[kind].match(name)
    assert match is not None  # the scan only passes names that match
    return ReleaseInfo(
        release_id=name,
        year=int(match.group(1)),
        quarter=match.group(2),
        path=folder,
        source=source,
        provenance=provenance,
        damage=damage,
    )


def _stand_in(installed: ReleaseInfo, embedded: ReleaseInfo | None) -> ReleaseInfo:
    """The installed release, or the embedded copy when the installed one is damaged."""
    if not installed.damage or embedded is None or embedded.damage:
        return installed
    note = (
        f"the installed {installed.release_id} at {installed.path} is damaged "
        f"({installed.damage}); using the copy embedded in xlrate: run `xlrate medicare repair`"
    )
    return ReleaseInfo(
        embedded.release_id,
        embedded.year,
        embedded.quarter,
        embedded.path,
        embedded.source,
        embedded.provenance,
        note=note,
    )


def _scan(kind: str) -> dict[str, ReleaseInfo]:
    """Every release (or ZIP5 quarter) by id; cached until :func:`clear_cache`."""
    home = _home()
    key = (kind, str(home))
    found = _scans.get(key)
    if found is not None:
        return found
    pattern = _PATTERNS[kind]
    embedded: dict[str, ReleaseInfo] = {}
    found = {}
    for source, root in _roots(home):
        base = root / kind
        if not base.is_dir():
            continue
        aside: dict[str, Path] = {}
        for child in sorted(base.iterdir()):
            moved = _MOVED_ASIDE.match(child.name)
            if moved:
                aside[moved.group(1)] = child
                continue
            if child.name.startswith(".") or not child.is_dir():
                continue  # an install in progress, or a stray file: repair removes strays
            if not pattern.match(child.name):
                continue  # a stray folder is not a release (repair removes it)
            info = _info(kind, child.name, child, source)
            if source == "embedded":
                embedded[child.name] = info
                found[child.name] = info
            else:  # installed overrides embedded, unless it is damaged and a copy exists
                found[child.name] = _stand_in(info, embedded.get(child.name))
        # During an install the previous release sits aside for a moment between two
        # renames: a reader that looks then still finds it.
        for name, child in aside.items():
            if pattern.match(name) and not (base / name).is_dir():
                info = _info(kind, name, child, source)
                if not info.damage:
                    found[name] = info
    _scans[key] = found
    return found


def list_releases() -> list[ReleaseInfo]:
    """Every usable release, oldest first (installed ones replace embedded ones of the same id)."""
    return [info for _, info in sorted(_scan("releases").items())]


def resolve_release(
    year: int | str | None = None, release: str | None = None, date: object = None
) -> ReleaseInfo:
    """Pick the release for ``year`` / ``release``, or the one in force on ``date``.

    With neither, the newest complete release in force today (:func:`releases.today`,
    ``XLRATE_TODAY`` in tests): never one that has not started, so next year's January
    release installed in December waits for 1 January. A year alone gives that year's
    release in force today (a past year: its last; a future year: its first).
    """
    infos = list_releases()
    if not infos:
        raise DataError(
            "no Medicare release is available: reinstall xlrate (the embedded data is missing)"
        )
    years = sorted({i.year for i in infos})
    if date is not None:
        if year is not None or release is not None:
            raise DataError("give a date of service or a year/release, not both")
        return _in_force_on(infos, releases.parse_date(date))
    if release is not None and releases.is_release_id(release):  # 2025D, 2024AR
        rid = releases.parse_release_id(release)
        if year is not None and int(float(year)) != rid.year:
            raise DataError(f"release {rid} does not match year {year}")
        year, release = rid.year, rid.quarter
    elif release is not None and not re.fullmatch(r"\s*[A-Da-d][Rr]\d*\s*", str(release)):
        release_year, release = parse_release(release)  # D; a wrong one says what is wrong
        year = release_year if year is None and release_year is not None else year
    if year is None:
        if release is not None:
            raise DataError(f"release {release!r} needs a year: write it as 2025D or give --year")
        return releases.default_release(infos)  # never one that has not started
    try:
        year_int = int(float(year))
    except (TypeError, ValueError):
        raise DataError(
            f"{year!r} is not a year: installed years are {', '.join(map(str, years))}"
        ) from None
    of_year = [i for i in infos if i.year == year_int]
    if not of_year:
        raise DataError(
            f"no Medicare data for {year_int}: installed years are {', '.join(map(str, years))}; "
            f"run `xlrate medicare update --year {year_int}` to download it from CMS"
        )
    if release is None:
        return releases.year_release(of_year)
    quarter = str(release).strip().upper()
    match = [i for i in of_year if i.quarter == quarter]
    if not match:
        have = ", ".join(i.release_id for i in of_year)
        raise DataError(
            f"release {year_int}{quarter} is not installed (have {have}); run "
            f"`xlrate medicare update --year {year_int} --release {quarter}`"
        )
    return match[0]


def _in_force_on(infos: list[ReleaseInfo], day: dt.date) -> ReleaseInfo:
    """The release in force on ``day`` (date of service): the newest that had started."""
    found = releases.in_force_on(infos, day)
    if found is None:
        first = releases.by_effective(infos)[0]
        raise DataError(
            f"no Medicare release here was in force on {day.isoformat()}: the earliest is "
            f"{releases.describe(first.release_id)}; run `xlrate medicare update --year "
            f"{day.year}` to download that year's releases"
        )
    return found


def _resolved_release(
    year: int | str | None, release: str | None, date: object = None
) -> ReleaseInfo:
    """:func:`resolve_release`, remembered until :func:`clear_cache` or midnight (the
    default release can depend on the date). An environment variable that changes the
    answer (XLRATE_HOME, a test clock) takes effect with ``clear_cache()``: reading the
    environment on every price would cost more than the rest of the lookup."""
    global _day, _day_ends
    if time.time() >= _day_ends:  # a new day: the default release may change
        _resolved.clear()
        today = dt.date.today()
        _day = today
        _day_ends = time.mktime((today + dt.timedelta(days=1)).timetuple())
    key = (year, release, date, _day)
    try:
        found = _resolved.get(key)
    except TypeError:  # an unhashable argument: resolve without the cache (and fail there)
        return resolve_release(year, release, date)
    if found is None:
        found = resolve_release(year, release, date)
        if len(_resolved) > 4096:
            _resolved.clear()
        _resolved[key] = found
    return found


def _check_tables(
    tables: Tables, schema: Mapping[str, Mapping[str, str]], required: tuple[str, ...]
) -> str:
    """Why ``tables`` does not hold what the store writes ("" when it does)."""
    for table, columns in schema.items():
        prefix = f"{table}." if table else ""
        present = [c for c in columns if prefix + c in tables]
        if not present and table not in required:
            continue
        missing = [c for c in columns if prefix + c not in tables]
        if missing:
            return f"{TABLES_FILE} lacks {', '.join(prefix + c for c in missing)}"
        for column, kind in columns.items():
            descr = tables.dtypes[prefix + column]
            if dtype_kind(descr) != kind:
                return f"{TABLES_FILE}: {prefix}{column} is {descr}, expected kind {kind}"
        lengths = {
            n for k, n in tables.lengths.items() if k.startswith(prefix) or (not prefix and k)
        }
        if len(lengths) > 1:
            return (
                f"{TABLES_FILE}: the {table or 'ZIP'} arrays differ in length ({sorted(lengths)})"
            )
    return ""


def _open_release_tables(info: ReleaseInfo) -> Tables:
    tables = read_npz(info.path / TABLES_FILE)
    problem = _check_tables(tables, _RELEASE_SCHEMA, _REQUIRED_TABLES)
    if not problem and not tables.lengths["pprrvu.code"]:
        problem = f"{TABLES_FILE} has no PPRRVU rows"
    if not problem and (
        tables.lengths["meta.conversion_factor"] != 1
        or not 0 < int(tables["meta.conversion_factor"][0]) < 10_000_000
    ):
        problem = f"{TABLES_FILE}: the conversion factor is not one plausible number"
    if problem:
        raise DataError(f"{info.path / TABLES_FILE} is damaged: {problem}")
    return tables


def _damaged_message(info: ReleaseInfo, why: str) -> str:
    return (
        f"the installed Medicare release {info.release_id} is damaged ({why}): run "
        f"`xlrate medicare repair`, then `xlrate medicare update --year {info.year} "
        f"--release {info.quarter}` to download it again"
    )


class MedicareRelease:
    """The tables of one release: plain lists (``columns``), numpy views (``arrays``) on demand."""

    def __init__(self, info: ReleaseInfo, tables: Mapping[str, Column]):
        self.info = info
        self.columns = tables
        self.release_id = info.release_id
        self.year = info.year
        self.quarter = info.quarter
        self.provenance = info.provenance
        self.conversion_factor = int(tables["meta.conversion_factor"][0])
        qp = int(tables["meta.qp_conversion_factor"][0])
        # Without the bundle's _QPP file, the QP conversion factor comes from the final rule
        # (layouts/conversion_factors.csv); from 2026 on there is one, before it none.
        self.qp_conversion_factor = (
            qp if qp > 0 else published_conversion_factors().get((self.year, True))
        )
        self.qp_conversion_factor_source = (
            "the release's _QPP RVU file" if qp > 0 else f"the CY{self.year} PFS final rule"
        )
        self.has_gpci = "gpci.locality" in tables

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """The same tables as numpy arrays, for the vectorised engine."""
        return _numpy_tables(self.columns)

    def table(self, name: str) -> dict[str, np.ndarray]:
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def frame(self, name: str) -> pd.DataFrame:
        import pandas as pd  # lazy: pandas loads on use

        return pd.DataFrame(self.table(name))

    @cached_property
    def rvu_index(self) -> dict[tuple[str, str], int]:
        codes = self.columns["pprrvu.code"]
        mods = self.columns["pprrvu.modifier"]
        return {(c, m): i for i, (c, m) in enumerate(zip(codes, mods, strict=True))}

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(self.columns["pprrvu.code"])

    @cached_property
    def localities(self) -> list[str]:
        """Locality ids in GPCI order; NATIONAL is the last position of the GPCI arrays."""
        if not self.has_gpci:
            return []
        return list(self.columns["gpci.locality"])

    @cached_property
    def locality_index(self) -> dict[str, int]:
        index = {loc: i for i, loc in enumerate(self.localities)}
        index[NATIONAL] = len(self.localities)
        return index

    @cached_property
    def gpci_values(self) -> tuple[list[int], list[int], list[int]]:
        """(work, pe, mp) GPCIs x 1000 as ints, one per locality and 1000 last for NATIONAL."""
        parts: list[list[int]] = []
        for name in ("work_gpci", "pe_gpci", "mp_gpci"):
            values = self.columns.get(f"gpci.{name}", [])
            parts.append([int(v) for v in values] + [1000])
        return parts[0], parts[1], parts[2]

    @cached_property
    def gpci(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:attr:`gpci_values` as int64 arrays."""
        import numpy as np  # lazy: the vectorised engine's; see ``arrays``

        work, pe, mp = self.gpci_values
        return (
            np.array(work, dtype=np.int64),
            np.array(pe, dtype=np.int64),
            np.array(mp, dtype=np.int64),
        )

    @cached_property
    def opps_cap_map(self) -> dict[tuple[str, str, str], tuple[int, int]]:
        """{(code, modifier, locality): (non-facility cap, facility cap)} in cents.

        Built by C loops (``dict(zip(...))``), in reverse so the first row of a repeated key
        wins, as in the sorted arrays of :attr:`opps_caps`.
        """
        if "oppscap.code" not in self.columns or not self.has_gpci:
            return {}
        c = self.columns
        keys = zip(
            reversed(c["oppscap.code"]),
            reversed(c["oppscap.modifier"]),
            reversed(c["oppscap.locality"]),
            strict=True,
        )
        caps = zip(
            reversed(c["oppscap.cap_nonfacility"]),
            reversed(c["oppscap.cap_facility"]),
            strict=True,
        )
        return dict(zip(keys, caps, strict=True))

    @cached_property
    def opps_cap_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(lookup, non-facility caps, facility caps) for the vectorised engine.

        ``lookup[row * (n_localities + 1) + gpci_position]`` is the position of that pair's
        caps, or -1: a dense table (a few MB), so a lookup is one gather, not a search.
        """
        import numpy as np  # lazy: the vectorised engine's; see ``arrays``

        width = len(self.localities) + 1
        rvu_index, locality_index = self.rvu_index, self.locality_index
        keys: list[int] = []
        values: list[tuple[int, int]] = []
        for (code, mod, loc), cap in self.opps_cap_map.items():
            row = rvu_index.get((code, mod), -1)
            place = locality_index.get(loc, -1)
            if row >= 0 and place >= 0:
                keys.append(row * width + place)
                values.append(cap)
        lookup = np.full(len(self.columns["pprrvu.code"]) * width, -1, dtype=np.int32)
        lookup[np.array(keys, dtype=np.int64)] = np.arange(len(keys), dtype=np.int32)
        caps = np.array(values, dtype=np.int64).reshape(-1, 2)
        return lookup, caps[:, 0].copy(), caps[:, 1].copy()

    @cached_property
    def rows_with_caps(self) -> np.ndarray:
        """For each PPRRVU row, whether any locality has an OPPS cap for it."""
        import numpy as np  # lazy: the vectorised engine's; see ``arrays``

        lookup = self.opps_cap_table[0].reshape(-1, len(self.localities) + 1)
        return np.asarray((lookup >= 0).any(axis=1))

    @cached_property
    def anesthesia_cf(self) -> dict[str, int]:
        if "anes.locality" not in self.columns:
            return {}
        return dict(
            zip(
                self.columns["anes.locality"],
                self.columns["anes.anesthesia_cf"],
                strict=True,
            )
        )

    def __repr__(self) -> str:
        return f"<MedicareRelease {self.release_id} ({self.info.source})>"


@cache
def published_conversion_factors() -> dict[tuple[int, bool], int]:
    """{(year, qualifying APM participant): CF x 10000} from the PFS final rules."""
    from xlrate.medicare import layouts  # lazy: the CSV reader loads only here

    return {
        (int(r["year"]), r["qp"] == "1"): int(r["conversion_factor"].replace(".", ""))
        for r in layouts.rows("conversion_factors.csv")
    }


def load_release(
    year: int | str | None = None, release: str | None = None, date: object = None
) -> MedicareRelease:
    """Load (once, then cached) the release for ``year`` / ``release`` (or in force on ``date``).

    A damaged installed release raises :class:`DataError` in one line, unless the package
    embeds the same release: then that copy is returned with a :class:`StoreWarning`.
    """
    info = _resolved_release(year, release, date)
    key = (info.release_id, str(info.path))
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            cached = _load(info)
            _cache[key] = cached
            # A stand-in (the embedded copy of a damaged install) is found under its own
            # path from now on: remember it there too, so it loads (and warns) once.
            _cache[(cached.release_id, str(cached.info.path))] = cached
    return cached


def _open_or_stand_in(
    info: ReleaseInfo,
    kind: str,
    key: str,
    open_tables: Callable[[ReleaseInfo], Tables],
    damaged_message: Callable[[ReleaseInfo, str], str],
) -> tuple[ReleaseInfo, Tables]:
    """Open ``info``'s tables; a damaged install is remembered and the embedded copy of the
    same release (``kind``/``key``) stands in for it, or one line says what to run."""
    if info.damage:
        raise DataError(damaged_message(info, info.damage))
    try:
        return info, open_tables(info)
    except DataError as exc:
        if info.source != "installed":
            raise
        # Remember the damage and look again: the embedded copy may stand in for it.
        _damaged[str(info.path)] = str(exc).split(" is damaged: ", 1)[-1]
        _scans.clear()
        _resolved.clear()
        stand_in = _scan(kind).get(key)
        if stand_in is None or stand_in.damage or stand_in.source == "installed":
            raise DataError(damaged_message(info, _damaged[str(info.path)])) from None
        return stand_in, open_tables(stand_in)


def _load(info: ReleaseInfo) -> MedicareRelease:
    info, tables = _open_or_stand_in(
        info, "releases", info.release_id, _open_release_tables, _damaged_message
    )
    if info.note:
        warnings.warn(info.note, StoreWarning, stacklevel=3)
    return MedicareRelease(info, tables)


def clear_cache() -> None:
    """Forget loaded releases and every answer computed from them (after an install)."""
    _cache.clear()
    _zip_cache.clear()
    _scans.clear()
    _resolved.clear()
    _damaged.clear()
    _homes.clear()
    for hook in _on_clear:
        hook()


def on_clear(hook: Callable[[], None]) -> None:
    """Register a cache of derived answers to be emptied by :func:`clear_cache`."""
    _on_clear.append(hook)


# --------------------------------------------------------------------------- ZIP codes


def _numpy_tables(tables: Mapping[str, Column]) -> dict[str, np.ndarray]:
    """Columns as numpy arrays (read-only views of the .npz bytes when read from one)."""
    # numpy here, not at the top: the scalar core runs without it (Pyodide).
    import numpy as np  # lazy: numpy loads on use

    if isinstance(tables, Tables):
        return {k: tables.numpy(k) for k in tables}
    return {k: np.asarray(v) for k, v in tables.items()}


class ZipTable:
    """ZIP5 -> locality, with the plus-four (split ZIP) flag."""

    def __init__(
        self, quarter: str, path: Path, tables: Mapping[str, Column], provenance: dict[str, Any]
    ):
        self.quarter = quarter
        self.path = path
        self.provenance = provenance
        self.columns = tables

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        """The ZIP columns as numpy arrays (lookups use the lists)."""
        return _numpy_tables(self.columns)

    @cached_property
    def index(self) -> dict[str, int]:
        return {z: i for i, z in enumerate(self.columns["zip"])}


def _open_zip_tables(info: ReleaseInfo) -> Tables:
    tables = read_npz(info.path / TABLES_FILE)
    problem = _check_tables(tables, {"": _ZIP_SCHEMA}, ("",))
    if problem:
        raise DataError(f"{info.path / TABLES_FILE} is damaged: {problem}")
    return tables


def load_zip_table() -> ZipTable:
    found = _scan("zip5")
    if not found:
        raise DataError(
            "no ZIP code to locality file is available: reinstall xlrate or run `xlrate medicare update`"
        )
    quarter = sorted(found)[-1]
    info = found[quarter]
    cached = _zip_cache.get(str(info.path))
    if cached is not None:
        return cached
    info, tables = _open_or_stand_in(info, "zip5", quarter, _open_zip_tables, _damaged_zip_message)
    if info.note:
        warnings.warn(info.note, StoreWarning, stacklevel=2)
    cached = ZipTable(quarter, info.path, tables, info.provenance)
    _zip_cache[str(info.path)] = cached
    return cached


def _damaged_zip_message(info: ReleaseInfo, why: str) -> str:
    return (
        f"the installed ZIP code to locality file {info.release_id} is damaged ({why}): run "
        "`xlrate medicare repair`, then `xlrate medicare update` to download it again"
    )


# --------------------------------------------------------------------------- repair


def check_installed() -> list[tuple[Path, str]]:
    """Every damaged or stray entry of the user's store, with what is wrong with it."""
    home = _home()
    problems: list[tuple[Path, str]] = []
    if home is None:
        return problems
    for kind, pattern in _PATTERNS.items():
        base = home / kind
        if not base.is_dir():
            continue
        what = "release" if kind == "releases" else "ZIP code quarter"
        for child in sorted(base.iterdir()):
            if child.name.startswith("."):
                continue  # an install in progress (or one set aside): not ours to touch
            if not child.is_dir() or not pattern.match(child.name):
                problems.append(
                    (child, f"not a {what} (stray {'folder' if child.is_dir() else 'file'})")
                )
                continue
            info = _info(kind, child.name, child, "installed")
            why = info.damage
            if not why:
                try:
                    (_open_release_tables if kind == "releases" else _open_zip_tables)(info)
                except DataError as exc:
                    why = str(exc).split(" is damaged: ", 1)[-1]
            if why:
                problems.append((child, why))
    return problems


def repair() -> list[str]:
    """Remove damaged and stray entries from the user's store; one line per thing done."""
    done = []
    embedded = {
        (kind, child.name)
        for kind in _PATTERNS
        if (EMBEDDED_ROOT / kind).is_dir()
        for child in (EMBEDDED_ROOT / kind).iterdir()
    }
    for path, why in check_installed():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        kind = path.parent.name
        match = _PATTERNS[kind].match(path.name)
        if match is None:
            done.append(f"removed {path}: {why}")
        elif (kind, path.name) in embedded:
            done.append(
                f"removed {path} ({why}): the copy embedded in xlrate serves {path.name} now"
            )
        elif kind == "releases":
            done.append(
                f"removed {path} ({why}): run `xlrate medicare update --year {match.group(1)} "
                f"--release {match.group(2)}` to download it again"
            )
        else:
            done.append(
                f"removed {path} ({why}): run `xlrate medicare update` to download it again"
            )
    clear_cache()
    return done


# --------------------------------------------------------------------------- writing


def _to_arrays(prefix: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    import numpy as np  # lazy: writing a release needs numpy; reading it does not

    out: dict[str, np.ndarray] = {}
    for column in frame.columns:
        series = frame[column]
        if series.dtype == bool:
            out[f"{prefix}.{column}"] = series.to_numpy(dtype=bool)
        elif series.dtype.kind in "iu":
            out[f"{prefix}.{column}"] = series.to_numpy(dtype=np.int64)
        else:
            out[f"{prefix}.{column}"] = series.astype(str).to_numpy(dtype=str)
    return out


def bundle_arrays(bundle: Bundle) -> dict[str, np.ndarray]:
    import numpy as np  # lazy: writing a release needs numpy; reading it does not

    arrays: dict[str, np.ndarray] = {}
    for name, frame in bundle.tables.items():
        if frame is not None:
            arrays.update(_to_arrays(name, frame))
    cf = int(bundle.conversion_factor.replace(".", ""))
    qp = int(bundle.qp_conversion_factor.replace(".", "")) if bundle.qp_conversion_factor else 0
    arrays["meta.conversion_factor"] = np.array([cf], dtype=np.int64)
    arrays["meta.qp_conversion_factor"] = np.array([qp], dtype=np.int64)
    return arrays


def _atomic_write_dir(
    target: Path, arrays: dict[str, np.ndarray], provenance: dict[str, Any]
) -> None:
    """Write a release folder beside ``target`` and rename it into place."""
    import numpy as np  # lazy: writing a release needs numpy; reading it does not

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        with open(tmp / TABLES_FILE, "wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
            fh.flush()
            os.fsync(fh.fileno())
        (tmp / PROVENANCE_FILE).write_text(
            json.dumps(provenance, indent=2, sort_keys=True) + "\n", "utf-8"
        )
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            if old is not None:
                os.replace(old, target)  # put the last good release back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def release_dir(release_id: str, root: Path | None = None) -> Path:
    """Where release ``release_id`` lives (or would be installed) in the user's store."""
    if not RELEASE_ID_RE.match(str(release_id)):
        raise DataError(
            f"{release_id!r} is not a release id: write it as 2025D (year and quarter letter)"
        )
    return (root or medicare_home()) / "releases" / str(release_id)


def install_bundle(
    bundle: Bundle, provenance: dict[str, Any] | None = None, root: Path | None = None
) -> ReleaseInfo:
    """Install a parsed bundle as a release (atomically) and return its info.

    ``provenance`` adds to the bundle's own (source URL, download time, zip sha256...).
    ``root`` defaults to the user's store; the embedded-data build script passes the
    package's data folder.
    """
    base = (root or medicare_home()) / "releases"
    merged = bundle.provenance()
    merged.update(provenance or {})
    _atomic_write_dir(base / bundle.release_id, bundle_arrays(bundle), merged)
    clear_cache()
    source = "installed" if root is None else "embedded"
    return ReleaseInfo(
        bundle.release_id, bundle.year, bundle.quarter, base / bundle.release_id, source, merged
    )


def install_zip5(frame: pd.DataFrame, provenance: dict[str, Any], root: Path | None = None) -> Path:
    """Install a parsed ZIP5 table under its data quarter (e.g. ``20254``)."""
    quarter = str(frame["quarter"].iloc[0]) if len(frame) else "unknown"
    target = (root or medicare_home()) / "zip5" / quarter
    arrays = {k.split(".", 1)[1]: v for k, v in _to_arrays("zip5", frame).items()}
    _atomic_write_dir(target, arrays, provenance)
    clear_cache()
    return target
