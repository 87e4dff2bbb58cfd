"""Release ids, effective dates and the release in force on a date (issue 16, issue 12)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from cms_fake import RVU26C, RVU_PAGES, FakeCMS, build_real_site, synthetic_bundle

from xlrate.cli import cli
from xlrate.errors import InputError
from xlrate.medicare import releases, store
from xlrate.medicare.releases import ReleaseId, parse_release_id, release_for_date

ALL = ["2024A", "2024AR", "2024B", "2024C", "2024D", "2025A", "2025D", "2026C"]


def test_parse_ids_and_corrections() -> None:
    assert parse_release_id("2025d") == ReleaseId(2025, "D", "")
    assert parse_release_id(" 2024AR ") == ReleaseId(2024, "A", "R")
    assert parse_release_id("rvu24ar").slug == "rvu24ar"
    assert parse_release_id("AR", 2024).base == "2024A"
    assert str(parse_release_id("rvu25d")) == "2025D"
    for bad in ("2025E", "x9999", "25D", ""):
        with pytest.raises(InputError):
            parse_release_id(bad)
    with pytest.raises(InputError, match="needs a year"):
        parse_release_id("D")


def test_effective_dates() -> None:
    assert [releases.effective_date(r).isoformat() for r in ("2025A", "2025B", "2025C", "2025D")] == [
        "2025-01-01", "2025-04-01", "2025-07-01", "2025-10-01",
    ]  # fmt: skip
    assert releases.effective_date("2024AR") == dt.date(2024, 3, 9)  # as CMS published it
    assert releases.describe("2027A") == "2027A (in force from 1 January 2027)"


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2024-01-01", "2024A"),
        ("2024-03-08", "2024A"),  # $32.7442 until 8 March 2024
        ("2024-03-09", "2024AR"),  # $33.2875 from 9 March
        ("2024-03-31", "2024AR"),
        ("2024-04-01", "2024B"),
        ("2025-02-14", "2025A"),
        ("2025-09-30", "2025A"),  # the newest earlier one we have (no 2025B/C)
        ("2025-12-31", "2025D"),
        ("2026-12-15", "2026C"),
        ("2023-12-31", None),  # nothing had started
    ],
)
def test_release_for_date(day: str, expected: str | None) -> None:
    found = release_for_date(ALL, day)
    assert (str(found) if found else None) == expected


def test_never_a_release_that_has_not_started() -> None:
    ids = ["2026C", "2026D", "2027A"]
    assert str(release_for_date(ids, dt.date(2026, 12, 31))) == "2026D"
    assert str(release_for_date(ids, dt.date(2027, 1, 1))) == "2027A"


def test_test_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLRATE_TODAY", "2026-12-15")
    assert releases.today() == dt.date(2026, 12, 15)
    monkeypatch.setenv("XLRATE_TODAY", "15/12/2026")
    with pytest.raises(InputError, match="XLRATE_TODAY"):
        releases.today()


# --- December 2026: CMS lists RVU27A ---------------------------------------------------------

CF_2027_SYNTHETIC = "40.0000"  # a marked value: no real CF; 2027A here is built from 2026 data


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _total_99213() -> Decimal:
    rows = list(csv.reader(RVU26C.open(encoding="latin-1")))
    return Decimal(next(r for r in rows if r[:2] == ["99213", ""])[11])


def _price(*args: str) -> dict[str, str]:
    result = CliRunner().invoke(cli, ["price", "99213", "--national", "--format", "csv", *args])
    assert result.exit_code == 0, result.output
    return next(csv.DictReader(io.StringIO(result.stdout)))


def test_december_with_next_years_release_listed(
    home: Path, cms: FakeCMS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SYNTHETIC 2026D (RVU26C's RVUs and CF) and 2027A (the same RVUs, CF 40.0000) bundles,
    each with RVU25D's GPCI files standing in: what matters is which release prices when."""
    monkeypatch.setenv("XLRATE_TODAY", "2026-12-15")
    build_real_site(cms, next_year=True)
    cms.file(
        "/files/zip/rvu26d-updated-08-26-2026.zip",
        synthetic_bundle(tmp_path / "26d.zip", 2026, "D", "33.4009"),
    )
    cms.file("/files/zip/rvu27a.zip",
             synthetic_bundle(tmp_path / "27a.zip", 2027, "A", CF_2027_SYNTHETIC))  # fmt: skip

    plan = CliRunner().invoke(cli, ["medicare", "update", "--dry-run"])
    assert plan.exit_code == 0, plan.output
    lines = plan.output.strip().splitlines()
    assert len(lines) == 2
    assert "release 2026D (in force from 1 October 2026)" in lines[0]
    assert "file rvu26d-updated-08-26-2026.zip" in lines[0]
    assert f"page {cms.url}{RVU_PAGES}/rvu26d" in lines[0]
    assert "release 2027A (in force from 1 January 2027): file rvu27a.zip" in lines[1]
    assert not [p for p, _ in cms.log if p.endswith(".zip")]  # nothing downloaded

    before = _price()
    assert before["year"] == "2025"  # embedded: 2026C has no GPCIs, 2025D is complete

    update = CliRunner().invoke(cli, ["medicare", "update"])
    assert update.exit_code == 0, update.output
    assert "Installed Medicare release 2026D" in update.output
    assert "Installed Medicare release 2027A" in update.output
    assert (
        "It applies to dates of service from 1 January 2027; until then prices use 2026D"
        in update.output
    )

    total = _total_99213()
    today = _price()
    assert (today["year"], today["release"]) == ("2026", "2026D")
    assert Decimal(today["nonfacility_amount"]) == _cents(total * Decimal("33.4009"))
    january = _price("--date", "2027-01-05")
    assert january["release"] == "2027A"
    assert Decimal(january["nonfacility_amount"]) == _cents(total * Decimal(CF_2027_SYNTHETIC))
    assert store.resolve_release().release_id == "2026D"

    listed = CliRunner().invoke(cli, ["releases"])
    assert "2026D (default)" in listed.output

    monkeypatch.setenv("XLRATE_TODAY", "2027-01-01")
    store.clear_cache()
    assert _price()["release"] == "2027A"  # on 1 January the default moves on


