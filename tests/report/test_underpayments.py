"""The Underpayments sheets: a profile whose payers have contracts and generated 835s with
seeded underpayments (tests/audit/era_generator.py), built into the workbook, recalculated
by LibreOffice, and checked against what the generator seeded; no patient name, member id
or claim number in the workbook or its shared copy."""

from __future__ import annotations

import sys
import zipfile
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from report_helpers import Demo, recalculate

from xlrate.analysis import Analysis, PayerSpec, Profile, analyze
from xlrate.report import layout as L
from xlrate.report.shared import prepare_shared_copy
from xlrate.report.workbook import BuildResult, build_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "audit"))
from era_generator import LOCALITY, Generator, render  # noqa: E402

# A module fixture builds a workbook and LibreOffice recalculates it; the demo's too.
pytestmark = pytest.mark.slow

CLAIMS = 400
# Two payers with contracts (seeded differently), one without: sheets "Underpaid <payer>".
PAYERS = {"Acme Health Plan": ("ACME HEALTH PLAN", 14), "Beta Care": ("BETA CARE", 2025)}


@dataclass
class Built:
    analysis: Analysis
    result: BuildResult
    generators: dict[str, Generator]
    recalculated: Path
    shared: Path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("underpaid")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLRATE_HOME", str(root / "home"))  # the embedded Medicare data only
        from xlrate.medicare import store

        store.clear_cache()
        generators: dict[str, Generator] = {}
        payers = []
        for name, (n1_name, seed) in PAYERS.items():
            folder = root / f"seed{seed}"
            folder.mkdir()
            gen = Generator(seed=seed)
            era = folder / f"{seed}.835"
            era.write_text(render(gen.generate(CLAIMS), payer=n1_name), encoding="latin-1")
            contract = gen.contract(*gen.write_fees(folder))
            payers.append(PayerSpec(name, era=(era,), target=1.2, contract=contract))
            generators[name] = gen
        (root / "other.csv").write_text("Code,Fee,Volume\n99213,95.00,10\n", "utf-8")
        payers.insert(1, PayerSpec("No contract PPO", fees=(root / "other.csv",), target=1.3))
        profile = Profile(
            name="Audit practice",
            locality=LOCALITY,
            year=2025,
            release="2025D",
            payers=tuple(payers),
        )
        analysis = analyze(profile)
        result = build_workbook(analysis, root / "audit.xlsx")
        (recalculated,) = recalculate([result.path], root / "recalculated", root / "lo-profile")
        shared = prepare_shared_copy(result.path, root / "shared.xlsx").path
        return Built(analysis, result, generators, recalculated, shared)


def _values(path: Path) -> dict[tuple[str, str], object]:
    wb = openpyxl.load_workbook(path, data_only=True)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for r in ws for c in r}


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, str) or expected is None:
        return (actual or "") == (expected or "")
    if isinstance(actual, bool) or not isinstance(actual, (int, float)):
        return False
    return abs(actual - float(expected)) <= 1e-9 * max(1.0, abs(float(expected)))  # type: ignore[arg-type]


def _seeded_by_code(gen: Generator) -> dict[tuple[str, str], Counter[str]]:
    """Per (code, modifiers), counted from the generator's own claims and seeded truth:
    lines, units, lines and cents underpaid, denied lines."""
    final = {claim.claim_id: claim for claim in gen.claims}  # the last version of a claim
    out: dict[tuple[str, str], Counter[str]] = {}
    for claim in final.values():
        for number, line in enumerate(claim.lines, start=1):
            row = out.setdefault((line.code, line.mods), Counter())
            row["lines"] += 1
            row["units"] += line.units
            key = (claim.claim_id, number)
            if key in gen.truth.underpaid:
                row["underpaid_lines"] += 1
                row["underpaid_cents"] += int(gen.truth.underpaid[key] * 100)
            if key in gen.truth.denied:
                row["denied_lines"] += 1
    return out


def _sheet_rows(path: Path, sheet: str) -> dict[tuple[str, str], dict[str, object]]:
    ws = openpyxl.load_workbook(path)[sheet]
    keys = [c.key for c in L.UNDERPAID_COLUMNS]
    rows = {}
    for values in ws.iter_rows(min_row=L.UNDERPAID_HEADER_ROW + 1, values_only=True):
        if values[0] in (None, "All codes"):
            break
        row = dict(zip(keys, values, strict=False))
        rows[(str(row["code"]), str(row["modifier"] or ""))] = row
    return rows


