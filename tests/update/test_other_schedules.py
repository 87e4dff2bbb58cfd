"""The same table-driven discovery for CLFS, ASP and DMEPOS pages (issue 16's list of CMS's
names), on a local server: the schedules' own refresh plugs into discovery.find_release."""

from __future__ import annotations

from pathlib import Path

import pytest
from cms_fake import FAST, FakeCMS

from xlrate.medicare import discovery
from xlrate.medicare.download import new_session

CLFS = "/medicare/payment/fee-schedules/clinical-laboratory-fee-schedule-clfs/files"
ASP = "/medicare/payment/part-b-drugs/asp-pricing-files"
DMEPOS = "/medicare/payment/fee-schedules/dmepos/dmepos-fee-schedule"


def serve_clfs(cms: FakeCMS) -> None:
    cms.page(CLFS, (f"{CLFS}/25clabq1", "25CLABQ1"), (f"{CLFS}/25clabq3", "25CLABQ3"),
             (f"{CLFS}/26clabq3", " 26CLABQ3"), ("/medicare/payment", "Payment"))  # fmt: skip
    cms.page(f"{CLFS}/25clabq1", ("/files/zip/25CLABQ1.zip", "25CLABQ1"))
    cms.page(f"{CLFS}/25clabq3", "/files/zip/25CLABQ3.zip", "/files/zip/25CLABQ3v2.zip")
    cms.page(f"{CLFS}/26clabq3", ("/license/ama?file=/files/zip/26clabq3.zip", "26CLABQ3"))


def serve_asp(cms: FakeCMS) -> None:
    cms.page(
        ASP,
        "/files/zip/january-2025-asp-pricing-file-12/19/24-final-file.zip",
        "/files/zip/january-2025-asp-pricing-file-noc.zip",
        "/files/zip/october-2025-asp-pricing-final-file.zip",
        "/files/zip/october-2025-asp-ndc-hcpcs-crosswalk.zip",
        "/files/zip/april-2026-medicare-part-b-payment-limit-files-03-30-2026-final-file.zip",
    )


def serve_dmepos(cms: FakeCMS) -> None:
    cms.page(DMEPOS, (f"{DMEPOS}/dme25", "DME25-D"), (f"{DMEPOS}/dme26", "DME26-A"))
    cms.page(f"{DMEPOS}/dme25", "/files/zip/dme25.zip", "/files/zip/dme25-c-updated-06/30/2025.zip")
    cms.page(f"{DMEPOS}/dme26", "/files/zip/dme26.zip", "/files/zip/dme26-b.zip",
             "/files/zip/dme26-c.zip")  # fmt: skip


@pytest.mark.parametrize(
    ("schedule", "serve", "release", "name", "wrapped"),
    [
        ("clfs", serve_clfs, "2025A", "25CLABQ1.zip", False),
        ("clfs", serve_clfs, "2025C", "25CLABQ3v2.zip", False),  # the newer version
        ("clfs", serve_clfs, "2026C", "26clabq3.zip", True),  # behind the licence page
        ("asp", serve_asp, "2025A", "january-2025-asp-pricing-file-12/19/24-final-file.zip", False),
        ("asp", serve_asp, "2025D", "october-2025-asp-pricing-final-file.zip", False),
        ("asp", serve_asp, "2026B",
         "april-2026-medicare-part-b-payment-limit-files-03-30-2026-final-file.zip", False),
        ("dmepos", serve_dmepos, "2025A", "dme25.zip", False),
        ("dmepos", serve_dmepos, "2025C", "dme25-c-updated-06/30/2025.zip", False),
        ("dmepos", serve_dmepos, "2026B", "dme26-b.zip", False),
    ],
)  # fmt: skip
def test_schedule_release_resolves_to_cms_file(
    home: Path,
    cms: FakeCMS,
    schedule: str,
    serve,
    release: str,
    name: str,
    wrapped: bool,  # type: ignore[no-untyped-def]
) -> None:
    serve(cms)
    with new_session() as session:
        found = discovery.find_release(session, discovery.site(schedule), release, cms.url, FAST)
    assert found is not None
    assert (found.name, found.licence_wrapped, found.release) == (name, wrapped, release)
    assert found.url == f"{cms.url}/files/zip/{name}"
    assert not found.last_resort


def test_a_release_not_published_is_none_without_a_built_address(home: Path, cms: FakeCMS) -> None:
    serve_clfs(cms)
    with new_session() as session:
        assert (
            discovery.find_release(session, discovery.site("clfs"), "2024A", cms.url, FAST) is None
        )


def test_listing_of_direct_files(home: Path, cms: FakeCMS) -> None:
    serve_asp(cms)
    with new_session() as session:
        listing = discovery.list_site(session, discovery.site("asp"), cms.url, FAST)
    assert listing.releases() == ["2025A", "2025D", "2026B"]  # NOC and crosswalk left out


def test_fetch_schedule_file_for_the_schedules_refresh(home: Path, cms: FakeCMS) -> None:
    """What the CLFS/ASP/DMEPOS refresh plugs into: found, downloaded, checked, then gone."""
    import zipfile

    from xlrate.medicare.update import fetch_schedule_file

    serve_clfs(cms)
    archive = home.parent / "26clabq3.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("CLFS 2026 Q3V1.csv", "YEAR,HCPCS,MOD,EFF_DATE,INDICATOR,RATE\n")
    body = archive.read_bytes()
    cms.file("/files/zip/26clabq3.zip", body)
    with fetch_schedule_file("clfs", "2026C", options=FAST) as fetched:
        assert fetched.path.read_bytes() == body
        assert fetched.provenance["archive"]["name"] == "26clabq3.zip"
        assert fetched.provenance["licence_wrapped"] is True
        assert fetched.provenance["effective_from"] == "2026-07-01"
        path = fetched.path
    assert not path.exists()
