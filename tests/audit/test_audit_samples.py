"""The audit on the real sample 835s (tests/data/practice/era835), worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from xlrate.analysis.audit import AuditLine, audit_lines, parse_contract
from xlrate.medicare.store import load_release
from xlrate.practice.era835 import read_era

ERA = Path(__file__).parents[1] / "data" / "practice" / "era835"
UHC = ERA / "keironstoddart__united_healthcare_legacy_sample.txt"
TIGERSHARK = ERA / "tigershark__835-example.txt"
MANAGED = ERA / "linuxforhealth__managed-care.835"


def fees(path: Path, rows: dict[str, str]) -> Path:
    path.write_text(
        "code,modifier,amount\n" + "".join(f"{c},,{a}\n" for c, a in rows.items()), "utf-8"
    )
    return path


def lines_of(path: Path, contract: dict[str, object]) -> list[AuditLine]:
    return audit_lines(read_era(path, lines=True).lines, parse_contract(contract)).lines


def test_uhc_enteral_lines_match_a_rate_change_on_jan_1(tmp_path: Path) -> None:
    # The file (parenteral/enteral units): SVC*HC>B4152*156.42*88.92**234 on 2020-12-21 with
    # AMT*B6*88.92 = 234 x 0.38; SVC*HC>B4152*184.86*0**277 on 2021-01-01, B6 105.26 =
    # 277 x 0.38; SVC*HC>B4154*459.9*204.18**249 on 2020-12-18 = 249 x 0.82;
    # SVC*HC>B4034*27.84*27.84**12 = 12 x 2.32; SVC*HC>B4154*328.5*29.05**178 on
    # 2021-01-01, B6 144.18 = 178 x 0.81. So B4154 went from 0.82 to 0.81 on 2021-01-01.
    f2020 = fees(tmp_path / "uhc_2020.csv", {"B4152": "0.38", "B4154": "0.82", "B4034": "2.32"})
    f2021 = fees(tmp_path / "uhc_2021.csv", {"B4152": "0.38", "B4154": "0.81", "B4034": "2.32"})
    contract = {
        "fees": [
            {"file": str(f2020), "from": "2020-01-01", "to": "2020-12-31"},
            {"file": str(f2021), "from": "2021-01-01"},
        ]
    }
    lines = lines_of(UHC, contract)
    assert [(ln.code, ln.units, ln.expected, ln.status) for ln in lines] == [
        ("B4152", Decimal(234), Decimal("88.92"), "ok"),
        ("B4152", Decimal(277), Decimal("105.26"), "ok"),
        ("B4154", Decimal(249), Decimal("204.18"), "ok"),
        ("B4034", Decimal(12), Decimal("27.84"), "ok"),
        ("B4154", Decimal(178), Decimal("144.18"), "ok"),
    ]
    # Had the contract kept B4154 at 0.82 in 2021, the last line is 178 x 0.01 = 1.78 short.
    one = fees(tmp_path / "uhc.csv", {"B4152": "0.38", "B4154": "0.82", "B4034": "2.32"})
    last = lines_of(UHC, {"fees": str(one)})[-1]
    assert (last.claim, last.service_date, last.line) == ("001-18604-358", date(2021, 1, 1), 3)
    assert last.status == "underpaid"
    assert last.expected == Decimal("145.96") and last.variance == Decimal("-1.78")
    assert "CO-45" in last.reason and last.carc == "PR-2;PR-1;CO-45"  # CAS*PR*2*5.13**1*110


def test_tigershark_lesser_of_charges_and_an_underpaid_line(tmp_path: Path) -> None:
    # Claim 001-DDDDDDDDDD: SVC*HC^88888*200.02*200.02, AMT*B6*200.02: billed below the fee,
    # so with lesser of charges 200.02 is right. Claim 001-SSSSSSSSSS: SVC*HC^88888*
    # 23276.56*12145.65, CAS*CO*45*11130.91, AMT*B6*12145.65: 12500.00 - 12145.65 = 354.35.
    contract = {"fees": str(fees(tmp_path / "f.csv", {"88888": "12500.00"}))}
    first, second = lines_of(TIGERSHARK, contract | {"lesser_of_charges": True})
    assert (first.expected, first.status) == (Decimal("200.02"), "ok")
    assert "lesser of billed charge 200.02" in first.reason
    assert (second.expected, second.allowed) == (Decimal("12500.00"), Decimal("12145.65"))
    assert second.status == "underpaid" and second.variance == Decimal("-354.35")
    assert "CO-45: contractual, charge exceeds the fee schedule" in second.reason
    # Without the lesser-of clause the first line is 12299.98 short.
    first, _ = lines_of(TIGERSHARK, contract)
    assert first.variance == Decimal("-12299.98") and first.status == "underpaid"


def test_percent_of_medicare_from_the_rvus() -> None:
    # linuxforhealth managed-care: SVC*HC:99211*800.00*500.00, DTM*150*20020301, CAS*PR*1*300
    # (no AMT*B6, so allowed = 500 + 300). 125% of 2025 national Medicare: national GPCIs
    # are 1, so Medicare = (work + PE non-facility + MP RVU) x CF, rounded half-up.
    rel = load_release(2025)
    row = rel.rvu_index[("99211", "")]
    a = rel.arrays
    rvus = a["pprrvu.work_rvu"][row] + a["pprrvu.pe_rvu_nonfacility"][row] + a["pprrvu.mp_rvu"][row]
    cf = Decimal(int(rel.conversion_factor)).scaleb(-4)
    medicare = (Decimal(int(rvus)).scaleb(-2) * cf).quantize(Decimal("0.01"), ROUND_HALF_UP)
    expected = (medicare * Decimal("1.25")).quantize(Decimal("0.01"), ROUND_HALF_UP)
    first = lines_of(MANAGED, {"pct_of_medicare": 125, "medicare_year": 2025})[0]
    assert first.service_date == date(2002, 3, 1)
    assert first.allowed == Decimal("800.00")
    assert first.expected == expected
    assert first.status == "overpaid"


def test_denials_and_reversals_are_apart() -> None:
    # pyx12__835_mult_loops: a denied claim (CLP02 4) with three T1005 lines, CO-16 / OA-A7.
    lines = lines_of(ERA / "pyx12__835_mult_loops.txt", {"pct_of_medicare": 100})
    assert [ln.status for ln in lines] == ["denied"] * 3
    assert "CO-16" in lines[0].reason and lines[1].carc == "OA-A7"
    # oopfactory 4010: two reversals (CLP02 22) of payments made before this file.
    lines = lines_of(ERA / "oopfactory__Example1_GripElements_4010.txt", {"pct_of_medicare": 100})
    reversals = [ln for ln in lines if ln.status == "reversal"]
    assert sorted((ln.code, ln.allowed) for ln in reversals) == [
        ("H0004", Decimal("-86.76")),
        ("H0036", Decimal("-42.58")),
    ]
    assert not [ln for ln in lines if ln.status == "underpaid"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "needs fees"),
        ({"pct_of_medicare": "lots"}, "not a number"),
        ({"pct_of_medicare": 125, "medicare_yr": 2024}, "unknown contract key"),
        ({"fees": [{"path": "x.csv"}]}, "fee schedule period"),
        ({"fees": [{"file": "x.csv", "from": "January"}]}, "not a date"),
        ({"pct_of_medicare": 125, "mppr": "maybe"}, "true or false"),
    ],
)
def test_contract_errors_name_the_key(bad: dict[str, object], message: str) -> None:
    from xlrate.errors import InputError

    with pytest.raises(InputError, match=message):
        parse_contract(bad, where="payer 1 contract")


def test_contract_from_toml_values(tmp_path: Path) -> None:
    contract = parse_contract(
        {
            "fees": [{"file": "a.csv", "from": date(2024, 1, 1)}, "b.csv"],
            "pct_of_medicare": "125%",
            "medicare_year": 2024,
            "lesser_of_charges": True,
            "mppr": True,
            "assistant_pct": 20,
        },
        base=tmp_path,
    )
    assert contract.fees[0].path == tmp_path / "a.csv"
    assert contract.fees[0].start == date(2024, 1, 1)
    assert contract.pct_of_medicare == Decimal(125)
    assert contract.assistant_pct == Decimal(20)
    assert contract.assistant_npp_pct == Decimal(17)  # 85% of 20%
    assert contract.lesser_of_charges and contract.mppr


def test_profile_contract_is_wired(tmp_path: Path) -> None:
    from xlrate.analysis import load_profile
    from xlrate.analysis.audit import audit_profile

    fees(tmp_path / "uhc.csv", {"B4152": "0.38", "B4154": "0.82", "B4034": "2.32"})
    (tmp_path / "remits").mkdir()
    (tmp_path / "remits" / "uhc.835").write_bytes(UHC.read_bytes())
    profile_path = tmp_path / "practice.toml"
    profile_path.write_text(
        '[practice]\nname = "Test"\nlocality = "01112-05"\n\n[[payers]]\nname = "UHC"\n'
        'era = ["remits/uhc.835"]\n'
        'contract = { fees = "uhc.csv", lesser_of_charges = true, mppr = true }\n',
        "utf-8",
    )
    profile = load_profile(profile_path)
    assert profile.payers[0].contract == {
        "fees": [str(tmp_path / "uhc.csv")],
        "lesser_of_charges": True,
        "mppr": True,
    }
    result = audit_profile(profile)["UHC"]
    assert result.contract.locality == "01112-05"
    assert [ln.status for ln in result.lines].count("underpaid") == 1
    assert result.underpaid_amount == Decimal("1.78")