def test_update_without_arguments_in_a_quarter_installs_that_quarter(
    home: Path, cms: FakeCMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On 14 February 2025 the release in force is 2025A, whatever else CMS lists."""
    from xlrate.medicare.update import plan_update

    monkeypatch.setenv("XLRATE_TODAY", "2025-02-14")
    build_real_site(cms, next_year=True)
    [source, upcoming] = plan_update()
    assert (source.release, source.file_name) == ("2025A", "rvu25a-updated-01/10/2025.zip")
    assert upcoming.release == "2025B"
    monkeypatch.setenv("XLRATE_TODAY", "2024-03-20")
    assert plan_update()[0].release == "2024AR"


def test_correction_release_installs_under_its_own_id(home: Path, tmp_path: Path) -> None:
    """RVU24AR carries the January banner; installed as 2024AR it prices 9-31 March 2024.
    SYNTHETIC bundle (2026 RVUs, 2025 GPCIs) with 2024's revised CF $33.2875."""
    from xlrate.medicare.update import install_zip

    bundle = synthetic_bundle(tmp_path / "rvu24ar-posted-04_01_2024.zip", 2024, "A", "33.2875")
    result = install_zip(bundle)  # the id from CMS's file name: the banner says January
    assert (result.name, result.status) == ("2024AR", "installed")
    assert store.resolve_release(date="2024-03-09").release_id == "2024AR"
    assert store.resolve_release(2024, "AR").release_id == "2024AR"
    priced = CliRunner().invoke(
        cli, ["price", "99213", "--national", "--release", "2024AR", "--format", "csv"]
    )
    assert priced.exit_code == 0, priced.output
    row = next(csv.DictReader(io.StringIO(priced.stdout)))
    assert Decimal(row["nonfacility_amount"]) == _cents(_total_99213() * Decimal("33.2875"))


def test_releases_for_many_service_dates() -> None:
    days = ["2024-03-08", "2024-03-09", "2025-02-14", "2023-01-01", dt.date(2026, 12, 15)]
    assert releases.releases_for_dates(ALL, days) == ["2024A", "2024AR", "2025A", None, "2026C"]
    assert releases.releases_for_dates(ALL, days) == [
        str(r) if (r := release_for_date(ALL, d)) else None for d in days
    ]


def test_date_note_says_when_the_dates_release_is_missing() -> None:
    assert releases.date_note("2025A", "2025-02-14") == (
        "Date of service 2025-02-14: release 2025A (in force from 1 January 2025)."
    )
    note = releases.date_note("2025A", "2025-08-01")
    assert "CMS's release for that date is 2025C, not installed here" in note
    assert "`xlrate medicare update --year 2025 --release C`" in note
    assert "not installed" not in releases.date_note("2024AR", "2024-03-20")
