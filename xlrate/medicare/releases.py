"""Release ids of the physician fee schedule and the dates from which each applies.

CMS publishes four quarterly RVU releases a year, each in force from the first day of its
quarter, and now and then a correction release with its own date:

    2025A  from 1 January      2025B  from 1 April
    2025C  from 1 July         2025D  from 1 October
    2024AR from 9 March 2024 (RVU24AR: the revised conversion factor for 9-31 March 2024)

A correction's id is the quarter's id plus ``R`` and an optional number (``2024AR``,
``2024AR1``), as CMS names its pages (``rvu24ar``). Its date comes from
``layouts/release_dates.csv`` (as published); a correction missing from that file applies
from its quarter's date and, sorting after the quarter, supersedes it.

:func:`release_for_date` answers "which release was in force on this date": the newest one
whose effective date is on or before it, never one that has not started. :func:`today`
is the clock for "in force now"; ``XLRATE_TODAY=YYYY-MM-DD`` sets it for tests and for
pricing "as of" another day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol, TypeVar

from xlrate.errors import InputError
from xlrate.medicare import layouts

QUARTER_LETTERS = "ABCD"
QUARTER_MONTH = {"A": 1, "B": 4, "C": 7, "D": 10}
TODAY_ENV = "XLRATE_TODAY"

_ID_RE = re.compile(r"^\s*(\d{4})\s*([A-D])(R\d*)?\s*$", re.I)
_SUFFIX_RE = re.compile(r"^\s*([A-D])(R\d*)?\s*$", re.I)


@dataclass(frozen=True, order=True)
class ReleaseId:
    """A parsed release id: ``2025D`` is (2025, "D", ""), ``2024AR`` is (2024, "A", "R")."""

    year: int
    letter: str
    correction: str = ""  # "", "R", "R1", ...

    def __str__(self) -> str:
        return f"{self.year}{self.letter}{self.correction}"

    @property
    def quarter(self) -> str:
        """What follows the year in the id: ``D``, ``AR``."""
        return f"{self.letter}{self.correction}"

    @property
    def base(self) -> str:
        """The quarter's id a correction revises (``2024AR`` -> ``2024A``)."""
        return f"{self.year}{self.letter}"

    @property
    def slug(self) -> str:
        """CMS's page and file stem: ``rvu24ar``."""
        return f"rvu{self.year % 100:02d}{self.quarter.lower()}"

    @property
    def effective(self) -> dt.date:
        return effective_date(self)

    def sort_key(self) -> tuple[dt.date, int, str, str]:
        return (self.effective, self.year, self.letter, _correction_rank(self.correction))


def _correction_rank(correction: str) -> str:
    # "" < "R" < "R1" < "R2": a later correction supersedes an earlier one on the same date.
    return f"{len(correction):02d}{correction}"


def parse_release_id(text: object, year: int | None = None) -> ReleaseId:
    """``2025D``, ``2024AR``, ``rvu24ar`` (or ``D`` / ``AR`` with ``year``) as a ReleaseId.

    Raises :class:`InputError` naming the value and the accepted forms.
    """
    raw = str(text).strip()
    value = raw[3:] if raw.lower().startswith("rvu") else raw
    if raw.lower().startswith("rvu") and re.match(r"^\d{2}[a-d]", value, re.I):
        value = f"20{value}"
    match = _ID_RE.match(value)
    if match:
        found = ReleaseId(
            int(match.group(1)), match.group(2).upper(), (match.group(3) or "").upper()
        )
        if year is not None and int(year) != found.year:
            raise InputError(f"release {found} does not match year {year}")
        return found
    short = _SUFFIX_RE.match(value)
    if short and year is not None:
        return ReleaseId(int(year), short.group(1).upper(), (short.group(2) or "").upper())
    if short:
        raise InputError(
            f"release {raw!r} needs a year: write it as 2025{short.group(0).strip().upper()} or give --year"
        )
    raise InputError(
        f"release {raw!r} is not a release id: use a quarter letter A (January), B (April), "
        "C (July) or D (October) with a year (2025D), or a correction such as 2024AR"
    )


def is_release_id(text: object) -> bool:
    return bool(_ID_RE.match(str(text)))


@cache
def published_dates() -> dict[str, dt.date]:
    """{release id: effective date} for releases whose date is not their quarter's start."""
    return {
        r["release"].strip().upper(): dt.date.fromisoformat(r["effective"].strip())
        for r in layouts.rows("release_dates.csv")
    }


@functools.lru_cache(maxsize=1024)
def effective_date(release: ReleaseId | str) -> dt.date:
    """The first day a release applies to (date of service). Cached: the store asks for
    every release on every default pick."""
    rid = release if isinstance(release, ReleaseId) else parse_release_id(release)
    published = published_dates().get(str(rid))
    if published is not None:
        return published
    return dt.date(rid.year, QUARTER_MONTH[rid.letter], 1)


