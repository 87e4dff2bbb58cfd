"""One set of pricing rules, two executors: plain Python for one request, numpy for tables.

The scalar executor (``medicare_amount``) must run with the standard library only (Pyodide
in Excel on the web has no pandas and, offline, no numpy), and must agree with the
vectorised one (``price``) to the cent, status and note, on every kind of request.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import xlrate
from xlrate.medicare.store import load_release

REPO = Path(__file__).resolve().parents[2]

MODIFIERS = ["", "", "", "26", "TC", "50", "51", "62", "80", "AS", "26-51", "53", "XX", "26-TC"]
SETTINGS = ["nonfacility", "facility", "both", "11", "22"]
OPTIONS = [
    {},
    {"participating": False},
    {"limiting_charge": True, "npp": True},
    {"sequestration": True, "include_na": True},
    {"qp": True},
]


def _requests(release: str, n: int, seed: int) -> pd.DataFrame:
    rel = load_release(int(release[:4]), release[4:])
    rng = random.Random(seed)
    codes = rel.columns["pprrvu.code"]
    places = [*rel.localities, "NATIONAL", "99999-99", "nowhere", ""]
    zips = ["94110", "35203", "10001", "00000", "abc", "", "", "", "", ""]
    capped = sorted({c for c in rel.columns.get("oppscap.code", [])})[:50]
    rows = []
    for i in range(n):
        code = rng.choice(capped) if capped and i % 5 == 0 else rng.choice(codes)
        if i % 37 == 0:
            code = rng.choice(["9921", "ABCDE", "99999", "G0008", "0001F"])
        rows.append(
            {
                "code": code,
                "modifier": rng.choice(MODIFIERS),
                "locality": rng.choice(places),
                "zip": rng.choice(zips),
                "setting": rng.choice(SETTINGS),
            }
        )
    return pd.DataFrame(rows)


def _cents(value: object) -> int:
    return -1 if value is None or value != value else round(float(value) * 100)  # type: ignore[arg-type, operator]


@pytest.mark.parametrize("release", ["2025D", "2026C"])
@pytest.mark.parametrize("options", OPTIONS)
def test_scalar_and_vectorised_executors_agree(release: str, options: dict[str, bool]) -> None:
    frame = _requests(release, 1500, seed=len(options) + int(release[:4]))
    table = xlrate.price(frame, year=int(release[:4]), release=release[4:], **options)
    checked = priced = 0
    for req, row in zip(frame.to_dict("records"), table.to_dict("records"), strict=True):
        one = xlrate.medicare_amount(
            req["code"],
            req["modifier"],
            locality=req["locality"],
            zip=req["zip"],
            setting=req["setting"],
            year=int(release[:4]),
            release=release[4:],
            **options,
        )
        assert (
            _cents(one.nonfacility),
            _cents(one.facility),
            one.status,
            one.note,
            one.locality,
            one.release,
        ) == (
            _cents(row["nonfacility_amount"]),
            _cents(row["facility_amount"]),
            row["status"],
            row["note"],
            row["locality"],
            row["release"],
        ), req
        checked += 1
        priced += one.status == "priced"
    assert checked == 1500 and priced > 100  # the sample reaches the arithmetic


def test_price_outputs_are_categoricals() -> None:
    table = xlrate.price(
        pd.DataFrame({"code": ["99213", "99214", "XXXXX"], "locality": ["01112-05"] * 3})
    )
    for column in ("status", "locality", "release", "note"):
        assert isinstance(table[column].dtype, pd.CategoricalDtype), column
    assert list(table["status"]) == ["priced", "priced", "invalid_code"]


def test_price_in_chunks_matches_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    from xlrate.medicare import pricing

    frame = _requests("2025D", 3000, seed=3)
    whole = xlrate.price(frame)
    monkeypatch.setattr(pricing, "CHUNK_ROWS", 97)
    monkeypatch.setattr(pricing, "SLICE_ROWS", 101)
    chunked = xlrate.price(frame)
    pd.testing.assert_frame_equal(whole, chunked, check_categorical=False)


BLOCK_NUMPY = """
import sys
for name in ("numpy", "pandas", "pyarrow", "platformdirs"):
    sys.modules[name] = None  # `import numpy` now raises ImportError, as under Pyodide
"""


def _run_without_numpy(code: str, tmp_path: Path, home: bool = True) -> str:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCK_NUMPY, "utf-8")
    env = {k: v for k, v in os.environ.items() if k != "XLRATE_HOME"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(REPO)])
    if home:
        env["XLRATE_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_blocking_shim_blocks_numpy(tmp_path: Path) -> None:
    out = _run_without_numpy(
        "try:\n import numpy\nexcept ImportError:\n print('blocked')", tmp_path
    )
    assert out == "blocked"


@pytest.mark.parametrize("home", [True, False])
def test_medicare_amount_with_the_standard_library_only(tmp_path: Path, home: bool) -> None:
    # The Interfaces line of issue 11; the test recounts 109.15 from CMS's own files below.
    code = (
        "import sys, xlrate\n"
        "r = xlrate.medicare_amount('99213', locality='01112-05', year=2025, setting='nonfacility')\n"
        "z = xlrate.medicare_amount('99213', zip='94110', year=2025, setting='facility')\n"
        "c = xlrate.medicare_amount('70450', '26', locality='01112-05', year=2025)\n"
        "print(repr(r.amount), z.locality, repr(z.amount), c.status)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'pandas') "
        "and sys.modules[m] is not None))\n"
    )
    out = _run_without_numpy(code, tmp_path, home=home).splitlines()
    one = xlrate.medicare_amount("99213", zip="94110", year=2025, setting="facility")
    cap = xlrate.medicare_amount("70450", "26", locality="01112-05", year=2025)
    assert out[0] == f"Decimal('109.15') 01112-05 {one.amount!r} {cap.status}"
    assert out[1] == "[]"
    assert _cms_amount("99213", "01112", "05") == Decimal("109.15")


def _cms_amount(code: str, mac: str, locality: str) -> Decimal:
    """Non-facility amount counted from the CMS RVU25D files, independently of xlrate."""
    folder = REPO / "tests" / "data" / "cms" / "rvu25d"
    with open(folder / "PPRRVU2025_Oct.csv", newline="", encoding="latin-1") as fh:
        rvu = next(r for r in csv.reader(fh) if r[:2] == [code, ""])
    with open(folder / "GPCI2025.csv", newline="", encoding="latin-1") as fh:
        gpci = next(r for r in csv.reader(fh) if r[0] == mac and r[2] == locality)
    work, pe_nf, mp, cf = (Decimal(rvu[i]) for i in (5, 6, 10, 24))
    g_work, g_pe, g_mp = (Decimal(gpci[i]) for i in (4, 5, 6))
    total = (work * g_work + pe_nf * g_pe + mp * g_mp) * cf
    return total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_price_keeps_the_callers_index_and_frame() -> None:
    frame = pd.DataFrame(
        {"code": ["99213", "99214", "99213"], "locality": ["01112-05"] * 3}, index=[7, 7, "x"]
    )
    before = frame.copy()
    table = xlrate.price(frame)
    assert list(table.index) == [7, 7, "x"]
    plain = xlrate.price(frame.reset_index(drop=True))
    assert list(table["amount"]) == list(plain["amount"])
    pd.testing.assert_frame_equal(frame, before)  # new columns go to a copy
