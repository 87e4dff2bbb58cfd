"""A streaming reader for payers' in-network rate files (Transparency in Coverage).

A payer's file is one JSON object of 1 to 150 GB, so it is never loaded: the bytes flow
through ijson's C parser (yajl2_c; the pure-Python and cffi backends are 10 to 25 times
slower, see ``scripts/benches/market.py``) in chunks, and only the ``in_network`` items
whose billing code was asked for become rate rows. Memory stays constant whatever the size:
one item at a time, plus the provider references, plus the kept rows of requested codes
while the references are not known yet.

Layouts handled (CMS price-transparency-guide):

- v2: ``provider_references`` (id -> provider groups) referenced by id from each
  negotiated rate. They may come **before or after** ``in_network``. Both arrays are read in
  the same pass: while the references are unknown, the rows of requested codes wait in a
  buffer and are resolved when the references arrive (no second parse of the file).
- v1: ``provider_groups`` inline in each negotiated rate, or ``provider_references`` whose
  items have a ``location`` URL instead of groups (remote references). Each URL is fetched
  once; an unreachable one becomes a note and its rates keep no TIN.

Speed: decompression runs in a helper thread (zlib releases the GIL) so it overlaps the
parse; ijson's pull parser is used (its push coroutine is about 3x slower); and when codes
are asked for, whole ``in_network`` items whose billing codes are all unwanted are dropped at
byte level before the parser sees them (:class:`_ItemSkipper`), since tokenising is most of
the cost and a practice asks for a few codes out of thousands.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import io
import json
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from xlrate.codes import clean_code, parse_modifiers
from xlrate.errors import MarketFileError
from xlrate.market.pos import normalize_pos

CHUNK = 1 << 20
_QUEUE_CHUNKS = 8
_SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005  # decompressed chunks waiting for the parser (bounded: constant memory)
DOLLAR_TYPES = ("negotiated", "fee schedule", "derived")

# One rate row, as the reader emits it (the store adds payer, plan, source, date, setting).
ROW_FIELDS = (
    "code",
    "code_type",
    "modifier",
    "billing_class",
    "pos",
    "negotiated_type",
    "rate",
    "expiration_date",
    "arrangement",
    "provider_ref",
    "tin",
    "tin_type",
    "npi_count",
    "npis",
)
Row = tuple[Any, ...]

# Top-level fields of the file's header; in v1, plan names sit in reporting_plans.
_HEADER_PREFIXES = frozenset(
    {
        "reporting_entity_name",
        "last_updated_on",
        "version",
        "plan_name",
        "plan_id",
        "issuer_name",
        "reporting_plans.item.plan_name",
    }
)
_TIN_DIGITS = re.compile(r"\D")


@dataclass
class Header:
    """What the file says about itself."""

    payer: str = ""
    plans: list[str] = field(default_factory=list)
    last_updated_on: str = ""
    version: str = ""

    @property
    def plan(self) -> str:
        return "; ".join(dict.fromkeys(p for p in self.plans if p))

    @property
    def file_date(self) -> dt.date | None:
        return parse_date(self.last_updated_on)


@dataclass
class ReadSummary:
    """Counts of one read, and the notes a user should see."""

    source: str
    header: Header = field(default_factory=Header)
    items: int = 0  # in_network items in the file
    items_kept: int = 0  # items whose code was asked for
    prices: int = 0  # negotiated_prices entries of the kept items
    rows: int = 0  # rate rows emitted (one per price and TIN)
    rows_without_tin: int = 0  # rows whose provider reference could not be resolved
    references: int = 0
    references_after_rates: bool = False
    sha256: str = ""
    bytes: int = 0
    notes: list[str] = field(default_factory=list)


def parse_date(text: str) -> dt.date | None:
    """``2022-09-01``, ``10/25/2022`` (DEAN HEALTH PLAN) or a timestamp -> a date."""
    text = (text or "").strip()
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m-%d-%Y"):
        try:
            return dt.datetime.strptime(text[:10], fmt).date()
        except ValueError:
            continue
    return None


def normalize_tin(value: object) -> str:
    """``22-2222222`` and ``222222222`` are the same EIN; an NPI stays its 10 digits."""
    text = str(value).strip()
    digits = _TIN_DIGITS.sub("", text)
    return digits if digits else text


def is_url(location: str) -> bool:
    return urlsplit(str(location)).scheme in ("http", "https")


# --- bytes in ------------------------------------------------------------------------------


class _Hashing(io.RawIOBase):
    """Reads a file (opened on first read), hashing (sha256) and counting its raw bytes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._raw: IO[bytes] | None = None
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._raw is None:
            self._raw = open(self._path, "rb")  # noqa: SIM115 (closed in close())
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.digest.update(data)
        self.size += n
        return n

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
        super().close()


