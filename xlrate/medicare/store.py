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
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xlrate.codes import parse_release
from xlrate.errors import DataError
from xlrate.medicare import releases
from xlrate.settings import medicare_home

if TYPE_CHECKING:
    import pandas as pd

    from xlrate.medicare.cms_files import Bundle

EMBEDDED_ROOT = Path(__file__).parent / "data"
TABLES_FILE = "tables.npz"
PROVENANCE_FILE = "provenance.json"
NATIONAL = "NATIONAL"

_MOVED_ASIDE = re.compile(r"^\.(.+)\.old-\d+$")
_lock = threading.Lock()
_on_clear: list[Callable[[], None]] = []
_cache: dict[tuple[str, str], MedicareRelease] = {}
_zip_cache: dict[str, ZipTable] = {}


@dataclass(frozen=True)
class ReleaseInfo:
    """What is known about a release without loading its tables."""

    release_id: str
    year: int
    quarter: str
    path: Path
    source: str  # "embedded" or "installed"
    provenance: dict[str, Any] = field(hash=False, compare=False)

    @property
    def complete(self) -> bool:
        return bool(self.provenance.get("complete"))


def _roots() -> list[tuple[str, Path]]:
    return [("embedded", EMBEDDED_ROOT), ("installed", medicare_home())]


def _scan(kind: str) -> dict[str, tuple[str, Path]]:
    found: dict[str, tuple[str, Path]] = {}
    for source, root in _roots():
        base = root / kind
        if not base.is_dir():
            continue
        aside: dict[str, Path] = {}
        for child in sorted(base.iterdir()):
            if not (child / TABLES_FILE).is_file() or not (child / PROVENANCE_FILE).is_file():
                continue
            moved = _MOVED_ASIDE.match(child.name)
            if moved:
                aside[moved.group(1)] = child
            elif not child.name.startswith("."):
                found[child.name] = (source, child)  # installed overrides embedded
        # During an install the previous release sits aside for a moment between two
        # renames: a reader that looks then still finds it.
        for name, child in aside.items():
            if not (base / name).is_dir():
                found[name] = (source, child)
    return found


def list_releases() -> list[ReleaseInfo]:
    """Every usable release, oldest first (installed ones replace embedded ones of the same id)."""
    infos = []
    for release_id, (source, path) in sorted(_scan("releases").items()):
        provenance = json.loads((path / PROVENANCE_FILE).read_text("utf-8"))
        infos.append(
            ReleaseInfo(
                release_id=release_id,
                year=int(release_id[:4]),
                quarter=release_id[4:],
                path=path,
                source=source,
                provenance=provenance,
            )
        )
    return infos


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


