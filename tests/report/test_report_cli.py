"""``xlrate init``, ``xlrate build`` and ``xlrate demo`` from the command line."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from xlrate.cli import cli
from xlrate.cli.report import build_cmd, demo_cmd, init_cmd
from xlrate.demo import demo_dir


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", [init_cmd, build_cmd, demo_cmd])
def test_every_command_has_help_with_an_example(command: object) -> None:
    assert "Example" in (command.help or "")  # type: ignore[attr-defined]


def test_demo_writes_the_workbook_and_keeps_a_backup(tmp_path: Path) -> None:
    out = tmp_path / "demo.xlsx"
    code, output = run("demo", "--output", str(out))
    assert code == 0, output
    assert "Alabama Medicaid" in output and "(synthetic)" in output and "of Medicare" in output
    assert "Summary" in openpyxl.load_workbook(out, read_only=True).sheetnames
    code, output = run("demo", "--output", str(out))
    assert code == 0 and (tmp_path / "demo.xlsx.bak").exists()


def test_init_then_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from xlrate.cli import main

    profile = tmp_path / "practice.toml"
    assert run("init", str(profile))[0] == 0
    code, output = run("init", str(profile))
    assert code != 0 and "already exists" in output
    # The fresh profile names an example file that does not exist: one clear line, exit 1.
    with pytest.raises(SystemExit) as stop:
        main(["build", "--profile", str(profile), "--output", str(tmp_path / "x.xlsx")])
    assert stop.value.code == 1
    assert "example_ppo_fee_schedule.xlsx" in capsys.readouterr().err


def test_build_adds_payers_and_refuses_to_overwrite(tmp_path: Path) -> None:
    for path in demo_dir().iterdir():
        if path.suffix in (".csv", ".835", ".toml"):
            shutil.copy(path, tmp_path / path.name)
    profile, out = tmp_path / "practice.toml", tmp_path / "out.xlsx"
    extra = tmp_path / "summit_health_hmo_fee_schedule_SYNTHETIC.csv"
    code, output = run(
        "build",
        "--profile",
        str(profile),
        "--output",
        str(out),
        "--fees",
        str(extra),
        "--payer",
        "Extra HMO",
        "--target",
        "115",
    )
    assert code == 0, output
    assert "Extra HMO" in openpyxl.load_workbook(out, read_only=True).sheetnames
    code, output = run("build", "--profile", str(profile), "--output", str(out))
    assert code != 0 and "--force" in output
    assert run("build", "--profile", str(profile), "--output", str(out), "--force")[0] == 0


def test_build_without_a_locality_says_what_to_do(tmp_path: Path) -> None:
    from xlrate.cli import main

    fees = demo_dir() / "summit_health_hmo_fee_schedule_SYNTHETIC.csv"
    with pytest.raises(SystemExit) as stop:
        main(["build", "--fees", str(fees), "--payer", "HMO", "--output", str(tmp_path / "x.xlsx")])
    assert stop.value.code == 1


def test_build_pairs_fees_with_payers(tmp_path: Path) -> None:
    fees = demo_dir() / "summit_health_hmo_fee_schedule_SYNTHETIC.csv"
    code, output = run(
        "build", "--locality", "10112-00", "--fees", str(fees), "--output", str(tmp_path / "x.xlsx")
    )
    assert code != 0 and "--payer" in output