def _threaded_chunks(
    open_stream: Callable[[], contextlib.AbstractContextManager[IO[bytes]]], name: str
) -> Iterator[bytes]:
    """Chunks of the (decompressed) stream, produced by a helper thread."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(_QUEUE_CHUNKS)
    stop = threading.Event()

    def produce() -> None:
        try:
            with open_stream() as stream:
                while not stop.is_set():
                    chunk = stream.read(CHUNK)
                    if not chunk:
                        break
                    chunks.put(chunk)
            chunks.put(None)
        except BaseException as exc:  # handed to the consumer, which raises it
            chunks.put(exc)

    thread = threading.Thread(target=produce, name=f"xlrate-read-{name}", daemon=True)
    thread.start()
    try:
        while True:
            item = chunks.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # drain so the producer can finish its put()
            with contextlib.suppress(queue.Empty):
                chunks.get(timeout=0.05)
        thread.join()


def is_gzip(path: Path) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def file_chunks(path: Path) -> tuple[Iterator[bytes], _Hashing]:
    """Decompressed chunks of a .json or .json.gz file (gzip told by its magic bytes), and
    the wrapper whose ``digest``/``size`` describe the raw file once the chunks are read."""
    gz = is_gzip(path)
    hashing = _Hashing(path)

    @contextlib.contextmanager
    def open_stream() -> Iterator[IO[bytes]]:
        try:
            buffered = io.BufferedReader(hashing, CHUNK)
            if gz:
                with gzip.GzipFile(fileobj=buffered, mode="rb") as unzipped:
                    yield unzipped  # type: ignore[misc]
            else:
                yield buffered
        finally:
            hashing.close()

    return _threaded_chunks(open_stream, path.name), hashing


# --- references ----------------------------------------------------------------------------


Group = tuple[str, str, tuple[int, ...]]  # (tin, tin type, npis)


def _groups(raw_groups: object) -> list[Group]:
    out: list[Group] = []
    if not isinstance(raw_groups, list):
        return out
    for group in raw_groups:
        if not isinstance(group, dict):
            continue
        tin = group.get("tin") or {}
        value = tin.get("value") if isinstance(tin, dict) else tin
        if value is None:
            continue
        npis: list[int] = []
        for npi in group.get("npi") or []:
            try:
                number = int(npi)
            except (TypeError, ValueError):
                continue
            if number:  # [0] means "no NPI listed": a TIN-only contract
                npis.append(number)
        tin_type = str(tin.get("type", "")) if isinstance(tin, dict) else ""
        out.append((normalize_tin(value), tin_type, tuple(npis)))
    return out


_HCPCS_TYPES = frozenset({"CPT", "HCPCS"})


def item_code(item: dict[str, Any]) -> str:
    """CPT/HCPCS codes in CMS's five-character form; other code types (MS-DRG, RC) as given."""
    value = item.get("billing_code")
    if str(item.get("billing_code_type") or "").upper() in _HCPCS_TYPES:
        return clean_code(value)
    return str(value if value is not None else "").strip().upper()


