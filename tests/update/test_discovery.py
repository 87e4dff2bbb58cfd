"""Discovery of CMS links (xlrate.medicare.discovery) and the download helper, against a
real local server playing CMS's site in its real shapes (issue 16)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cms_fake import (
    EXPECTED_FILES,
    FAST,
    RVU_PAGES,
    FakeCMS,
    build_fee_schedules_page,
    build_real_site,
)

from xlrate.medicare import discovery
from xlrate.medicare.discovery import (
    Link,
    best_file,
    cms_file_name,
    file_links,
    find_release,
    link_date,
    page_links,
    release_pages,
)
from xlrate.medicare.download import DownloadError, Validators, download, new_session

BASE = "https://www.cms.gov/files/zip/"
PFS = discovery.site("pfs")


def links(*urls: str) -> list[Link]:
    return [Link(u, "", u) for u in urls]


def test_best_file_prefers_the_newest_dated_repost() -> None:
    urls = [
        BASE + "rvu26a.zip",
        BASE + "rvu26a-updated-11-14-2025.zip",
        BASE + "rvu26a-updated-12-29-2025.zip",
        BASE + "rvu26b.zip",
        BASE + "rvu26a1.zip",
        BASE + "rvu26ar.zip",
        BASE + "rvu26a-documentation.pdf",
    ]
    files = file_links(PFS, links(*urls), "page")
    assert best_file(files, "2026A").url == urls[2]  # type: ignore[union-attr]
    assert best_file(file_links(PFS, links(urls[0]), "p"), "2026A").url == urls[0]  # type: ignore[union-attr]
    assert best_file(files, "2026C") is None
    assert best_file(files, "2026AR").url == urls[5]  # type: ignore[union-attr]
    assert {f.release for f in files} == {"2026A", "2026B", "2026AR"}  # not rvu26a1, not the pdf


def test_dates_with_slashes_dashes_and_two_digit_years() -> None:
    zl = discovery.site("zip_locality")
    urls = [
        BASE + "zip-code-carrier-locality-file-revised-08/14/2025.zip",
        BASE + "zip-code-carrier-locality-file-revised-02-18-2026.zip",
        BASE + "zip-code-carrier-locality-file-revised-11/05/2025.zip",
    ]
    assert best_file(file_links(zl, links(*urls), "p")).url == urls[1]  # type: ignore[union-attr]
    assert link_date("january-2025-asp-pricing-file-12/19/24-final-file.zip").isoformat() == (  # type: ignore[union-attr]
        "2024-12-19"
    )
    assert link_date("rvu24d.zip") is None


def test_the_whole_file_name_is_kept() -> None:
    assert cms_file_name(BASE + "rvu25a-updated-01/10/2025.zip") == "rvu25a-updated-01/10/2025.zip"
    assert cms_file_name(BASE + "rvu25a-updated-01%2F10%2F2025.zip") == (
        "rvu25a-updated-01/10/2025.zip"
    )
    assert cms_file_name("file:///tmp/x/rvu25d.zip") == "rvu25d.zip"


def test_page_links_keep_cms_links_on_the_configured_server() -> None:
    html = (
        '<a href="/files/zip/rvu25d.zip">a</a>'
        '<a href="https://www.cms.gov/files/zip/rvu25d-updated-09-11-2025.zip">b</a>'
        '<a href="https://example.org/other.zip">c</a><a>no href</a>'
        '<a href="/license/ama?file=/files/zip/26clabq3.zip&amp;x=1" hreflang="en"> 26CLABQ3 </a>'
    )
    page = "http://127.0.0.1:8000/medicare/payment/fee-schedules"
    found = page_links(html, page)
    assert [link.url for link in found] == [
        "http://127.0.0.1:8000/files/zip/rvu25d.zip",
        "http://127.0.0.1:8000/files/zip/rvu25d-updated-09-11-2025.zip",
        "https://example.org/other.zip",
        "http://127.0.0.1:8000/files/zip/26clabq3.zip",
    ]
    assert found[3].licence_wrapped and found[3].text == "26CLABQ3"
    cms_page = "https://www.cms.gov/medicare/payment/fee-schedules"
    older = '<a href="/apps/ama/license.asp?file=/files/zip/rvu24d.zip">RVU24D</a>'
    assert page_links(older, cms_page)[0].url == BASE + "rvu24d.zip"
    assert page_links('<a href="/licenses/open-data">x</a>', cms_page)[0].licence_wrapped is False
    official = "https://www.cms.gov/medicare/payment/fee-schedules"
    assert page_links(html, official)[1].url == BASE + "rvu25d-updated-09-11-2025.zip"


def test_index_links_in_three_shapes_corrections_and_stray_spaces() -> None:
    index = [
        Link("https://www.cms.gov/medicare/medicare-fee-service-payment/physicianfeesched/"
             "pfs-relative-value-files/rvu23a", "RVU23A", ""),
        Link(f"https://www.cms.gov{RVU_PAGES}/rvu24b", "RVU24B", ""),
        Link(f"https://www.cms.gov{RVU_PAGES}/rvu25d-0", "RVU25D", ""),
        Link(f"https://www.cms.gov{RVU_PAGES}/rvu24ar", "RVU24AR ", ""),
        Link("https://www.cms.gov/x/cms1239526", " RVU26B", ""),  # known only by its text
        Link("https://www.cms.gov/x/cms1239527", "RVU10D_PCT0", ""),
    ]  # fmt: skip
    pages = release_pages(PFS, index)
    assert sorted(pages) == ["2023A", "2024AR", "2024B", "2025D", "2026B"]
    assert pages["2025D"][0].url.endswith("/rvu25d-0")


def test_absolute_cms_link_is_fetched_from_the_local_server(home: Path, cms: FakeCMS) -> None:
    cms.rvu_landing("rvu25d", "https://www.cms.gov/files/zip/rvu25d-updated-09-11-2025.zip")
    with new_session() as session:
        found = find_release(session, PFS, "2025D", cms.url, FAST)
    assert found is not None
    assert found.url == f"{cms.url}/files/zip/rvu25d-updated-09-11-2025.zip"
    assert (found.discovered, found.release) == ("landing page (built address)", "2025D")


@pytest.mark.parametrize("release", sorted(EXPECTED_FILES))
def test_every_release_resolves_to_the_file_cms_named(
    home: Path, cms: FakeCMS, release: str
) -> None:
    pages = build_real_site(cms)
    with new_session() as session:
        found = find_release(session, PFS, release, cms.url, FAST)
    assert found is not None
    assert found.name == EXPECTED_FILES[release]  # slashes and all
    assert found.url == f"{cms.url}/files/zip/{EXPECTED_FILES[release]}"
    assert found.page == cms.url + pages[release]
    assert (found.discovered, found.notes) == ("landing page", [])
    assert found.licence_wrapped == (release == "2024C")


def test_rvu25d_through_its_renamed_page(home: Path, cms: FakeCMS) -> None:
    build_real_site(cms)
    with new_session() as session:
        found = find_release(session, PFS, "2025D", cms.url, FAST)
    assert found is not None and found.page == f"{cms.url}{RVU_PAGES}/rvu25d-0"
    assert found.name == "rvu25d-updated-09/11/2025.zip"
    assert cms.statuses(f"{RVU_PAGES}/rvu25d") == []  # the superseded page is not read


def test_a_403_landing_page_falls_back_and_says_so(home: Path, cms: FakeCMS) -> None:
    build_real_site(cms)
    cms.forbidden(f"{RVU_PAGES}/rvu26b")
    with new_session() as session:
        found = find_release(session, PFS, "2026B", cms.url, FAST)
    assert found is not None and found.last_resort
    assert (found.discovered, found.name, found.page) == ("built address", "rvu26b.zip", None)
    assert f"{cms.url}{RVU_PAGES}/rvu26b answered 403" in found.notes
    assert any("address was built" in n for n in found.notes)
    assert cms.statuses(f"{RVU_PAGES}/rvu26b") == [403]  # not retried


def test_listing_knows_every_release_and_next_year(home: Path, cms: FakeCMS) -> None:
    build_real_site(cms, next_year=True)
    with new_session() as session:
        listing = discovery.list_site(session, PFS, cms.url, FAST)
    listed = listing.releases()
    assert listed[:6] == ["2023A", "2023B", "2023C", "2023D", "2024A", "2024AR"]
    assert listed[-2:] == ["2026D", "2027A"]


def test_zip_locality_newest_dated_name(home: Path, cms: FakeCMS) -> None:
    newest = build_fee_schedules_page(cms)
    with new_session() as session:
        found = discovery.find_latest_file(session, discovery.site("zip_locality"), cms.url, FAST)
    assert found is not None and found.url == cms.url + newest
    assert found.name == "zip-code-carrier-locality-file-updated-05-13-2026.zip"


def test_zip_locality_without_a_link_fails_loudly(home: Path, cms: FakeCMS) -> None:
    """No undated zip-code-carrier-locality-file.zip was ever seen: no built address."""
    from xlrate.errors import UpdateError
    from xlrate.medicare.update import update_zip_localities

    cms.page("/medicare/payment/fee-schedules", "/medicare/payment/fee-schedules/physician")
    with pytest.raises(UpdateError, match="no ZIP code to carrier locality zip is linked"):
        update_zip_localities(options=FAST)
    assert not any("zip-code-carrier-locality-file.zip" in path for path, _ in cms.log)


def test_download_with_progress_bar_and_conditional_request(
    home: Path, cms: FakeCMS, zips: dict[str, Path], tmp_path: Path
) -> None:
    route = cms.file("/files/zip/rvu25d.zip", zips["good"])
    with new_session() as session:
        fetched = download(
            session, f"{cms.url}/files/zip/rvu25d.zip", tmp_path, options=FAST, progress=True
        )
        assert fetched.path is not None
        assert fetched.sha256 == hashlib.sha256(route.body).hexdigest()
        assert fetched.path.read_bytes() == route.body
        assert (fetched.etag, fetched.last_modified) == (route.etag, route.last_modified)

        again = download(
            session,
            f"{cms.url}/files/zip/rvu25d.zip",
            tmp_path,
            options=FAST,
            validators=Validators(fetched.etag, None),
        )
        assert again.not_modified and again.path is None
        with pytest.raises(DownloadError, match="not found"):
            download(session, f"{cms.url}/files/zip/missing.zip", tmp_path, options=FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fetched.path.name]


def test_release_found_by_probing_landing_pages(home: Path, cms: FakeCMS) -> None:
    """No index page: the built page addresses of the year, from D back to A."""
    from xlrate.errors import UpdateError
    from xlrate.medicare.update import plan_update

    cms.rvu_landing("rvu25b", "/files/zip/rvu25b.zip")
    [source] = plan_update(2025, options=FAST)
    assert (source.release, source.discovered) == ("2025B", "landing page (built address)")
    with pytest.raises(UpdateError, match="no RVU release for 2024"):
        plan_update(2024, options=FAST)


def test_bad_base_url_is_one_clear_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlrate.errors import UpdateError
    from xlrate.medicare.update import update_release

    monkeypatch.setenv("XLRATE_CMS_BASE_URL", "localhost:8000")
    with pytest.raises(UpdateError, match="XLRATE_CMS_BASE_URL") as err:
        update_release(2025, "D", options=FAST)
    assert "\n" not in str(err.value)


def test_a_403_index_page_falls_back_to_the_built_page_addresses(home: Path, cms: FakeCMS) -> None:
    cms.forbidden(RVU_PAGES)
    cms.rvu_landing("rvu25d-0", "/files/zip/rvu25d-updated-09/11/2025.zip")
    with new_session() as session:
        found = find_release(session, PFS, "2025D", cms.url, FAST)
    assert found is not None
    assert (found.discovered, found.name) == (
        "landing page (built address)",
        "rvu25d-updated-09/11/2025.zip",
    )
    assert found.notes[0] == f"the index page {cms.url}{RVU_PAGES} answered 403"


def test_dos_end_of_file_ends_every_cms_text_file() -> None:
    from cms_fake import ZIP5_DIR

    from xlrate.medicare.cms_files import read_zip5

    data = (ZIP5_DIR / "ZIP5_OCT2025.txt").read_bytes()
    assert len(read_zip5(data + b"\x1a", "ZIP5.txt")) == len(read_zip5(data, "ZIP5.txt")) == 42_956
