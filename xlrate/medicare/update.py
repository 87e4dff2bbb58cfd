"""Refresh Medicare data from CMS without ever losing the last good data.

``xlrate medicare update`` and the Excel refresh button call :func:`update_release` (and
:func:`update_zip_localities` for the ZIP-code-to-locality file); ``xlrate medicare install``
calls :func:`install_zip` for a zip the user downloaded. Each runs the same steps:

1. take the store lock (two Excel windows refreshing at once wait for each other);
2. find the file on CMS's site (:mod:`xlrate.medicare.download`) and fetch it into a private
   temporary file, as a conditional request when the same URL was installed before;
3. verify it before anything is replaced (:mod:`xlrate.medicare.archive` for completeness,
   zip-slip and zip-bomb guards; the expected files; the parsers' column-map validation;
   plausible row counts; the pinned sha256 when one is given);
4. install it with :func:`xlrate.medicare.store.install_bundle`, which writes beside the old
   release and renames, so the previous release serves until the new one is complete.

Any failure raises :class:`UpdateError` with one line: what failed, what is still in use,
what to try. The temporary file is always removed; the store is untouched.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from xlrate.errors import InputError, LayoutError, UpdateError
from xlrate.files import sha256_hex
from xlrate.medicare import store
from xlrate.medicare.archive import ArchiveError, ZipLimits, verify_members
from xlrate.medicare.download import (
    RELEASE_LETTERS,
    Download,
    DownloadError,
    HttpCache,
    HttpOptions,
    Source,
    Validators,
    download,
    find_rvu_zip,
    find_zip_locality_zip,
    new_session,
    newest_release,
    now_utc,
)
from xlrate.settings import medicare_home

if TYPE_CHECKING:
    import pandas as pd
    import requests

    from xlrate.medicare.cms_files import Bundle

LOCK_FILE = ".update.lock"
DOWNLOADS_DIR = ".downloads"
HTTP_CACHE_FILE = "http-cache.json"
LOCK_TIMEOUT = 300.0  # seconds to wait for another update to finish


@dataclass(frozen=True)
class Plausible:
    """What a real CMS file holds. A file outside these bounds is refused, not installed."""

    required_tables: tuple[str, ...] = ("pprrvu", "gpci", "locco", "anes", "oppscap")
    rvu_rows: tuple[int, int] = (10_000, 40_000)  # 19,090 in RVU25D, 19,356 in RVU26C
    localities: tuple[int, int] = (80, 150)  # 109 since 2017
    conversion_factor: tuple[float, float] = (15.0, 80.0)  # 32.3465 in 2025
    zip_rows: tuple[int, int] = (30_000, 60_000)  # 42,956 in ZIP5_OCT2025


@dataclass(frozen=True)
class UpdateResult:
    """What an update or install did."""

    kind: str  # "release" or "zip5"
    name: str  # "2025D", or the ZIP file's data quarter "20254"
    status: str  # "installed" or "unchanged"
    source_url: str
    sha256: str
    bytes: int
    path: Path | None = None

    @property
    def message(self) -> str:
        what = (
            f"Medicare release {self.name}"
            if self.kind == "release"
            else (f"ZIP code to locality file {self.name}")
        )
        if self.status == "unchanged":
            return f"{what} is up to date (unchanged at {self.source_url})."
        return f"Installed {what} from {self.source_url} (sha256 {self.sha256[:12]}…)."


# --- the lock -------------------------------------------------------------------------------


@contextlib.contextmanager
def update_lock(timeout: float = LOCK_TIMEOUT, poll: float = 0.05) -> Iterator[Path]:
    """Hold the store's update lock (an OS file lock, so a crashed process never leaves it held).

    The lock is :class:`filelock.FileLock` (flock on POSIX, msvcrt on Windows). The lock
    file itself stays; it is empty and harmless. Waits up to ``timeout`` seconds for
    another update, then raises :class:`UpdateError`.
    """
    home = medicare_home()
    lock = FileLock(home / LOCK_FILE, timeout=timeout)
    try:
        home.mkdir(parents=True, exist_ok=True)
        lock.acquire(poll_interval=poll)
    except Timeout:
        raise _Failure(
            f"another xlrate update is still running (lock {home / LOCK_FILE} held for "
            f"more than {timeout:g} s)",
            "Wait for it to finish (or close the other Excel window) and try again",
        ) from None
    except OSError as exc:
        raise _Failure(
            f"cannot use the data folder {home} ({exc.strerror or exc})",
            "Check the folder is writable, or set XLRATE_HOME to a folder that is",
        ) from exc
    try:
        _remove_leftovers(home)
        yield home / LOCK_FILE
    finally:
        shutil.rmtree(home / DOWNLOADS_DIR, ignore_errors=True)
        lock.release()


def _remove_leftovers(home: Path) -> None:
    """Clean up after an update that was killed half-way (we hold the lock, so no one else
    is writing): partial downloads and the store's temporary folders go; a previous release
    moved aside (``.2025D.old-<pid>``) whose replacement never arrived is put back."""
    downloads = home / DOWNLOADS_DIR
    if downloads.is_dir():
        shutil.rmtree(downloads, ignore_errors=True)
    for folder in (home / "releases", home / "zip5"):
        if not folder.is_dir():
            continue
        for child in sorted(folder.iterdir()):
            if not child.name.startswith("."):
                continue
            moved = _MOVED_ASIDE.match(child.name)
            if moved and not (folder / moved.group(1)).exists():
                os.replace(child, folder / moved.group(1))
            elif child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


_MOVED_ASIDE = re.compile(r"^\.(.+)\.old-\d+$")


# --- failures -------------------------------------------------------------------------------


class _Failure(UpdateError):
    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason}. {hint}" if hint else reason)
        self.reason = reason
        self.hint = hint


def in_use() -> str:
    """The release that answers prices now, for the failure message."""
    try:
        info = store.resolve_release()
    except Exception:  # the message must still be written when the store is unreadable
        return "the Medicare data shipped with xlrate"
    when = str(info.provenance.get("installed_at", ""))[:10]
    origin = "shipped with xlrate" if info.source == "embedded" else f"installed {when}".strip()
    return f"Medicare release {info.release_id} ({origin})"


def _one_line(text: str) -> str:
    return " ".join(str(text).split()).rstrip(".")


def _failed(exc: BaseException) -> UpdateError:
    reason = getattr(exc, "reason", None) or str(exc)
    hint = getattr(exc, "hint", "")
    if isinstance(exc, LayoutError):
        # The parser's own fix is for developers (edit the column map); users update xlrate.
        reason = reason.split(" If CMS changed the file")[0]
        hint = "CMS may have changed the file: update xlrate, or install an earlier release"
    message = f"Medicare update failed: {_one_line(reason)}; still using {in_use()}."
    if hint:
        message += f" {_one_line(hint)}."
    return UpdateError(message)


# --- verification ---------------------------------------------------------------------------


def verify_bundle(
    path: Path,
    release_id: str | None = None,
    *,
    limits: ZipLimits | None = None,
    plausible: Plausible | None = None,
) -> Bundle:
    """Everything short of installing: the zip is sound and safe, the tables parse and are
    plausible. Returns the parsed bundle."""
    from xlrate.medicare.cms_files import read_bundle

    plausible = plausible or Plausible()
    infos = verify_members(path, limits)
    label = release_id or path.name
    missing = [
        pattern
        for table, pattern in _RVU_FILES.items()
        if table in plausible.required_tables and not _members(infos, pattern)
    ]
    if missing:
        raise _Failure(
            f"{path.name} is not a complete CMS RVU bundle: no {', '.join(missing)} file",
            "Check it is the RVU zip from CMS's PFS Relative Value Files page",
        )
    try:
        bundle = read_bundle(path, release_id=release_id)
    except LayoutError:
        raise
    except (ValueError, KeyError, IndexError, UnicodeError) as exc:
        raise _Failure(
            f"{label}: a file in {path.name} could not be read ({type(exc).__name__}: {exc})",
            "Check it is the RVU zip from CMS, or update xlrate",
        ) from exc
    rvu = bundle.tables.get("pprrvu")
    gpci = bundle.tables.get("gpci")
    _within(len(rvu) if rvu is not None else 0, plausible.rvu_rows, f"{label}: RVU rows")
    if gpci is not None:
        _within(gpci["locality"].nunique(), plausible.localities, f"{label}: GPCI localities")
    cf = float(bundle.conversion_factor)
    if not plausible.conversion_factor[0] <= cf <= plausible.conversion_factor[1]:
        raise _Failure(
            f"{label}: conversion factor {bundle.conversion_factor} is implausible",
            "Check it is the RVU zip from CMS",
        )
    for table in plausible.required_tables:
        if bundle.tables.get(table) is None or len(bundle.tables[table]) == 0:  # type: ignore[arg-type]
            raise _Failure(
                f"{label}: the {table.upper()} table is empty",
                "Check it is the RVU zip from CMS",
            )
    return bundle


_RVU_FILES = {
    "pprrvu": "PPRRVU*.csv",
    "gpci": "GPCI*.csv",
    "locco": "*LOCCO*.csv",
    "anes": "ANES*.csv",
    "oppscap": "OPPSCAP*.csv",
}


def _members(infos: list[zipfile.ZipInfo], pattern: str) -> list[zipfile.ZipInfo]:
    return [
        i
        for i in infos
        if fnmatch.fnmatch(Path(i.filename.replace("\\", "/")).name.upper(), pattern.upper())
    ]


def _within(count: int, bounds: tuple[int, int], what: str) -> None:
    low, high = bounds
    if not low <= count <= high:
        raise _Failure(
            f"{what}: {count:,}, outside the plausible {low:,} to {high:,}",
            "Check it is the complete zip from CMS",
        )


def verify_zip_localities(
    path: Path, *, limits: ZipLimits | None = None, plausible: Plausible | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The ZIP5 table of a ZIP-code-to-carrier-locality zip, and its file's provenance."""
    from xlrate.medicare.cms_files import read_zip5

    plausible = plausible or Plausible()
    infos = verify_members(path, limits)
    candidates = [i for i in _members(infos, "ZIP5*.TXT") if "LYOUT" not in i.filename.upper()]
    if not candidates:
        raise _Failure(
            f"{path.name} has no ZIP5_*.txt file",
            "Check it is CMS's ZIP Code to Carrier Locality zip",
        )
    info = candidates[0]
    with zipfile.ZipFile(path) as archive:
        data = archive.read(info)
    name = Path(info.filename.replace("\\", "/")).name
    frame = read_zip5(data, f"{path.name}/{name}")
    _within(len(frame), plausible.zip_rows, f"{name}: ZIP codes")
    _within(frame["locality"].nunique(), plausible.localities, f"{name}: localities")
    quarters = frame["quarter"].unique()
    if len(quarters) != 1 or not str(quarters[0]).isdigit():
        raise _Failure(
            f"{name}: the year/quarter column holds {sorted(map(str, quarters))[:3]}",
            "Check it is CMS's ZIP Code to Carrier Locality file",
        )
    file_info = {
        "name": name,
        "table": "zip5",
        "sha256": sha256_hex(data),
        "bytes": len(data),
    }
    return frame, file_info


