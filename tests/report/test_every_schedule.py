"""The workbook covers every schedule (issue 12): a payer's lab code (CLFS), drug (ASP) and
DMEPOS codes get a Medicare amount on the Medicare sheet with their schedule, a percent of
Medicare on the payer sheet, and the Sources sheet lists the CMS files that priced them.

Expected amounts are read from CMS's files (tests/data/schedules) with csv here; the
workbook is built and read back with openpyxl (no recalculation needed: the checks are on
values and on the formulas' references)."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest

from xlrate.analysis import Analysis, PayerSpec, Profile, analyze
from xlrate.report import layout as L
from xlrate.report.workbook import BuildResult, build_workbook

DATA = Path(__file__).parents[1] / "data" / "schedules"
CLFS_ZIP = DATA / "clfs_2025q1" / "25CLABQ1.zip"
ASP_ZIP = DATA / "asp_2025q1" / "january-2025-asp-pricing-file-12_19_24-final-file.zip"
DMEPOS_CSV = DATA / "dmepos_2025q1" / "DMEPOS_JAN.csv"


def _table(text: str, first: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r and r[0] == first)
    return rows[start], [r for r in rows[start + 1 :] if r and r[0].strip()]


def clfs_rate(code: str) -> Decimal:
    with zipfile.ZipFile(CLFS_ZIP) as zf:
        _, rows = _table(zf.read("CLFS 2025 Q1V1.csv").decode("cp1252"), "YEAR")
    return next(Decimal(r[5]) for r in rows if r[1] == code and not r[2])


def asp_limit(code: str) -> Decimal:
    with zipfile.ZipFile(ASP_ZIP) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        _, rows = _table(zf.read(name).decode("cp1252"), "HCPCS Code")
    return next(Decimal(r[3]) for r in rows if r[0] == code)


def dmepos_fee(code: str, mod: str, column: str) -> Decimal:
    header, rows = _table(DMEPOS_CSV.read_text("cp1252"), "HCPCS")
    row = next(r for r in rows if (r[0], r[1], r[2]) == (code, mod, ""))
    return Decimal(row[header.index(column)])


# code, modifier, payer fee: a lab code, a Part B drug, a DMEPOS rental and the same
# supply new and rented (two different DMEPOS fees), and an office visit (PFS)
FEES = [
    ("85025", "", "10.00"),
    ("J3301", "", "1.20"),
    ("E0260", "RR", "90.00"),
    ("A4618", "NU", "12.00"),
    ("A4618", "RR", "1.50"),
    ("99213", "", "120.00"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Analysis, BuildResult]:
    root = tmp_path_factory.mktemp("schedules")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLRATE_HOME", str(root / "home"))  # the embedded Medicare data only
        from xlrate.medicare import store

        store.clear_cache()
        fees = root / "mixed.csv"
        fees.write_text(
            "Code,Mod,Fee,Volume\n" + "".join(f"{c},{m},{f},10\n" for c, m, f in FEES), "utf-8"
        )
        profile = Profile(
            name="Every schedule",
            zip="35203",  # Birmingham, Alabama: a non-rural ZIP (not in CMS's rural ZIP file)
            year=2025,
            payers=(PayerSpec("Mixed Payer", fees=(fees,), target=1.0),),
        )
        analysis = analyze(profile)
        result = build_workbook(analysis, root / "schedules.xlsx")
        store.clear_cache()
    return analysis, result


def _expected() -> dict[tuple[str, str], tuple[str, Decimal]]:
    cents = Decimal("0.01")
    return {
        ("85025", ""): ("CLFS", clfs_rate("85025")),
        ("J3301", ""): ("ASP", asp_limit("J3301").quantize(cents, ROUND_HALF_UP)),
        ("E0260", "RR"): ("DMEPOS", dmepos_fee("E0260", "RR", "AL (NR)")),
        ("A4618", "NU"): ("DMEPOS", dmepos_fee("A4618", "NU", "AL (NR)")),
        ("A4618", "RR"): ("DMEPOS", dmepos_fee("A4618", "RR", "AL (NR)")),
    }


def test_the_published_amounts() -> None:
    assert clfs_rate("85025") == Decimal("7.77")
    assert asp_limit("J3301") == Decimal("0.898")
    assert dmepos_fee("A4618", "NU", "AL (NR)") != dmepos_fee("A4618", "RR", "AL (NR)")


def test_the_analysis_prices_every_schedule(built: tuple[Analysis, BuildResult]) -> None:
    analysis, _ = built
    rows = {(r.code, r.modifier): r for r in analysis.rows.itertuples()}
    for key, (_, amount) in _expected().items():
        row = rows[key]
        assert Decimal(f"{row.medicare:.2f}") == amount, key
        fee = next(Decimal(f) for c, m, f in FEES if (c, m) == key)
        assert row.pct == pytest.approx(float(fee / amount)), key
    table = {(r.code, r.modifier): r.schedule for r in analysis.medicare.itertuples()}
    assert {k: table[k] for k in _expected()} == {k: v[0] for k, v in _expected().items()}
    assert table[("99213", "")] == "PFS"


def test_medicare_sheet_shows_amount_and_schedule(built: tuple[Analysis, BuildResult]) -> None:
    _, result = built
    wb = openpyxl.load_workbook(result.path)
    ws = wb["Medicare"]
    col = L.numbers(L.MEDICARE_COLUMNS)
    assert ws.cell(L.MEDICARE_HEADER_ROW, col["schedule"]).value == "Schedule"
    found: dict[tuple[str, str], tuple[str, Decimal]] = {}
    for r in range(L.MEDICARE_HEADER_ROW + 1, ws.max_row + 1):
        code = ws.cell(r, col["code"]).value
        if code:
            amount = ws.cell(r, col["amount"]).value
            mod = ws.cell(r, col["modifier"]).value or ""
            schedule = ws.cell(r, col["schedule"]).value
            found[(str(code), str(mod))] = (schedule, Decimal(f"{amount:.2f}"))
    assert {k: found[k] for k in _expected()} == _expected()
    assert found[("99213", "")][0] == "PFS"
    assert "Medicare_Schedule" in wb.defined_names
    # The payer sheet's percent of Medicare is a formula over the Medicare sheet's amount.
    payer = wb[result.payer_sheets["Mixed Payer"]]
    formulas = [
        str(c.value) for row in payer.iter_rows() for c in row if str(c.value).startswith("=")
    ]
    assert any("Medicare" in f for f in formulas)


def test_sources_lists_the_schedule_files(built: tuple[Analysis, BuildResult]) -> None:
    analysis, result = built
    assert set(analysis.schedule_provenance) == {"CLFS 2025A", "ASP 2025A", "DMEPOS 2025A"}
    ws = openpyxl.load_workbook(result.path)["Sources"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    by_release = {r[1]: r for r in rows if r[0] == "CMS"}
    clfs, asp = by_release["CLFS 2025A"], by_release["ASP 2025A"]
    assert str(clfs[2]).startswith("25CLABQ1.zip")
    assert clfs[3] == hashlib.sha256(CLFS_ZIP.read_bytes()).hexdigest()
    assert asp[3] == hashlib.sha256(ASP_ZIP.read_bytes()).hexdigest()
    dmepos = [r for r in rows if r[0] == "CMS" and r[1] == "DMEPOS 2025A"]
    names = {str(r[2]).split(" (")[0] for r in dmepos}
    assert "DMEPOS_JAN.csv" in names
    assert any(r[3] == hashlib.sha256(DMEPOS_CSV.read_bytes()).hexdigest() for r in dmepos)
