"""Find CMS's files from CMS's own pages, the same way for every schedule.

How each schedule's pages look is data, ``layouts/cms_pages.csv`` (one row per schedule):

- ``index_path``: the page that lists the releases (or the files themselves);
- ``page_pattern`` / ``text_pattern``: a link to a release page, matched on the link's path
  or, failing that, on its text (CMS's texts carry stray spaces: ``" RVU26B"``);
- ``file_pattern``: a link to a release's zip, matched on its path (relative or absolute,
  slashed or dashed dates: ``rvu25a-updated-01/10/2025.zip``);
- ``page_templates`` / ``file_template``: addresses built from the release's slug
  (``rvu25d``), tried only when the index does not link the release, the file address last
  of all (and the result says so).

The named groups of the patterns give the release: ``yy`` or ``year``; ``q`` (a-d, 1-4) or
``month`` (january, april, july, october) for the quarter; ``corr`` for a correction
(``rvu24ar`` is release 2024AR); ``ver`` for a version (``25CLABQ3v2``); ``dup`` for a
page CMS's site renamed (``rvu25d-0``). A licence-wrapped link
(``/license/ama?file=/files/zip/26clabq3.zip``) is unwrapped to the file it names.

The functions on HTML are pure; :func:`find_release` and :func:`list_site` fetch pages
through :func:`xlrate.medicare.download.get_page_status`. A 403, 404 or 410 page counts as
missing (CMS answers 403 for some pages it moved) and is noted in the result.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import requests

from xlrate.medicare import layouts, releases
from xlrate.medicare.download import HttpOptions, get_page_status
from xlrate.settings import CMS_BASE_URL

MONTH_QUARTER = {"january": "A", "april": "B", "july": "C", "october": "D"}
NUMBER_QUARTER = {"1": "A", "2": "B", "3": "C", "4": "D"}
_DATE_RE = re.compile(r"(?<!\d)(\d{1,2})[-/_.](\d{1,2})[-/_.](\d{4}|\d{2})(?!\d)")
# /license/ama?file=... today; /apps/ama/license.asp?file=... on CMS's older pages
_LICENCE_RE = re.compile(r"/licen[cs]e\b", re.I)


@dataclass(frozen=True)
class Site:
    """How one schedule's pages look on CMS's site (a row of ``cms_pages.csv``)."""

    schedule: str
    index_path: str
    page_pattern: re.Pattern[str] | None
    text_pattern: re.Pattern[str] | None
    file_pattern: re.Pattern[str]
    page_templates: tuple[str, ...] = ()
    file_template: str = ""
    note: str = ""


@cache
def sites() -> dict[str, Site]:
    """Every schedule's site description, from ``layouts/cms_pages.csv``."""
    out = {}
    for row in layouts.rows("cms_pages.csv"):

        def pattern(name: str, row: dict[str, str] = row) -> re.Pattern[str] | None:
            return re.compile(row[name], re.I) if row[name].strip() else None

        file_pattern = pattern("file_pattern")
        assert file_pattern is not None, row["schedule"]
        out[row["schedule"]] = Site(
            schedule=row["schedule"],
            index_path=row["index_path"],
            page_pattern=pattern("page_pattern"),
            text_pattern=pattern("text_pattern"),
            file_pattern=file_pattern,
            page_templates=tuple(t for t in row["page_templates"].split(";") if t.strip()),
            file_template=row["file_template"].strip(),
            note=row["note"],
        )
    return out


def site(schedule: str) -> Site:
    try:
        return sites()[schedule]
    except KeyError:
        raise KeyError(
            f"no CMS page description for schedule {schedule!r} (have {', '.join(sites())})"
        ) from None


# --- links ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """An ``<a href>`` of a page: absolute URL (licence unwrapped), text, and the href as written."""

    url: str
    text: str
    href: str
    licence_wrapped: bool = False


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        self._close()
        href = next((v for k, v in attrs if k == "href" and v), None)
        if href is not None:
            self._href, self._text = href.strip(), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def _close(self) -> None:
        if self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
        self._href, self._text = None, []

    def close(self) -> None:
        super().close()
        self._close()


def page_links(html: str, page_url: str) -> list[Link]:
    """Every link of a page in page order, absolute, licence links unwrapped."""
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    out = []
    for href, text in parser.links:
        url = rebase(urljoin(page_url, href), page_url)
        target = unwrap_licence(url)
        out.append(Link(target or url, text, href, target is not None))
    return out


