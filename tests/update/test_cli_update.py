"""`xlrate medicare update` / `install` against the local CMS server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from cms_fake import FakeCMS, Protected, answers, release_arrays

from xlrate.cli import cli
from xlrate.medicare import store


def test_update_2025d_equals_embedded(home: Path, serve_good: FakeCMS) -> None:
    before = answers()
    assert before["source"] == "embedded"

    result = CliRunner().invoke(cli, ["medicare", "update", "--year", "2025", "--release", "D"])

    assert result.exit_code == 0, result.output
    assert "Installed Medicare release 2025D" in result.output
    after = answers()
    assert after["source"] == "installed"
    assert after["amounts"] == before["amounts"]  # same amounts as the embedded 2025D
    installed = release_arrays(home / "medicare" / "releases" / "2025D")
    embedded = release_arrays(store.EMBEDDED_ROOT / "releases" / "2025D")
    assert all(np.array_equal(installed[k], embedded[k]) for k in embedded)

    listed = CliRunner().invoke(cli, ["releases", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    row = next(r for r in json.loads(listed.output) if r["release"] == "2025D")
    assert row["source"] == "installed"
    assert row["source_url"].endswith("/files/zip/rvu25d.zip")
    assert row["archive"]["sha256"] and row["downloaded_at"]

    again = CliRunner().invoke(cli, ["medicare", "update", "--year", "2025", "--release", "D"])
    assert again.exit_code == 0 and "up to date" in again.output


def test_update_with_zip_file(home: Path, serve_good: FakeCMS, zips: dict[str, Path]) -> None:
    link = "/files/zip/zip-code-carrier-locality-file-revised-08-14-2025.zip"
    serve_good.page("/medicare/payment/fee-schedules", link)
    serve_good.file(link, zips["zip5"])
    result = CliRunner().invoke(
        cli, ["medicare", "update", "--year", "2025", "--release", "D", "--zip-file"]
    )
    assert result.exit_code == 0, result.output
    assert "ZIP code to locality file 20254" in result.output


def test_failure_is_one_line_and_nonzero(protected: Protected, cms: FakeCMS) -> None:
    """Through the real entry point, as a user runs it: one line on stderr, exit 1."""
    done = subprocess.run(
        [sys.executable, "-m", "xlrate", "medicare", "update", "--year", "2026", "--release", "B",
         "--timeout", "2"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: Medicare update failed: ")
    assert "rvu26b.zip was not found" in lines[0]
    assert "still using Medicare release 2025D" in lines[0]
    assert "Traceback" not in done.stderr
    protected.assert_unchanged()


def test_install_command(home: Path, zips: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["medicare", "install", str(zips["good"])])
    assert result.exit_code == 0, result.output
    assert "Installed Medicare release 2025D" in result.output
    bad = CliRunner().invoke(cli, ["medicare", "install", str(zips["slip"])])
    assert bad.exit_code == 1
    assert "'..' path" in bad.output


def test_commands_are_documented() -> None:
    for args in (["medicare"], ["medicare", "update"], ["medicare", "install"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example" in result.output


RVU25A_ZIP = Path(__file__).parents[1] / "data" / "cms" / "rvu25a" / "rvu25a-updated-01_10_2025.zip"


def test_install_cms_genuine_rvu25a_zip(home: Path) -> None:
    """CMS's own zip, whose PPRRVU and OPPSCAP end with a DOS end-of-file byte (0x1A)."""
    result = CliRunner().invoke(cli, ["medicare", "install", str(RVU25A_ZIP)])
    assert result.exit_code == 0, result.output
    assert "Installed Medicare release 2025A" in result.output
    info = {i.release_id: i for i in store.list_releases()}["2025A"]
    assert info.source == "installed"
    assert info.provenance["archive"]["name"] == "rvu25a-updated-01_10_2025.zip"
    installed = release_arrays(info.path)
    embedded = release_arrays(store.EMBEDDED_ROOT / "releases" / "2025A")
    assert installed.keys() == embedded.keys()
    assert all(np.array_equal(installed[k], embedded[k]) for k in embedded)


def test_dry_run_prints_and_fetches_nothing(home: Path, cms: FakeCMS, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cms_fake import build_fee_schedules_page, build_real_site

    monkeypatch.setenv("XLRATE_TODAY", "2025-02-14")
    build_real_site(cms)
    build_fee_schedules_page(cms)
    result = CliRunner().invoke(
        cli, ["medicare", "update", "--year", "2025", "--release", "A", "--zip-file", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    first, second = result.output.strip().splitlines()
    assert first == (
        "Would fetch release 2025A (in force from 1 January 2025): file "
        f"rvu25a-updated-01/10/2025.zip at {cms.url}/files/zip/rvu25a-updated-01/10/2025.zip; "
        f"page {cms.url}/medicare/payment/fee-schedules/physician/pfs-relative-value-files/rvu25a;"
        " found via the landing page"
    )
    assert "zip-code-carrier-locality-file-updated-05-13-2026.zip" in second
    assert not [p for p, _ in cms.log if p.endswith(".zip")]
    assert not (home / "medicare" / "releases").exists()
