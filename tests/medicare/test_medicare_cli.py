"""`xlrate price / localities / releases` as a user runs them: columns, errors in one line."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlrate", *args], capture_output=True, text=True, timeout=120
    )


def test_price_csv_columns_and_values() -> None:
    out = run("price", "99213", "99214-25", "76145-26", "--locality", "01112-05", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == [
        "code",
        "modifier",
        "locality",
        "year",
        "release",
        "nonfacility_amount",
        "facility_amount",
        "status",
        "note",
        "schedule",
        "units",
    ]
    assert (
        rows[0]["code"] == "99213"
        and rows[0]["locality"] == "01112-05"
        and rows[0]["release"] == "2025D"
    )
    assert rows[1]["modifier"] == "25"
    assert (
        rows[2]["status"] == "no_component"
        and rows[2]["nonfacility_amount"] == ""
        and rows[2]["note"]
    )


def test_price_zip_single_setting() -> None:
    out = run("price", "99213", "--zip", "94110", "--setting", "nonfacility", "--format", "csv")
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0]
    assert (
        header
        == "code,modifier,locality,year,release,nonfacility_amount,status,note,schedule,units"
    )
    assert ",01112-05," in out.stdout


def test_price_input_file(tmp_path: Path) -> None:
    req = tmp_path / "requests.csv"
    req.write_text("code,modifier,zip,pos\n99213,,94110,11\n27447,,94110,22\n")
    out = run("price", "--input", str(req), "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["status"] for r in rows] == ["priced", "priced"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("price", "9921", "--national"), "'9921' is not a HCPCS/CPT code"),
        (("price", "99213", "--locality", "99999-99"), "'99999-99' is not a Medicare locality"),
        (("price", "99213", "--national", "--year", "2019"), "no Medicare data for 2019"),
        (("price", "99213", "--zip", "00000"), "ZIP 00000 is not in CMS's ZIP code"),
        (("price", "99213", "--zip", "72644"), "split between Medicare localities"),
        (("localities", "--search", "atlantis"), "no locality matches"),
    ],
)
def test_errors_are_one_clear_line(args: tuple[str, ...], needle: str) -> None:
    out = run(*args)
    assert out.returncode != 0
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_localities_and_releases() -> None:
    out = run("localities", "--zip", "94110", "--format", "csv")
    assert "01112-05" in out.stdout
    out = run("localities", "--search", "san francisco", "--format", "csv")
    assert "01112-05" in out.stdout
    out = run("releases")
    assert (
        "2025D (default)" in out.stdout
        and "8af460f38bf982b79b07269fbc8b7256a8ef3bd3aa025a9c5cb71c1e52523c56" in out.stdout
    )


def test_every_command_has_help_with_an_example() -> None:
    from click.testing import CliRunner

    from xlrate.cli import cli

    runner = CliRunner()
    names = cli.list_commands(None)  # type: ignore[arg-type]
    assert {"price", "localities", "releases"} <= set(names)
    for name in names:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert (
            "xlrate " in result.output.split("Options")[0].split("\n", 2)[-1]
            or "Example" in result.output
        ), name
