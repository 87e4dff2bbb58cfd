"""Releases of the other Medicare schedules (CLFS, ASP, DMEPOS, PEN), stored like the PFS ones.

A release is a folder ``<root>/<schedule>/<ID>/`` (``ID`` = year + quarter letter, ``2025A``
for January 2025) holding ``tables.npz`` (plain numpy arrays, no pickle) and
``provenance.json`` (the CMS file it came from with sha256 and size, the source URL).
The roots are the embedded data in the package (built by ``scripts/build_schedule_data.py``)
and the user's store (``xlrate.settings.medicare_home()``); an installed release replaces
an embedded one with the same id. Writing goes through :func:`store._atomic_write_dir`
(temp folder + rename), and :func:`store.clear_cache` forgets what is loaded here too.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xlrate.medicare import store
from xlrate.settings import medicare_home

SCHEDULE_DIRS = ("clfs", "asp", "dmepos", "pen")
QUARTERS = "ABCD"

_lock = threading.Lock()
_cache: dict[str, ScheduleRelease] = {}
_listed: dict[str | None, list[ScheduleInfo]] = {}


@dataclass(frozen=True)
class ScheduleInfo:
    schedule: str  # folder name: clfs, asp, dmepos, pen
    release_id: str  # 2025A
    path: Path
    source: str  # embedded / installed
    provenance: dict[str, Any] = field(hash=False, compare=False)

    @property
    def year(self) -> int:
        return int(self.release_id[:4])

    @property
    def quarter(self) -> str:
        return self.release_id[4:]

    @property
    def period(self) -> tuple[int, int]:
        return self.year, QUARTERS.index(self.quarter) if self.quarter in QUARTERS else 0


class ScheduleRelease:
    """One schedule release's arrays, with a (code, modifier) index built on first use."""

    def __init__(self, info: ScheduleInfo, arrays: dict[str, np.ndarray]):
        self.info = info
        self.arrays = arrays
        self._index: dict[tuple[str, str], int] | None = None
        self._codes: frozenset[str] | None = None

    @property
    def index(self) -> dict[tuple[str, str], int]:
        """(code, modifiers joined with "-") -> row."""
        if self._index is None:
            mods = self.modifier_keys()
            self._index = {
                (c, m): i
                for i, (c, m) in enumerate(zip(self.arrays["code"].tolist(), mods, strict=True))
            }
        return self._index

    def modifier_keys(self) -> list[str]:
        mod = self.arrays.get("modifier")
        if mod is None:
            return [""] * len(self.arrays["code"])
        mod2 = self.arrays.get("modifier2")
        if mod2 is None:
            return [str(m) for m in mod.tolist()]
        return [
            f"{a}-{b}" if a and b else a or b
            for a, b in zip(mod.tolist(), mod2.tolist(), strict=True)
        ]

    @property
    def codes(self) -> frozenset[str]:
        if self._codes is None:
            self._codes = frozenset(self.arrays["code"].tolist())
        return self._codes

    @property
    def label(self) -> str:
        return f"{self.info.schedule.upper()} {self.info.release_id}"


def _roots() -> list[tuple[str, Path]]:
    return [("embedded", store.EMBEDDED_ROOT), ("installed", medicare_home())]


def list_schedule_releases(schedule: str | None = None) -> list[ScheduleInfo]:
    """Every stored release of ``schedule`` (or of all schedules), oldest first (cached until
    :func:`store.clear_cache`)."""
    listed = _listed.get(schedule)
    if listed is None:
        listed = _listed[schedule] = _scan(schedule)
    return list(listed)


def _scan(schedule: str | None) -> list[ScheduleInfo]:
    found: dict[tuple[str, str], ScheduleInfo] = {}
    for kind in [schedule] if schedule else list(SCHEDULE_DIRS):
        for source, root in _roots():
            base = root / kind
            if not base.is_dir():
                continue
            for child in sorted(base.iterdir()):
                if child.name.startswith(".") or not (child / store.TABLES_FILE).is_file():
                    continue
                if not (child / store.PROVENANCE_FILE).is_file():
                    continue
                provenance = json.loads((child / store.PROVENANCE_FILE).read_text("utf-8"))
                found[(kind, child.name)] = ScheduleInfo(
                    kind, child.name, child, source, provenance
                )
    return sorted(found.values(), key=lambda i: (i.schedule, i.period))


def resolve(schedule: str, year: int, quarter: str) -> ScheduleInfo | None:
    """The release in force for (year, quarter): the newest one not after it, else None."""
    wanted = (year, QUARTERS.index(quarter) if quarter in QUARTERS else 3)
    earlier = [i for i in list_schedule_releases(schedule) if i.period <= wanted]
    return earlier[-1] if earlier else None


def load(info: ScheduleInfo) -> ScheduleRelease:
    key = str(info.path)
    cached = _cache.get(key)
    if cached is None:
        with _lock:
            cached = _cache.get(key)
            if cached is None:
                with np.load(info.path / store.TABLES_FILE, allow_pickle=False) as npz:
                    arrays = {k: npz[k] for k in npz.files}
                cached = ScheduleRelease(info, arrays)
                _cache[key] = cached
    return cached


def load_for(schedule: str, year: int, quarter: str) -> ScheduleRelease | None:
    info = resolve(schedule, year, quarter)
    return None if info is None else load(info)


def install(
    schedule: str,
    release_id: str,
    arrays: dict[str, np.ndarray],
    provenance: dict[str, Any],
    root: Path | None = None,
) -> ScheduleInfo:
    """Write a schedule release atomically (``root`` defaults to the user's store)."""
    if schedule not in SCHEDULE_DIRS:
        raise ValueError(f"unknown schedule {schedule!r}")
    target = (root or medicare_home()) / schedule / release_id
    store._atomic_write_dir(target, arrays, provenance)
    store.clear_cache()
    return ScheduleInfo(
        schedule, release_id, target, "installed" if root is None else "embedded", provenance
    )


store.on_clear(_cache.clear)
store.on_clear(_listed.clear)
