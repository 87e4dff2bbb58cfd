"""Find and fetch CMS files over HTTP: landing-page discovery and careful downloads.

This module only talks to the network; :mod:`xlrate.medicare.update` verifies and installs
what it brings back. Everything here takes a ``requests.Session`` so tests (and offices
behind a proxy) can supply their own transport.

- Discovery (:mod:`xlrate.medicare.discovery`) reads CMS's pages rather than guessing file
  names, because CMS re-posts a corrected bundle under a dated name
  (``rvu26a-updated-12-29-2025.zip``); this module gives it pages (403/404/410 = missing).
- Downloads stream to a temporary file (sha256 computed on the way), with timeouts, a bounded
  number of retries with exponential backoff on connection errors, timeouts and 5xx answers,
  and conditional requests (ETag / Last-Modified) so an unchanged file is not fetched again.
- Every failure is a :class:`DownloadError` whose ``reason`` says what failed and whose
  ``hint`` says what to try; the updater adds what is still in use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from xlrate.errors import UpdateError

_CHUNK = 1 << 16


class DownloadError(UpdateError):
    """A page or file could not be fetched; ``reason`` and ``hint`` feed the final message."""

    def __init__(self, reason: str, hint: str = "", *, url: str = "") -> None:
        super().__init__(f"{reason}. {hint}".strip() if hint else reason)
        self.reason = reason
        self.hint = hint
        self.url = url


@dataclass(frozen=True)
class HttpOptions:
    """Network behaviour. Tests shorten ``timeout`` and set ``backoff`` to 0."""

    timeout: float = 30.0  # seconds to connect and between bytes received
    retries: int = 3  # extra attempts after the first, on connection errors, timeouts, 5xx
    backoff: float = 1.0  # first wait; doubles each retry
    max_backoff: float = 30.0
    max_bytes: int = 1 << 30  # abort a download that grows beyond this (a runaway server)
    user_agent: str = "xlrate (Medicare fee schedule benchmarking)"


@dataclass(frozen=True)
class Validators:
    """What the server said about a file last time, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Download:
    """One fetched file (``path`` is None when the server said 304 Not Modified)."""

    url: str
    final_url: str
    path: Path | None
    sha256: str = ""
    bytes: int = 0
    etag: str | None = None
    last_modified: str | None = None
    fetched_at: str = ""

    @property
    def not_modified(self) -> bool:
        return self.path is None


@dataclass(frozen=True)
class Source:
    """Where a CMS file was found: the zip URL, the page that linked it, and how."""

    kind: str  # "rvu", "zip_locality", or "local" for a zip the user gave
    url: str
    landing_page: str | None
    # "landing page", "index page", "landing page (built address)", "built address" (the
    # last resort: no page linked the zip) or "local file"
    discovered: str
    release: str | None = None  # "2025D", "2024AR"
    file_name: str = ""  # CMS's whole name, date included: rvu25a-updated-01/10/2025.zip
    notes: tuple[str, ...] = ()
    licence_wrapped: bool = False

    @property
    def release_id(self) -> str | None:
        return self.release