def ref_key(value: object) -> str:
    """Provider reference ids are ints in most files, floats in CareFirst's (690.64462)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


class RemoteReferences:
    """Fetches each remote provider reference URL once; unreachable ones become notes."""

    def __init__(self, fetch: Callable[[str], bytes | None] | None) -> None:
        self._fetch = fetch
        self._cache: dict[str, list[Group] | None] = {}
        self._down_hosts: dict[str, str] = {}
        self.failures: dict[str, list[str]] = {}  # reason -> urls

    def groups(self, url: str) -> list[Group] | None:
        if url in self._cache:
            return self._cache[url]
        result = self._get(url)
        self._cache[url] = result
        return result

    def _fail(self, url: str, reason: str) -> None:
        self.failures.setdefault(reason, []).append(url)

    def _get(self, url: str) -> list[Group] | None:
        if self._fetch is None:
            self._fail(url, "remote references are not fetched (offline)")
            return None
        host = urlsplit(url).netloc
        if host in self._down_hosts:
            self._fail(url, self._down_hosts[host])
            return None
        try:
            body = self._fetch(url)
        except MarketFileError as exc:
            reason = str(exc)
            if "connect" in reason or "timed out" in reason or "answering" in reason:
                # One unreachable host would otherwise cost a timeout per reference.
                self._down_hosts[host] = f"{host} could not be reached"
                self._fail(url, self._down_hosts[host])
            else:
                self._fail(url, reason)
            return None
        if body is None:
            self._fail(url, "not found (HTTP 404)")
            return None
        try:
            data = json.loads(body)
        except ValueError:
            self._fail(url, "not JSON")
            return None
        groups = _groups(data.get("provider_groups") if isinstance(data, dict) else None)
        if not groups:
            self._fail(url, "no provider_groups in it")
            return None
        return groups

    def notes(self) -> list[str]:
        out = []
        for reason, urls in self.failures.items():
            count = len(urls)
            what = "reference" if count == 1 else "references"
            out.append(
                f"{count:,} remote provider {what} not read ({reason}), e.g. {urls[0]}: "
                "their rates are kept without a TIN"
            )
        return out


# --- the parse ----------------------------------------------------------------------------


class _Rates:
    """Turns kept in_network items into rows; buffers rows until references are known."""

    def __init__(
        self,
        emit: Callable[[list[Row]], None],
        remote: RemoteReferences,
        summary: ReadSummary,
    ) -> None:
        self.emit = emit
        self.remote = remote
        self.summary = summary
        self.refs: dict[str, list[Group] | str] = {}  # id -> groups, or a URL to fetch
        self.refs_known = False
        self.pending: list[tuple[tuple[str, ...], Row]] = []
        self.missing_refs: set[str] = set()

    def add_reference(self, item: Any) -> None:
        if not isinstance(item, dict) or "provider_group_id" not in item:
            return
        key = ref_key(item["provider_group_id"])
        location = item.get("location")
        if location and not item.get("provider_groups"):
            self.refs[key] = str(location)
        else:
            self.refs[key] = _groups(item.get("provider_groups"))
        self.summary.references += 1

    def _resolve(self, ids: Iterable[str], base: Row) -> list[Row]:
        rows: list[Row] = []
        for ref in ids:
            entry = self.refs.get(ref)
            if entry is None:
                self.missing_refs.add(ref)
                groups: list[Group] | None = None
            elif isinstance(entry, str):
                groups = self.remote.groups(entry)
            else:
                groups = entry
            if not groups:
                rows.append(base + (ref, None, None, 0, ()))
                self.summary.rows_without_tin += 1
                continue
            for tin, tin_type, npis in groups:
                rows.append(base + (ref, tin, tin_type, len(npis), npis))
        return rows

    def add_item(self, item: Any) -> None:
        code = item_code(item)
        code_type = str(item.get("billing_code_type") or "")
        arrangement = str(item.get("negotiation_arrangement") or "")
        out: list[Row] = []
        for negotiated in item.get("negotiated_rates") or ():
            if not isinstance(negotiated, dict):
                continue
            inline = negotiated.get("provider_groups")
            ids = tuple(ref_key(r) for r in negotiated.get("provider_references") or ())
            for price in negotiated.get("negotiated_prices") or ():
                if not isinstance(price, dict):
                    continue
                self.summary.prices += 1
                base = _price_fields(code, code_type, arrangement, price)
                if base is None:
                    continue
                if inline:
                    for tin, tin_type, npis in _groups(inline):
                        out.append(base + ("", tin, tin_type, len(npis), npis))
                if ids:
                    if self.refs_known:
                        out.extend(self._resolve(ids, base))
                    else:
                        self.pending.append((ids, base))
        if out:
            self.summary.rows += len(out)
            self.emit(out)

    def finish(self) -> None:
        if self.pending:
            out: list[Row] = []
            for ids, base in self.pending:
                out.extend(self._resolve(ids, base))
            self.pending.clear()
            self.summary.rows += len(out)
            if out:
                self.emit(out)


def _price_fields(code: str, code_type: str, arrangement: str, price: dict[str, Any]) -> Row | None:
    try:
        rate = float(price.get("negotiated_rate"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    mods = price.get("billing_code_modifier") or ()
    if isinstance(mods, str):
        mods = [mods]
    modifier = "-".join(m for m in (parse_modifiers(m).text for m in mods) if m)
    places = price.get("service_code") or ()
    pos = ",".join(sorted({normalize_pos(p) for p in places}))
    return (
        code,
        code_type,
        modifier,
        str(price.get("billing_class") or ""),
        pos,
        str(price.get("negotiated_type") or ""),
        rate,
        str(price.get("expiration_date") or ""),
        arrangement,
    )


def _uses_references(item: Any) -> bool:
    rates = item.get("negotiated_rates") if isinstance(item, dict) else None
    return any(isinstance(r, dict) and r.get("provider_references") for r in rates or ())


def _first_text(chunk: bytes) -> str:
    text = chunk[:200].decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    return " ".join(text[:40].split())


# The first item of in_network and its first key. Only when that key is
# "negotiation_arrangement" (first in CMS's schema and in every real file seen), which never
# occurs in nested objects, does the byte-level skip below run.
_IN_NETWORK_RE = re.compile(rb'"in_network"\s*:\s*\[\s*(\{\s*"([A-Za-z_]+)")')
_ITEM_START_RE = re.compile(rb'\{\s*"negotiation_arrangement"\s*:')
_HEADER_HOLD = 1 << 12  # bytes kept back while looking for "in_network" across chunks


class _ItemSkipper:
    """Drops, at byte level, the in_network items whose billing codes were not asked for.

    Tokenising is most of a read's time, and a practice asks for a few codes out of
    thousands. Items start at ``{"negotiation_arrangement":`` (a key that is never nested
    and cannot occur inside a JSON string, whose quotes are escaped), so between two such
    starts lie whole items. Per chunk, one regex scan in C finds every ``billing_code`` that
    is a wanted code, or is not written as a plain quoted five-character code (a number,
    ``"0200"``, ``"g0008"``: decided one by one as the parser would read it). Items holding a
    wanted code go to the parser; the stretches between them are dropped when their braces
    balance, and passed to the parser otherwise. So the result equals a full parse (tests
    compare both), only much faster when few codes are asked for.
    """

    _KEY = b'"negotiation_arrangement"'
    _LIMIT = 8 << 20  # an item longer than this is passed on unfiltered (bounded memory)

    def __init__(self, codes: frozenset[str]) -> None:
        self.codes = codes
        alternatives = b"|".join(
            re.escape(c.encode()) for c in sorted(codes, key=len, reverse=True)
        )
        # group 1: a wanted plain code; group 2: any other value not in plain form.
        self._code_re = re.compile(
            rb'"billing_code"\s*:\s*(?:"('
            + alternatives
            + rb')"|(?!"[0-9A-Z]{5}")("[^"\\]*"|[^,}\s]*))'
        )
        self.skipped = 0
        self._buffer = b""
        self._active: bool | None = None  # None: in_network not found yet

    def _odd_wanted(self, raw: bytes) -> bool:
        """An unusual billing_code value (quoted or not): wanted as the parser would read it."""
        text = raw.decode("utf-8", "replace").strip()
        if text.startswith('"'):
            text = text.strip('"')
            return clean_code(text) in self.codes or text.strip().upper() in self.codes
        try:
            number = float(text)
        except ValueError:
            return True  # not understood: let the parser see it
        return clean_code(number) in self.codes or clean_code(text) in self.codes

    def _start_before(self, data: bytes, at: int, floor: int) -> int:
        """The ``{`` opening the item whose key starts at or before ``at`` (else ``floor``)."""
        key = data.rfind(self._KEY, floor, at + len(self._KEY))
        if key < 0:
            return floor
        brace = data.rfind(b"{", floor, key)
        return brace if brace >= 0 else floor

    def _drop(self, data: bytes, begin: int, end: int, out: list[bytes]) -> None:
        if begin >= end:
            return
        if data.count(b"{", begin, end) == data.count(b"}", begin, end):
            self.skipped += data.count(self._KEY, begin, end)
        else:
            out.append(data[begin:end])  # not certainly whole items: the parser decides

    def _region(self, data: bytes, begin: int, end: int, out: list[bytes]) -> None:
        """``data[begin:end]``: whole items, from an item start to the last one's start."""
        pos = begin
        for match in self._code_re.finditer(data, begin, end):
            if match.start() < pos:
                continue  # in an item already passed on
            if match.group(1) is None and not self._odd_wanted(match.group(2)):
                continue
            first = self._start_before(data, match.start(), pos)
            after = data.find(self._KEY, match.end(), end)
            last = end if after < 0 else self._start_before(data, after, match.end())
            self._drop(data, pos, first, out)
            out.append(data[first:last])
            pos = last
        self._drop(data, pos, end, out)

    def feed(self, chunk: bytes) -> bytes:
        buffer = self._buffer + chunk if self._buffer else chunk
        start = 0
        out: list[bytes] = []
        if self._active is None:
            match = _IN_NETWORK_RE.search(buffer)
            if match is None:
                keep = min(len(buffer), _HEADER_HOLD)
                self._buffer = buffer[len(buffer) - keep :]
                return buffer[: len(buffer) - keep]
            self._active = match.group(2) == b"negotiation_arrangement"
            start = match.start(1)
            out.append(buffer[:start])
        if not self._active:
            self._buffer = b""
            return buffer
        first_key = buffer.find(self._KEY, start)
        if first_key < 0:
            if len(buffer) - start > self._LIMIT:
                out.append(buffer[start:])
                self._buffer = b""
            else:
                self._buffer = buffer[start:]
            return b"".join(out)
        first = self._start_before(buffer, first_key, start)
        last = self._start_before(buffer, buffer.rfind(self._KEY), first)
        out.append(buffer[start:first])  # not known to be whole items: the parser sees it
        self._region(buffer, first, last, out)
        self._buffer = buffer[last:]
        return b"".join(out)

    def finish(self) -> bytes:
        rest, self._buffer = self._buffer, b""
        return rest


def _skipping(chunks: Iterable[bytes], skipper: _ItemSkipper) -> Iterator[bytes]:
    for chunk in chunks:
        piece = skipper.feed(chunk)
        if piece:
            yield piece
    rest = skipper.finish()
    if rest:
        yield rest


class _SideParsers:
    """The file's header fields and provider_references, parsed beside the rates.

    Both stop as soon as they are complete (the first rate item seen, the references
    closed before the rates began), so a file whose references come first is parsed once.
    """

    def __init__(
        self,
        backend: Any,
        make_sink: Callable[[], Any],
        header: Header,
        rates: _Rates,
        source: str,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.header = header
        self.rates = rates
        self.source = source
        self.progress = progress
        self.events = make_sink()
        self.refs = make_sink()
        self.header_coro: Any = backend.parse_coro(self.events)
        self.refs_coro: Any = backend.items_coro(
            self.refs, "provider_references.item", use_float=True
        )
        self.saw_in_network = False
        self.refs_first = False
        self.first = True

    def feed(self, chunk: bytes) -> None:
        if self.first:
            self.first = False
            if chunk.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] != b"{":
                raise MarketFileError(
                    f"{self.source} is not a JSON in-network rate file: it starts with "
                    f"{_first_text(chunk)!r}. Give the .json or .json.gz file a payer "
                    "publishes (or its table of contents with --toc)"
                )
        if self.progress is not None:
            self.progress(len(chunk))
        if self.header_coro is not None:
            self.header_coro.send(chunk)
            for prefix, event, value in self.events:
                if prefix in _HEADER_PREFIXES and event in ("string", "number"):
                    _set_header(self.header, prefix, value)
                elif prefix == "in_network" and event == "start_array":
                    self.saw_in_network = True
                elif prefix == "provider_references" and event == "end_array":
                    # Closed before the rates began: the references are complete.
                    self.refs_first = not self.saw_in_network
            del self.events[:]
        if self.refs_coro is not None:
            self.refs_coro.send(chunk)
            for ref in self.refs:
                self.rates.add_reference(ref)
            del self.refs[:]

    def rates_began(self) -> None:
        """The first rate item is complete: the header is what came before it."""
        self.header_coro = None
        if self.refs_first and self.refs_coro is not None:
            self.refs_coro = None
            self.rates.refs_known = True

    def close(self) -> None:
        if self.header_coro is not None:
            self.header_coro.close()
        if self.refs_coro is not None:
            self.refs_coro.close()
            for ref in self.refs:
                self.rates.add_reference(ref)
            del self.refs[:]


class _Tee:
    """A file-like ``read(n)`` over the chunks that also feeds the side parsers."""

    def __init__(self, chunks: Iterable[bytes], side: _SideParsers) -> None:
        self._chunks = iter(chunks)
        self._side = side
        self._buffer = memoryview(b"")
        self._pos = 0

    def read(self, size: int = -1) -> bytes:
        if self._pos >= len(self._buffer):
            chunk = next(self._chunks, b"")
            if not chunk:
                return b""
            self._side.feed(chunk)
            self._buffer = memoryview(chunk)
            self._pos = 0
        end = len(self._buffer) if size < 0 else self._pos + size
        piece = self._buffer[self._pos : end]
        self._pos += len(piece)
        return bytes(piece)


def read_rates(
    chunks: Iterable[bytes],
    *,
    source: str,
    codes: frozenset[str] | None,
    emit: Callable[[list[Row]], None],
    fetch_remote: Callable[[str], bytes | None] | None = None,
    on_header: Callable[[Header], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReadSummary:
    """Parse one in-network file's decompressed ``chunks``; ``emit`` receives row batches.

    ``codes`` limits the rows to those billing codes (None: every code). Raises
    :class:`MarketFileError` naming ``source`` when the file is not a complete in-network file.
    """
    import ijson  # lazy: optional extra "market"; imported here so `import xlrate` stays light

    backend = ijson.get_backend("yajl2_c")
    summary = ReadSummary(source=source)
    remote = RemoteReferences(fetch_remote)
    rates = _Rates(emit, remote, summary)

    # The decompressing thread needs the GIL back quickly between its zlib calls, while this
    # thread runs long C scans: a shorter switch interval for the read (restored after)
    # took a 1 GB read from about 5.5 s to 3.9 s (scripts/benches/market.py).
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, _SWITCH_INTERVAL))
    try:
        return _read(backend, ijson, chunks, source, codes, rates, remote, on_header, progress)
    finally:
        sys.setswitchinterval(switch)


def _read(
    backend: Any,
    ijson: Any,
    chunks: Iterable[bytes],
    source: str,
    codes: frozenset[str] | None,
    rates: _Rates,
    remote: RemoteReferences,
    on_header: Callable[[Header], None] | None,
    progress: Callable[[int], None] | None,
) -> ReadSummary:
    summary = rates.summary
    header = summary.header
    side = _SideParsers(backend, ijson.sendable_list, header, rates, source, progress)
    uses_references = False  # the first item's rates point at provider_references
    skipper: _ItemSkipper | None = None
    try:
        # ijson's pull parser (C) is about 3x faster than pushing chunks into its coroutine;
        # the tee shows the same bytes to the header and reference parsers on the way.
        if codes is not None:
            skipper = _ItemSkipper(codes)
            chunks = _skipping(chunks, skipper)
        for item in backend.items(_Tee(chunks, side), "in_network.item", use_float=True):
            if summary.items == 0:
                side.rates_began()
                if on_header is not None:
                    on_header(header)
                uses_references = _uses_references(item)
            summary.items += 1
            if codes is None or item_code(item) in codes:
                summary.items_kept += 1
                rates.add_item(item)
        side.close()
        if skipper is not None:
            summary.items += skipper.skipped
        if side.refs_coro is not None:
            summary.references_after_rates = bool(rates.refs) and summary.items > 0
    except MarketFileError:
        raise
    except ijson.IncompleteJSONError as exc:
        problem = str(exc).splitlines()[0] if str(exc) else "incomplete JSON"
        if "premature EOF" in problem or "incomplete" in problem.lower():
            raise MarketFileError(
                f"{source} ends in the middle of the JSON (after {summary.items:,} in_network "
                "items): the file is truncated. Download it again"
            ) from exc
        raise MarketFileError(
            f"{source} is not valid JSON ({problem}, after {summary.items:,} in_network "
            "items). Download it again, or check it is an in-network rate file"
        ) from exc
    except EOFError as exc:
        raise MarketFileError(
            f"{source}: the gzip data ends early (after {summary.items:,} in_network items): "
            "the download is truncated. Download it again"
        ) from exc
    except (gzip.BadGzipFile, OSError) as exc:
        if isinstance(exc, MarketFileError):
            raise
        raise MarketFileError(
            f"{source} could not be decompressed ({exc}). Download it again"
        ) from exc

    if summary.items == 0 and on_header is not None:
        on_header(header)
    if side.first:
        raise MarketFileError(f"{source} is empty. Download it again")
    if not side.saw_in_network and summary.items == 0:
        raise MarketFileError(
            f"{source} has no in_network array: it is not an in-network rate file (a table of "
            "contents? then use --toc)"
        )
    rates.refs_known = True
    if (rates.pending or uses_references) and not rates.refs:
        raise MarketFileError(
            f"{source}: its rates refer to provider_references by id but the file has no "
            "provider_references: it is incomplete. Download it again"
        )
    rates.finish()
    if rates.missing_refs:
        example = sorted(rates.missing_refs)[0]
        summary.notes.append(
            f"{len(rates.missing_refs):,} provider reference ids used by rates are not in the "
            f"file's provider_references (e.g. {example}): those rates are kept without a TIN"
        )
    summary.notes.extend(remote.notes())
    return summary


def _set_header(header: Header, prefix: str, value: Any) -> None:
    text = str(value)
    if prefix == "reporting_entity_name":
        header.payer = text
    elif prefix == "last_updated_on":
        header.last_updated_on = text
    elif prefix == "version":
        header.version = text
    elif prefix in ("plan_name", "reporting_plans.item.plan_name"):
        header.plans.append(text)
