"""Updating Medicare data from a real HTTP server playing CMS, with the real CMS files.

Every failure case checks that the data installed before answers exactly as it did.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from cms_fake import (
    FAST,
    FEE_SCHEDULES_PAGE,
    RVU_PAGES,
    FakeCMS,
    Protected,
    answers,
    assert_no_leftovers,
    release_arrays,
)

from xlrate.errors import InputError, UpdateError
from xlrate.medicare import store
from xlrate.medicare.update import (
    ZipLimits,
    install_zip,
    update_lock,
    update_release,
    update_zip_localities,
)

EMBEDDED_2025D = store.EMBEDDED_ROOT / "releases" / "2025D"


def one_line_failure(exc: pytest.ExceptionInfo[UpdateError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith("Medicare update failed: ")
    assert "still using Medicare release 2025D" in message
    return message


# --- success ------------------------------------------------------------------------------


def test_update_installs_release_equal_to_embedded(home: Path, serve_good: FakeCMS) -> None:
    before = answers()
    assert before["source"] == "embedded"

    result = update_release(2025, "D", options=FAST)

    assert (result.kind, result.name, result.status) == ("release", "2025D", "installed")
    infos = {i.release_id: i for i in store.list_releases()}
    info = infos["2025D"]
    assert info.source == "installed"
    provenance = info.provenance
    assert provenance["source_url"] == f"{serve_good.url}/files/zip/rvu25d.zip"
    assert provenance["landing_page"].endswith("/pfs-relative-value-files/rvu25d")
    assert provenance["archive"]["sha256"] == result.sha256
    assert provenance["downloaded_at"] and provenance["release_date"] == "2025-09-11"
    assert {f["name"] for f in provenance["files"]} >= {"PPRRVU2025_Oct.csv", "GPCI2025.csv"}

    installed = release_arrays(info.path)
    embedded = release_arrays(EMBEDDED_2025D)
    assert installed.keys() == embedded.keys()
    for key in embedded:
        np.testing.assert_array_equal(installed[key], embedded[key], err_msg=key)
    after = answers()
    assert after["source"] == "installed"
    assert after["amounts"] == before["amounts"]
    assert_no_leftovers(home)


def test_rerun_downloads_nothing(home: Path, serve_good: FakeCMS) -> None:
    update_release(2025, "D", options=FAST)
    files = sorted(p for p in (home / "medicare").rglob("*") if p.is_file())
    stamps = [p.stat().st_mtime_ns for p in files if p.name != "http-cache.json"]

    again = update_release(2025, "D", options=FAST)

    assert again.status == "unchanged"
    assert serve_good.statuses("/files/zip/rvu25d.zip") == [200, 304]
    assert [p.stat().st_mtime_ns for p in files if p.name != "http-cache.json"] == stamps
    assert "up to date" in again.message


def test_force_downloads_and_installs_again(home: Path, serve_good: FakeCMS) -> None:
    update_release(2025, "D", options=FAST)
    forced = update_release(2025, "D", options=FAST, force=True)
    assert serve_good.statuses("/files/zip/rvu25d.zip") == [200, 200]
    assert forced.status == "installed"


def test_changed_file_on_server_is_installed_again(home: Path, serve_good: FakeCMS) -> None:
    update_release(2025, "D", options=FAST)
    route = serve_good.routes["/files/zip/rvu25d.zip"]
    route.etag, route.last_modified = '"reposted"', "Fri, 12 Sep 2025 12:00:00 GMT"
    assert update_release(2025, "D", options=FAST).status == "unchanged"  # same bytes
    assert serve_good.statuses("/files/zip/rvu25d.zip") == [200, 200]


def test_dated_repost_link_is_preferred(home: Path, cms: FakeCMS, zips: dict[str, Path]) -> None:
    cms.rvu_landing(
        "rvu25d",
        "/files/zip/rvu25d.zip",
        "https://example.invalid/unrelated.zip",
        "/files/zip/rvu25d-updated-09-11-2025.zip",
        "/files/zip/rvu25d-updated-08-01-2025.zip",
    )
    cms.file("/files/zip/rvu25d.zip", zips["truncated"])
    cms.file("/files/zip/rvu25d-updated-08-01-2025.zip", zips["truncated"])
    cms.file("/files/zip/rvu25d-updated-09-11-2025.zip", zips["good"])

    result = update_release(2025, "D", options=FAST)

    assert result.source_url.endswith("/files/zip/rvu25d-updated-09-11-2025.zip")
    assert cms.statuses("/files/zip/rvu25d.zip") == []
    assert store.load_release(2025, "D").info.source == "installed"


def test_plain_zip_name_when_landing_page_is_missing(
    home: Path, cms: FakeCMS, zips: dict[str, Path]
) -> None:
    cms.file("/files/zip/rvu25d.zip", zips["good"])
    result = update_release(2025, "D", options=FAST)
    assert result.status == "installed"
    assert "address was built from the release name" in result.message  # and says so
    info = {i.release_id: i for i in store.list_releases()}["2025D"]
    assert info.provenance["discovered"] == "built address"
    assert info.provenance["landing_page"] is None
    assert any("answered 404" in n for n in info.provenance["discovery_notes"])


def test_newest_release_is_found_from_the_index_page(
    home: Path, serve_good: FakeCMS, zips: dict[str, Path]
) -> None:
    serve_good.page(RVU_PAGES, f"{RVU_PAGES}/rvu25c", f"{RVU_PAGES}/rvu25d", f"{RVU_PAGES}/rvu24d")
    result = update_release(options=FAST)
    assert result.name == "2025D"
    result = update_release(release="D", options=FAST)  # the newest year with a D release
    assert (result.name, result.status) == ("2025D", "unchanged")


def test_500_then_success(home: Path, serve_good: FakeCMS) -> None:
    serve_good.routes["/files/zip/rvu25d.zip"].failures = [500, 503]
    result = update_release(2025, "D", options=FAST)
    assert result.status == "installed"
    assert serve_good.statuses("/files/zip/rvu25d.zip") == [500, 503, 200]


def test_stalled_download_then_success_on_retry(home: Path, serve_good: FakeCMS) -> None:
    route = serve_good.routes["/files/zip/rvu25d.zip"]
    route.stall_after, route.delay = 1000, 1.0  # the first attempt hangs after 1,000 bytes

    def heal() -> None:
        time.sleep(0.2)
        route.stall_after, route.delay = None, 0.0

    threading.Thread(target=heal, daemon=True).start()
    result = update_release(2025, "D", options=FAST)
    assert result.status == "installed"
    assert serve_good.statuses("/files/zip/rvu25d.zip") == [200, 200]
    assert result.bytes == len(route.body)


def test_pinned_sha256(protected: Protected, serve_good: FakeCMS, zips: dict[str, Path]) -> None:
    with pytest.raises(UpdateError, match="not the pinned") as err:
        update_release(2025, "D", options=FAST, sha256="0" * 64, force=True)
    one_line_failure(err)
    protected.assert_unchanged()
    import hashlib

    good = hashlib.sha256(zips["good"].read_bytes()).hexdigest()
    assert update_release(2025, "D", options=FAST, sha256=good.upper(), force=True).sha256 == good


# --- failures: the installed data must answer exactly as before ------------------------------


def test_404(protected: Protected, cms: FakeCMS) -> None:
    cms.rvu_landing("rvu26a", "/files/zip/rvu26a-updated-12-29-2025.zip")  # link, no file
    with pytest.raises(UpdateError, match="not found") as err:
        update_release(2026, "A", options=FAST)
    message = one_line_failure(err)
    assert "rvu26a-updated-12-29-2025.zip" in message
    assert "xlrate medicare install" in message
    assert cms.statuses("/files/zip/rvu26a-updated-12-29-2025.zip") == [404]  # not retried
    protected.assert_unchanged()


def test_500_forever(protected: Protected, serve_good: FakeCMS) -> None:
    serve_good.routes["/files/zip/rvu25d.zip"].failures = [500] * 10
    with pytest.raises(UpdateError, match=r"500 .*3 attempts") as err:
        update_release(2025, "D", options=FAST, force=True)
    one_line_failure(err)
    protected.assert_unchanged()


def test_slow_server_hits_the_timeout(protected: Protected, serve_good: FakeCMS) -> None:
    serve_good.routes["/files/zip/rvu25d.zip"].delay = 2.0
    started = time.monotonic()
    with pytest.raises(UpdateError, match="timeout|timed out") as err:
        update_release(2025, "D", options=FAST, force=True)
    assert time.monotonic() - started < 2.0  # 3 attempts x 0.5 s, not 3 x 2 s
    one_line_failure(err)
    protected.assert_unchanged()


def test_download_stalling_mid_file(protected: Protected, serve_good: FakeCMS) -> None:
    route = serve_good.routes["/files/zip/rvu25d.zip"]
    route.stall_after, route.delay = 50_000, 2.0
    with pytest.raises(UpdateError) as err:
        update_release(2025, "D", options=FAST, force=True)
    one_line_failure(err)
    protected.assert_unchanged()


def test_connection_refused(protected: Protected, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLRATE_CMS_BASE_URL", "http://127.0.0.1:9")  # discard port: refused
    with pytest.raises(UpdateError, match="could not connect") as err:
        update_release(2025, "D", options=FAST)
    one_line_failure(err)
    protected.assert_unchanged()


@pytest.mark.parametrize(
    ("variant", "expected"),
    [
        ("truncated", "not a complete zip file"),
        ("renamed", r"GPCI columns match no known layout.*PE INDEX"),
        ("slip", r"'\.\./evil\.csv' has a '\.\.' path"),
        ("bomb", r"'NOTES\.txt' expands .* times"),
    ],
)
def test_bad_zip_is_refused(
    protected: Protected,
    cms: FakeCMS,
    zips: dict[str, Path],
    tmp_path: Path,
    variant: str,
    expected: str,
) -> None:
    cms.rvu_landing("rvu25d", "/files/zip/rvu25d-updated-10-01-2025.zip")
    cms.file("/files/zip/rvu25d-updated-10-01-2025.zip", zips[variant])
    with pytest.raises(UpdateError, match=expected) as err:
        update_release(2025, "D", options=FAST)
    one_line_failure(err)
    protected.assert_unchanged()
    assert not (tmp_path / "evil.csv").exists()
    assert not list(tmp_path.rglob("evil.csv"))


def test_oversized_member_by_declared_size(protected: Protected, serve_good: FakeCMS) -> None:
    # PPRRVU2025_Oct.csv is 2.5 MB: with a 1 MB member limit the genuine zip is refused.
    with pytest.raises(UpdateError, match="PPRRVU2025_Oct.csv' would unpack to 2,547,226") as err:
        update_release(
            2025, "D", options=FAST, force=True, limits=ZipLimits(max_member_bytes=2**20)
        )
    one_line_failure(err)
    protected.assert_unchanged()


def test_wrong_release_behind_the_link(
    protected: Protected, cms: FakeCMS, zips: dict[str, Path]
) -> None:
    cms.rvu_landing("rvu26a", "/files/zip/rvu26a.zip")
    cms.file("/files/zip/rvu26a.zip", zips["good"])  # really RVU25D
    with pytest.raises(UpdateError, match="says release 2025D, not 2026A") as err:
        update_release(2026, "A", options=FAST)
    one_line_failure(err)
    protected.assert_unchanged()


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="quarter letter"):
        update_release(2025, "E")
    with pytest.raises(InputError, match="calendar year"):
        update_release(25, "D")


# --- the lock ---------------------------------------------------------------------------------

HOLD_LOCK = """
import sys, time
from xlrate.medicare.update import update_lock
with update_lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _hold_lock(seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_process_waits_for_the_lock(protected: Protected, serve_good: FakeCMS) -> None:
    holder = _hold_lock(30)
    try:
        with pytest.raises(UpdateError, match="another xlrate update is still running") as err:
            update_release(2025, "D", options=FAST, force=True, lock_timeout=0.3)
        one_line_failure(err)
        protected.assert_unchanged()
    finally:
        holder.kill()  # a killed holder must not leave the lock held
        holder.wait()
    assert update_release(2025, "D", options=FAST, lock_timeout=5).status == "unchanged"


def test_concurrent_updates_do_not_corrupt_the_store(home: Path, serve_good: FakeCMS) -> None:
    results: list[object] = []

    def run() -> None:
        try:
            results.append(update_release(2025, "D", options=FAST, lock_timeout=30).status)
        except Exception as exc:  # collected and asserted below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, results)) == ["installed", "unchanged", "unchanged"]
    assert answers()["source"] == "installed"
    assert_no_leftovers(home)


def test_leftovers_of_a_killed_update_are_cleaned(installed_home: Path) -> None:
    releases = installed_home / "medicare" / "releases"
    (installed_home / "medicare" / ".downloads").mkdir()
    (installed_home / "medicare" / ".downloads" / ".download-x.part").write_bytes(b"PK")
    (releases / ".2026A.abcd1234").mkdir()
    # Killed between moving 2025D aside and renaming the new one in: 2025D must come back.
    os.replace(releases / "2025D", releases / ".2025D.old-4242")
    with update_lock():
        pass
    assert sorted(p.name for p in releases.iterdir()) == ["2025D"]
    assert answers()["source"] == "installed"
    assert_no_leftovers(installed_home)


KILLED_UPDATE = """
from xlrate.medicare.update import HttpOptions, update_release
update_release(2025, "D", force=True, options=HttpOptions(timeout=30, retries=0))
"""


def test_update_killed_mid_download(protected: Protected, serve_good: FakeCMS) -> None:
    """A process killed half-way (Excel closed, power cut) leaves the old data answering,
    and the next update cleans up after it."""
    route = serve_good.routes["/files/zip/rvu25d.zip"]
    route.stall_after, route.delay = 100_000, 30.0
    victim = subprocess.Popen([sys.executable, "-c", KILLED_UPDATE], env=dict(os.environ))
    downloads = protected.home / "medicare" / ".downloads"
    try:
        deadline = time.monotonic() + 20
        while not any(p.stat().st_size for p in downloads.glob("*.part")):
            assert time.monotonic() < deadline, "the download never started"
            assert victim.poll() is None
            time.sleep(0.05)
    finally:
        victim.kill()
        victim.wait()
    assert answers() == protected.answers  # the partial download changed nothing

    route.stall_after, route.delay = None, 0.0
    assert update_release(2025, "D", options=FAST, force=True).status == "installed"
    assert answers()["amounts"] == protected.answers["amounts"]
    assert_no_leftovers(protected.home)


# --- the ZIP code to locality file and local installs ----------------------------------------


def test_zip_locality_update(home: Path, cms: FakeCMS, zips: dict[str, Path]) -> None:
    link = "/files/zip/zip-code-carrier-locality-file-revised-08/14/2025.zip"
    cms.page(
        FEE_SCHEDULES_PAGE, "/files/zip/zip-code-carrier-locality-file-revised-02/18/2025.zip", link
    )
    cms.file(link, zips["zip5"])

    result = update_zip_localities(options=FAST)

    assert (result.kind, result.name, result.status) == ("zip5", "20254", "installed")
    table = store.load_zip_table()
    assert table.path == home / "medicare" / "zip5" / "20254"
    assert table.provenance["source_url"].endswith("revised-08/14/2025.zip")
    assert len(table.arrays["zip"]) == 42_956
    assert update_zip_localities(options=FAST).status == "unchanged"
    assert cms.statuses(link) == [200, 304]
    assert_no_leftovers(home)


def test_install_local_zip(home: Path, zips: dict[str, Path]) -> None:
    result = install_zip(zips["good"], release_id="2025D")
    assert (result.name, result.status) == ("2025D", "installed")
    assert result.source_url.startswith("file://")
    assert install_zip(zips["zip5"]).kind == "zip5"
    assert answers()["source"] == "installed"


def test_install_local_zip_refuses_bad_ones(
    protected: Protected, zips: dict[str, Path], tmp_path: Path
) -> None:
    for variant in ("truncated", "renamed", "slip", "bomb"):
        with pytest.raises(UpdateError) as err:
            install_zip(zips[variant])
        one_line_failure(err)
    with pytest.raises(UpdateError, match="does not exist"):
        install_zip(tmp_path / "nothing.zip")
    with pytest.raises(UpdateError, match="says release 2025D, not 2025C"):
        install_zip(zips["good"], release_id="2025C")
    protected.assert_unchanged()
