"""Where a payer's file comes from: a local path or a URL fetched by the careful downloader.

URLs go through :mod:`xlrate.medicare.download` (streamed to a temporary file with sha256,
timeouts, retries with backoff, conditional requests with the ETag / Last-Modified seen last
time), so an unchanged file on the payer's server is not downloaded again.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xlrate.errors import MarketFileError
from xlrate.market.reader import is_url
from xlrate.medicare import download as dl

# Payers' files are often 4 GB of gzip and can pass 100 GB: the downloader's CMS-sized limit
# (1 GB) does not fit. The byte timeout still catches a stalled server.
FILE_OPTIONS = dl.HttpOptions(max_bytes=1 << 40, timeout=60.0)
# Remote provider references are small JSON files; an unreachable host should not stall a run.
REFERENCE_OPTIONS = dl.HttpOptions(timeout=10.0, retries=1, backoff=0.5, max_bytes=64 << 20)


@dataclass(frozen=True)
class Fetched:
    """A local copy of a source; ``path`` is None when the server said "not modified"."""

    location: str
    path: Path | None
    etag: str | None = None
    last_modified: str | None = None
    sha256: str = ""


@contextlib.contextmanager
def local_copy(
    location: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    options: dl.HttpOptions | None = None,
    progress: bool | None = None,
) -> Iterator[Fetched]:
    """A local file for ``location``; a download is removed when the block ends."""
    if not is_url(location):
        path = Path(location).expanduser()
        if not path.is_file():
            raise MarketFileError(
                f"{location} does not exist or is not a file. Give the path of a payer's "
                "in-network .json or .json.gz file, or its URL"
            )
        yield Fetched(location, path)
        return
    with tempfile.TemporaryDirectory(prefix="xlrate-tic-") as folder:
        session = dl.new_session()
        try:
            got = dl.download(
                session,
                location,
                Path(folder),
                options=options or FILE_OPTIONS,
                validators=dl.Validators(etag, last_modified) if (etag or last_modified) else None,
                progress=progress,
            )
        except dl.DownloadError as exc:
            raise MarketFileError(
                f"{exc.reason}. Check the URL (payers move their files every month: take it "
                "from the payer's current table of contents) or download the file yourself "
                "and give its path"
            ) from exc
        finally:
            session.close()
        yield Fetched(location, got.path, got.etag, got.last_modified, got.sha256)


def fetch_reference(url: str, options: dl.HttpOptions | None = None) -> bytes | None:
    """The body of a remote provider reference, None when the server says 404/410."""
    session = dl.new_session()
    try:
        text = dl.get_page(session, url, options or REFERENCE_OPTIONS)
    except dl.DownloadError as exc:
        raise MarketFileError(exc.reason) from exc
    finally:
        session.close()
    return None if text is None else text.encode("utf-8")
