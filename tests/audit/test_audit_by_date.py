"""Percent-of-Medicare without a stated release: each 835 line is priced with the Medicare
release in force on its date of service (issue 12). 0446T's national non-facility amount
differs between the embedded 2025A (January) and 2025D (October); the expected amounts are
CMS's totals x conversion factor, read here from CMS's own PPRRVU files with csv."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from era_generator import Claim, Line, render

from xlrate.analysis.audit import AuditResult, audit_lines, parse_contract
from xlrate.practice.era835 import read_era

CMS = Path(__file__).parents[1] / "data" / "cms"
CODE = re.compile(r"[0-9A-Z]{5}")


def _nonfacility(text: str, code: str) -> Decimal:
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r[:2] == ["HCPCS", "MOD"])
    row = next(r for r in rows[start + 1 :] if r and r[0] == code and r[1] == "")
    total, cf = Decimal(row[11]), Decimal(row[24])  # NON-FACILITY TOTAL, CONV FACTOR
    return (total * cf).quantize(Decimal("0.01"), ROUND_HALF_UP)


def january(code: str) -> Decimal:
    with zipfile.ZipFile(CMS / "rvu25a" / "rvu25a-updated-01_10_2025.zip") as archive:
        return _nonfacility(archive.read("PPRRVU25_JAN.csv").decode("latin-1"), code)


def october(code: str) -> Decimal:
    text = (CMS / "rvu25d" / "PPRRVU2025_Oct.csv").read_text(encoding="latin-1")
    return _nonfacility(text, code)


def audit(tmp_path: Path, code: str, contract: dict[str, object]) -> AuditResult:
    paid = Decimal("100.00")
    claims = [
        Claim(f"C{n}", day, "11", [Line(code, billed=Decimal("900.00"), allowed=paid, paid=paid)])
        for n, day in enumerate([date(2025, 2, 14), date(2025, 11, 14)])
    ]
    era = tmp_path / "dated.835"
    era.write_text(render(claims), encoding="latin-1")
    return audit_lines(read_era(era, lines=True).lines, parse_contract(contract))


@pytest.mark.parametrize("code", ["0446T", "0448T"])
def test_each_line_uses_the_release_in_force_on_its_date(tmp_path: Path, code: str) -> None:
    jan, octo = january(code), october(code)
    assert jan != octo
    for contract in ({"pct_of_medicare": 100}, {"pct_of_medicare": 100, "medicare_year": 2025}):
        result = audit(tmp_path, code, contract)
        feb, nov = result.lines
        assert (feb.service_date, nov.service_date) == (date(2025, 2, 14), date(2025, 11, 14))
        assert (feb.expected, nov.expected) == (jan, octo)
        assert "2025A Medicare NATIONAL" in feb.reason and "2025D" in nov.reason
        assert result.medicare.startswith(
            "Medicare release in force on each date of service (2025A, 2025D), national"
        )


def test_a_stated_release_prices_every_date_with_it(tmp_path: Path) -> None:
    result = audit(tmp_path, "0446T", {"pct_of_medicare": 100, "medicare_release": "2025D"})
    assert [line.expected for line in result.lines] == [october("0446T")] * 2
    assert result.medicare.startswith("Medicare 2025D, national")


def test_percent_applies_to_the_dated_amount(tmp_path: Path) -> None:
    result = audit(tmp_path, "0446T", {"pct_of_medicare": 125})
    want = [
        (amount * Decimal("1.25")).quantize(Decimal("0.01"), ROUND_HALF_UP)
        for amount in (january("0446T"), october("0446T"))
    ]
    assert [line.expected for line in result.lines] == want