def test_one_sheet_per_audited_payer_after_the_payer_sheets(built: Built) -> None:
    names = built.result.audit_sheets
    assert names == {
        "Acme Health Plan": "Underpaid Acme Health Plan",
        "Beta Care": "Underpaid Beta Care",
    }
    sheets = openpyxl.load_workbook(built.result.path).sheetnames
    payer_sheets = list(built.result.payer_sheets.values())
    assert sheets[: len(payer_sheets) + 3] == ["Summary", *payer_sheets, *names.values()]
    assert L.UNDERPAID_SHEET not in sheets and "xlrate proto" not in sheets
    # The contracts' fee schedules are on the Sources sheet with the other inputs.
    contract_fees = [i for i in built.analysis.inputs if i.role == "contract fees"]
    assert sorted((i.payer, i.name) for i in contract_fees) == sorted(
        (payer, f"acme_fees_{year}.csv") for payer in PAYERS for year in (2024, 2025)
    )
    sources = openpyxl.load_workbook(built.result.path)["Sources"]
    listed = [r for r in sources.iter_rows(values_only=True) if r[0] == "contract fees"]
    assert len(listed) == 4 and all(len(str(r[3])) == 64 for r in listed)


@pytest.mark.parametrize("payer", list(PAYERS))
def test_sheet_rows_are_what_the_generator_seeded(built: Built, payer: str) -> None:
    seeded = _seeded_by_code(built.generators[payer])
    rows = _sheet_rows(built.result.path, built.result.audit_sheets[payer])
    assert set(rows) == set(seeded)
    for key, want in seeded.items():
        row = rows[key]
        assert row["lines"] == want["lines"], key
        assert row["units"] == want["units"], key
        assert row["underpaid_lines"] == want["underpaid_lines"], key
        assert round(float(row["underpaid_amount"]) * 100) == want["underpaid_cents"], key  # type: ignore[arg-type]
        assert row["denied_lines"] == want["denied_lines"], key
    # Largest dollars underpaid first.
    amounts = [float(r["underpaid_amount"]) for r in rows.values()]  # type: ignore[arg-type]
    assert amounts == sorted(amounts, reverse=True)
    # Below the table, what explains them: every seeded dollar, in words.
    ws = openpyxl.load_workbook(built.result.path)[built.result.audit_sheets[payer]]
    col = L.numbers(L.UNDERPAID_COLUMNS)
    found = [
        (str(r[0].value), r[col["underpaid_lines"] - 1].value, r[col["underpaid_amount"] - 1].value)
        for r in ws.iter_rows()
        if str(r[0].value).startswith(("Underpaid: ", "Denied: "))
    ]
    gen = built.generators[payer]
    underpaid = [f for f in found if f[0].startswith("Underpaid: ")]
    assert sum(f[1] for f in underpaid) == len(gen.truth.underpaid)  # type: ignore[misc]
    cents = round(sum(f[2] for f in underpaid) * 100)  # type: ignore[misc]
    assert cents == int(sum(gen.truth.underpaid.values(), Decimal(0)) * 100)
    assert any("paid at the rates of acme_fees_2024.csv" in f[0] for f in underpaid)
    denied = [f for f in found if f[0].startswith("Denied: ")]
    assert sum(f[1] for f in denied) == len(gen.truth.denied)  # type: ignore[misc]


def test_libreoffice_totals_agree_with_python_and_the_seeds(built: Built) -> None:
    got = _values(built.recalculated)
    wrong = {
        key: (got.get(key), want)
        for key, want in built.result.expected.items()
        if not _same(got.get(key), want)
    }
    assert not wrong, f"{len(wrong)} formula cells differ, e.g. {list(wrong.items())[:5]}"
    wb = openpyxl.load_workbook(built.recalculated, data_only=True)

    def named(name: str) -> object:
        sheet, ref = wb.defined_names[name].attr_text.split("!")
        return wb[sheet.strip("'")][ref.replace("$", "")].value

    seeded_total = Decimal(0)
    payers = built.analysis.payer_names
    for payer, gen in built.generators.items():
        index = payers.index(payer) + 1
        seeded = sum(gen.truth.underpaid.values(), Decimal(0))
        seeded_total += seeded
        assert round(float(named(L.underpaid_name(index))) * 100) == int(seeded * 100)  # type: ignore[arg-type]
        assert named(L.underpaid_name(index, "underpaid_lines")) == len(gen.truth.underpaid)
        assert named(L.underpaid_name(index, "denied_lines")) == len(gen.truth.denied)
        # The variance total is allowed - expected over the audited lines.
        audit = built.analysis.audits[payer]
        expected = named(L.underpaid_name(index, "expected"))
        allowed = named(L.underpaid_name(index, "allowed"))
        variance = named(L.underpaid_name(index, "variance"))
        assert variance == pytest.approx(allowed - expected, abs=0.005)  # type: ignore[operator]
        assert expected == pytest.approx(float(audit.table["expected"].sum()), abs=0.005)
    assert L.underpaid_name(2) not in wb.defined_names  # the payer without a contract
    total = named(L.SUMMARY_UNDERPAID_NAME)
    assert round(float(total) * 100) == int(seeded_total * 100)  # type: ignore[arg-type]
    summary = openpyxl.load_workbook(built.result.path)["Summary"]
    assert summary[L.SUMMARY_UNDERPAID].value == "=SUM(Underpaid_01,Underpaid_03)"
    assert summary[L.SUMMARY_UNDERPAID_LABEL].value == "Underpaid in the period"
    period = summary[L.SUMMARY_UNDERPAID_NOTE].value
    first = min(c.day for g in built.generators.values() for c in g.claims)
    last = max(c.day for g in built.generators.values() for c in g.claims)
    assert f"{first} to {last}" in period


