"""Part B drugs (ASP): the quarterly payment limit per billing unit of the HCPCS dosage.

CMS's ASP pricing file (the "section 508" CSV in the quarter's zip) has a title block, then
``HCPCS Code, Short Description, HCPCS Code Dosage, Payment Limit, ...`` (names as data in
``layouts/asp_columns.csv``). The payment limit (usually 106% of ASP, already applied) has
three decimals and is per billing unit of the dosage: J3301 is 0.898 per 10 MG, so 4 units
(40 mg) are 3.592 -> 3.59. The amount is limit x units, rounded half-up to cents once.
"""

from __future__ import annotations

import numpy as np

from xlrate.errors import LayoutError
from xlrate.medicare import schedule_files as sf
from xlrate.medicare.clfs import Quote
from xlrate.medicare.schedule_store import ScheduleRelease

SCHEDULE = "ASP"
_MONTHS = {
    m: i
    for i, m in enumerate(
        (
            "JANUARY",
            "FEBRUARY",
            "MARCH",
            "APRIL",
            "MAY",
            "JUNE",
            "JULY",
            "AUGUST",
            "SEPTEMBER",
            "OCTOBER",
            "NOVEMBER",
            "DECEMBER",
        )
    )
}


def read(data: bytes, name: str, year: int | None = None) -> dict[str, np.ndarray]:
    """Parse an ASP pricing file (CSV or CMS's zip holding it); every data row is kept."""
    if sf.is_bundle(data):
        name, data = sf.zip_member(data, r"\.csv$", name)
    rows = sf.file_rows(data, name)
    table = sf.read_rows(rows, "asp", year, name)
    c = table.columns
    first = table.header_row + 2
    # "N/A": no limit in the file (A9606 is priced from AWP, says its note) -> -1.
    limits = [
        -1
        if t.strip().upper() in ("N/A", "NA", "")
        else sf.scaled(t, 3, "Payment Limit", name, first + i)
        for i, t in enumerate(c["payment_limit"])
    ]
    codes = [sf.pad_code(x) for x in c["code"]]
    bad = [x for x in codes if len(x) != 5]
    if bad:
        raise LayoutError(f"{name}: {bad[0]!r} in the HCPCS column is not a code")
    arrays: dict[str, np.ndarray] = {
        "code": np.array(codes, dtype=str),
        "dosage": np.array(c["dosage"], dtype=str),
        "limit_milli": np.array(limits, dtype=np.int64),
        "notes": np.array(c.get("notes", [""] * len(codes)), dtype=str),
    }
    period = _effective(rows[: table.header_row])
    if period:
        arrays["effective"] = np.array([period], dtype=str)
    return arrays


def _effective(title: list[list[str]]) -> str:
    """``2025A`` from "Effective January 1, 2025 through March 31, 2025"."""
    for row in title:
        text = " ".join(row).upper()
        if "EFFECTIVE" in text:
            words = text.replace(",", " ").split()
            for i, w in enumerate(words):
                if w in _MONTHS and i + 2 < len(words) and words[i + 2].isdigit():
                    return f"{words[i + 2]}{'ABCD'[_MONTHS[w] // 3]}"
    return ""


def quote(rel: ScheduleRelease, code: str, mods: tuple[str, ...]) -> Quote:
    row = rel.index.get((code, ""), -1)
    if row < 0:
        return Quote(-1, -1, 3, "unknown_code", f"{code} is not in the {rel.label} ASP file")
    a = rel.arrays
    limit = int(a["limit_milli"][row])
    dosage = str(a["dosage"][row])
    text = f"{limit // 1000}.{limit % 1000:03d}"
    note = f"ASP {rel.info.release_id}: {text} per billing unit of {dosage}"
    if limit <= 0:
        extra = " ".join(str(a["notes"][row]).split())
        return Quote(
            row,
            -1,
            3,
            "not_priced",
            f"ASP {rel.info.release_id}: no payment limit for {code} in the file (N/A)"
            + (f": {extra}" if extra else ""),
        )
    return Quote(row, limit, 3, "priced", note)
