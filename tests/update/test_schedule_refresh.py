"""`xlrate medicare update --schedule clfs|asp|dmepos` against the local CMS server, serving
CMS's real files (tests/data/schedules, see its PROVENANCE.md).

CMS's 25CLABQ1.zip and the January 2025 ASP zip are served byte for byte. We have no copy of
CMS's DME25 zip, only its three CSVs, so the DMEPOS zip is built here from those genuine
members (as the RVU zip is built from rvu25d's CSVs). Expected amounts are read from the files
with csv here, never from xlrate's reader.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from cms_fake import FakeCMS, make_zip

import xlrate
from xlrate.cli import cli
from xlrate.errors import UpdateError
from xlrate.medicare import schedule_store, store
from xlrate.medicare.update import update_schedule
from xlrate.settings import medicare_home

DATA = Path(__file__).parents[1] / "data" / "schedules"
CLFS_ZIP = DATA / "clfs_2025q1" / "25CLABQ1.zip"
ASP_ZIP = DATA / "asp_2025q1" / "january-2025-asp-pricing-file-12_19_24-final-file.zip"
DME_DIR = DATA / "dmepos_2025q1"

CLFS = "/medicare/payment/fee-schedules/clinical-laboratory-fee-schedule-clfs/files"
ASP = "/medicare/payment/part-b-drugs/asp-pricing-files"
DMEPOS = "/medicare/payment/fee-schedules/dmepos/dmepos-fee-schedule"
ASP_LINK = "/files/zip/january-2025-asp-pricing-file-12/19/24-final-file.zip"


def _csv(text: str, first: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, r in enumerate(rows) if r and r[0] == first)
    return rows[start], [r for r in rows[start + 1 :] if r and r[0].strip()]


def _clfs_rates() -> dict[str, Decimal]:
    with zipfile.ZipFile(CLFS_ZIP) as zf:
        header, rows = _csv(zf.read("CLFS 2025 Q1V1.csv").decode("cp1252"), "YEAR")
    return {r[1]: Decimal(r[5]) for r in rows if not r[2] and r[4] == "N"}


def _asp_limits() -> dict[str, Decimal]:
    with zipfile.ZipFile(ASP_ZIP) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".csv"))
        header, rows = _csv(zf.read(name).decode("cp1252"), "HCPCS Code")
    return {r[0]: Decimal(r[3]) for r in rows if r[0] == "J3301"}


def _dme_cell(code: str, mod: str, column: str) -> Decimal:
    text = (DME_DIR / "DMEPOS_JAN.csv").read_text("cp1252")
    header, rows = _csv(text, "HCPCS")
    row = next(r for r in rows if (r[0], r[1], r[2]) == (code, mod, ""))
    return Decimal(row[header.index(column)])


@pytest.fixture
def served(home: Path, cms: FakeCMS, tmp_path: Path) -> FakeCMS:
    cms.page(CLFS, (f"{CLFS}/25clabq1", "25CLABQ1"))
    cms.page(f"{CLFS}/25clabq1", ("/files/zip/25CLABQ1.zip", "25CLABQ1"))
    cms.file("/files/zip/25CLABQ1.zip", CLFS_ZIP)
    cms.page(ASP, ASP_LINK)
    cms.file(ASP_LINK, ASP_ZIP)
    cms.page(DMEPOS, (f"{DMEPOS}/dme25", "DME25-A"))
    cms.page(f"{DMEPOS}/dme25", "/files/zip/dme25.zip")
    members = {p.name: p.read_bytes() for p in sorted(DME_DIR.glob("*.csv"))}
    cms.file("/files/zip/dme25.zip", make_zip(tmp_path / "dme25.zip", members))
    return cms


def _installed(schedule: str) -> schedule_store.ScheduleInfo:
    info = schedule_store.resolve(schedule, 2025, "A")
    assert info is not None and info.release_id == "2025A"
    return info


def test_update_each_schedule_installs_and_prices_like_the_file(served: FakeCMS) -> None:
    embedded = {k: _installed(k).source for k in ("clfs", "asp", "dmepos", "pen")}
    assert set(embedded.values()) == {"embedded"}
    before = {c: xlrate.medicare_amount(c, year=2025).amount for c in ("85025", "80053", "J3301")}

    runner = CliRunner()
    for schedule in ("clfs", "asp", "dmepos"):
        one = runner.invoke(
            cli, ["medicare", "update", "--schedule", schedule, "--year", "2025", "--release", "A"]
        )
        assert one.exit_code == 0, one.output
        assert f"Installed {schedule.upper()} release 2025A" in one.output
    assert "Installed PEN release 2025A" in one.output  # the DMEPOS zip holds PEN too

    for schedule, served_name, body in (
        ("clfs", "25CLABQ1.zip", CLFS_ZIP.read_bytes()),
        ("asp", "january-2025-asp-pricing-file-12/19/24-final-file.zip", ASP_ZIP.read_bytes()),
    ):
        info = _installed(schedule)
        assert info.source == "installed"
        assert info.provenance["archive"]["name"] == served_name
        assert info.provenance["archive"]["sha256"] == hashlib.sha256(body).hexdigest()
        assert info.provenance["source_url"] == f"{served.url}/files/zip/{served_name}"
        assert info.provenance["effective_from"] == "2025-01-01"
    assert _installed("dmepos").source == "installed" and _installed("pen").source == "installed"

    # The installed releases price as CMS's files say (and as the embedded ones did).
    rates, limits = _clfs_rates(), _asp_limits()
    for code in ("85025", "80053"):
        got = xlrate.medicare_amount(code, year=2025)
        assert (got.schedule, got.amount) == ("CLFS", rates[code])
        assert got.amount == before[code]
    assert rates["85025"] == Decimal("7.77")
    drug = xlrate.medicare_amount("J3301", year=2025, units=4)
    assert limits["J3301"] == Decimal("0.898")
    assert drug.amount == (limits["J3301"] * 4).quantize(Decimal("0.01"))  # 3.592 -> 3.59
    assert xlrate.medicare_amount("J3301", year=2025).amount == before["J3301"]
    dme = xlrate.medicare_amount("E0260", "RR", year=2025, zip="35203")  # Birmingham
    assert (dme.schedule, dme.amount) == ("DMEPOS", _dme_cell("E0260", "RR", "AL (NR)"))

    # Again: the same file is already installed, so nothing is rewritten.
    again = runner.invoke(
        cli, ["medicare", "update", "--schedule", "clfs", "--year", "2025", "--release", "A"]
    )
    assert again.exit_code == 0 and "CLFS release 2025A is up to date" in again.output


def test_dry_run_says_what_it_would_fetch_and_fetches_nothing(served: FakeCMS) -> None:
    result = CliRunner().invoke(
        cli, ["medicare", "update", "--schedule", "asp", "--dry-run"],
        env={"XLRATE_TODAY": "2025-02-14"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Would fetch ASP release 2025A" in result.output
    assert f"{served.url}{ASP_LINK}" in result.output
    assert served.statuses(ASP_LINK) == []
    assert _installed("asp").source == "embedded"


def test_a_broken_file_leaves_the_release_in_use(
    served: FakeCMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zip that is not a CLFS file (the ASP zip under the CLFS name) is refused, one line."""
    monkeypatch.setenv("XLRATE_TODAY", "2025-02-14")
    served.file("/files/zip/25CLABQ1.zip", ASP_ZIP)
    with pytest.raises(UpdateError) as caught:
        update_schedule("clfs", "2025A")
    assert "\n" not in str(caught.value)
    assert "still using CLFS release 2025A (shipped with xlrate)" in str(caught.value)
    store.clear_cache()
    assert _installed("clfs").source == "embedded"
    assert xlrate.medicare_amount("85025", year=2025).amount == Decimal("7.77")
    downloads = medicare_home() / ".downloads"
    assert not downloads.exists() or not list(downloads.iterdir())  # the download is gone