def _check_pin(fetched_sha: str, pinned: str | None, url: str) -> None:
    if pinned and fetched_sha.lower() != pinned.strip().lower():
        raise _Failure(
            f"{url} has sha256 {fetched_sha[:16]}…, not the pinned {pinned.strip()[:16]}…",
            "CMS may have re-posted the file: check the new one and update the pin",
        )


# --- update from CMS ------------------------------------------------------------------------


def _check_request(year: int | None, release: str | None) -> tuple[int | None, str | None]:
    if year is not None and not 2000 <= int(year) <= 2099:
        raise InputError(f"year {year!r} is not a calendar year like 2026")
    if release is not None:
        letter = str(release).strip().upper()
        if len(letter) == 5 and letter[:4].isdigit():  # "2025D"
            if year is not None and int(letter[:4]) != int(year):
                raise InputError(f"release {letter} does not match year {year}")
            year, letter = int(letter[:4]), letter[4]
        if letter not in RELEASE_LETTERS or len(letter) != 1:
            raise InputError(
                f"release {release!r} is not a quarter letter: use A (January), B (April), "
                "C (July) or D (October)"
            )
        release = letter
    return (int(year) if year is not None else None), release


def _installed_archive(release_id: str) -> str | None:
    """The sha256 of the zip the installed release came from, if it is installed."""
    for info in store.list_releases():
        if info.release_id == release_id and info.source == "installed":
            archive = info.provenance.get("archive") or {}
            return str(archive.get("sha256") or "") or None
    return None