def new_session(options: HttpOptions | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = (options or HttpOptions()).user_agent
    return session


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


# --- HTTP with retries --------------------------------------------------------------------


def _retryable_status(status: int) -> bool:
    return status >= 500 or status in (408, 429)


def _sleep_before_retry(options: HttpOptions, attempt: int) -> None:
    delay = min(options.backoff * (2**attempt), options.max_backoff)
    if delay > 0:
        time.sleep(delay)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(exc, (requests.exceptions.ReadTimeout,)):
        return "the server stopped answering (read timeout)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        if "Read timed out" in text or "timed out" in text:
            return "the server stopped answering (read timeout)"
        return "could not connect"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the connection broke during the download"
    return type(exc).__name__


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "..."


_TRANSIENT = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _request(
    session: requests.Session,
    url: str,
    options: HttpOptions,
    *,
    headers: dict[str, str] | None = None,
    stream: bool = False,
    handle: Callable[[requests.Response], Any],
) -> Any:
    """GET ``url`` and pass the response to ``handle``, retrying transient failures.

    ``handle`` may raise :class:`_Transient` to ask for a retry (a body cut short).
    """
    attempts = options.retries + 1
    last = ""
    for attempt in range(attempts):
        try:
            with session.get(
                url, headers=headers, stream=stream, timeout=options.timeout, allow_redirects=True
            ) as response:
                if _retryable_status(response.status_code):
                    last = f"the server answered {response.status_code} {response.reason}"
                else:
                    return handle(response)
        except requests.exceptions.SSLError as exc:
            # Not worth retrying: usually an office proxy that inspects HTTPS traffic.
            raise DownloadError(
                f"the secure connection to {url} failed ({_short(exc)})",
                "If your office uses an inspecting proxy, set REQUESTS_CA_BUNDLE to its "
                "certificate file, or download the zip yourself and run "
                "`xlrate medicare install PATH.zip`",
                url=url,
            ) from exc
        except _TRANSIENT as exc:
            last = _describe(exc)
        except requests.exceptions.RequestException as exc:
            raise DownloadError(
                f"could not request {url} ({_short(exc)})",
                "Check XLRATE_CMS_BASE_URL (it must start with http:// or https://) and the "
                "proxy settings",
                url=url,
            ) from exc
        except _Transient as exc:
            last = str(exc)
        if attempt + 1 < attempts:
            _sleep_before_retry(options, attempt)
    tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
    raise DownloadError(
        f"could not download {url}: {last} ({tries})",
        "Check the internet connection (or proxy) and try again later",
        url=url,
    )


class _Transient(Exception):
    """A download that broke in a way worth retrying."""


MISSING_PAGE = (403, 404, 410)  # CMS answers 403 for some pages it moved: missing, like 404


def get_page_status(
    session: requests.Session, url: str, options: HttpOptions | None = None
) -> tuple[int, str | None]:
    """(status, text) of a web page; the text is None when the page is missing (403/404/410).

    Other answers (after retries for 5xx) raise :class:`DownloadError`.
    """
    options = options or HttpOptions()

    def handle(response: requests.Response) -> tuple[int, str | None]:
        if response.status_code in MISSING_PAGE:
            return response.status_code, None
        if response.status_code != 200:
            raise DownloadError(
                f"{url} answered {response.status_code} {response.reason}",
                "Try again later",
                url=url,
            )
        return 200, response.text

    result: tuple[int, str | None] = _request(session, url, options, handle=handle)
    return result


def get_page(session: requests.Session, url: str, options: HttpOptions | None = None) -> str | None:
    """The text of a web page, or None when it is missing (403/404/410)."""
    return get_page_status(session, url, options)[1]


def download(
    session: requests.Session,
    url: str,
    dest_dir: Path,
    *,
    options: HttpOptions | None = None,
    validators: Validators | None = None,
    progress: bool | None = None,
    label: str | None = None,
) -> Download:
    """Stream ``url`` into a new temporary file in ``dest_dir``.

    Sends ``validators`` as a conditional request; a 304 answer gives a :class:`Download`
    whose ``path`` is None. A 404 fails at once; connection errors, timeouts, 5xx answers
    and bodies shorter than their Content-Length are retried. A partial file never
    survives: it is removed before each retry and on failure.
    """
    options = options or HttpOptions()
    headers = {"Accept-Encoding": "identity"}  # so Content-Length counts the file's bytes
    if validators:
        headers.update(validators.headers())
    show = sys.stderr.isatty() if progress is None else progress
    name = label or Path(urlsplit(url).path).name or url

    def handle(response: requests.Response) -> Download:
        if response.status_code == 304 and validators:
            return Download(
                url=url,
                final_url=response.url,
                path=None,
                etag=response.headers.get("ETag") or validators.etag,
                last_modified=response.headers.get("Last-Modified") or validators.last_modified,
                fetched_at=now_utc(),
            )
        if response.status_code in (404, 410):
            raise DownloadError(
                f"{url} was not found (HTTP {response.status_code})",
                "Check the year and release exist on CMS's site, or download the zip yourself "
                "and run `xlrate medicare install PATH.zip`",
                url=url,
            )
        if response.status_code != 200:
            raise DownloadError(
                f"{url} answered {response.status_code} {response.reason}",
                "Try again later, or download the zip yourself and run "
                "`xlrate medicare install PATH.zip`",
                url=url,
            )
        expected = _content_length(response)
        if expected is not None and expected > options.max_bytes:
            raise DownloadError(
                f"{url} is {expected:,} bytes, more than the {options.max_bytes:,} allowed",
                "Check the address points at a CMS zip",
                url=url,
            )
        fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".part", dir=dest_dir)
        path = Path(tmp)
        digest = hashlib.sha256()
        size = 0
        ok = False
        try:
            with os.fdopen(fd, "wb") as out, _progress(show, name, expected) as advance:
                for chunk in response.iter_content(_CHUNK):
                    if not chunk:
                        continue
                    size += len(chunk)
                    if size > options.max_bytes:
                        raise DownloadError(
                            f"{url} sent more than the {options.max_bytes:,} bytes allowed",
                            "Check the address points at a CMS zip",
                            url=url,
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    advance(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            if expected is not None and size != expected:
                raise _Transient(f"the download stopped after {size:,} of {expected:,} bytes")
            ok = True
        finally:
            if not ok:
                path.unlink(missing_ok=True)
        return Download(
            url=url,
            final_url=response.url,
            path=path,
            sha256=digest.hexdigest(),
            bytes=size,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
            fetched_at=now_utc(),
        )

    result: Download = _request(session, url, options, headers=headers, stream=True, handle=handle)
    return result


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None or response.headers.get("Content-Encoding", "identity") != "identity":
        return None
    try:
        return int(value)
    except ValueError:
        return None


@contextlib.contextmanager
def _progress(show: bool, name: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on a terminal; a no-op elsewhere (Excel, CI, pipes)."""
    if not show:
        yield lambda n: None
        return
    from rich.console import Console  # lazy: rich loads on use
    from rich.progress import (  # lazy: rich loads on use
        BarColumn,
        DownloadColumn,
        Progress,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays clean for pipes
        transient=True,
    ) as bar:
        task = bar.add_task(name, total=total)
        yield lambda n: bar.advance(task, n)


# --- what the server said last time ---------------------------------------------------------


@dataclass
class HttpCache:
    """ETag / Last-Modified (and what was installed from them) remembered per URL.

    A small JSON file beside the installed releases, rewritten atomically.
    """

    path: Path
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HttpCache:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)  # missing or unreadable: start afresh, it is only a cache
        entries = data.get("urls", {}) if isinstance(data, dict) else {}
        return cls(path, {k: v for k, v in entries.items() if isinstance(v, dict)})

    def get(self, url: str) -> dict[str, Any] | None:
        return self.entries.get(url)

    def validators(self, url: str) -> Validators | None:
        entry = self.entries.get(url)
        if not entry or not (entry.get("etag") or entry.get("last_modified")):
            return None
        return Validators(entry.get("etag"), entry.get("last_modified"))

    def remember(self, url: str, fetched: Download, **extra: Any) -> None:
        self.entries[url] = {
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "sha256": fetched.sha256,
            "bytes": fetched.bytes,
            "fetched_at": fetched.fetched_at,
            **extra,
        }

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".http-cache-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "urls": self.entries}, out, indent=1, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
