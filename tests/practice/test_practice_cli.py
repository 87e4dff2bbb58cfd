"""``xlrate fees`` and ``xlrate era``: output columns, formats, and clean errors."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from xlrate.cli import cli

DATA = Path(__file__).parents[1] / "data" / "practice"
ERA = DATA / "era835"
FEES = DATA / "fee_schedules"
MALFORMED = sorted(ERA.glob("MALFORMED__*"))


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_fees_csv_columns_and_report_on_stderr() -> None:
    code, out, err = run(
        "fees", str(FEES / "CO_Medicaid_fee_schedule_Jan2016__TRIMMED.csv"), "--payer", "CO",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["payer", "code", "modifier", "setting", "amount", "note"]
    assert len(rows) == 1 + 4169
    assert ["CO", "99202", "", "", "74.77", ""] in rows
    assert ["CO", "V5245", "", "", "1026.49", ""] in rows
    assert ["CO", "G0008", "", "", "", "Not a benefit"] in rows
    assert ["CO", "58353", "", "facility", "167.56", "Hospital Setting"] in rows
    assert "rows read 4172, kept 4169" in err
    assert "conflicting repeats" in err


def test_fees_map_option_both_spellings(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text("Svc Code,Mod,Allowed Amt Paid\n99213,,80\n", encoding="utf-8")
    # The shell form from the docs: --map code="Svc Code" amount="Allowed Amt Paid"
    code, out, _ = run(
        "fees", str(path), "--map", "code=Svc Code", "amount=Allowed Amt Paid", "--format", "csv"
    )
    assert code == 0, out
    assert out.splitlines()[1] == "odd,99213,,,80.00,"
    code, out, _ = run("fees", str(path), "--map", 'code="Svc Code" amount="Allowed Amt Paid"')
    assert code == 0
    assert "99213" in out and "80.00" in out


def test_fees_table_and_unknown_layout() -> None:
    code, out, _ = run(
        "fees", str(FEES / "AZ_AHCCCS_physician_administered_drugs_FFS_2026-01-01.xlsx")
    )
    assert code == 0
    assert out.splitlines()[0].split() == ["payer", "code", "modifier", "setting", "amount", "note"]
    code, out, err = run("fees", str(ERA / "linuxforhealth__managed-care.835"))
    assert code == 1
    assert "Error:" in err and "--map" in err and "Traceback" not in err


def test_era_by_payer_and_by_code_csv() -> None:
    files = [
        str(ERA / "oopfactory__Example1_GripElements_4010.txt"),
        str(ERA / "linuxforhealth__managed-care.835"),
    ]
    code, out, _ = run("era", *files, "--format", "csv")
    assert code == 0
    assert out.splitlines() == [
        "payer,claims,lines,billed,allowed,paid",
        "ASHTABULA COUNTY ADAMH BD,5,5,439.99,20.67,5.75",
        "RUSHMORE LIFE,2,2,2000.00,1950.00,945.00",
    ]
    code, out, _ = run("era", files[1], "--by", "code", "--format", "csv")
    assert out.splitlines() == [
        "payer,code,modifiers,lines,units,billed,allowed,paid",
        "RUSHMORE LIFE,93555,,1,1,1200.00,1150.00,550.00",
        "RUSHMORE LIFE,99211,,1,1,800.00,800.00,500.00",
    ]
    code, out, _ = run("era", files[0], "--by", "code")
    assert code == 0
    assert "M151000" in out and "1.9" in out


@pytest.mark.parametrize("path", MALFORMED, ids=lambda p: p.name)
def test_era_malformed_files_give_a_clear_message(path: Path) -> None:
    code, out, err = run("era", str(path))
    assert "Traceback" not in out + err
    assert path.name in err
    assert "segment" in err
    if code == 0:  # one broken segment skipped: the warning names it and the totals print
        assert "skipped" in err and "payer" in out
    else:
        assert code == 1 and "Error:" in err


def test_era_main_via_subprocess_has_no_traceback() -> None:
    # The real entry point (xlrate.cli.main), as a user would run it.
    bad = ERA / "MALFORMED__affect__nevada_medicaid_bad_isa.txt"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from xlrate.cli import main; main(sys.argv[1:])",
         "era", str(bad)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "segment 1 (ISA)" in proc.stderr


def test_help_has_examples() -> None:
    for command in ("fees", "era"):
        code, out, _ = run(command, "--help")
        assert code == 0 and "Example" in out
