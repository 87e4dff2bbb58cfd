"""Read payers' files into the store: one file per worker, locally or on a Dask cluster.

:func:`ingest_file` reads one source into one Parquet part; it is a plain function of
picklable arguments so that a local process pool and Dask workers run the same code.
:func:`ingest` decides what needs reading (an unchanged file whose codes were already read
is skipped: same size and time, or same sha256, or the server's 304 for the ETag seen last
time), spreads the rest, and records the results in the manifest from the coordinating
process only, so workers never race on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlrate.errors import XlrateError
from xlrate.market.reader import file_chunks, is_url, read_rates
from xlrate.market.sources import fetch_reference, local_copy
from xlrate.market.store import PartWriter, Store, source_key


@dataclass
class FileResult:
    """What happened to one source."""

    location: str
    key: str
    status: str  # "read", "unchanged" or "failed"
    entry: dict[str, Any] = field(default_factory=dict)  # the manifest entry
    error: str = ""
    seconds: float = 0.0

    @property
    def notes(self) -> list[str]:
        return list(self.entry.get("notes", [])) if self.status != "failed" else []


@dataclass
class IngestResult:
    files: list[FileResult]

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.files if f.status != "failed"]

    @property
    def errors(self) -> list[str]:
        return [f.error for f in self.files if f.status == "failed"]


def _codes_key(codes: frozenset[str] | None) -> list[str] | str:
    return "*" if codes is None else sorted(codes)


def _covers(previous: dict[str, Any], codes: frozenset[str] | None) -> bool:
    stored = previous.get("codes")
    if stored == "*":
        return True
    return codes is not None and isinstance(stored, list) and codes <= set(stored)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_file(
    location: str,
    store_url: str,
    codes: frozenset[str] | None,
    previous: dict[str, Any] | None = None,
    *,
    fetch_remote: bool = True,
    progress: Callable[[str, int, int], None] | None = None,
) -> FileResult:
    """Read one payer file into its part of the store at ``store_url``.

    Never raises for a bad file: the result says ``failed`` with one line, and the store
    keeps its previous part (nothing half-written).
    """
    started = time.perf_counter()
    store = Store(store_url)
    key = source_key(location)
    result = FileResult(location, key, "failed")
    try:
        result = _ingest(location, store, key, codes, previous, fetch_remote, progress)
    except XlrateError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = f"{location} could not be read ({exc}). Check the path and permissions"
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _ingest(
    location: str,
    store: Store,
    key: str,
    codes: frozenset[str] | None,
    previous: dict[str, Any] | None,
    fetch_remote: bool,
    progress: Callable[[str, int, int], None] | None,
) -> FileResult:
    usable = previous if previous and _covers(previous, codes) and store.exists(key) else None
    local_stat: os.stat_result | None = None
    if not is_url(location):
        path = Path(location).expanduser()
        if path.is_file():
            local_stat = path.stat()
            if usable and usable.get("bytes") == local_stat.st_size:
                if usable.get("mtime_ns") == local_stat.st_mtime_ns:
                    return FileResult(location, key, "unchanged", usable)
                if usable.get("sha256") == _sha256(path):
                    return FileResult(location, key, "unchanged", usable)
    with local_copy(
        location,
        etag=(usable or {}).get("etag"),
        last_modified=(usable or {}).get("last_modified"),
    ) as fetched:
        if fetched.path is None or (
            usable and fetched.sha256 and fetched.sha256 == usable.get("sha256")
        ):
            return FileResult(location, key, "unchanged", usable or {})
        chunks, raw = file_chunks(fetched.path)
        total = fetched.path.stat().st_size
        on_chunk = None
        if progress is not None:
            report = progress

            def on_chunk(_: int) -> None:
                report(location, raw.size, total)  # raw bytes read of the file's size

        with store.writing(key) as tmp:
            writer = PartWriter(tmp, source=location, fs=store.fs)
            try:
                summary = read_rates(
                    chunks,
                    source=location,
                    codes=codes,
                    emit=writer.add,
                    fetch_remote=fetch_reference if fetch_remote else None,
                    on_header=writer.set_header,
                    progress=on_chunk,
                )
                writer.close()
            except BaseException:
                writer.abort()
                raise
        entry: dict[str, Any] = {
            "location": location,
            "key": key,
            "sha256": raw.digest.hexdigest(),
            "bytes": raw.size,
            "mtime_ns": local_stat.st_mtime_ns if local_stat else None,
            "etag": fetched.etag,
            "last_modified": fetched.last_modified,
            "codes": _codes_key(codes),
            "payer": summary.header.payer,
            "plan": summary.header.plan,
            "last_updated_on": summary.header.last_updated_on,
            "version": summary.header.version,
            "items": summary.items,
            "items_kept": summary.items_kept,
            "prices": summary.prices,
            "rows": summary.rows,
            "rows_without_tin": summary.rows_without_tin,
            "references": summary.references,
            "references_after_rates": summary.references_after_rates,
            "notes": summary.notes,
            "read_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        }
        return FileResult(location, key, "read", entry)


def _ingest_star(
    args: tuple[Any, ...], progress: Callable[[str, int, int], None] | None = None
) -> FileResult:
    return ingest_file(*args[:4], fetch_remote=args[4], progress=progress)


def ingest(
    locations: Sequence[str],
    *,
    codes: Iterable[str] | None,
    store: Store | str | Path | None = None,
    workers: int = 1,
    dask: Any = None,
    fetch_remote: bool = True,
    force: bool = False,
    on_done: Callable[[FileResult], None] | None = None,
    on_bytes: Callable[[str, int, int], None] | None = None,
) -> IngestResult:
    """Read ``locations`` into the store; one file per worker.

    ``dask`` is a ``dask.distributed.Client`` or a scheduler address (``tcp://host:8786``);
    the store must then be a location every worker can write (a shared folder or an
    fsspec URL). Otherwise ``workers`` local processes (1: in this process, and then
    ``on_bytes(location, bytes read, file size)`` follows each file's progress).
    """
    target = store if isinstance(store, Store) else Store(store)
    wanted = frozenset(codes) if codes is not None else None
    manifest = {} if force else target.manifest()
    unique = list(dict.fromkeys(locations))
    jobs = [
        (loc, target.url, wanted, manifest.get(source_key(loc)), fetch_remote) for loc in unique
    ]
    results: list[FileResult] = []
    if dask is not None:
        results = _run_dask(dask, jobs, on_done)
    elif workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed  # lazy: used only here

        with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
            futures = [pool.submit(_ingest_star, job) for job in jobs]
            for future in as_completed(futures):
                result = future.result()
                results.append(result)
                if on_done is not None:
                    on_done(result)
    else:
        for job in jobs:
            result = _ingest_star(job, on_bytes)
            results.append(result)
            if on_done is not None:
                on_done(result)
    order = {loc: i for i, loc in enumerate(unique)}
    results.sort(key=lambda r: order[r.location])
    read = {r.key: r.entry for r in results if r.status == "read"}
    if read:
        target.update_manifest(read)
    return IngestResult(results)


def _run_dask(
    dask: Any, jobs: list[tuple[Any, ...]], on_done: Callable[[FileResult], None] | None
) -> list[FileResult]:
    from dask.distributed import Client, as_completed  # lazy: optional extra "market"

    client = dask if isinstance(dask, Client) else Client(str(dask))  # type: ignore[no-untyped-call]
    try:
        futures = client.map(_ingest_star, jobs, pure=False)
        results: list[FileResult] = []
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            result: FileResult = future.result()
            results.append(result)
            if on_done is not None:
                on_done(result)
        return results
    finally:
        if client is not dask:
            client.close()  # type: ignore[no-untyped-call]