def _installed_zip5(quarter: str | None) -> str | None:
    if not quarter:
        return None
    try:
        text = (medicare_home() / "zip5" / quarter / store.PROVENANCE_FILE).read_text("utf-8")
        provenance = json.loads(text)
    except (OSError, ValueError):
        return None
    return str((provenance.get("archive") or {}).get("sha256") or "") or None


def _provenance(fetched: Download, source: Source, how: str) -> dict[str, Any]:
    return {
        "source_url": fetched.final_url or source.url,
        "landing_page": source.landing_page,
        "discovered": source.discovered,
        "archive": {
            "name": Path(fetched.final_url or source.url).name,
            "sha256": fetched.sha256,
            "bytes": fetched.bytes,
        },
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "downloaded_at": fetched.fetched_at,
        "installed_at": now_utc(),
        "installed_by": how,
    }


@contextlib.contextmanager
def _explained(io_what: str) -> Iterator[None]:
    """Turn every failure into the one-line :class:`UpdateError` (what, in use, what to try)."""
    try:
        yield
    except (UpdateError, LayoutError) as exc:
        raise _failed(exc) from exc
    except OSError as exc:
        raise _failed(
            _Failure(
                f"could not {io_what} ({exc.strerror or exc})",
                "Check free disk space and that the folder is writable",
            )
        ) from exc


