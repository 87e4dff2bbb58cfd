"""CMS's own computed amounts (PFREV25C: CPT 76145 in all 109 localities) reproduce to the cent."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd

import xlrate

DATA = Path(__file__).resolve().parents[1] / "data"

PFREV = DATA / "cms" / "pfs_payment_2025" / "PFREV25C.txt"


def _pfrev_rows() -> list[dict[str, str]]:
    rows = []
    with open(PFREV, newline="", encoding="latin-1") as fh:
        for rec in csv.reader(fh):
            if rec[0].startswith("TRL"):
                continue
            # Layout (docs/PF25PC.pdf): year, carrier, locality, HCPCS, modifier,
            # non-facility fee, facility fee, ...
            rows.append(
                {
                    "year": rec[0],
                    "locality": f"{rec[1]}-{rec[2]}",
                    "code": rec[3],
                    "modifier": rec[4].strip(),
                    "nonfacility": rec[5],
                    "facility": rec[6],
                }
            )
    return rows


def test_pfrev25c_has_all_localities() -> None:
    rows = _pfrev_rows()
    assert len(rows) == 109
    assert len({r["locality"] for r in rows}) == 109


def test_every_pfrev25c_amount_reproduces_to_the_cent() -> None:
    rows = _pfrev_rows()
    frame = pd.DataFrame(
        {
            "code": [r["code"] for r in rows],
            "modifier": [r["modifier"] for r in rows],
            "locality": [r["locality"] for r in rows],
        }
    )
    # 76145 carries the facility NA indicator; CMS still publishes the facility amount.
    priced = xlrate.price(frame, year=2025, release="D", include_na=True)
    mismatches = []
    for r, (_, p) in zip(rows, priced.iterrows(), strict=True):
        for setting in ("nonfacility", "facility"):
            expected = Decimal(r[setting])
            got = Decimal(f"{p[setting + '_amount']:.2f}")
            if got != expected:
                mismatches.append((r["locality"], setting, str(expected), str(got)))
    assert mismatches == []


def test_scalar_matches_pfrev_for_san_francisco() -> None:
    sf = next(r for r in _pfrev_rows() if r["locality"] == "01112-05")
    result = xlrate.medicare_amount("76145", locality="01112-05", year=2025, release="D")
    assert result.amount == Decimal(sf["nonfacility"])
    assert result.status == "priced"
