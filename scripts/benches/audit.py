"""Benchmark for the underpayment audit (issue 14): 100,000 service lines in under 5 s.

``rows()`` returns one dict per measurement (benchmark, value, unit, baseline,
baseline_value, target). Run it directly to print them:

    .venv/bin/python scripts/benches/audit.py

The 835 comes from the tests' generator (``tests/audit/era_generator.py``: a two-period
fee schedule + 125% of Medicare contract with seeded misapplications, denials, reversals):
a block of generated claims is repeated with fresh claim numbers until the file holds
100,000 service lines. Measured: reading the 835 into line records plus auditing them
(``read_era(..., lines=True)`` + ``audit_lines``), beside the baseline of reading the same
file for totals only (``read_era``), which every 835 user already pays. And the workbook:
``analyze`` + ``build_workbook`` of a one-payer profile with that 835 and the contract (the
audit and its Underpayments sheet) beside the same profile without the contract.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "audit"))

LINES = 100_000


def make(folder: Path, lines: int = LINES) -> tuple[Path, dict[str, object], int]:
    """Write the 835 and fee schedules; returns (835 path, contract, service lines)."""
    from era_generator import Generator, render

    gen = Generator(seed=100)
    block = gen.generate(2000)
    per_block = sum(len(c.lines) for c in block)
    repeats = -(-lines // per_block)
    claims = []
    for r in range(repeats):
        for claim in block:
            copy = type(claim)(**{**claim.__dict__, "claim_id": f"{claim.claim_id}R{r}"})
            claims.append(copy)
    total = 0
    kept = []
    for claim in claims:  # trim to exactly `lines` service lines (whole claims)
        if total + len(claim.lines) > lines:
            break
        kept.append(claim)
        total += len(claim.lines)
    era = folder / "bench.835"
    era.write_text(render(kept), encoding="latin-1")
    fees_2024, fees_2025 = gen.write_fees(folder)
    return era, gen.contract(fees_2024, fees_2025), total


def rows() -> list[dict[str, object]]:
    from xlrate.analysis.audit import audit_lines, parse_contract
    from xlrate.practice.era835 import read_era

    with tempfile.TemporaryDirectory() as tmp:
        era, terms, count = make(Path(tmp))
        contract = parse_contract(terms)
        read_era(era)  # warm the file cache and the imports
        start, cpu = time.perf_counter(), time.process_time()
        plain = read_era(era)
        baseline = time.perf_counter() - start
        baseline_cpu = time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        result = read_era(era, lines=True)
        read = time.perf_counter() - start
        read_cpu = time.process_time() - cpu
        start, cpu = time.perf_counter(), time.process_time()
        audited = audit_lines(result.lines, contract)
        audit = time.perf_counter() - start
        audit_cpu = time.process_time() - cpu
        assert int(plain.by_code["lines"].abs().sum()) > 0
        size = era.stat().st_size / 1e6
        workbook, workbook_base = _workbook(Path(tmp), era, terms)
    label = f"{count:,} service lines ({size:.0f} MB 835), {len(audited.underpaid):,} underpaid"
    return [
        {
            "benchmark": f"audit: read lines + audit, {label}",
            "value": read + audit,
            "unit": "s",
            "baseline": "read_era totals only",
            "baseline_value": baseline,
            "target": "< 5 s",
        },
        {
            # CPU time too: on a shared machine the wall clock counts other people's work.
            "benchmark": "audit: read lines + audit, CPU time of this process",
            "value": read_cpu + audit_cpu,
            "unit": "s",
            "baseline": "read_era totals only (CPU)",
            "baseline_value": baseline_cpu,
            "target": "< 5 s",
        },
        {
            "benchmark": "audit: audit_lines alone (netting, terms, rules, reasons)",
            "value": audit,
            "unit": "s",
            "baseline": "read_era totals only",
            "baseline_value": baseline,
            "target": "",
        },
        {
            "benchmark": "audit: read_era(lines=True) alone",
            "value": read,
            "unit": "s",
            "baseline": "read_era totals only",
            "baseline_value": baseline,
            "target": "",
        },
        {
            "benchmark": "audit: analyze + build_workbook with the Underpayments sheet, same 835",
            "value": workbook,
            "unit": "s",
            "baseline": "the same profile without the contract (no audit)",
            "baseline_value": workbook_base,
            "target": "",
        },
    ]


def _workbook(folder: Path, era: Path, terms: dict[str, object]) -> tuple[float, float]:
    """Wall seconds of analyze + build_workbook for one payer with this 835, with the
    contract (the audit and its sheet) and without."""
    from era_generator import LOCALITY

    from xlrate.analysis import PayerSpec, Profile, analyze
    from xlrate.report.workbook import build_workbook

    times = []
    for contract in (terms, None):
        payer = PayerSpec("Acme Health Plan", era=(era,), contract=contract)
        profile = Profile(
            name="Bench", locality=LOCALITY, year=2025, release="2025D", payers=(payer,)
        )
        start = time.perf_counter()
        build_workbook(analyze(profile), folder / f"bench-{contract is None}.xlsx")
        times.append(time.perf_counter() - start)
    return times[0], times[1]


if __name__ == "__main__":
    for row in rows():
        print(row)