def unwrap_licence(url: str) -> str | None:
    """The file a licence-page link names (``/license/ama?file=/files/zip/x.zip``), else None."""
    parts = urlsplit(url)
    if not _LICENCE_RE.search(parts.path):
        return None
    names = parse_qs(parts.query).get("file")
    if not names:
        return None
    return urljoin(url, names[0])


def rebase(url: str, page_url: str) -> str:
    """Keep CMS's absolute links (``https://www.cms.gov/files/zip/...``) on the server the
    page came from, so a mirror set with XLRATE_CMS_BASE_URL serves the files too."""
    link, page = urlsplit(url), urlsplit(page_url)
    official = urlsplit(CMS_BASE_URL).netloc
    if link.netloc in (official, official.removeprefix("www.")) and page.netloc != official:
        return link._replace(scheme=page.scheme, netloc=page.netloc).geturl()
    return url


def cms_file_name(url: str) -> str:
    """CMS's whole file name, date and all: ``rvu25a-updated-01/10/2025.zip`` (what follows
    ``/files/zip/``), not the last path segment (``2025.zip``)."""
    path = unquote(urlsplit(url).path)
    for marker in ("/files/zip/", "/files/"):
        at = path.lower().find(marker)
        if at >= 0:
            return path[at + len(marker) :]
    return path.rsplit("/", 1)[-1]


def link_date(name: str) -> dt.date | None:
    """The (last) date in a file name: ``-updated-12-29-2025``, ``-revised-08/14/2025``,
    ``-file-12/19/24-``."""
    found = None
    for match in _DATE_RE.finditer(name):
        month, day, year = (int(g) for g in match.groups())
        year += 2000 if year < 100 else 0
        try:
            found = dt.date(year, month, day)
        except ValueError:
            continue
    return found


# --- releases in links --------------------------------------------------------------------


def release_key(groups: dict[str, str | None], default_quarter: str | None = "A") -> str | None:
    """``2024AR`` from a pattern's named groups; a year alone gives ``2026`` (a year page)."""
    year_text = groups.get("year") or groups.get("yy")
    if not year_text:
        return None
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    quarter = None
    if groups.get("q"):
        q = str(groups["q"]).lower()
        quarter = NUMBER_QUARTER.get(q, q.upper())
    elif groups.get("month"):
        quarter = MONTH_QUARTER[str(groups["month"]).lower()]
    if quarter is None:
        return f"{year}{default_quarter}" if default_quarter else str(year)
    return f"{year}{quarter}{(groups.get('corr') or '').upper()}"


@dataclass(frozen=True)
class ReleasePage:
    """A release page linked from an index: ``release`` is ``2025D`` (or a year, ``2026``)."""

    release: str
    url: str
    text: str
    renamed: int  # CMS's "-0" suffix: a page made after another took its address


@dataclass(frozen=True)
class FileLink:
    """A release's zip as a page links it."""

    release: str | None  # "2025A", "2024AR"; None for files without one (ZIP-locality)
    url: str
    name: str  # cms_file_name(url)
    date: dt.date | None
    version: int
    page: str
    licence_wrapped: bool = False

    def rank(self) -> tuple[bool, dt.date, int]:
        return (self.date is not None, self.date or dt.date.min, self.version)


def release_pages(target: Site, links: Iterable[Link]) -> dict[str, list[ReleasePage]]:
    """{release: its pages} from an index's links, a renamed (``-0``) page first."""
    found: dict[str, list[ReleasePage]] = {}
    if target.page_pattern is None and target.text_pattern is None:
        return found
    for link in links:
        path = urlsplit(link.url).path
        if path.lower().endswith(".zip"):
            continue
        key, renamed = None, 0
        match = target.page_pattern.search(path) if target.page_pattern else None
        if match:
            key = release_key(match.groupdict(), default_quarter=None)
            renamed = int(match.groupdict().get("dup") or -1) + 1
        elif target.text_pattern and (text := target.text_pattern.fullmatch(link.text.strip())):
            key = release_key(text.groupdict(), default_quarter=None)
        if key is None:
            continue
        pages = found.setdefault(key, [])
        if all(p.url != link.url for p in pages):
            pages.append(ReleasePage(key, link.url, link.text, renamed))
    for pages in found.values():
        pages.sort(key=lambda p: -p.renamed)
    return found