def test_pinned_sha256_mismatch_is_refused(served: FakeCMS) -> None:
    with pytest.raises(UpdateError, match="pinned"):
        update_schedule("asp", "2025A", sha256="0" * 64)
    assert _installed("asp").source == "embedded"


def test_all_dry_run_lists_every_schedule(served: FakeCMS) -> None:
    served.rvu_landing("rvu25a", "/files/zip/rvu25a.zip")
    result = CliRunner().invoke(
        cli, ["medicare", "update", "--schedule", "all", "--year", "2025", "--release", "A",
              "--dry-run"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("Would fetch release 2025A") for line in lines)
    for schedule in ("CLFS", "ASP", "DMEPOS"):
        assert any(line.startswith(f"Would fetch {schedule} ") for line in lines), result.output


def test_a_year_without_a_quarter_is_refused_for_the_schedules(served: FakeCMS) -> None:
    result = CliRunner().invoke(cli, ["medicare", "update", "--schedule", "clfs", "--year", "2025"])
    assert result.exit_code != 0 and "--year and a quarter letter" in result.output


def test_all_goes_on_when_one_schedule_fails(served: FakeCMS) -> None:
    """CMS lists no 2025A RVU zip here: the PFS part fails, the three others install, and
    the command ends non-zero with the PFS failure in one line."""
    result = CliRunner().invoke(
        cli, ["medicare", "update", "--schedule", "all", "--year", "2025", "--release", "A"]
    )
    assert result.exit_code == 1
    for schedule in ("CLFS", "ASP", "DMEPOS", "PEN"):
        assert f"Installed {schedule} release 2025A" in result.output
    assert "Medicare update failed" in result.output and "2025A" in result.output
    assert _installed("clfs").source == "installed"
