"""One entry point: the schedule is picked by code; PFS codes stay PFS; units; CLI columns."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import xlrate
from xlrate.medicare.store import load_release


def test_pfs_codes_stay_pfs_and_others_route() -> None:
    frame = pd.DataFrame(
        {
            "code": ["99213", "85025", "J3301", "E0260", "G0008", "ZZZZZ", "00100"],
            "modifier": ["", "", "", "RR", "", "", ""],
            "zip": ["10001"] * 7,
        }
    )
    priced = xlrate.price(frame, year=2025)
    assert priced["schedule"].tolist() == ["PFS", "CLFS", "ASP", "DMEPOS", "PFS", "PFS", "ANES"]
    assert priced["status"].tolist()[:4] == ["priced"] * 4
    assert priced["status"][4] == "not_priced"  # status X and on no other schedule we have
    assert priced["status"][5] == "invalid_code"
    pfs_only = xlrate.price(frame.head(1), year=2025)
    assert pfs_only["amount"][0] == priced["amount"][0]
    assert list(priced["units"]) == [1.0] * 7


def test_units_scale_every_schedule() -> None:
    one = xlrate.price(pd.DataFrame({"code": ["99213", "85025"]}), year=2025, national=True)
    three = xlrate.price(
        pd.DataFrame({"code": ["99213", "85025"], "units": [3, 3]}), year=2025, national=True
    )
    cents_one = np.rint(one["amount"].to_numpy() * 100)
    cents_three = np.rint(three["amount"].to_numpy() * 100)
    assert (cents_three == cents_one * 3).all()
    scalar = xlrate.medicare_amount("99213", units=2, year=2025)
    assert scalar.amount == 2 * xlrate.medicare_amount("99213", year=2025).amount  # type: ignore[operator]


def test_release_follows_the_pfs_year() -> None:
    rel26 = load_release(2026)
    result = xlrate.medicare_amount("85025", year=2026)
    assert rel26.year == 2026 and result.release == "2026A"
    assert xlrate.medicare_amount("85025", year=2025).release == "2025A"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlrate", *args], capture_output=True, text=True, check=False
    )


def test_cli_price_has_schedule_and_units_columns() -> None:
    done = _run(
        "price",
        "85025",
        "J3301",
        "99213",
        "--national",
        "--year",
        "2025",
        "--units",
        "2",
        "--format",
        "csv",
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0])[-2:] == ["schedule", "units"]
    assert [r["schedule"] for r in rows] == ["CLFS", "ASP", "PFS"]
    assert rows[0]["nonfacility_amount"] == "15.54" and rows[0]["units"] == "2"
    assert rows[1]["nonfacility_amount"] == "1.80"  # 0.898 x 2 = 1.796


def test_cli_releases_lists_every_schedule_with_checksums() -> None:
    done = _run("releases")
    assert done.returncode == 0, done.stderr
    for schedule in ("CLFS", "ASP", "DMEPOS", "PEN"):
        assert schedule in done.stdout
    assert "03002de131d1cf0dce7334ef017335e6b47b1bdb550ee76e6eb6097af98b36b3" in done.stdout
    listed = json.loads(_run("releases", "--format", "json").stdout)
    schedules = {(r.get("schedule", "PFS"), r["release"]) for r in listed}
    assert {
        ("CLFS", "2025A"),
        ("CLFS", "2026A"),
        ("ASP", "2025A"),
        ("DMEPOS", "2025A"),
        ("PEN", "2025A"),
    } <= schedules


def test_cli_anesthesia_minutes_and_base_units_file(tmp_path: Path) -> None:
    base = tmp_path / "anes_base_units.csv"
    base.write_text("CPT Code,Base Units\n00100,5\n", "utf-8")
    done = _run(
        "price", "00100-QK", "--national", "--year", "2025", "--minutes", "30",
        "--base-units", str(base), "--format", "csv",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(io.StringIO(done.stdout)))
    # (5 + 2.0) x 20.3178 x 50% = 71.1123
    assert (row["schedule"], row["nonfacility_amount"]) == ("ANES", "71.11")
    missing = _run("price", "00100", "--national", "--year", "2025", "--format", "csv")
    row = next(csv.DictReader(io.StringIO(missing.stdout)))
    assert row["status"] == "base_units_missing" and row["nonfacility_amount"] == ""


def test_cli_input_file_with_units_state_and_minutes_columns(tmp_path: Path) -> None:
    requests = tmp_path / "requests.csv"
    requests.write_text("code,modifier,state,units\nE0260,RR,TX,2\nJ3301,,,10\n99213,,,\n", "utf-8")
    done = _run(
        "price", "--input", str(requests), "--national", "--year", "2025", "--format", "csv"
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["schedule"] for r in rows] == ["DMEPOS", "ASP", "PFS"]
    assert [r["units"] for r in rows] == ["2", "10", "1"]
    assert rows[1]["nonfacility_amount"] == "8.98"  # 0.898 x 10
    bad = tmp_path / "bad.csv"
    bad.write_text("code,units\nJ3301,lots\n", "utf-8")
    failed = _run("price", "--input", str(bad), "--national", "--format", "csv")
    assert failed.returncode == 1 and "not a number of units" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_code_on_no_schedule_says_which_files_were_checked() -> None:
    result = xlrate.medicare_amount("E0241", year=2025)  # DME bath rail: not on the fee schedules
    assert result.status == "unknown_code" and result.schedule == "PFS"
    assert "nor in CLFS 2025A, ASP 2025A, DMEPOS 2025A, PEN 2025A" in result.note
    priced = xlrate.price(pd.DataFrame({"code": ["E0241", "99213"]}), year=2025, national=True)
    assert priced["note"][0] == result.note


def test_the_engine_passes_on_every_option_the_schedules_take() -> None:
    import dataclasses

    from xlrate.medicare import pricing, schedules

    fields = {f.name for f in dataclasses.fields(schedules.ScheduleOptions)}
    assert fields == pricing.SCHEDULE_OPTIONS
