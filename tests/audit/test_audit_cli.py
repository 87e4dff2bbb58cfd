"""``xlrate audit``: columns, the worklist (the only output with claim numbers), privacy."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from era_generator import Generator, render

from xlrate.cli import COMMANDS, cli

BY_CODE = "payer,code,modifier,lines,units,expected,allowed,variance,underpaid_lines,underpaid_amount,denied_lines"
WORKLIST = "claim,service_date,line,code,modifiers,units,billed,expected,allowed,paid,variance,carc"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def generated(tmp_path: Path) -> tuple[Generator, list[str]]:
    gen = Generator(seed=7)
    era = tmp_path / "acme.835"
    era.write_text(render(gen.generate(600)), encoding="latin-1")
    fees_2024, fees_2025 = gen.write_fees(tmp_path)
    args = [
        "audit", "--era", str(era),
        "--contract", f"{fees_2024}@2024-01-01", "--contract", f"{fees_2025}@2025-01-01",
        "--pct-of-medicare", "125", "--medicare-year", "2025", "--locality", "01112-05",
        "--lesser-of-charges", "--mppr",
    ]  # fmt: skip
    return gen, args


def test_registered() -> None:
    assert COMMANDS["audit"] == ("xlrate.cli.audit", "audit_cmd")
    code, out, _ = run("audit", "--help")
    assert code == 0 and "Examples:" in out


def test_by_code_csv_and_worklist(generated: tuple[Generator, list[str]], tmp_path: Path) -> None:
    gen, args = generated
    worklist = tmp_path / "appeals.csv"
    code, out, err = run(*args, "--worklist", str(worklist), "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert ",".join(rows[0]) == BY_CODE
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    seeded = gen.truth.underpaid
    assert sum(int(r["underpaid_lines"]) for r in records) == len(seeded)
    assert sum(Decimal(r["underpaid_amount"]) for r in records) == sum(seeded.values())
    assert sum(int(r["denied_lines"]) for r in records) == len(gen.truth.denied)
    assert {r["payer"] for r in records} == {"ACME HEALTH PLAN"}
    assert "underpaid_amount" in err  # the by-payer summary, as a table on stderr
    assert f"wrote {len(seeded)} underpaid line(s) to {worklist}" in err
    assert "claim control numbers" in err

    lines = worklist.read_text("utf-8").splitlines()
    assert lines[0] == WORKLIST
    listed = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert {(r["claim"], int(r["line"])) for r in listed} == set(seeded)
    for r in listed:
        short = seeded[(r["claim"], int(r["line"]))]
        assert Decimal(r["variance"]) == -short
        assert Decimal(r["expected"]) - Decimal(r["allowed"]) == short

    # Not overwritten without --force; replaced with it.
    before = worklist.read_bytes()
    code, _, err = run(*args, "--worklist", str(worklist))
    assert code != 0 and "--force" in err
    assert worklist.read_bytes() == before
    code, _, _ = run(*args, "--worklist", str(worklist), "--force")
    assert code == 0 and worklist.read_bytes() == before


def test_no_names_member_ids_or_claim_numbers_in_aggregates(
    generated: tuple[Generator, list[str]], tmp_path: Path
) -> None:
    gen, args = generated
    truth = gen.truth
    assert len(truth.names) > 1000 and len(truth.claims) > 500
    outputs = []
    for fmt in ("csv", "table"):
        code, out, err = run(*args, "--format", fmt)
        assert code == 0
        outputs += [out, err]
    from xlrate.analysis.audit import audit_lines, parse_contract
    from xlrate.practice.era835 import read_era

    folder = Path(args[2]).parent
    contract = parse_contract(
        gen.contract(folder / "acme_fees_2024.csv", folder / "acme_fees_2025.csv")
    )
    result = audit_lines(read_era(args[2], lines=True).lines, contract)
    outputs += [
        result.by_code_frame().to_csv(),
        result.by_payer_frame().to_csv(),
        repr(result.by_code()),
        repr(result.by_payer()),
        repr(result.warnings),
    ]
    text = "\n".join(outputs)
    import re

    tokens = set(re.findall(r"[A-Za-z0-9]+", text))
    assert not tokens & truth.names
    assert not tokens & truth.members
    assert not tokens & truth.claims
    assert not [t for t in tokens if t.startswith(("CLM", "MBR", "ZZ", "PCN"))]
    # The worklist has claim numbers, never names or member ids.
    worklist = tmp_path / "w.csv"
    run(*args, "--worklist", str(worklist))
    words = set(re.findall(r"[A-Za-z0-9]+", worklist.read_text("utf-8")))
    assert words & truth.claims
    assert not words & (truth.names | truth.members)


def test_text_from_the_835_never_becomes_a_formula(tmp_path: Path) -> None:
    gen = Generator(seed=3, error_rate=1.0)
    claims = gen.generate(40)
    for claim in claims:
        claim.claim_id = "=HYPERLINK(" + claim.claim_id + ")"
    era = tmp_path / "evil.835"
    era.write_text(render(claims, payer="@SUM(A1)"), encoding="latin-1")
    fees_2024, fees_2025 = gen.write_fees(tmp_path)
    worklist = tmp_path / "w.csv"
    code, out, err = run(
        "audit", "--era", str(era), "--contract", str(fees_2025), "--contract",
        f"{fees_2024}@2024-01-01", "--format", "csv", "--worklist", str(worklist),
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert rows and all(row[0] == "'@SUM(A1)" for row in rows)
    listed = list(csv.DictReader(io.StringIO(worklist.read_text("utf-8"))))
    assert listed and all(r["claim"].startswith("'=HYPERLINK(") for r in listed)


def test_usage_errors(tmp_path: Path) -> None:
    code, _, err = run("audit", "--era", "x.835")
    assert code != 0 and "--contract" in err
    code, _, err = run("audit", "--era", str(tmp_path / "none.835"), "--pct-of-medicare", "125")
    assert code != 0 and "none.835" in err and "Traceback" not in err


def test_worklist_never_replaces_an_input(generated: tuple[Generator, list[str]]) -> None:
    _, args = generated
    era = args[2]
    before = Path(era).read_bytes()
    code, _, err = run(*args, "--worklist", era, "--force")
    assert code != 0 and "input" in err
    assert Path(era).read_bytes() == before


def test_a_medicare_year_or_locality_the_data_lacks_is_one_clear_error() -> None:
    era = str(
        Path(__file__).parents[1] / "data" / "practice" / "era835" / "tigershark__835-example.txt"
    )
    code, _, err = run("audit", "--era", era, "--pct-of-medicare", "125", "--medicare-year", "1999")
    assert code != 0 and "no Medicare data for 1999" in err and "xlrate medicare update" in err
    code, _, err = run("audit", "--era", era, "--pct-of-medicare", "125", "--locality", "99999-99")
    assert code != 0 and "99999-99 is not a Medicare locality" in err


def test_payer_filter_and_zip(tmp_path: Path) -> None:
    gen = Generator(seed=11)
    era = tmp_path / "two.835"
    acme = render(gen.generate(60))
    other = render(Generator(seed=12).generate(60), payer="OTHER MUTUAL")
    era.write_text(acme + other, encoding="latin-1")  # two interchanges in one file
    code, out, err = run(
        "audit", "--era", str(era), "--pct-of-medicare", "125", "--zip", "94110",
        "--payer", "acme", "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and {r["payer"] for r in rows} == {"ACME HEALTH PLAN"}
    assert (
        "medicare: Medicare release in force on each date of service (2025A, 2025D), "
        "locality 01112-05 (ZIP 94110); 2025D for dates before any release here" in err
    )
    assert "use 2025D; run `xlrate medicare update --year YEAR` for 2024" in err
    code, out, err = run(
        "audit", "--era", str(era), "--pct-of-medicare", "125", "--payer", "nobody",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0 and "no service line of a payer named like 'nobody'" in err
    assert out.strip() == BY_CODE


def test_tolerance_and_no_temp_files_left(
    generated: tuple[Generator, list[str]], tmp_path: Path
) -> None:
    gen, args = generated
    out_dir = tmp_path / "out"
    worklist = out_dir / "appeals.csv"
    code, out, _ = run(*args, "--tolerance", "50", "--format", "csv", "--worklist", str(worklist))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    big = sorted(v for v in gen.truth.underpaid.values() if v >= 50)
    assert sum(int(r["underpaid_lines"]) for r in rows) == len(big)
    assert sorted(out_dir.iterdir()) == [worklist]  # written by rename: no temp file left
    assert len(worklist.read_text("utf-8").splitlines()) == 1 + len(big)
