"""Refresh Medicare data from CMS without ever losing the last good data.

``xlrate medicare update`` and the Excel refresh button call :func:`update_release` (and
:func:`update_zip_localities` for the ZIP-code-to-locality file); ``xlrate medicare install``
calls :func:`install_zip` for a zip the user downloaded. Each runs the same steps:

1. take the store lock (two Excel windows refreshing at once wait for each other);
2. choose the release (asked for; else the one in force today, :mod:`xlrate.medicare.releases`,
   plus next year's when CMS already lists it), find its file from CMS's pages
   (:mod:`xlrate.medicare.discovery`, shapes in ``layouts/cms_pages.csv``) and fetch it
   (:mod:`xlrate.medicare.download`) into a private temporary file, as a conditional request
   when the same URL was installed before (:func:`plan_update` stops before fetching);
3. verify it before anything is replaced (:mod:`xlrate.medicare.archive` for completeness,
   zip-slip and zip-bomb guards; the expected files; the parsers' column-map validation;
   plausible row counts and values, :mod:`xlrate.medicare.plausibility`; the pinned sha256
   when one is given);
4. install it with :func:`xlrate.medicare.store.install_bundle`, which writes beside the old
   release and renames, so the previous release serves until the new one is complete.

Any failure raises :class:`UpdateError` with one line: what failed, what is still in use,
what to try. The temporary file is always removed; the store is untouched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fnmatch
import io
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
from xlrate.medicare import discovery, releases, schedule_files, schedule_store, store
from xlrate.medicare.archive import ArchiveError, ZipLimits, verify_members
from xlrate.medicare.download import (
    Download,
    DownloadError,
    HttpCache,
    HttpOptions,
    Source,
    Validators,
    download,
    new_session,
    now_utc,
)
from xlrate.medicare.plausibility import check_changes, check_values
from xlrate.medicare.schedule_update import install_file
from xlrate.settings import cms_base_url, medicare_home

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
    # Value ranges and the change limit are data: layouts/plausibility.csv.
    compare_previous: bool = True  # False: skip the check against the same year's last release
    zip_rows: tuple[int, int] = (30_000, 60_000)  # 42,956 in ZIP5_OCT2025


@dataclass(frozen=True)
class UpdateResult:
    """What an update or install did."""

    kind: str  # "release", "zip5", or a schedule ("clfs", "asp", "dmepos", "pen")
    name: str  # "2025D", or the ZIP file's data quarter "20254"
    status: str  # "installed" or "unchanged"
    source_url: str
    sha256: str
    bytes: int
    path: Path | None = None
    note: str = ""  # when it applies; how the file was found when not from its page

    @property
    def message(self) -> str:
        if self.kind == "release":
            what = f"Medicare release {self.name}"
        elif self.kind == "zip5":
            what = f"ZIP code to locality file {self.name}"
        else:  # clfs, asp, dmepos, pen
            what = f"{self.kind.upper()} release {self.name}"
        note = f" {self.note}" if self.note else ""
        if self.status == "unchanged":
            return f"{what} is up to date (unchanged at {self.source_url}).{note}"
        return f"Installed {what} from {self.source_url} (sha256 {self.sha256[:12]}…).{note}"


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


def _schedule_in_use(schedule: str) -> str:
    """The CLFS/ASP/DMEPOS release that answers prices today, for the failure message."""
    today = releases.today()
    try:
        info = schedule_store.resolve(schedule, today.year, "ABCD"[(today.month - 1) // 3])
    except Exception:  # the message must still be written when the store is unreadable
        info = None
    if info is None:
        return f"no {schedule.upper()} release (those codes stay unpriced)"
    when = str(info.provenance.get("installed_at", ""))[:10]
    origin = "shipped with xlrate" if info.source == "embedded" else f"installed {when}".strip()
    return f"{schedule.upper()} release {info.release_id} ({origin})"


def _failed(exc: BaseException, schedule: str = "") -> UpdateError:
    reason = getattr(exc, "reason", None) or str(exc)
    hint = getattr(exc, "hint", "")
    if isinstance(exc, LayoutError):
        # The parser's own fix is for developers (edit the column map); users update xlrate.
        reason = reason.split(" If CMS changed the file")[0]
        hint = "CMS may have changed the file: update xlrate, or install an earlier release"
    using = _schedule_in_use(schedule) if schedule else in_use()
    message = f"Medicare update failed: {_one_line(reason)}; still using {using}."
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
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.cms_files import read_bundle

    plausible = plausible or Plausible()
    infos = verify_members(path, limits)
    label = release_id or path.name
    missing = [
        " or ".join(patterns)
        for table, patterns in _RVU_FILES.items()
        if table in plausible.required_tables
        and not any(_members(infos, pattern) for pattern in patterns)
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
    for table in plausible.required_tables:
        if bundle.tables.get(table) is None or len(bundle.tables[table]) == 0:  # type: ignore[arg-type]
            raise _Failure(
                f"{label}: the {table.upper()} table is empty",
                "Check it is the RVU zip from CMS",
            )
    check_values(bundle, f"{path.name}/")
    if plausible.compare_previous:
        check_changes(bundle, f"{path.name}/")
    return bundle


_RVU_FILES = {
    "pprrvu": ("PPRRVU*.csv",),
    "gpci": ("GPCI*.csv",),
    "locco": ("*LOCCO*.csv", "*LOCCO*.xlsx"),  # RVU26C may ship LOCCO only as .xlsx
    "anes": ("ANES*.csv",),
    "oppscap": ("OPPSCAP*.csv",),
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
    # lazy: loaded on use, keeping this module's import light
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
    """(year, what follows the year in the id: ``D``, ``AR``), checked."""
    if year is not None and not 2000 <= int(year) <= 2099:
        raise InputError(f"year {year!r} is not a calendar year like 2026")
    if release is None:
        return (int(year) if year is not None else None), None
    text = str(release).strip().upper()
    if releases.is_release_id(text):
        rid = releases.parse_release_id(text, year)
        return rid.year, rid.quarter
    if re.fullmatch(r"[A-D](R\d*)?", text):
        return (int(year) if year is not None else None), text
    raise InputError(
        f"release {release!r} is not a quarter letter: use A (January), B (April), "
        "C (July) or D (October), or a correction such as AR (2024AR)"
    )


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
    extra: dict[str, Any] = {}
    if source.release:
        extra["effective_from"] = releases.effective_date(source.release).isoformat()
    if source.notes:
        extra["discovery_notes"] = list(source.notes)
    if source.licence_wrapped:
        extra["licence_wrapped"] = True
    return {
        **extra,
        "source_url": fetched.final_url or source.url,
        "landing_page": source.landing_page,
        "discovered": source.discovered,
        "archive": {
            # CMS's whole name, date included (rvu25a-updated-01/10/2025.zip), not the last
            # path segment ("2025.zip")
            "name": source.file_name or discovery.cms_file_name(fetched.final_url or source.url),
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
def _explained(io_what: str, schedule: str = "") -> Iterator[None]:
    """Turn every failure into the one-line :class:`UpdateError` (what, in use, what to try;
    ``schedule``: a CLFS/ASP/DMEPOS refresh, whose release in use is named)."""
    try:
        yield
    except (UpdateError, LayoutError) as exc:
        raise _failed(exc, schedule) from exc
    except OSError as exc:
        raise _failed(
            _Failure(
                f"could not {io_what} ({exc.strerror or exc})",
                "Check free disk space and that the folder is writable",
            ),
            schedule,
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


def _source(found: discovery.Found, kind: str) -> Source:
    return Source(
        kind=kind,
        url=found.url,
        landing_page=found.page,
        discovered=found.discovered,
        release=found.release,
        file_name=found.name,
        notes=tuple(found.notes),
        licence_wrapped=found.licence_wrapped,
    )


def _wanted(listed: list[str], year: int | None, quarter: str | None, today: dt.date) -> list[str]:
    """Which listed releases an update fetches: the one asked for; else the one in force
    today and, when CMS already lists it, the next one to start (next year's January
    release in December)."""
    ids = releases.sort_releases(listed)
    if year is not None and quarter is not None:
        return [f"{year}{quarter}"]
    if quarter is not None:
        same = [r for r in ids if r.quarter == quarter]
        started = [r for r in same if r.effective <= today]
        return [str((started or same)[-1])] if same else []
    if year is not None:
        of_year = [r for r in ids if r.year == year]
        started = [r for r in of_year if r.effective <= today]
        return [str(started[-1] if started else of_year[0])] if of_year else []
    current = releases.release_for_date(ids, today)
    upcoming = [r for r in ids if r.effective > today]
    return [str(r) for r in ([current] if current else []) + upcoming[:1]]


def _probe(
    http: requests.Session,
    year: int | None,
    quarter: str | None,
    today: dt.date,
    options: HttpOptions,
    base: str,
) -> list[str]:
    """Without an index page: the release pages of the year (or this year) from D back to A,
    by their built addresses; a release that has not started is tried only when asked for."""
    site = discovery.site("pfs")
    pages_only = dataclasses.replace(site, file_template="")
    empty = discovery.Listing("", 404, {}, [])
    candidates = [f"{year or today.year}{q}" for q in reversed(releases.QUARTER_LETTERS)]
    if quarter is not None:
        candidates = [f"{year or today.year}{quarter}"]
    for rid in candidates:
        if year is None and releases.effective_date(rid) > today:
            continue
        if discovery.find_release(http, pages_only, rid, base, options, empty) is not None:
            return [rid]
    return []


def _plan(
    http: requests.Session,
    year: int | None,
    quarter: str | None,
    options: HttpOptions,
    today: dt.date,
    *,
    upcoming: bool,
) -> list[Source]:
    base = cms_base_url()
    site = discovery.site("pfs")
    listing = discovery.list_site(http, site, base, options)
    wanted = _wanted(listing.releases(), year, quarter, today)
    if not wanted:
        wanted = _probe(http, year, quarter, today, options, base)
    if not wanted:
        asked = f"for {year}" if year is not None else "in force today"
        raise DownloadError(
            f"no RVU release {asked} was found on {listing.url}",
            "Give the year and release (e.g. --year 2026 --release A), or download the zip "
            "yourself and run `xlrate medicare install PATH.zip`",
            url=listing.url,
        )
    if not upcoming:
        wanted = wanted[:1]
    sources = []
    for rid in wanted:
        found = discovery.find_release(http, site, rid, base, options, listing)
        if found is None:  # the PFS row has a built address, so this does not happen
            raise DownloadError(f"no link to release {rid} was found on {listing.url}")
        sources.append(_source(found, "rvu"))
    return sources


def plan_update(
    year: int | None = None,
    release: str | None = None,
    *,
    zip_file: bool = False,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    today: dt.date | None = None,
) -> list[Source]:
    """What :func:`update_releases` would fetch, found on CMS's pages, without downloading
    (``xlrate medicare update --dry-run``)."""
    year, quarter = _check_request(year, release)
    options = options or HttpOptions()
    today = today or releases.today()
    with _explained("read CMS's pages"), _session(session, options) as http:
        sources = _plan(
            http, year, quarter, options, today, upcoming=year is None and quarter is None
        )
        if zip_file:
            sources.append(_zip_locality_source(http, options))
    return sources


def describe_source(source: Source) -> str:
    """One plan line: release, effective date, file name, link, page, how it was found."""
    if source.release:
        what = f"release {releases.describe(source.release)}"
    else:
        what = "ZIP code to carrier locality file"
    page = source.landing_page or "(no page linked it)"
    text = (
        f"{what}: file {source.file_name} at {source.url}; page {page}; "
        f"found via the {source.discovered}"
    )
    if source.licence_wrapped:
        text += " (a licence-page link, unwrapped)"
    if source.notes:
        text += "; " + "; ".join(source.notes)
    return text


def _when(source: Source, today: dt.date) -> str:
    """When the release applies, and what prices use until then."""
    if not source.release:
        return ""
    rid = releases.parse_release_id(source.release)
    starts = releases.format_date(rid.effective)
    if rid.effective <= today:
        text = f"It applies to dates of service from {starts}."
    else:
        try:
            current = store.resolve_release().release_id
        except Exception:  # the message must still be written
            current = "the release in force today"
        text = (
            f"It applies to dates of service from {starts}; until then prices use {current} "
            f"(price a later date with --date)."
        )
    if source.discovered == "built address":
        text += (
            " No CMS page linked the zip, so its address was built from the release name"
            f" ({'; '.join(source.notes)})."
        )
    elif source.discovered != "landing page" and source.notes:
        text += f" Found via the {source.discovered} ({'; '.join(source.notes)})."
    return text


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
    today: dt.date | None = None,
) -> UpdateResult:
    """Download, verify and install one RVU release from CMS.

    ``year`` / ``release`` (A-D, or a correction such as AR) pick the release; without them,
    the release CMS lists that is in force today (never next year's before 1 January:
    :func:`update_releases` fetches that one too). ``sha256`` pins the zip's checksum.
    ``force`` downloads even when the server says the file is unchanged. Raises
    :class:`UpdateError` (one line) on any failure, leaving the installed releases as they were.
    """
    return _update(
        year, release, sha256=sha256, force=force, session=session, options=options,
        limits=limits, plausible=plausible, progress=progress, lock_timeout=lock_timeout,
        today=today, upcoming=False,
    )[0]  # fmt: skip


def update_releases(
    year: int | None = None,
    release: str | None = None,
    *,
    force: bool = False,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    limits: ZipLimits | None = None,
    plausible: Plausible | None = None,
    progress: bool | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
    today: dt.date | None = None,
) -> list[UpdateResult]:
    """Like :func:`update_release`; without year and release also installs the next release
    CMS already lists (next year's January release, posted in December). Each result says
    from when its release applies; the default for pricing stays the one in force today."""
    return _update(
        year, release, sha256=None, force=force, session=session, options=options,
        limits=limits, plausible=plausible, progress=progress, lock_timeout=lock_timeout,
        today=today, upcoming=True,
    )  # fmt: skip


def _update(
    year: int | None,
    release: str | None,
    *,
    sha256: str | None,
    force: bool,
    session: requests.Session | None,
    options: HttpOptions | None,
    limits: ZipLimits | None,
    plausible: Plausible | None,
    progress: bool | None,
    lock_timeout: float,
    today: dt.date | None,
    upcoming: bool,
) -> list[UpdateResult]:
    year, quarter = _check_request(year, release)
    options = options or HttpOptions()
    today = today or releases.today()
    with (
        _explained(f"write into {medicare_home()}"),
        _session(session, options) as http,
        update_lock(lock_timeout) as lock,
    ):
        home = lock.parent
        sources = _plan(
            http, year, quarter, options, today,
            upcoming=upcoming and year is None and quarter is None,
        )  # fmt: skip
        results = []
        for source in sources:
            try:
                result = _install_source(
                    http, home, source, sha256, force, options, limits, plausible, progress
                )
            except DownloadError as exc:
                if source.discovered != "built address":
                    raise
                tried = [n for n in source.notes if " answered " in n or " links no " in n]
                more = f" and {len(tried) - 1} more" if len(tried) > 1 else ""
                raise DownloadError(
                    f"{exc.reason}; no CMS page linked the zip, so its address was built from "
                    f"the release name ({tried[0] if tried else 'no page found'}{more})",
                    exc.hint,
                    url=exc.url,
                ) from exc
            results.append(dataclasses.replace(result, note=_when(source, today)))
        return results


def _install_source(
    http: requests.Session,
    home: Path,
    source: Source,
    sha256: str | None,
    force: bool,
    options: HttpOptions,
    limits: ZipLimits | None,
    plausible: Plausible | None,
    progress: bool | None,
) -> UpdateResult:
    release_id = str(source.release)
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


def _zip_locality_source(http: requests.Session, options: HttpOptions) -> Source:
    site = discovery.site("zip_locality")
    found = discovery.find_latest_file(http, site, cms_base_url(), options)
    if found is None:
        page = cms_base_url() + site.index_path
        raise DownloadError(
            f"no ZIP code to carrier locality zip is linked from {page}",
            "CMS may have moved it: download it yourself and run `xlrate medicare install PATH.zip`",
            url=page,
        )
    return _source(found, "zip_locality")


def _schedule_source(
    http: requests.Session, schedule: str, release: str | None, base: str, options: HttpOptions
) -> Source:
    """Where CMS's file of ``schedule`` for ``release`` (None: the one in force today) is."""
    site = discovery.site(schedule)
    if release is None:
        listing = discovery.list_site(http, site, base, options)
        listed = listing.releases()
        if not listed:
            raise DownloadError(
                f"no {schedule.upper()} release is linked from {listing.url}",
                "Download the file yourself from CMS",
                url=listing.url,
            )
        rid = releases.release_for_date(listed, releases.today()) or listed[0]
        found = discovery.find_release(http, site, str(rid), base, options, listing)
    else:
        found = discovery.find_release(http, site, release, base, options)
    if found is None:
        page = base + site.index_path
        raise DownloadError(
            f"no {schedule.upper()} file for {release} is linked from {page} or its pages",
            "Check the release exists on CMS's site, or download the file yourself",
            url=page,
        )
    return _source(found, schedule)


@dataclass(frozen=True)
class Fetched:
    """A schedule's file fetched from CMS into a private temporary file (see
    :func:`fetch_schedule_file`): ``path`` and the provenance to install it with."""

    path: Path
    source: Source
    provenance: dict[str, Any]


@contextlib.contextmanager
def fetch_schedule_file(
    schedule: str,
    release: str | None = None,
    *,
    sha256: str | None = None,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    limits: ZipLimits | None = None,
    progress: bool | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> Iterator[Fetched]:
    """Find ``schedule``'s zip (a row of ``layouts/cms_pages.csv``: ``clfs``, ``asp``,
    ``dmepos``...) for ``release`` (``2025A``; the newest the index links when None) on
    CMS's pages, download it under the store's lock, check the zip is sound (archive
    limits) and yield it with its provenance. The caller verifies and installs inside the
    ``with``; the file is removed afterwards, and every failure is one line
    (:class:`UpdateError`). For the other schedules' refresh (issue 12)."""
    options = options or HttpOptions()
    base = cms_base_url()
    with (
        _explained(f"write into {medicare_home()}", schedule),
        _session(session, options) as http,
        update_lock(lock_timeout) as lock,
    ):
        source = _schedule_source(http, schedule, release, base, options)
        with _fetched(http, source, lock.parent, options, None, progress, schedule) as fetched:
            assert fetched.path is not None  # no validators were sent, so never a 304
            _check_pin(fetched.sha256, sha256, source.url)
            verify_members(fetched.path, limits)
            how = f"xlrate medicare update --schedule {schedule}"
            yield Fetched(fetched.path, source, _provenance(fetched, source, how))


OTHER_SCHEDULES = ("clfs", "asp", "dmepos")  # refreshed by update_schedule; PEN rides with DMEPOS
SCHEDULE_CHOICES = ("pfs", *OTHER_SCHEDULES, "all")


def schedule_release(year: int | None, release: str | None) -> str | None:
    """The release id for a schedule refresh (``2025A``) from ``--year``/``--release``; None
    (the one in force today) when neither is given."""
    year, quarter = _check_request(year, release)
    if year is None and quarter is None:
        return None
    if year is None or quarter is None or quarter not in "ABCD" or len(quarter) != 1:
        raise InputError(
            "for the CLFS, ASP and DMEPOS files give both --year and a quarter letter "
            "(--year 2025 --release A), or neither for the quarter in force today"
        )
    return f"{year}{quarter}"


def plan_schedule(
    schedule: str,
    release: str | None = None,
    *,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
) -> Source:
    """Where :func:`update_schedule` would fetch ``schedule``'s file from, without downloading
    (``xlrate medicare update --schedule clfs --dry-run``)."""
    options = options or HttpOptions()
    with _explained("read CMS's pages", schedule), _session(session, options) as http:
        return _schedule_source(http, schedule, release, cms_base_url(), options)


def _installed_schedule_sha(schedule: str, release_id: str) -> str | None:
    """The sha256 of the CMS file an installed (not embedded) schedule release came from."""
    for info in schedule_store.list_schedule_releases(schedule):
        if info.release_id == release_id and info.source == "installed":
            return str((info.provenance.get("archive") or {}).get("sha256") or "") or None
    return None


def update_schedule(
    schedule: str,
    release: str | None = None,
    *,
    sha256: str | None = None,
    force: bool = False,
    session: requests.Session | None = None,
    options: HttpOptions | None = None,
    limits: ZipLimits | None = None,
    progress: bool | None = None,
    lock_timeout: float = LOCK_TIMEOUT,
) -> list[UpdateResult]:
    """Refresh ``schedule`` (``clfs``, ``asp`` or ``dmepos``) from CMS: find its file for
    ``release`` (None: the one in force today), download and check it
    (:func:`fetch_schedule_file`), parse and check it with the layouts, and install it
    atomically (:func:`schedule_update.install_file`; the release in use stays until the new
    one is written). CMS's DMEPOS zip also installs the PEN fee schedule it holds. A file
    whose sha256 is already installed is left alone unless ``force``."""
    if schedule not in OTHER_SCHEDULES:
        raise InputError(f"schedule {schedule!r}: choose one of {', '.join(OTHER_SCHEDULES)}")
    results: list[UpdateResult] = []
    with fetch_schedule_file(
        schedule,
        release,
        sha256=sha256,
        session=session,
        options=options,
        limits=limits,
        progress=progress,
        lock_timeout=lock_timeout,
    ) as fetched:
        source, provenance = fetched.source, fetched.provenance
        archive = provenance["archive"]
        rid = source.release or release
        parts = [schedule]
        if schedule == "dmepos":
            data = fetched.path.read_bytes()
            if schedule_files.is_bundle(data) and _has_member(data, r"^DMEPEN[^/]*\.csv$"):
                parts.append("pen")
        for part in parts:
            if not force and rid and _installed_schedule_sha(part, rid) == archive["sha256"]:
                results.append(
                    UpdateResult(
                        part,
                        rid,
                        "unchanged",
                        provenance["source_url"],
                        archive["sha256"],
                        archive["bytes"],
                    )  # fmt: skip
                )
                continue
            info = install_file(
                part,
                fetched.path,
                release_id=rid,
                source_url=provenance["source_url"],
                extra_provenance=provenance,
                name=str(archive["name"]).rsplit("/", 1)[-1] or None,
            )
            note = (
                f"It applies to dates of service from "
                f"{releases.format_date(releases.effective_date(info.release_id))}."
            )
            results.append(
                UpdateResult(
                    part,
                    info.release_id,
                    "installed",
                    provenance["source_url"],
                    archive["sha256"],
                    archive["bytes"],
                    info.path,
                    note,
                )  # fmt: skip
            )
    return results


@dataclass
class Refresh:
    """What :func:`refresh` did: one line per release fetched (or planned), and the one-line
    failure of each schedule that failed (the others went on)."""

    lines: list[str] = dataclasses.field(default_factory=list)
    failures: list[str] = dataclasses.field(default_factory=list)


def refresh(
    schedule: str = "pfs",
    year: int | None = None,
    release: str | None = None,
    *,
    sha256: str | None = None,
    force: bool = False,
    zip_file: bool = False,
    dry_run: bool = False,
    options: HttpOptions | None = None,
) -> Refresh:
    """``xlrate medicare update --schedule S``: ``pfs`` (the RVU release(s), and the ZIP
    locality file with ``zip_file``), ``clfs``, ``asp``, ``dmepos`` or ``all`` of them.
    With ``all`` a schedule that fails does not stop the others; its failure is reported.
    ``dry_run`` lists what would be fetched."""
    schedule = schedule.lower()
    if schedule not in SCHEDULE_CHOICES:
        raise InputError(f"schedule {schedule!r}: choose one of {', '.join(SCHEDULE_CHOICES)}")
    if sha256 and schedule == "all":
        raise InputError("--sha256 pins one file: give one --schedule with it")
    options = options or HttpOptions()
    others = list(OTHER_SCHEDULES) if schedule == "all" else []
    if schedule in OTHER_SCHEDULES:
        others = [schedule]
    rid = schedule_release(year, release) if others else None
    done = Refresh()

    def pfs() -> None:
        if dry_run:
            for source in plan_update(year, release, zip_file=zip_file, options=options):
                done.lines.append(f"Would fetch {describe_source(source)}")
            return
        if sha256 or year is not None or release is not None:
            results = [update_release(year, release, sha256=sha256, force=force, options=options)]
        else:
            results = update_releases(force=force, options=options)
        done.lines.extend(result.message for result in results)
        if zip_file:
            done.lines.append(update_zip_localities(force=force, options=options).message)

    def other(name: str) -> None:
        if dry_run:
            source = plan_schedule(name, rid, options=options)
            done.lines.append(f"Would fetch {name.upper()} {describe_source(source)}")
            return
        for result in update_schedule(name, rid, sha256=sha256, force=force, options=options):
            done.lines.append(result.message)

    steps: list[tuple[str, Any]] = []
    if schedule in ("pfs", "all"):
        steps.append(("pfs", pfs))
    steps += [(name, lambda n=name: other(n)) for name in others]
    for _, step in steps:
        try:
            step()
        except UpdateError as exc:
            if schedule != "all":
                raise
            done.failures.append(str(exc))
    return done


def _has_member(data: bytes, pattern: str) -> bool:
    regex = re.compile(pattern, re.IGNORECASE)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return any(regex.search(n.rsplit("/", 1)[-1]) for n in zf.namelist())


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
        source = _zip_locality_source(http, options)
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

    ``release_id`` (e.g. ``2025D``), when given, must match what the zip's RVU file says. A
    correction release's zip carries its quarter's banner, so its id comes from CMS's file
    name when not given (``rvu24ar-posted-04_01_2024.zip`` installs as 2024AR).
    """
    zip_path = Path(path).expanduser()
    if release_id is None:
        release_id = _correction_in_name(zip_path.name)
    if release_id is not None:
        year, letter = _check_request(None, release_id)
        if year is None:
            raise InputError(f"release {release_id!r} needs its year: write it as 2025D")
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


def _correction_in_name(name: str) -> str | None:
    """``2024AR`` for CMS's ``rvu24ar...zip``; None for any other name."""
    match = discovery.site("pfs").file_pattern.search("/" + name)
    if not match or not match.group("corr"):
        return None
    return discovery.release_key(match.groupdict())


def _is_zip_locality_file(path: Path, limits: ZipLimits | None) -> bool:
    """True for CMS's ZIP-code-to-locality zip (ZIP5 file, no PPRRVU)."""
    # lazy: loaded on use, keeping this module's import light
    from xlrate.medicare.archive import check_archive

    infos = check_archive(path, limits)
    has_zip5 = any("LYOUT" not in i.filename.upper() for i in _members(infos, "ZIP5*.TXT"))
    return has_zip5 and not _members(infos, "PPRRVU*")


__all__ = [
    "ArchiveError",
    "DownloadError",
    "Fetched",
    "fetch_schedule_file",
    "HttpOptions",
    "Plausible",
    "UpdateResult",
    "ZipLimits",
    "install_zip",
    "update_lock",
    "plan_update",
    "update_release",
    "update_releases",
    "update_zip_localities",
    "verify_bundle",
    "verify_zip_localities",
]