class MedicareRelease:
    """The tables of one release, as numpy arrays, with lookup indexes built on first use."""

    def __init__(self, info: ReleaseInfo, arrays: dict[str, np.ndarray]):
        self.info = info
        self.arrays = arrays
        self.release_id = info.release_id
        self.year = info.year
        self.quarter = info.quarter
        self.provenance = info.provenance
        self.conversion_factor = int(arrays["meta.conversion_factor"][0])
        qp = int(arrays["meta.qp_conversion_factor"][0])
        # Without the bundle's _QPP file, the QP conversion factor comes from the final rule
        # (layouts/conversion_factors.csv); from 2026 on there is one, before it none.
        self.qp_conversion_factor = (
            qp if qp > 0 else published_conversion_factors().get((self.year, True))
        )
        self.qp_conversion_factor_source = (
            "the release's _QPP RVU file" if qp > 0 else f"the CY{self.year} PFS final rule"
        )
        self.has_gpci = "gpci.locality" in arrays

    def table(self, name: str) -> dict[str, np.ndarray]:
        prefix = name + "."
        return {k[len(prefix) :]: v for k, v in self.arrays.items() if k.startswith(prefix)}

    def frame(self, name: str) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.table(name))

    @cached_property
    def rvu_index(self) -> dict[tuple[str, str], int]:
        codes = self.arrays["pprrvu.code"].tolist()
        mods = self.arrays["pprrvu.modifier"].tolist()
        return {(c, m): i for i, (c, m) in enumerate(zip(codes, mods, strict=True))}

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(self.arrays["pprrvu.code"].tolist())

    @cached_property
    def localities(self) -> list[str]:
        """Locality ids in GPCI order; NATIONAL is the last position of the GPCI arrays."""
        if not self.has_gpci:
            return []
        return list(self.arrays["gpci.locality"].tolist())

    @cached_property
    def locality_index(self) -> dict[str, int]:
        index = {loc: i for i, loc in enumerate(self.localities)}
        index[NATIONAL] = len(self.localities)
        return index

    @cached_property
    def gpci(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(work, pe, mp) GPCIs x 1000, one per locality and a final 1000 for NATIONAL."""
        parts = []
        for name in ("work_gpci", "pe_gpci", "mp_gpci"):
            values = self.arrays.get(f"gpci.{name}", np.zeros(0, dtype=np.int64))
            parts.append(np.append(values.astype(np.int64), 1000))
        return parts[0], parts[1], parts[2]

    @cached_property
    def opps_caps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted keys ``rvu_row * (n_localities + 1) + locality_index`` and the caps in cents."""
        if "oppscap.code" not in self.arrays or not self.has_gpci:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        rows = np.array(
            [
                self.rvu_index.get((c, m), -1)
                for c, m in zip(
                    self.arrays["oppscap.code"].tolist(),
                    self.arrays["oppscap.modifier"].tolist(),
                    strict=True,
                )
            ],
            dtype=np.int64,
        )
        locs = np.array(
            [self.locality_index.get(loc, -1) for loc in self.arrays["oppscap.locality"].tolist()],
            dtype=np.int64,
        )
        keep = (rows >= 0) & (locs >= 0)
        keys = rows[keep] * (len(self.localities) + 1) + locs[keep]
        order = np.argsort(keys, kind="stable")
        return (
            keys[order],
            self.arrays["oppscap.cap_nonfacility"][keep][order].astype(np.int64),
            self.arrays["oppscap.cap_facility"][keep][order].astype(np.int64),
        )

    @cached_property
    def anesthesia_cf(self) -> dict[str, int]:
        if "anes.locality" not in self.arrays:
            return {}
        return dict(
            zip(
                self.arrays["anes.locality"].tolist(),
                self.arrays["anes.anesthesia_cf"].tolist(),
                strict=True,
            )
        )

    def __repr__(self) -> str:
        return f"<MedicareRelease {self.release_id} ({self.info.source})>"


@cache
def published_conversion_factors() -> dict[tuple[int, bool], int]:
    """{(year, qualifying APM participant): CF x 10000} from the PFS final rules."""
    import csv
    import io
    from importlib import resources

    text = (
        resources.files("xlrate.medicare.layouts")
        .joinpath("conversion_factors.csv")
        .read_text("utf-8")
    )
    return {
        (int(r["year"]), r["qp"] == "1"): int(r["conversion_factor"].replace(".", ""))
        for r in csv.DictReader(io.StringIO(text))
    }


def load_release(
    year: int | str | None = None, release: str | None = None, date: object = None
) -> MedicareRelease:
    """Load (once, then cached) the release for ``year`` / ``release`` (or in force on ``date``)."""
    info = resolve_release(year, release, date)
    key = (info.release_id, str(info.path))
    cached = _cache.get(key)
    if cached is not None:
        return cached
    with _lock:
        cached = _cache.get(key)
        if cached is None:
            with np.load(info.path / TABLES_FILE, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            cached = MedicareRelease(info, arrays)
            _cache[key] = cached
    return cached


def clear_cache() -> None:
    """Forget loaded releases and every answer computed from them (after an install)."""
    _cache.clear()
    _zip_cache.clear()
    for hook in _on_clear:
        hook()


def on_clear(hook: Callable[[], None]) -> None:
    """Register a cache of derived answers to be emptied by :func:`clear_cache`."""
    _on_clear.append(hook)


# --------------------------------------------------------------------------- ZIP codes


class ZipTable:
    """ZIP5 -> locality, with the plus-four (split ZIP) flag."""

    def __init__(
        self, quarter: str, path: Path, arrays: dict[str, np.ndarray], provenance: dict[str, Any]
    ):
        self.quarter = quarter
        self.path = path
        self.provenance = provenance
        self.arrays = arrays

    @cached_property
    def index(self) -> dict[str, int]:
        return {z: i for i, z in enumerate(self.arrays["zip"].tolist())}


def load_zip_table() -> ZipTable:
    found = _scan("zip5")
    if not found:
        raise DataError(
            "no ZIP code to locality file is available: reinstall xlrate or run `xlrate medicare update`"
        )
    quarter = sorted(found)[-1]
    source, path = found[quarter]
    cached = _zip_cache.get(str(path))
    if cached is None:
        with np.load(path / TABLES_FILE, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        provenance = json.loads((path / PROVENANCE_FILE).read_text("utf-8"))
        cached = ZipTable(quarter, path, arrays, provenance)
        _zip_cache[str(path)] = cached
    return cached


# --------------------------------------------------------------------------- writing


def _to_arrays(prefix: str, frame: pd.DataFrame) -> dict[str, np.ndarray]:
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