def file_links(target: Site, links: Iterable[Link], page_url: str) -> list[FileLink]:
    """The zips of ``target`` a page links, with their release and date."""
    out: list[FileLink] = []
    seen: set[str] = set()
    for link in links:
        path = unquote(urlsplit(link.url).path)
        match = target.file_pattern.search(path)
        if not match or link.url in seen:
            continue
        seen.add(link.url)
        groups = match.groupdict()
        name = cms_file_name(link.url)
        out.append(
            FileLink(
                release=release_key(groups),
                url=link.url,
                name=name,
                date=link_date(name),
                version=int(groups.get("ver") or 0),
                page=page_url,
                licence_wrapped=link.licence_wrapped,
            )
        )
    return out


def best_file(files: Iterable[FileLink], release: str | None = None) -> FileLink | None:
    """The newest of ``files`` (of ``release``): the latest dated re-post, then the highest
    version, then the first undated link on the page."""
    chosen = [f for f in files if release is None or f.release == release]
    if not chosen:
        return None
    return max(chosen, key=FileLink.rank)  # max keeps the first of equals


# --- on the network -------------------------------------------------------------------------


@dataclass
class Found:
    """Where a release's zip is, how it was found, and what went wrong on the way."""

    schedule: str
    release: str | None
    url: str
    name: str
    page: str | None  # the page that linked the zip (None: the built address)
    discovered: str  # "landing page", "index page", "landing page (built address)", "built address"
    licence_wrapped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def last_resort(self) -> bool:
        return self.discovered == "built address"


@dataclass
class Listing:
    """What a schedule's index page lists."""

    url: str
    status: int
    pages: dict[str, list[ReleasePage]]
    files: list[FileLink]

    def releases(self) -> list[str]:
        keys = set(self.pages) | {f.release for f in self.files if f.release}
        return [str(r) for r in releases.sort_releases(keys)]


def list_site(
    session: requests.Session, target: Site, base: str, options: HttpOptions | None = None
) -> Listing:
    """Read a schedule's index page."""
    url = base + target.index_path
    status, html = get_page_status(session, url, options)
    if html is None:
        return Listing(url, status, {}, [])
    links = page_links(html, url)
    return Listing(url, status, release_pages(target, links), file_links(target, links, url))


def find_release(
    session: requests.Session,
    target: Site,
    release: str,
    base: str,
    options: HttpOptions | None = None,
    listing: Listing | None = None,
) -> Found | None:
    """Find ``release``'s zip: the index's release pages, files linked from the index, the
    built page addresses, and last the built file address. None when there is nothing to try."""
    listing = listing or list_site(session, target, base, options)
    notes: list[str] = []
    if listing.status != 200:
        notes.append(f"the index page {listing.url} answered {listing.status}")
    rid = releases.parse_release_id(release)
    tried: set[str] = set()

    def from_page(url: str, how: str) -> Found | None:
        tried.add(url)
        status, html = get_page_status(session, url, options)
        if html is None:
            notes.append(f"{url} answered {status}")
            return None
        best = best_file(file_links(target, page_links(html, url), url), str(rid))
        if best is None:
            notes.append(f"{url} links no {rid} zip")
            return None
        return Found(target.schedule, str(rid), best.url, best.name, url, how,
                     best.licence_wrapped, notes)  # fmt: skip

    pages = listing.pages.get(str(rid), []) + listing.pages.get(str(rid.year), [])
    for page in pages:
        if (found := from_page(page.url, "landing page")) is not None:
            return found
    direct = best_file(listing.files, str(rid))
    if direct is not None:
        return Found(target.schedule, str(rid), direct.url, direct.name, listing.url,
                     "index page", direct.licence_wrapped, notes)  # fmt: skip
    for template in target.page_templates:
        url = base + template.format(slug=rid.slug)
        if url in tried:
            continue
        if (found := from_page(url, "landing page (built address)")) is not None:
            return found
    if target.file_template:
        url = base + target.file_template.format(slug=rid.slug)
        notes.append("no CMS page linked the zip, so its address was built from the release")
        return Found(target.schedule, str(rid), url, cms_file_name(url), None, "built address",
                     False, notes)  # fmt: skip
    return None


def find_latest_file(
    session: requests.Session, target: Site, base: str, options: HttpOptions | None = None
) -> Found | None:
    """The newest file a schedule's index links (the ZIP-code-to-locality file)."""
    listing = list_site(session, target, base, options)
    best = best_file(listing.files)
    if best is None:
        return None
    notes = [] if listing.status == 200 else [f"{listing.url} answered {listing.status}"]
    return Found(target.schedule, best.release, best.url, best.name, listing.url, "index page",
                 best.licence_wrapped, notes)  # fmt: skip
