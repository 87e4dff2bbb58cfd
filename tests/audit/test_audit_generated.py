"""The audit on generated 835s with seeded contract misapplications (see era_generator.py)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from era_generator import ERRORS, NO_TERM, Generator, render

from xlrate.analysis.audit import AuditResult, audit_lines, parse_contract
from xlrate.practice.era835 import read_era

CLAIMS = 2000
REASONS = {
    "wrong_year": "paid at the rates of acme_fees_2024.csv",
    "mppr_exempt": "exempt from it (MULT PROC 0)",
    "bilateral_ignored": "bilateral adjustment (modifier 50) was not applied",
    "assistant_pct": "assistant at surgery paid at 10% instead of 16%",
    "lesser_of": "applied against the charge of one unit",
    "component": "paid at the 26 share of the global fee",
    "units": "paid for 1 unit of",
    "cosurgery_pct": "co-surgeon paid at 50% instead of 62.5%",
}


def run(tmp_path: Path, seed: int = 14) -> tuple[Generator, AuditResult]:
    gen = Generator(seed=seed)
    claims = gen.generate(CLAIMS)
    era = tmp_path / "acme.835"
    era.write_text(render(claims), encoding="latin-1")
    fees_2024, fees_2025 = gen.write_fees(tmp_path)
    contract = parse_contract(gen.contract(fees_2024, fees_2025))
    result = audit_lines(read_era(era, lines=True).lines, contract)
    return gen, result


@pytest.mark.parametrize("seed", [14, 2025])
def test_seeded_underpayments_found_to_the_cent(tmp_path: Path, seed: int) -> None:
    gen, result = run(tmp_path, seed)
    truth = gen.truth
    assert truth.lines > 2500  # thousands of lines
    kinds = Counter(truth.kinds.values())
    assert set(kinds) == set(ERRORS), kinds  # every rule misapplied at least once
    assert min(kinds.values()) >= 3, kinds

    flagged = {(line.claim, line.line): line for line in result.underpaid}
    missed = set(truth.underpaid) - set(flagged)
    assert not missed, [(k, truth.kinds[k]) for k in sorted(missed)[:10]]  # recall 100%
    false = set(flagged) - set(truth.underpaid)
    precision = 1 - len(false) / len(flagged)
    assert precision >= 0.99, [(k, flagged[k].reason) for k in sorted(false)[:10]]
    for key, short in truth.underpaid.items():
        line = flagged[key]
        assert line.variance == -short, (key, truth.kinds[key], line.reason)
        assert REASONS[truth.kinds[key]] in line.reason, (truth.kinds[key], line.reason)
    seeded_total = sum(truth.underpaid.values(), Decimal(0))
    flagged_total = sum(
        (flagged[k].expected - flagged[k].allowed for k in truth.underpaid), Decimal(0)
    )  # type: ignore[operator]
    assert flagged_total == seeded_total

    denied = {(line.claim, line.line) for line in result.denied}
    assert denied == truth.denied
    assert all(line.code == NO_TERM for line in result.lines if line.status == "no_term")
    assert result.netted_lines > 0  # paid, reversed and paid again
    assert not [line for line in result.lines if line.status == "reversal"]
    # The per-unit rounding lines are explained, not flagged.
    rounding = [line for line in result.lines if "rounding" in line.reason]
    assert rounding and all(line.status == "ok" for line in rounding)


def test_tables_add_up(tmp_path: Path) -> None:
    gen, result = run(tmp_path)
    by_code = result.by_code()
    assert sum(r["underpaid_lines"] for r in by_code) == len(gen.truth.underpaid)
    assert sum((r["underpaid_amount"] for r in by_code), Decimal(0)) == sum(
        gen.truth.underpaid.values(), Decimal(0)
    )
    assert sum(r["denied_lines"] for r in by_code) == len(gen.truth.denied)
    for row in by_code:
        if row["expected"] is not None:
            assert row["variance"] == row["allowed"] - row["expected"]
    (payer,) = result.by_payer()
    assert payer["underpaid_amount"] == result.underpaid_amount
    assert payer["lines"] == sum(r["lines"] for r in by_code)


def test_findings_account_for_every_dollar(tmp_path: Path) -> None:
    gen, result = run(tmp_path)
    findings = result.findings()
    underpaid = [f for f in findings if f["status"] == "underpaid"]
    assert sum(f["lines"] for f in underpaid) == len(gen.truth.underpaid)
    assert sum((f["amount"] for f in underpaid), Decimal(0)) == result.underpaid_amount
    assert any(
        f["finding"].startswith("paid at the rates of acme_fees_2024.csv") for f in underpaid
    )
    denied = [f for f in findings if f["status"] == "denied"]
    assert [f["finding"] for f in denied] == [
        "CO-29: contractual, the time limit for filing has expired"
    ]
    text = repr(findings)
    assert not any(claim in text for claim in gen.truth.claims)


def test_sheet_tables_for_the_workbook(tmp_path: Path) -> None:
    gen, result = run(tmp_path)
    tables = result.sheet_tables()
    assert list(tables) == ["ACME HEALTH PLAN"]
    table = tables["ACME HEALTH PLAN"]
    assert list(table.columns) == [
        "code", "modifier", "lines", "units", "expected", "allowed", "variance",
        "underpaid_lines", "underpaid_amount", "denied_lines",
    ]  # fmt: skip
    assert round(table["underpaid_amount"].sum(), 2) == float(result.underpaid_amount)
    first, last = result.period
    assert first is not None and last is not None and first.year == 2024 and last.year == 2025
    text = table.to_csv()
    assert not any(claim in text for claim in gen.truth.claims)
