"""Medicare payment localities: ids, ZIP codes, and a search over names and counties.

A locality is a (MAC, locality number) pair written ``01112-05``; locality numbers repeat
across MACs, so the pair is the key. ZIP codes resolve through CMS's ZIP5 file. A ZIP whose
plus-four flag is 1 is split between localities (only the ZIP+4 file decides): it is
reported as split, with the locality the ZIP5 file assigns and the other localities seen in
neighbouring ZIP codes (same first three digits) as candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from xlrate.errors import LocalityError
from xlrate.medicare import store
from xlrate.medicare.store import NATIONAL, MedicareRelease, load_release, load_zip_table

_LOCALITY_RE = re.compile(r"^\s*(\d{4,5})\s*[-/ ]\s*(\d{1,2})\s*$")
_ZIP_RE = re.compile(r"^\s*(\d{5})(?:-?\d{4})?\s*$")


@dataclass(frozen=True)
class Locality:
    locality: str
    state: str
    name: str
    counties: str = ""


@dataclass(frozen=True)
class ZipMatch:
    zip: str
    locality: str | None
    split: bool
    candidates: tuple[str, ...]
    note: str


def normalize_locality(value: object) -> str | None:
    """``1112-5`` / ``01112-05`` / ``0111205`` -> ``01112-05``; ``national`` -> NATIONAL; else None."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    text = str(value).strip()
    if text.upper() in ("NATIONAL", "NAT", "US", "00000-00"):
        return NATIONAL
    match = _LOCALITY_RE.match(text)
    if match:
        return f"{match.group(1).zfill(5)}-{match.group(2).zfill(2)}"
    if re.fullmatch(r"\d{7}", text):
        return f"{text[:5]}-{text[5:]}"
    return None


def normalize_zip(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if value.is_integer():
            value = int(value)
    if isinstance(value, int):
        text = str(value)
        return text.zfill(5) if len(text) <= 5 else None
    match = _ZIP_RE.match(str(value))
    return match.group(1) if match else None


@cache
def _zip3_localities() -> dict[str, tuple[str, ...]]:
    table = load_zip_table()
    out: dict[str, list[str]] = {}
    for zip5, loc in zip(table.columns["zip"], table.columns["locality"], strict=True):
        bucket = out.setdefault(zip5[:3], [])
        if loc not in bucket:
            bucket.append(loc)
    return {k: tuple(sorted(v)) for k, v in out.items()}


store.on_clear(_zip3_localities.cache_clear)


def resolve_zip(value: object) -> ZipMatch:
    """The locality of a 5-digit ZIP code; raises LocalityError for one CMS does not list."""
    zip5 = normalize_zip(value)
    if zip5 is None:
        raise LocalityError(f"{value!r} is not a ZIP code: give 5 digits, such as 94110")
    table = load_zip_table()
    i = table.index.get(zip5)
    if i is None:
        raise LocalityError(
            f"ZIP {zip5} is not in CMS's ZIP code to locality file ({table.quarter}): check the "
            "ZIP, or give the locality id (xlrate localities --search NAME)"
        )
    locality = str(table.columns["locality"][i])
    if not bool(table.columns["plus4"][i]):
        return ZipMatch(zip5, locality, False, (locality,), "")
    nearby = _zip3_localities().get(zip5[:3], (locality,))
    candidates = (locality, *[c for c in nearby if c != locality])
    if len(candidates) == 1:
        note = (
            f"ZIP {zip5} is split between localities in CMS's file (ZIP+4 decides); every "
            f"neighbouring ZIP is in {locality}, so {locality} is used"
        )
        return ZipMatch(zip5, locality, True, candidates, note)
    note = (
        f"ZIP {zip5} is split between Medicare localities (CMS ZIP5 plus-four flag; the ZIP+4 "
        f"decides): candidates {', '.join(candidates)} ({locality} is the ZIP5 file's "
        "assignment); give the locality id instead"
    )
    return ZipMatch(zip5, None, True, candidates, note)


def _release_with_gpci(release: MedicareRelease | None) -> MedicareRelease:
    if release is not None and release.has_gpci:
        return release
    return load_release()


def locality_table(release: MedicareRelease | None = None) -> list[Locality]:
    """All localities of a release with GPCIs (the default release when none is given)."""
    rel = _release_with_gpci(release)
    c = rel.columns
    counties: dict[str, list[str]] = {}
    if "locco.locality" in c:
        for loc, area, cty in zip(
            c["locco.locality"], c["locco.area"], c["locco.counties"], strict=True
        ):
            counties.setdefault(loc, []).append(
                f"{area}: {cty}" if area and area != "STATEWIDE" else cty
            )
    return [
        Locality(loc, state, name, "; ".join(counties.get(loc, [])))
        for loc, state, name in zip(
            c["gpci.locality"], c["gpci.state"], c["gpci.name"], strict=True
        )
    ]


def search_localities(text: str, release: MedicareRelease | None = None) -> list[Locality]:
    """Localities whose id, state, name or counties contain every word of ``text``."""
    words = [w for w in re.split(r"\s+", text.strip().upper()) if w]
    if not words:
        raise LocalityError("give a word to search for, such as a city, county or state")
    found = []
    for loc in locality_table(release):
        hay = f"{loc.locality} {loc.state} {loc.name} {loc.counties}".upper()
        if all(w in hay for w in words):
            found.append(loc)
    return found


def check_locality(value: object, release: MedicareRelease | None = None) -> str:
    """Normalise a locality id and check it exists; raise LocalityError naming what is valid."""
    loc = normalize_locality(value)
    if loc == NATIONAL:
        return loc
    known = {x.locality for x in locality_table(release)}
    if loc is None or loc not in known:
        raise LocalityError(
            f"{value!r} is not a Medicare locality: write MAC-LOC such as 01112-05 "
            "(San Francisco); `xlrate localities --search NAME` lists them"
        )
    return loc
