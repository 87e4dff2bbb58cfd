"""Clinical Laboratory Fee Schedule (CLFS): one national limit per HCPCS + modifier, quarterly.

CMS's file (``25CLABQ1.zip`` -> ``CLFS 2025 Q1V1.csv``; the 2026 workbook too) has a title
block, then ``YEAR, HCPCS, MOD, EFF_DATE, INDICATOR, RATE`` and descriptions (the column
names are data: ``layouts/clfs_columns.csv``). INDICATOR ``N``: RATE is the national limit,
the payment. ``L``: priced locally by the MAC, no national figure. No GPCI, no facility
split. The only modifier in the file is QW (CLIA-waived test); a request with a modifier
the file does not list for the code is priced at the code's own row.

Descriptions are not stored (CPT text is AMA-copyrighted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlrate.errors import LayoutError
from xlrate.medicare import schedule_files as sf
from xlrate.medicare.schedule_store import ScheduleRelease

SCHEDULE = "CLFS"
INDICATORS = {"N": "national limit", "L": "priced locally by the MAC"}


def read(data: bytes, name: str, year: int | None = None) -> dict[str, np.ndarray]:
    """Parse a CLFS file (.csv, .xlsx or CMS's zip) into arrays; every data row is kept."""
    if sf.is_bundle(data):
        name, data = sf.zip_member(data, r"\.csv$", name)
    table = sf.read_rows(sf.file_rows(data, name), "clfs", year, name)
    c = table.columns
    codes = [sf.pad_code(x) for x in c["code"]]
    indicator = [x.strip().upper() for x in c["indicator"]]
    rate = []
    first = table.header_row + 2
    for i, (text, ind) in enumerate(zip(c["rate"], indicator, strict=True)):
        if ind not in INDICATORS:
            raise LayoutError(f"{name}: row {first + i}: INDICATOR {ind!r} is neither N nor L")
        rate.append(sf.scaled(text, 2, "RATE", name, first + i))
    arrays = {
        "code": np.array(codes, dtype=str),
        "modifier": np.array([m.strip().upper() for m in c["modifier"]], dtype=str),
        "indicator": np.array(indicator, dtype=str),
        "rate_cents": np.array(rate, dtype=np.int64),
    }
    if "effective_date" in c:
        arrays["effective_date"] = np.array(c["effective_date"], dtype=str)
    if "year" in c:
        arrays["year"] = np.array(c["year"], dtype=str)
    return arrays


def release_id(arrays: dict[str, np.ndarray]) -> str:
    """``2025A`` from the rows' effective date (the quarter's first month)."""
    dates = sorted({str(d) for d in arrays.get("effective_date", np.array([], dtype=str))})
    if not dates or len(dates[0]) < 6:
        raise LayoutError("CLFS file has no EFF_DATE: give the release id explicitly")
    first = dates[0]
    return f"{first[:4]}{'ABCD'[(int(first[4:6]) - 1) // 3]}"


@dataclass(frozen=True)
class Quote:
    """What one (code, modifiers) resolves to in a schedule; value is per unit."""

    row: int
    value: int  # per unit, in 10**-places dollars; -1 when there is no amount
    places: int
    status: str
    note: str


def quote(rel: ScheduleRelease, code: str, mods: tuple[str, ...]) -> Quote:
    row = -1
    for mod in mods:
        row = rel.index.get((code, mod), -1)
        if row >= 0:
            break
    if row < 0:
        row = rel.index.get((code, ""), -1)
    if row < 0:
        return Quote(-1, -1, 2, "unknown_code", f"{code} is not in the {rel.label} CLFS")
    a = rel.arrays
    used = str(a["modifier"][row])
    shown = f"{code}-{used}" if used else code
    if str(a["indicator"][row]) == "L":
        return Quote(
            row,
            -1,
            2,
            "carrier_priced",
            f"CLFS {rel.info.release_id}: {shown} has no national limit (indicator L): priced by your MAC",
        )
    return Quote(
        row,
        int(a["rate_cents"][row]),
        2,
        "priced",
        f"CLFS {rel.info.release_id} national limit" + (f" ({shown})" if used else ""),
    )