def _texts(path: Path) -> str:
    """Every cell, defined name and part of the .xlsx as one text."""
    wb = openpyxl.load_workbook(path)
    parts = [str(c.value) for ws in wb.worksheets for r in ws for c in r if c.value is not None]
    parts += [f"{k}={v.attr_text}" for k, v in wb.defined_names.items()]
    with zipfile.ZipFile(path) as archive:
        parts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
    return "\n".join(parts)


def test_no_patient_member_or_claim_identifier_reaches_the_workbook(built: Built) -> None:
    for path in (built.result.path, built.recalculated, built.shared):
        text = _texts(path)
        for gen in built.generators.values():
            truth = gen.truth
            assert truth.names and truth.members and truth.claims
            for secret in (*truth.names, *truth.members, *truth.claims):
                assert secret not in text, (path.name, secret)
        assert "PCNCLM" not in text and "ZZLAST" not in text and "MBR0" not in text
    # The audit did see them: the check above is not vacuous.
    era = next(iter(built.analysis.profile.payers)).era[0].read_text("latin-1")
    assert "ZZLAST1*" in era and "MBR000000001" in era and "CLP*CLM0000001*" in era
    shared = openpyxl.load_workbook(built.shared)
    assert set(built.result.audit_sheets.values()) <= set(shared.sheetnames)


def test_the_demo_shows_its_contract_audit(demo: Demo) -> None:
    """The demo's Medicare Advantage payer has a contract: one sheet, named Underpayments."""
    assert list(demo.analysis.audits) == ["Lakeside Medicare Advantage"]
    assert demo.result.audit_sheets == {"Lakeside Medicare Advantage": L.UNDERPAID_SHEET}
    got = _values(demo.recalculated)
    audit = demo.analysis.audits["Lakeside Medicare Advantage"]
    assert audit.underpaid_lines > 0
    assert got[("Summary", L.SUMMARY_UNDERPAID)] == pytest.approx(audit.underpaid_amount)
    assert "2026-01-05" in str(got[("Summary", L.SUMMARY_UNDERPAID_NOTE)])


def test_shipped_templates_carry_the_underpayments_prototype() -> None:
    from xlrate.report.workbook import default_template

    repo_template = Path(__file__).resolve().parents[2] / "workbook" / "template.xlsx"
    for path in (default_template(), repo_template):
        ws = openpyxl.load_workbook(path)[L.UNDERPAID_SHEET]
        row = L.UNDERPAID_HEADER_ROW
        headers = [ws.cell(row, i).value for i in range(1, len(L.UNDERPAID_COLUMNS) + 1)]
        assert headers == [c.header for c in L.UNDERPAID_COLUMNS], path


def test_a_template_without_the_prototype_still_gets_the_sheet(demo: Demo, tmp_path: Path) -> None:
    """A rebranded template saved before the Underpayments sheet existed."""
    from xlrate.report.workbook import default_template

    wb = openpyxl.load_workbook(default_template())
    del wb[L.UNDERPAID_SHEET]
    template = tmp_path / "old.xlsx"
    wb.save(template)
    result = build_workbook(demo.analysis, tmp_path / "old-built.xlsx", template=template)
    built = openpyxl.load_workbook(result.path)
    ws = built[L.UNDERPAID_SHEET]
    assert ws["A1"].value == "Underpayments: Lakeside Medicare Advantage (SYNTHETIC)"
    assert ws.cell(L.UNDERPAID_HEADER_ROW, 1).value == "Code"
    assert built.defined_names[L.underpaid_name(4)].attr_text.startswith("Underpayments!$I$")
    assert set(result.expected) == set(demo.result.expected)