@contextlib.contextmanager
def _session(session: requests.Session | None, options: HttpOptions) -> Iterator[requests.Session]:
    if session is not None:
        yield session
        return
    with new_session(options) as own:
        yield own


@contextlib.contextmanager
def _fetched(
    session: requests.Session,
    source: Source,
    home: Path,
    options: HttpOptions,
    validators: Validators | None,
    progress: bool | None,
    label: str,
) -> Iterator[Download]:
    """Download ``source`` into the private downloads folder; the file goes afterwards."""
    folder = home / DOWNLOADS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    fetched = download(
        session,
        source.url,
        folder,
        options=options,
        validators=validators,
        progress=progress,
        label=label,
    )
    try:
        yield fetched
    finally:
        if fetched.path is not None:
            fetched.path.unlink(missing_ok=True)


def _validators(
    cache: HttpCache, url: str, installed_sha: str | None, force: bool
) -> Validators | None:
    """Ask "changed since?" only when what we fetched from ``url`` is still installed."""
    entry = cache.get(url) or {}
    if force or not installed_sha or entry.get("sha256") != installed_sha:
        return None
    return cache.validators(url)


def _install_zip5(
    frame: pd.DataFrame, file_info: dict[str, Any], fetched: Download, source: Source, how: str
) -> tuple[str, Path]:
    quarter = str(frame["quarter"].iloc[0])
    provenance = {"quarter": quarter, "files": [file_info], **_provenance(fetched, source, how)}
    return quarter, store.install_zip5(frame, provenance)


