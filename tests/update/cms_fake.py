"""A real HTTP server on 127.0.0.1 playing CMS, and zips built from the real CMS files.

The zips are made at test time from ``tests/data/cms/`` (byte-for-byte CMS files; see its
PROVENANCE.md), so no binary fixture is committed and every variant (truncated, renamed
column, ``../`` member, oversized member) starts from the genuine bundle.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xlrate.medicare import store
from xlrate.medicare.update import HttpOptions

CMS = Path(__file__).parents[1] / "data" / "cms"
RVU25D = CMS / "rvu25d"
ZIP5_DIR = CMS / "zip_locality_2025q4"
RVU_PAGES = "/medicare/payment/fee-schedules/physician/pfs-relative-value-files"
FEE_SCHEDULES_PAGE = "/medicare/payment/fee-schedules"

# Short timeouts and no backoff keep the failure cases fast.
FAST = HttpOptions(timeout=0.5, retries=2, backoff=0.0)

# (code, modifier) pairs checked before and after every failure: office visit, a 26/TC
# split, an OPPS-capped imaging code, an anesthesia code.
PROBE_CODES = [("99213", ""), ("71046", "26"), ("71046", "TC"), ("76145", ""), ("00100", "")]
PROBE_LOCALITIES = ["01112-05", "10112-00", "NATIONAL"]


# --- zips --------------------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 9, 11, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
    return path


def rvu25d_members() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(RVU25D.glob("*.csv"))}


@pytest.fixture(scope="session")
def zips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The genuine RVU25D bundle as a zip, and broken variants of it."""
    folder = tmp_path_factory.mktemp("zips")
    good = make_zip(folder / "rvu25d.zip", rvu25d_members())
    data = good.read_bytes()
    truncated = folder / "rvu25d-truncated.zip"
    truncated.write_bytes(data[: len(data) * 2 // 3])

    renamed = rvu25d_members()
    renamed["GPCI2025.csv"] = renamed["GPCI2025.csv"].replace(b"2025 PE GPCI", b"2025 PE INDEX")
    slip = rvu25d_members()
    slip["../evil.csv"] = b"HCPCS,MOD\n99213,\n"
    bomb = rvu25d_members()
    bomb["NOTES.txt"] = bytes(64 * 2**20)  # 64 MB of zeros: about 64 KB compressed

    zip5 = {p.name: p.read_bytes() for p in sorted(ZIP5_DIR.iterdir())}
    return {
        "good": good,
        "truncated": truncated,
        "renamed": make_zip(folder / "rvu25d-renamed.zip", renamed),
        "slip": make_zip(folder / "rvu25d-slip.zip", slip),
        "bomb": make_zip(folder / "rvu25d-bomb.zip", bomb),
        "zip5": make_zip(folder / "zip-code-carrier-locality-file.zip", zip5),
    }


# --- the server ---------------------------------------------------------------------------


@dataclass
class Route:
    body: bytes
    content_type: str = "application/zip"
    etag: str | None = None
    last_modified: str | None = None
    failures: list[int] = field(default_factory=list)  # answered first, one per request
    delay: float = 0.0  # seconds before answering
    stall_after: int | None = None  # send this many body bytes, then hang
    hits: int = 0
    status: int = 200  # another status (403) answers every request with it


class FakeCMS:
    """Landing pages and zips on 127.0.0.1; ``log`` records (path, status) per request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, int]] = []
        self.url = ""

    def page(self, path: str, *links: str | tuple[str, str]) -> None:
        """A page linking ``links``: an href, or (href, link text) as CMS writes them."""
        anchors = []
        for link in links:
            href, text = link if isinstance(link, tuple) else (link, link.rsplit("/", 1)[-1])
            anchors.append(f'<li><a href="{href}" hreflang="en">{text}</a></li>')
        html = (
            '<html><body><nav><a href="/">Home</a><a href="/about-cms">About</a></nav>'
            f"<h1>CMS</h1><ul>{''.join(anchors)}</ul></body></html>"
        )
        self.routes[path] = Route(html.encode(), content_type="text/html; charset=utf-8")

    def forbidden(self, path: str) -> None:
        """A page that answers 403 Forbidden (as some of CMS's moved pages do)."""
        self.routes[path] = Route(b"Access denied", content_type="text/plain", status=403)

    def file(self, path: str, body: bytes | Path, **options: Any) -> Route:
        data = body.read_bytes() if isinstance(body, Path) else body
        options.setdefault("etag", '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        options.setdefault("last_modified", "Thu, 11 Sep 2025 12:00:00 GMT")
        route = Route(data, **options)
        self.routes[path] = route
        return route

    def rvu_landing(self, release: str, *links: str) -> str:
        """A landing page such as ``.../rvu25d`` linking ``links``; returns its path."""
        path = f"{RVU_PAGES}/{release}"
        self.page(path, *links)
        return path

    def statuses(self, path: str) -> list[int]:
        return [status for p, status in self.log if p == path]


def _handler(cms: FakeCMS) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            route = cms.routes.get(path)
            try:
                if route is None:
                    self._plain(404, b"Page not found")
                    cms.log.append((path, 404))
                    return
                route.hits += 1
                if route.status != 200:
                    cms.log.append((path, route.status))
                    self._plain(route.status, route.body)
                    return
                if route.failures:
                    status = route.failures.pop(0)
                    cms.log.append((path, status))
                    self._plain(status, b"Server error")
                    return
                if route.delay and route.stall_after is None:
                    time.sleep(route.delay)
                if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified
                    and self.headers.get("If-Modified-Since") == route.last_modified
                ):
                    cms.log.append((path, 304))
                    self.send_response(304)
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                cms.log.append((path, 200))
                self.send_response(200)
                self.send_header("Content-Type", route.content_type)
                self.send_header("Content-Length", str(len(route.body)))
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                self.end_headers()
                if route.stall_after is not None:
                    self.wfile.write(route.body[: route.stall_after])
                    self.wfile.flush()
                    time.sleep(route.delay)
                    self.close_connection = True
                    return
                self.wfile.write(route.body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _plain(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gives up (timeout tests) breaks the pipe: expected, not news.
        pass


@pytest.fixture
def cms() -> Iterator[FakeCMS]:
    fake = FakeCMS()
    server = _Server(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# --- the user's data folder ---------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cms: FakeCMS) -> Iterator[Path]:
    """An empty XLRATE_HOME, with the CMS base URL pointing at the local server."""
    folder = tmp_path / "home"
    monkeypatch.setenv("XLRATE_HOME", str(folder))
    monkeypatch.setenv("XLRATE_CMS_BASE_URL", cms.url)
    store.clear_cache()
    yield folder
    store.clear_cache()


@pytest.fixture(scope="session")
def installed_template(tmp_path_factory: pytest.TempPathFactory, zips: dict[str, Path]) -> Path:
    """A data folder with RVU25D installed from the genuine zip (built once per session)."""
    from xlrate.medicare.update import install_zip

    folder = tmp_path_factory.mktemp("template") / "home"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLRATE_HOME", str(folder))
        install_zip(zips["good"])
    store.clear_cache()
    return folder


@pytest.fixture
def installed_home(home: Path, installed_template: Path) -> Path:
    """Like ``home``, with RVU25D already installed: the last good data to protect."""
    shutil.copytree(installed_template, home)
    store.clear_cache()
    return home


# --- what the store answers ----------------------------------------------------------------


def data_files(home: Path) -> dict[str, str]:
    """sha256 of every file of the installed data (the lock and the HTTP cache aside)."""
    root = home / "medicare"
    if not root.is_dir():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in (".update.lock", "http-cache.json")
    }


def answers() -> dict[str, Any]:
    """What the store (and the pricing engine, when present) answers for a few codes."""
    store.clear_cache()
    out: dict[str, Any] = {
        "releases": [
            (i.release_id, i.source, i.provenance.get("archive")) for i in store.list_releases()
        ]
    }
    release = store.load_release(2025, "D")
    out["source"] = release.info.source
    for code, modifier in PROBE_CODES:
        row = release.rvu_index[(code, modifier)]
        out[f"{code}-{modifier}"] = tuple(
            int(release.arrays[f"pprrvu.{c}"][row])
            for c in ("work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility", "mp_rvu")
        )
    out["gpci"] = [a.tolist() for a in release.gpci]
    out["amounts"] = _amounts()
    return out


def _amounts() -> list[Any]:
    """Amounts from the pricing engine (``price`` reads the store afresh after clear_cache)."""
    import pandas as pd

    import xlrate

    frame = pd.DataFrame(
        [
            {"code": code, "modifier": modifier, "locality": locality}
            for code, modifier in PROBE_CODES
            for locality in PROBE_LOCALITIES
        ]
    )
    priced = xlrate.price(frame, year=2025, release="D")
    columns = ["code", "modifier", "locality", "release", "status"]
    amounts = ["nonfacility_amount", "facility_amount"]
    return [tuple(r) for r in priced[columns + amounts].astype(str).itertuples(index=False)]


def release_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path / "tables.npz", allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


class Protected:
    """The last good data, remembered so a test can prove a failure did not touch it."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.files = data_files(home)
        self.answers = answers()
        assert self.answers["source"] == "installed"

    def assert_unchanged(self) -> None:
        assert data_files(self.home) == self.files
        assert answers() == self.answers
        assert_no_leftovers(self.home)


def assert_no_leftovers(home: Path) -> None:
    """No partial download, temporary release folder or moved-aside release remains."""
    root = home / "medicare"
    leftovers = [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.name.startswith(".") and p.name != ".update.lock" or p.suffix == ".part"
    ]
    downloads = root / ".downloads"
    leftovers += [str(p) for p in downloads.rglob("*")] if downloads.exists() else []
    assert leftovers == []


@pytest.fixture
def protected(installed_home: Path) -> Protected:
    return Protected(installed_home)


@pytest.fixture
def serve_good(cms: FakeCMS, zips: dict[str, Path]) -> FakeCMS:
    """CMS as it usually is: the RVU25D landing page links the zip."""
    cms.rvu_landing("rvu25d", "/files/zip/rvu25d.zip")
    cms.file("/files/zip/rvu25d.zip", zips["good"])
    return cms


# --- CMS's site as it really looks (issue 16) ------------------------------------------------

OLD_RVU_PAGES = "/medicare/medicare-fee-service-payment/physicianfeesched/pfs-relative-value-files"
RVU26D_HTML_LINK = (
    "/files/zip/rvu26d-updated-08-26-2026.zip",
    "RVU26D - Updated 08/26/2026",
)

# The file each release resolves to, as CMS named it (issue 16; 2024B and 2024C as a public
# scraper's list names them; 2025B and 2025C were not named anywhere, so plain names).
EXPECTED_FILES = {
    "2024A": "rvu24a-updated-04/01/2024.zip",
    "2024AR": "rvu24ar-posted-04/01/2024.zip",
    "2024B": "rvu24b-updated-03/18/2024.zip",
    "2024C": "rvu24c-updated-09/09/2024.zip",
    "2024D": "rvu24d.zip",
    "2025A": "rvu25a-updated-01/10/2025.zip",
    "2025B": "rvu25b.zip",
    "2025C": "rvu25c.zip",
    "2025D": "rvu25d-updated-09/11/2025.zip",
    "2026A": "rvu26a-updated-12-29-2025.zip",
    "2026B": "rvu26b-updated-05-01-2026.zip",
    "2026C": "rvu26c-updated-06-30-2026.zip",
    "2026D": "rvu26d-updated-08-26-2026.zip",
}


def build_real_site(cms: FakeCMS, *, next_year: bool = False) -> dict[str, str]:
    """CMS's PFS pages in their real shapes; returns {release: the page the index links}.

    - the index links each release page with a root-relative href (one absolute), in three
      path shapes (2023 A-C under .../physicianfeesched/..., later .../physician/...), RVU25D
      at ``rvu25d-0``, the correction ``rvu24ar``, link texts with stray spaces;
    - a release page links its zip relative or absolute, with ``hreflang``, slashed or
      dashed dates, dated re-posts beside the first post, a licence-wrapped link (24C), a
      neighbour's zip (24A's page links 24AR's too);
    - the old ``rvu25d`` page still answers 200 with the superseded first post;
    - ``next_year``: RVU27A listed, as CMS does in December.
    """

    def zips(*names: str) -> list[str | tuple[str, str]]:
        return [(f"/files/zip/{n}", f"RVU - {n}") for n in names]

    pages: dict[str, tuple[str, str, list[str | tuple[str, str]]]] = {
        "2023A": (f"{OLD_RVU_PAGES}/rvu23a", "RVU23A", zips("rvu23a.zip")),
        "2023B": (f"{OLD_RVU_PAGES}/rvu23b", "RVU23B", zips("rvu23b.zip")),
        "2023C": (f"{OLD_RVU_PAGES}/rvu23c", "RVU23C", zips("rvu23c.zip")),
        "2023D": (f"{RVU_PAGES}/rvu23d", "RVU23D", zips("rvu23d.zip")),
        "2024A": (
            f"{RVU_PAGES}/rvu24a",
            "RVU24A",
            zips("rvu24a-updated-04/01/2024.zip", "rvu24ar-posted-04/01/2024.zip"),
        ),
        "2024AR": (f"{RVU_PAGES}/rvu24ar", "RVU24AR ", zips("rvu24ar-posted-04/01/2024.zip")),
        "2024B": (f"{RVU_PAGES}/rvu24b", "RVU24B", zips("rvu24b-updated-03/18/2024.zip")),
        "2024C": (
            f"{RVU_PAGES}/rvu24c",
            "RVU24C",
            [("/license/ama?file=/files/zip/rvu24c-updated-09/09/2024.zip", "RVU24C")],
        ),
        "2024D": (f"{RVU_PAGES}/rvu24d", "RVU24D", zips("rvu24d.zip")),
        "2025A": (
            f"{RVU_PAGES}/rvu25a",
            "RVU25A",
            [("https://www.cms.gov/files/zip/rvu25a-updated-01/10/2025.zip", "RVU25A")],
        ),
        "2025B": (f"{RVU_PAGES}/rvu25b", "RVU25B", zips("rvu25b.zip")),
        "2025C": (f"{RVU_PAGES}/rvu25c", "RVU25C", zips("rvu25c.zip")),
        "2025D": (f"{RVU_PAGES}/rvu25d-0", "RVU25D", zips("rvu25d-updated-09/11/2025.zip")),
        "2026A": (
            f"{RVU_PAGES}/rvu26a",
            "RVU26A",
            zips("rvu26a.zip", "rvu26a-updated-12-29-2025.zip"),
        ),
        "2026B": (
            f"{RVU_PAGES}/rvu26b",
            " RVU26B",
            zips("rvu26b-updated-03-10-2026.zip", "rvu26b-updated-05-01-2026.zip"),
        ),
        "2026C": (f"{RVU_PAGES}/rvu26c", "RVU26C", zips("rvu26c-updated-06-30-2026.zip")),
        "2026D": (f"{RVU_PAGES}/rvu26d", "RVU26D ", [RVU26D_HTML_LINK]),
    }
    if next_year:
        pages["2027A"] = (f"{RVU_PAGES}/rvu27a", "RVU27A", zips("rvu27a.zip"))
    index: list[str | tuple[str, str]] = [("/medicare/payment/fee-schedules", "Fee schedules")]
    for release, (path, text, links) in reversed(pages.items()):
        href = f"https://www.cms.gov{path}" if release == "2026C" else path
        index.append((href, text))
        cms.page(path, *links)
    cms.page(RVU_PAGES, *index)
    cms.page(f"{RVU_PAGES}/rvu25d", *zips("rvu25d.zip"))  # the old, superseded page
    return {release: path for release, (path, _, _) in pages.items()}


ZIP_LOCALITY_LINKS = [
    "/files/zip/zip-code-carrier-locality-file-revised-08/14/2025.zip",
    "/files/zip/zip-code-carrier-locality-file-revised-11-18-2025.zip",
    "/files/zip/zip-code-carrier-locality-file-updated-05-13-2026.zip",
    "/files/zip/zip-code-carrier-locality-file-revised-02-18-2026.zip",
]


def build_fee_schedules_page(cms: FakeCMS) -> str:
    """CMS's fee schedules page with the dated ZIP-locality names; returns the newest link."""
    cms.page(
        FEE_SCHEDULES_PAGE,
        ("/medicare/payment/fee-schedules/physician", "Physician Fee Schedule"),
        *[(link, "ZIP Code to Carrier Locality File") for link in ZIP_LOCALITY_LINKS],
    )
    return ZIP_LOCALITY_LINKS[2]


RVU26C = CMS / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"
MONTHS = {
    "A": ("January", "Jan"),
    "B": ("April", "Apr"),
    "C": ("July", "Jul"),
    "D": ("October", "Oct"),
}


def synthetic_bundle(path: Path, year: int, letter: str, cf: str) -> Path:
    """A SYNTHETIC RVU bundle for tests of dates: RVU26C's PPRRVU (banner set to ``year`` /
    ``letter``, every CONV FACTOR set to ``cf``: a marked value, not CMS's) with RVU25D's
    GPCI, LOCCO, ANES and OPPSCAP files standing in for the year's own."""
    month, short = MONTHS[letter]
    data = RVU26C.read_bytes()
    data = data.replace(
        b"2026 National Physician Fee Schedule Relative Value File July Release",
        f"{year} National Physician Fee Schedule Relative Value File {month} Release".encode(),
    )
    assert data.count(b",33.4009,") > 19000
    data = data.replace(b",33.4009,", f",{cf},".encode())
    members = {f"PPRRVU{year}_{short}_nonQPP.csv": data}
    for name in ("GPCI2025.csv", "25LOCCO.csv", "ANES2025.csv", "OPPSCAP_Oct.csv"):
        members[name] = (RVU25D / name).read_bytes()
    return make_zip(path, members)
