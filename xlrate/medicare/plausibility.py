"""Plausible CMS values, checked before a release is installed (issue 10 item 4).

The bounds are data, ``layouts/plausibility.csv``: a range per column (GPCIs, RVUs, the
anesthesia CF, the CF), what a blank means there (``refuse``: a blank GPCI is an error in
the file, never 0; read by :mod:`xlrate.medicare.cms_files`), and one ``change`` row: at most
X% of the codes may move by more than Y% against the previous release of the same year.
A failure is one line naming the file, the row and the value.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from xlrate.errors import InputError, UpdateError
from xlrate.medicare import layouts, releases, store

if TYPE_CHECKING:
    from xlrate.medicare.cms_files import Bundle


class ImplausibleError(UpdateError):
    """A value outside its plausible range; ``reason`` / ``hint`` feed the update's message."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason}. {hint}" if hint else reason)
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class Bound:
    """A row of ``layouts/plausibility.csv``."""

    kind: str  # "range" or "change"
    table: str
    column: str
    label: str
    places: int
    low: Decimal
    high: Decimal


@functools.cache
def bounds() -> tuple[Bound, ...]:
    return tuple(
        Bound(
            r["kind"],
            r["table"],
            r["column"],
            r["label"],
            int(r["places"] or 0),
            Decimal(r["min"]),
            Decimal(r["max"]),
        )  # fmt: skip
        for r in layouts.rows("plausibility.csv")
    )


def _key(bundle: Bundle, table: str, i: int) -> str:
    frame = bundle.tables[table]
    assert frame is not None
    if "code" in frame.columns:
        code, modifier = str(frame["code"].iat[i]), str(frame["modifier"].iat[i])
        return f"{code}-{modifier}" if modifier else code
    return str(frame["locality"].iat[i]) if "locality" in frame.columns else ""


def check_values(bundle: Bundle, prefix: str = "") -> None:
    """Every value within its plausible range (a GPCI of 869 for 0.869, a negative GPCI, a
    work RVU of 1300, a CF of 3.23 are refused), naming the file, the row and the value."""
    for bound in bounds():
        if bound.kind != "range":
            continue
        scale = Decimal(10) ** bound.places
        low, high = int(bound.low * scale), int(bound.high * scale)
        if bound.table == "bundle":
            value = Decimal(getattr(bundle, bound.column))
            if not bound.low <= value <= bound.high:
                raise ImplausibleError(
                    f"{prefix}{bundle.sources.get('pprrvu', '')} ({bundle.release_id}): "
                    f"{bound.label} {value} is outside the plausible {bound.low} to {bound.high}",
                    "Check it is the RVU zip from CMS",
                )
            continue
        frame = bundle.tables.get(bound.table)
        if frame is None or bound.column not in frame.columns:
            continue
        values = frame[bound.column].to_numpy(dtype=np.int64)
        bad = np.flatnonzero((values < low) | (values > high))
        if len(bad):
            i = int(bad[0])
            lines = bundle.lines.get(bound.table)
            row = f" row {int(lines[i])}" if lines is not None else ""
            value = Decimal(int(values[i])) / scale
            more = f" (and {len(bad) - 1:,} more)" if len(bad) > 1 else ""
            raise ImplausibleError(
                f"{prefix}{bundle.sources.get(bound.table, bound.table)}{row} "
                f"({_key(bundle, bound.table, i)}): {bound.label} {value} is outside the "
                f"plausible {bound.low} to {bound.high}{more}",
                "Check it is the RVU zip from CMS; a value like 869 for 0.869 means the file "
                "is damaged",
            )


def previous_release(bundle: Bundle) -> store.MedicareRelease | None:
    """The release of the same year to compare with: the newest that started before this one,
    else an earlier copy of this very release (a re-post)."""
    try:
        this = releases.effective_date(bundle.release_id)
    except InputError:
        return None
    same_year = [i for i in store.list_releases() if i.year == bundle.year]
    earlier = [
        i for i in same_year
        if releases.is_release_id(i.release_id) and releases.effective_date(i.release_id) < this
    ]  # fmt: skip
    earlier.sort(key=lambda i: releases.parse_release_id(i.release_id).sort_key())
    candidates = earlier[-1:] or [i for i in same_year if i.release_id == bundle.release_id]
    if not candidates:
        return None
    info = candidates[0]
    try:
        return store.load_release(info.year, info.quarter)
    except Exception:  # a damaged previous release must not block installing a good one
        return None


def check_changes(bundle: Bundle, prefix: str = "") -> None:
    """At most X% of the codes may move by more than Y% (``layouts/plausibility.csv``)
    against the previous release of the same year: a file with every RVU x10 is refused."""
    # lazy: pandas only when a previous release of the year is there to compare with
    import pandas as pd

    rule = next((b for b in bounds() if b.kind == "change"), None)
    previous = previous_release(bundle)
    rvu = bundle.tables.get("pprrvu")
    if rule is None or previous is None or rvu is None:
        return
    cols = ("work_rvu", "pe_rvu_nonfacility", "mp_rvu")
    new = pd.DataFrame({"code": rvu["code"], "modifier": rvu["modifier"],
                        "new": sum(rvu[c].astype(np.int64) for c in cols),
                        "row": bundle.lines.get("pprrvu", np.zeros(len(rvu), dtype=np.int64))})  # fmt: skip
    arrays = previous.arrays
    old = pd.DataFrame({"code": arrays["pprrvu.code"], "modifier": arrays["pprrvu.modifier"],
                        "old": sum(arrays[f"pprrvu.{c}"].astype(np.int64) for c in cols)})  # fmt: skip
    both = old[old["old"] > 0].merge(new, on=["code", "modifier"])
    if both.empty:
        return
    moved = both[(both["new"] - both["old"]).abs() * 100 > both["old"] * int(rule.low)]
    share = Decimal(len(moved) * 100) / len(both)
    if share > rule.high:
        first = moved.iloc[0]
        key = f"{first['code']}-{first['modifier']}" if first["modifier"] else first["code"]
        raise ImplausibleError(
            f"{prefix}{bundle.sources.get('pprrvu', 'PPRRVU')}: {len(moved):,} of {len(both):,} "
            f"codes ({share:.1f}%) move more than {rule.low}% against {previous.release_id}, "
            f"at most {rule.high}% may (row {int(first['row'])} {key}: {rule.label} "
            f"{Decimal(int(first['old'])) / 100} -> {Decimal(int(first['new'])) / 100})",
            "Check it is the RVU zip from CMS",
        )