def describe(release: ReleaseId | str) -> str:
    """``2025D (in force from 1 October 2025)`` for messages."""
    rid = release if isinstance(release, ReleaseId) else parse_release_id(release)
    return f"{rid} (in force from {format_date(effective_date(rid))})"


def format_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def today() -> dt.date:
    """Today's date, or ``XLRATE_TODAY`` (YYYY-MM-DD) when set (a test clock)."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if value:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise InputError(f"{TODAY_ENV}={value!r} is not a date like 2026-12-15") from None
    return dt.date.today()


def parse_date(value: object) -> dt.date:
    """A date of service: a ``date``/``datetime`` or ``YYYY-MM-DD`` text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(
            f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2025-02-14"
        ) from None


def sort_releases(ids: Iterable[str | ReleaseId]) -> list[ReleaseId]:
    """Release ids in the order they took effect (unparseable ids are left out)."""
    out = []
    for item in ids:
        try:
            out.append(item if isinstance(item, ReleaseId) else parse_release_id(item))
        except InputError:
            continue
    return sorted(out, key=ReleaseId.sort_key)


def in_force(ids: Iterable[str | ReleaseId], on: dt.date) -> list[ReleaseId]:
    """The releases of ``ids`` that had started on ``on``, oldest first."""
    return [r for r in sort_releases(ids) if r.effective <= on]


def release_for_date(ids: Iterable[str | ReleaseId], on: object) -> ReleaseId | None:
    """The release of ``ids`` in force on ``on``: the newest whose effective date is on or
    before it (never one that has not started); None when all start later."""
    started = in_force(ids, parse_date(on))
    return started[-1] if started else None


class _Release(Protocol):
    @property
    def release_id(self) -> str: ...

    @property
    def complete(self) -> bool: ...


R = TypeVar("R", bound=_Release)


def _effective_or_max(item: _Release) -> dt.date:
    try:
        return effective_date(item.release_id)
    except InputError:  # a name that is no release id sorts last, never "in force"
        return dt.date.max


def _dated(items: Iterable[R]) -> list[tuple[dt.date, str, R]]:
    return sorted(((_effective_or_max(i), i.release_id, i) for i in items), key=lambda t: t[:2])


def by_effective(items: Iterable[R]) -> list[R]:
    """Releases (anything with ``release_id``) in the order they took effect."""
    return [i for _, _, i in _dated(items)]


def in_force_on(items: Iterable[R], on: dt.date) -> R | None:
    """The release of ``items`` in force on ``on`` (None when none had started)."""
    started = [i for day, _, i in _dated(items) if day <= on]
    return started[-1] if started else None


def default_release(items: Sequence[R], on: dt.date | None = None) -> R:
    """The store's default: the newest complete release in force ``on`` (today), else the
    newest in force; when none has started, the first to start."""
    dated = _dated(items)
    now = on or today()
    started = [i for day, _, i in dated if day <= now] or [dated[0][2]]
    complete = [i for i in started if i.complete]
    return (complete or started)[-1]


def year_release(of_year: Sequence[R], on: dt.date | None = None) -> R:
    """A year's release when only the year is given: the one in force ``on`` (today); a
    past year's last, a future year's first."""
    ordered = by_effective(of_year)
    return in_force_on(ordered, on or today()) or ordered[0]


def quarter_release(on: object) -> ReleaseId:
    """The quarterly release CMS has in force on a date (corrections aside): 14 Feb 2025 -> 2025A."""
    day = parse_date(on)
    return ReleaseId(day.year, QUARTER_LETTERS[(day.month - 1) // 3])


def date_note(chosen: str, on: object) -> str:
    """What ``xlrate price --date`` says: the release used, and the one CMS has in force
    that date when that one is not installed here."""
    day = parse_date(on)
    text = f"Date of service {day.isoformat()}: release {describe(chosen)}."
    expected = quarter_release(day)
    if effective_date(chosen) < expected.effective:
        text += (
            f" CMS's release for that date is {expected}, not installed here: "
            f"`xlrate medicare update --year {expected.year} --release {expected.letter}`."
        )
    return text


def releases_for_dates(ids: Iterable[str | ReleaseId], dates: Iterable[object]) -> list[str | None]:
    """The release in force on each date (an 835's service dates), by one sort and a binary
    search per date; None where no release had started."""
    ordered = sort_releases(ids)
    starts = [r.effective for r in ordered]
    out: list[str | None] = []
    for day in dates:
        at = bisect.bisect_right(starts, parse_date(day))
        out.append(str(ordered[at - 1]) if at else None)
    return out


__all__ = [
    "ReleaseId",
    "by_effective",
    "date_note",
    "quarter_release",
    "default_release",
    "in_force_on",
    "year_release",
    "describe",
    "effective_date",
    "format_date",
    "in_force",
    "is_release_id",
    "parse_date",
    "parse_release_id",
    "release_for_date",
    "releases_for_dates",
    "sort_releases",
    "today",
]
