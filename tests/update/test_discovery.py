"""Discovery of CMS links and the download helper, against a real local server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cms_fake import FAST, FakeCMS

from xlrate.medicare.download import (
    _ZIP_LOCALITY_RE,
    DownloadError,
    Validators,
    _rvu_zip_pattern,
    best_link,
    download,
    find_rvu_zip,
    find_zip_locality_zip,
    new_session,
    page_links,
)

BASE = "https://www.cms.gov/files/zip/"


def test_best_link_prefers_the_newest_dated_repost() -> None:
    links = [
        BASE + "rvu26a.zip",
        BASE + "rvu26a-updated-11-14-2025.zip",
        BASE + "rvu26a-updated-12-29-2025.zip",
        BASE + "rvu26b.zip",
        BASE + "rvu26a1.zip",
        BASE + "rvu26a-documentation.pdf",
    ]
    assert best_link(links, _rvu_zip_pattern(2026, "A"), "rvu26a") == links[2]
    assert best_link(links[:1], _rvu_zip_pattern(2026, "A"), "rvu26a") == links[0]
    assert best_link(links, _rvu_zip_pattern(2026, "C"), "rvu26c") is None


def test_best_link_reads_dates_with_slashes() -> None:
    links = [
        BASE + "zip-code-carrier-locality-file-revised-08/14/2025.zip",
        BASE + "zip-code-carrier-locality-file-revised-02-18-2026.zip",
        BASE + "zip-code-carrier-locality-file-revised-11/05/2025.zip",
    ]
    assert best_link(links, _ZIP_LOCALITY_RE, "zip-code-carrier-locality") == links[1]


def test_page_links_keep_cms_links_on_the_configured_server() -> None:
    html = (
        '<a href="/files/zip/rvu25d.zip">a</a>'
        '<a href="https://www.cms.gov/files/zip/rvu25d-updated-09-11-2025.zip">b</a>'
        '<a href="https://example.org/other.zip">c</a><a>no href</a>'
    )
    page = "http://127.0.0.1:8000/medicare/payment/fee-schedules"
    assert page_links(html, page) == [
        "http://127.0.0.1:8000/files/zip/rvu25d.zip",
        "http://127.0.0.1:8000/files/zip/rvu25d-updated-09-11-2025.zip",
        "https://example.org/other.zip",
    ]
    official = "https://www.cms.gov/medicare/payment/fee-schedules"
    assert (
        page_links(html, official)[1]
        == "https://www.cms.gov/files/zip/rvu25d-updated-09-11-2025.zip"
    )


def test_absolute_cms_link_is_fetched_from_the_local_server(
    home: Path, cms: FakeCMS, zips: dict[str, Path]
) -> None:
    cms.rvu_landing("rvu25d", "https://www.cms.gov/files/zip/rvu25d-updated-09-11-2025.zip")
    with new_session() as session:
        source = find_rvu_zip(session, 2025, "D", options=FAST)
    assert source.url == f"{cms.url}/files/zip/rvu25d-updated-09-11-2025.zip"
    assert (source.discovered, source.release_id) == ("landing page", "2025D")


def test_zip_locality_fallback(home: Path, cms: FakeCMS) -> None:
    with new_session() as session:
        source = find_zip_locality_zip(session, options=FAST)
    assert source.url == f"{cms.url}/files/zip/zip-code-carrier-locality-file.zip"
    assert source.discovered == "fallback"


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


def test_release_found_by_probing_landing_pages(
    home: Path, cms: FakeCMS, zips: dict[str, Path]
) -> None:
    """No index page: the landing pages of the year are tried from D back to A."""
    from xlrate.medicare.download import newest_release

    cms.rvu_landing("rvu25b", "/files/zip/rvu25b.zip")
    with new_session() as session:
        assert newest_release(session, 2025, options=FAST) == (2025, "B")
        with pytest.raises(DownloadError, match="no RVU release for 2024"):
            newest_release(session, 2024, options=FAST)
    assert [path.rsplit("/", 1)[-1] for path, _ in cms.log] == [
        "pfs-relative-value-files", "rvu25d", "rvu25c", "rvu25b",
        "pfs-relative-value-files", "rvu24d", "rvu24c", "rvu24b", "rvu24a",
    ]  # fmt: skip


def test_bad_base_url_is_one_clear_line(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from xlrate.errors import UpdateError
    from xlrate.medicare.update import update_release

    monkeypatch.setenv("XLRATE_CMS_BASE_URL", "localhost:8000")
    with pytest.raises(UpdateError, match="XLRATE_CMS_BASE_URL") as err:
        update_release(2025, "D", options=FAST)
    assert "\n" not in str(err.value)
