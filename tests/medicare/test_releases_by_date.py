"""Several releases of one year (issue 12), chosen by date of service (issue 16).

Golden values come from CMS's own files: RVU25A's PPRRVU totals x its CONV FACTOR, and the
0446T/0448T rows of the January and October files, read here with the csv module.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import xlrate
from xlrate.medicare import store

DATA = Path(__file__).resolve().parents[1] / "data" / "cms"
RVU25A_ZIP = DATA / "rvu25a" / "rvu25a-updated-01_10_2025.zip"
CODE = re.compile(r"[0-9A-Z]{5}")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _rows(text: str) -> dict[tuple[str, str], list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    header = next(i for i, r in enumerate(rows) if r[:2] == ["HCPCS", "MOD"])
    return {(r[0], r[1]): r for r in rows[header + 1 :] if r and CODE.fullmatch(r[0])}


def _january() -> dict[tuple[str, str], list[str]]:
    with zipfile.ZipFile(RVU25A_ZIP) as archive:
        return _rows(archive.read("PPRRVU25_JAN.csv").decode("latin-1"))


def _october() -> dict[tuple[str, str], list[str]]:
    return _rows((DATA / "rvu25d" / "PPRRVU2025_Oct.csv").read_text(encoding="latin-1"))


def test_every_national_amount_of_rvu25a_equals_cms_totals_times_cf() -> None:
    status, nf_total, f_total, cf = 3, 11, 12, 24
    rows = [r for r in _january().values() if r[status] in ("A", "R", "T")]
    assert len(rows) > 10000
    frame = pd.DataFrame({"code": [r[0] for r in rows], "modifier": [r[1] for r in rows]})
    priced = xlrate.price(frame, year=2025, release="A", national=True, include_na=True)
    assert set(priced["release"]) == {"2025A"}
    bad = []
    for r, nf, f in zip(rows, priced["nonfacility_amount"], priced["facility_amount"], strict=True):
        want_nf = _cents(Decimal(r[nf_total]) * Decimal(r[cf]))
        want_f = _cents(Decimal(r[f_total]) * Decimal(r[cf]))
        if Decimal(f"{nf:.2f}") != want_nf or Decimal(f"{f:.2f}") != want_f:
            bad.append((r[0], r[1], str(want_nf), nf, str(want_f), f))
    assert bad == []


@pytest.mark.parametrize("code", ["0446T", "0448T"])
def test_january_and_october_differ_as_the_two_files_say(code: str) -> None:
    jan, octo = _january()[(code, "")], _october()[(code, "")]
    assert jan[11] != octo[11]  # CMS changed the non-facility total between the releases
    a = xlrate.medicare_amount(code, year=2025, release="A")
    d = xlrate.medicare_amount(code, year=2025, release="D")
    assert a.amount == _cents(Decimal(jan[11]) * Decimal(jan[24]))
    assert d.amount == _cents(Decimal(octo[11]) * Decimal(octo[24]))
    assert a.amount != d.amount


def test_release_in_force_on_a_date_of_service() -> None:
    assert store.resolve_release(date="2025-02-14").release_id == "2025A"
    assert store.resolve_release(date="2025-09-30").release_id == "2025A"  # no 2025B/C here
    assert store.resolve_release(date="2025-10-01").release_id == "2025D"
    assert store.resolve_release(date="2026-07-01").release_id == "2026C"
    with pytest.raises(xlrate.XlrateError, match="in force on 2024-12-31"):
        store.resolve_release(date="2024-12-31")


def run(*args: str, today: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if today:
        env["XLRATE_TODAY"] = today
    return subprocess.run(
        [sys.executable, "-m", "xlrate", *args], capture_output=True, text=True, env=env
    )


def test_price_with_release_a_and_with_a_date() -> None:
    jan = _january()[("0446T", "")]
    want = str(_cents(Decimal(jan[11]) * Decimal(jan[24])))
    by_release = run("price", "0446T", "--national", "--year", "2025", "--release", "A",
                     "--format", "csv")  # fmt: skip
    assert by_release.returncode == 0, by_release.stderr
    row = next(csv.DictReader(io.StringIO(by_release.stdout)))
    assert (row["release"], row["nonfacility_amount"]) == ("2025A", want)

    by_date = run("price", "0446T", "--national", "--date", "2025-02-14", "--format", "csv")
    assert by_date.returncode == 0, by_date.stderr
    row = next(csv.DictReader(io.StringIO(by_date.stdout)))
    assert (row["release"], row["nonfacility_amount"]) == ("2025A", want)
    assert "release 2025A (in force from 1 January 2025)" in by_date.stderr

    both = run("price", "0446T", "--national", "--date", "2025-02-14", "--year", "2025")
    assert both.returncode != 0 and "not both" in both.stderr
