"""DMEPOS and PEN fee schedules: a price per HCPCS + modifier(s) per state, rural or not.

CMS's files (``DMEPOS_JAN.csv`` and ``DMEPEN_JAN.csv`` in the quarter's zip, column names
as data in ``layouts/dmepos_columns.csv`` and ``pen_columns.csv``) hold one row per HCPCS,
first and second modifier, with a non-rural ``XX (NR)`` and a rural ``XX (R)`` amount per
state (0.00 = none). What CMS's read-me (``DMEREAD 2025.pdf``) says, and this module does:

- The rural amount applies to a ZIP in CMS's quarterly rural ZIP file
  (``DME Rural ZIP Code Quarter 1, 2025.csv``); every other ZIP gets the non-rural amount.
  Codes not adjusted with competitive-bidding information have only a non-rural amount,
  so a rural ZIP with no rural amount is paid the non-rural one. AK, HI, PR and VI have no
  rural fees.
- The modifiers are part of the key: NU (new purchase), RR (monthly rental), UE (used
  purchase), KU (competitive bidding program 3), KE (round 1 bid, used with
  non-competitive-bid base equipment), KF (FDA class III), KM/KN, AU/AV/AW, QB/QF...
  (meanings in ``layouts/dmepos_modifiers.csv``). A request is matched to the row whose
  modifiers are all on the request, the most specific one first; other modifiers on the
  request (LT, RT, KX...) do not change the fee. A code priced only with a modifier (most
  equipment: NU/RR/UE) says which modifiers exist when none is given.
- Ceiling and floor bound the state fees of some categories; they are shown, not applied
  (the state amounts are already within them).

The state comes from the ZIP (CMS's ZIP-to-locality file), an explicit state, or the
locality's state.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from xlrate.errors import LayoutError
from xlrate.medicare import layouts
from xlrate.medicare import schedule_files as sf
from xlrate.medicare.clfs import Quote
from xlrate.medicare.schedule_store import ScheduleRelease


@cache
def modifier_meanings() -> dict[str, str]:
    return {r["modifier"]: r["meaning"] for r in layouts.rows("dmepos_modifiers.csv")}


@cache
def category_meanings() -> dict[str, str]:
    return {r["category"]: r["meaning"] for r in layouts.rows("dmepos_categories.csv")}


def read(
    data: bytes, name: str, schedule: str = "dmepos", year: int | None = None
) -> dict[str, np.ndarray]:
    """Parse a DMEPOS (``schedule="dmepos"``) or PEN (``"pen"``) file; every row is kept."""
    rows = sf.file_rows(data, name)
    table = sf.read_rows(rows, schedule, year, name)
    c = table.columns
    states = table.states.get("nonrural", [])
    if states != table.states.get("rural", []) or not states:
        raise LayoutError(
            f"{name}: the non-rural and rural state columns do not pair up "
            f"({len(states)} non-rural, {len(table.states.get('rural', []))} rural)"
        )
    first = table.header_row + 2
    matrices = {}
    for kind in ("nonrural", "rural"):
        cols = table.state_columns[kind]
        matrices[kind] = np.array(
            [
                [
                    sf.scaled(col[i], 2, f"{states[j]} ({kind})", name, first + i)
                    for j, col in enumerate(cols)
                ]
                for i in range(table.rows)
            ],
            dtype=np.int64,
        ).reshape(table.rows, len(states))
    codes = [sf.pad_code(x) for x in c["code"]]
    arrays: dict[str, np.ndarray] = {
        "code": np.array(codes, dtype=str),
        "modifier": np.array([m.strip().upper() for m in c["modifier"]], dtype=str),
        "modifier2": np.array([m.strip().upper() for m in c["modifier2"]], dtype=str),
        "states": np.array(states, dtype=str),
        "nonrural_cents": matrices["nonrural"],
        "rural_cents": matrices["rural"],
    }
    for std in ("jurisdiction", "category"):
        if std in c:
            arrays[std] = np.array([x.strip().upper() for x in c[std]], dtype=str)
    for std in ("ceiling", "floor"):
        if std in c:
            arrays[f"{std}_cents"] = np.array(
                [sf.scaled(x, 2, std, name, first + i) for i, x in enumerate(c[std])],
                dtype=np.int64,
            )
    return arrays


def read_rural_zips(data: bytes, name: str, year: int | None = None) -> dict[str, np.ndarray]:
    """CMS's DMEPOS rural ZIP file: the ZIPs that get the rural amount, with their state."""
    table = sf.read_rows(sf.file_rows(data, name), "dme_rural_zip", year, name)
    c = table.columns
    zips = [z.strip().zfill(5) for z in c["zip"]]
    bad = [z for z in zips if not (len(z) == 5 and z.isdigit())]
    if bad:
        raise LayoutError(f"{name}: {bad[0]!r} is not a 5-digit ZIP code")
    return {
        "rural_zip": np.array(zips, dtype=str),
        "rural_zip_state": np.array([s.strip().upper() for s in c["state"]], dtype=str),
        "rural_zip_quarter": np.array(sorted(set(c["quarter"])), dtype=str),
    }


