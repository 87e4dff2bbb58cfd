"""Installing a schedule release from CMS's files on disk: parsed, checked, atomic, traced."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import xlrate
from xlrate.medicare import schedule_store
from xlrate.medicare.schedule_update import install_file, zip_of
from xlrate.settings import medicare_home

DATA = Path(__file__).parents[1] / "data" / "schedules"


def test_install_clfs_zip_replaces_the_embedded_release() -> None:
    path = DATA / "clfs_2025q1" / "25CLABQ1.zip"
    info = install_file("clfs", path)
    assert info.release_id == "2025A"
    assert info.path == medicare_home() / "clfs" / "2025A"
    listed = [i for i in schedule_store.list_schedule_releases("clfs") if i.release_id == "2025A"]
    assert listed[0].source == "installed"
    entry = listed[0].provenance["files"][0]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        xlrate.medicare_amount("85025", year=2025).amount
        == xlrate.medicare_amount("85025", "QW", year=2025).amount
    )


def test_install_dmepos_from_a_zip_of_cms_members(tmp_path: Path) -> None:
    folder = DATA / "dmepos_2025q1"
    bundle = tmp_path / "dme25.zip"
    bundle.write_bytes(
        zip_of(
            {
                name: (folder / name).read_bytes()
                for name in (
                    "DMEPOS_JAN.csv",
                    "DMEPEN_JAN.csv",
                    "DME Rural ZIP Code Quarter 1, 2025.csv",
                )
            }
        )
    )
    for kind in ("dmepos", "pen"):
        info = install_file(kind, bundle)
        assert info.release_id == "2025A"  # "January 2025 Fee Schedule" in the title block
        assert info.provenance["files"][0]["member"].startswith("DMEP")
    assert schedule_store.load_for("dmepos", 2025, "A").info.source == "installed"  # type: ignore[union-attr]


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    lines = (DATA / "dmepos_2025q1" / "DMEPOS_JAN.csv").read_bytes().splitlines(keepends=True)
    short = tmp_path / "DMEPOS_JAN.csv"
    short.write_bytes(b"".join(lines[:60]))
    with pytest.raises(xlrate.XlrateError, match="only 53 DMEPOS rows"):
        install_file(
            "dmepos",
            short,
            rural_zip_file=DATA / "dmepos_2025q1" / "DME Rural ZIP Code Quarter 1, 2025.csv",
        )
    assert not (medicare_home() / "dmepos").exists()


def test_a_refresh_temp_file_is_recognised_by_content(tmp_path: Path) -> None:
    """A refresh hands over a temporary file without the CMS name: zip or workbook by content."""
    for schedule, source in (
        ("clfs", DATA / "clfs_2025q1" / "25CLABQ1.zip"),
        ("asp", DATA / "asp_2025q1" / "january-2025-asp-pricing-file-12_19_24-final-file.zip"),
        ("clfs", DATA / "clfs_2026q1" / "CLFS_2026_Q1V1.xlsx"),
    ):
        temp = tmp_path / "download.part"
        temp.write_bytes(source.read_bytes())
        info = install_file(
            schedule, temp, extra_provenance={"source_url": "https://cms.example/x"}
        )
        assert info.provenance["source_url"] == "https://cms.example/x"
        assert info.release_id in ("2025A", "2026A")