def update_release(
    year: int | None = None,
    release: str | None = None,
    *,
    sha256: str | None = None,
    force: bool = False,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    limits: ZipLimits | None = None,
    plausible: Plausible | None = None,
    progress: bool | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> UpdateResult:
    """Download, verify and install one quarterly RVU release from CMS.

    ``year`` / ``release`` (A-D) pick the release; the newest CMS lists when omitted.
    ``sha256`` pins the zip's checksum. ``force`` downloads even when the server says the
    file is unchanged. Raises :class:`UpdateError` (one line) on any failure, leaving the
    installed releases as they were.
    """
    year, release = _check_request(year, release)
    options = options or HttpOptions()
    with (
        _explained(f"write into {medicare_home()}"),
        _session(session, options) as http,
        update_lock(lock_timeout) as lock,
    ):
        home = lock.parent
        if release is None:
            year, release = newest_release(http, year, options=options)
        elif year is None:
            year, _ = newest_release(http, None, options=options)
        release_id = f"{year}{release}"
        source = find_rvu_zip(http, year, release, options=options)
        cache = HttpCache.load(home / HTTP_CACHE_FILE)
        installed_sha = _installed_archive(release_id)
        validators = _validators(cache, source.url, installed_sha, force)
        with _fetched(http, source, home, options, validators, progress, release_id) as fetched:
            if fetched.path is None:
                return UpdateResult(
                    "release", release_id, "unchanged", source.url, installed_sha or "", 0
                )
            _check_pin(fetched.sha256, sha256, source.url)
            status, path = "unchanged", None
            if force or installed_sha != fetched.sha256:
                bundle = verify_bundle(fetched.path, release_id, limits=limits, plausible=plausible)
                provenance = _provenance(fetched, source, "xlrate medicare update")
                status, path = "installed", store.install_bundle(bundle, provenance).path
            cache.remember(source.url, fetched, release_id=release_id)
            cache.save()
        return UpdateResult(
            "release", release_id, status, source.url, fetched.sha256, fetched.bytes, path
        )


def update_zip_localities(
    *,
    sha256: str | None = None,
    force: bool = False,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    limits: ZipLimits | None = None,
    plausible: Plausible | None = None,
    progress: bool | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> UpdateResult:
    """Download, verify and install CMS's newest ZIP-code-to-carrier-locality file."""
    options = options or HttpOptions()
    with (
        _explained(f"write into {medicare_home()}"),
        _session(session, options) as http,
        update_lock(lock_timeout) as lock,
    ):
        home = lock.parent
        source = find_zip_locality_zip(http, options=options)
        cache = HttpCache.load(home / HTTP_CACHE_FILE)
        quarter = str((cache.get(source.url) or {}).get("quarter") or "")
        installed_sha = _installed_zip5(quarter)
        validators = _validators(cache, source.url, installed_sha, force)
        with _fetched(http, source, home, options, validators, progress, "ZIP5") as fetched:
            if fetched.path is None:
                return UpdateResult(
                    "zip5", quarter, "unchanged", source.url, installed_sha or "", 0
                )
            _check_pin(fetched.sha256, sha256, source.url)
            frame, file_info = verify_zip_localities(
                fetched.path, limits=limits, plausible=plausible
            )
            how = "xlrate medicare update --zip-file"
            quarter, path = _install_zip5(frame, file_info, fetched, source, how)
            cache.remember(source.url, fetched, quarter=quarter)
            cache.save()
        return UpdateResult(
            "zip5", quarter, "installed", source.url, fetched.sha256, fetched.bytes, path
        )


# --- install a zip the user downloaded ------------------------------------------------------


def install_zip(
    path: str | Path,
    *,
    release_id: str | None = None,
    sha256: str | None = None,
    limits: ZipLimits | None = None,
    plausible: Plausible | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> UpdateResult:
    """Verify and install a CMS zip from disk: an RVU bundle or a ZIP-code-to-locality file.

    ``release_id`` (e.g. ``2025D``), when given, must match what the zip's RVU file says.
    """
    zip_path = Path(path).expanduser()
    if release_id is not None:
        year, letter = _check_request(None, release_id)
        release_id = f"{year}{letter}"
    with _explained(f"read {zip_path} or write into {medicare_home()}"):
        if not zip_path.is_file():
            raise _Failure(f"{zip_path} does not exist", "Give the path of the zip from CMS")
        digest = sha256_hex(zip_path)
        _check_pin(digest, sha256, str(zip_path))
        uri = zip_path.resolve().as_uri()
        fetched = Download(uri, uri, zip_path, digest, zip_path.stat().st_size)
        source = Source("local", uri, None, "local file")
        how = "xlrate medicare install"
        with update_lock(lock_timeout):
            if _is_zip_locality_file(zip_path, limits):
                frame, file_info = verify_zip_localities(
                    zip_path, limits=limits, plausible=plausible
                )
                quarter, target = _install_zip5(frame, file_info, fetched, source, how)
                return UpdateResult(
                    "zip5", quarter, "installed", uri, digest, fetched.bytes, target
                )
            bundle = verify_bundle(zip_path, release_id, limits=limits, plausible=plausible)
            info = store.install_bundle(bundle, _provenance(fetched, source, how))
            return UpdateResult(
                "release", bundle.release_id, "installed", uri, digest, fetched.bytes, info.path
            )


def _is_zip_locality_file(path: Path, limits: ZipLimits | None) -> bool:
    """True for CMS's ZIP-code-to-locality zip (ZIP5 file, no PPRRVU)."""
    from xlrate.medicare.archive import check_archive

    infos = check_archive(path, limits)
    has_zip5 = any("LYOUT" not in i.filename.upper() for i in _members(infos, "ZIP5*.TXT"))
    return has_zip5 and not _members(infos, "PPRRVU*")


__all__ = [
    "ArchiveError",
    "DownloadError",
    "HttpOptions",
    "Plausible",
    "UpdateResult",
    "ZipLimits",
    "install_zip",
    "update_lock",
    "update_release",
    "update_zip_localities",
    "verify_bundle",
    "verify_zip_localities",
]