# --------------------------------------------------------------------------- pricing


def _modifier_sets(rel: ScheduleRelease) -> dict[str, list[tuple[frozenset[str], int]]]:
    found: dict[str, list[tuple[frozenset[str], int]]] | None = rel.__dict__.get("_mod_sets")
    if found is None:
        found = {}
        a = rel.arrays
        for i, (c, m1, m2) in enumerate(
            zip(a["code"].tolist(), a["modifier"].tolist(), a["modifier2"].tolist(), strict=True)
        ):
            found.setdefault(c, []).append((frozenset(m for m in (m1, m2) if m), i))
        for rows in found.values():
            rows.sort(key=lambda x: -len(x[0]))
        rel.__dict__["_mod_sets"] = found
    return found


def _describe_mods(mods: frozenset[str] | tuple[str, ...]) -> str:
    meanings = modifier_meanings()
    return ", ".join(f"{m} ({meanings[m]})" if m in meanings else m for m in sorted(mods))


_SHORT = {"NU": "NU (new)", "RR": "RR (rental, monthly)", "UE": "UE (used)"}


def _short(modifier: str) -> str:
    return _SHORT.get(modifier, modifier)


def quote(rel: ScheduleRelease, code: str, mods: tuple[str, ...]) -> Quote:
    """The file row for (code, modifiers); the amount depends on the place (see amounts)."""
    label = rel.info.schedule.upper()
    options = _modifier_sets(rel).get(code)
    if not options:
        return Quote(-1, -1, 2, "unknown_code", f"{code} is not in the {rel.label} fee schedule")
    asked = frozenset(mods)
    assumed = ""
    match = next(((m, r) for m, r in options if m <= asked), None)
    if match is None:
        # No row fits the request's modifiers. When CMS lists the code with one
        # least-modified row only (E0260 only as RR, a capped rental), that row is the
        # code's fee: price it and say which modifier it assumes. NU/RR/UE choices stay open.
        fewest = min(len(m) for m, _ in options)
        least = [(m, r) for m, r in options if len(m) == fewest]
        if len(least) == 1:
            match = least[0]
            assumed = "-".join(sorted(match[0]))
    if match is not None:
        mod_set, row = match
        a = rel.arrays
        parts = [f"{label} {rel.info.release_id}"]
        if mod_set:
            parts.append(" ".join(_short(m) for m in sorted(mod_set)))
        if "category" in a:
            category = str(a["category"][row])
            meaning = category_meanings().get(category)
            parts.append(f"category {category}" + (f" ({meaning})" if meaning else ""))
        text = " ".join(parts)
        if assumed:
            text += f" (priced as {code}-{assumed}: the file's only fee without more modifiers)"
        return Quote(row, 0, 2, "priced", text)
    choices = "; ".join(_describe_mods(s) or "no modifier" for s, _ in reversed(options))
    return Quote(
        -1,
        -1,
        2,
        "needs_modifier",
        f"{code} is priced per modifier in the {rel.label} fee schedule: add one of {choices}",
    )


def state_index(rel: ScheduleRelease) -> dict[str, int]:
    found: dict[str, int] | None = rel.__dict__.get("_state_index")
    if found is None:
        found = {s: i for i, s in enumerate(rel.arrays["states"].tolist())}
        rel.__dict__["_state_index"] = found
    return found


def rural_zips(rel: ScheduleRelease) -> frozenset[str]:
    found: frozenset[str] | None = rel.__dict__.get("_rural")
    if found is None:
        found = frozenset(rel.arrays.get("rural_zip", np.array([], dtype=str)).tolist())
        rel.__dict__["_rural"] = found
    return found


def amounts(
    rel: ScheduleRelease, row: np.ndarray, state: np.ndarray, rural: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cents or -1, rural amount used, only a rural amount exists) for each request row.

    ``row`` is the file row (-1: none), ``state`` the state's column (-1: none) and
    ``rural`` whether the ZIP is in the rural ZIP file.
    """
    ok = (row >= 0) & (state >= 0)
    table = rel.arrays["nonrural_cents"]
    # One flat position per row, taken from both tables (cheaper than 2-D indexing twice).
    at = np.where(ok, row * table.shape[1] + state, 0)
    nonrural = np.take(table.reshape(-1), at)
    rural_fee = np.take(rel.arrays["rural_cents"].reshape(-1), at)
    use_rural = ok & rural & (rural_fee > 0)
    value = np.where(use_rural, rural_fee, nonrural)
    only_rural = ok & ~rural & (nonrural == 0) & (rural_fee > 0)
    value = np.where(ok & (value > 0), value, -1)
    return value, use_rural, only_rural
