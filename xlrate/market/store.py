"""The normalised market store: one Parquet part per source file, and a manifest.

Layout under the store root (a local folder, or any fsspec URL such as ``s3://bucket/x``
when Dask workers on several machines write the parts)::

    parts/<key>.parquet     the rates of one source file (key = sha256 of its location)
    manifest.json           per key: location, sha256, ETag, size, codes read, counts, notes

A row is one (payer, plan, code, modifier, billing class, setting, TIN, NPI count,
negotiated type, rate, expiration) with its provenance (source, file date, places of
service, provider reference, NPIs). TINs are digits only (``22-2222222`` -> ``222222222``),
places of service two digits (``1`` -> ``01``), and the setting comes from the places by
CMS's facility list in force at the file's date (:mod:`xlrate.market.pos`).

Every part is written to a temporary name and renamed when complete, and the manifest is
replaced in one rename: a failure in the middle of a file leaves the store as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlrate.errors import MarketFileError
from xlrate.files import atomic_path
from xlrate.market.pos import setting_for
from xlrate.market.reader import ROW_FIELDS, Header, Row, is_url
from xlrate.settings import data_home

if TYPE_CHECKING:
    import pyarrow as pa

# The reader's fields, with what the store adds: where the row came from, and the setting
# (after billing_class, from the place of service).
COLUMNS = (
    "payer",
    "plan",
    "source",
    "file_date",
    *ROW_FIELDS[: ROW_FIELDS.index("billing_class") + 1],
    "setting",
    *ROW_FIELDS[ROW_FIELDS.index("billing_class") + 1 :],
)
BATCH_ROWS = 50_000  # rows held before they are written (bounded memory)


def schema() -> pa.Schema:
    import pyarrow as pa  # lazy: optional extra "market"; `import xlrate` stays light

    return pa.schema(
        [
            ("payer", pa.string()),
            ("plan", pa.string()),
            ("source", pa.string()),
            ("file_date", pa.date32()),
            ("code", pa.string()),
            ("code_type", pa.string()),
            ("modifier", pa.string()),
            ("billing_class", pa.string()),
            ("setting", pa.string()),
            ("pos", pa.string()),
            ("negotiated_type", pa.string()),
            ("rate", pa.float64()),
            ("expiration_date", pa.string()),
            ("arrangement", pa.string()),
            ("provider_ref", pa.string()),
            ("tin", pa.string()),
            ("tin_type", pa.string()),
            ("npi_count", pa.int32()),
            ("npis", pa.list_(pa.int64())),
        ]
    )


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    try:
        import filelock  # lazy: a cross-platform lock file; without it the store is not locked
    except ImportError:  # pragma: no cover - an install without it: no lock
        yield
        return
    with filelock.FileLock(str(path), timeout=600):
        yield


def default_root() -> Path:
    return data_home() / "market"


def source_key(location: str) -> str:
    """A stable file name for a source: URLs as given, paths made absolute."""
    identity = location if is_url(location) else str(Path(location).expanduser().resolve())
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:24]


class Store:
    """A market store at ``root`` (a folder or an fsspec URL)."""

    def __init__(self, root: str | Path | None = None) -> None:
        text = str(root if root is not None else default_root())
        self.url = text
        self.remote = "://" in text and not text.startswith("file://")
        if self.remote:
            import fsspec  # lazy: optional (comes with dask); only for URL stores

            self.fs, self.root = fsspec.core.url_to_fs(text)
        else:
            self.fs = None
            # Absolute, so that Dask workers started elsewhere find the same folder.
            self.root = str(Path(text.removeprefix("file://")).expanduser().absolute())

    # --- paths --------------------------------------------------------------------------

    def _join(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def part_path(self, key: str) -> str:
        return self._join("parts", f"{key}.parquet")

    @property
    def manifest_path(self) -> str:
        return self._join("manifest.json")

    # --- manifest -----------------------------------------------------------------------

    def manifest(self) -> dict[str, dict[str, Any]]:
        try:
            if self.fs is not None:
                with self.fs.open(self.manifest_path, "rb") as fh:
                    data = json.load(fh)
            else:
                data = json.loads(Path(self.manifest_path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise MarketFileError(
                f"the market store's manifest {self.manifest_path} is damaged ({exc}). "
                "Delete the store folder and read the files again"
            ) from exc
        return dict(data.get("sources", {}))

    def update_manifest(self, entries: dict[str, dict[str, Any]]) -> None:
        """Merge ``entries`` into the manifest, replacing it in one rename.

        A local store is locked meanwhile, so two runs finishing together both land.
        """
        if self.fs is None:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            with _lock(Path(self.root) / ".manifest.lock"):
                self._merge(entries)
        else:
            self._merge(entries)

    def _merge(self, entries: dict[str, dict[str, Any]]) -> None:
        current = self.manifest()
        current.update(entries)
        text = json.dumps({"version": 1, "sources": current}, indent=1, sort_keys=True)
        if self.fs is not None:
            tmp = self._join(f".manifest-{uuid.uuid4().hex}.tmp")
            with self.fs.open(tmp, "wb") as fh:
                fh.write(text.encode("utf-8"))
            self.fs.mv(tmp, self.manifest_path)
            return
        with atomic_path(self.manifest_path) as tmp_path:
            tmp_path.write_text(text, encoding="utf-8")

    # --- parts --------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[str]:
        """A temporary path for a part; renamed to the part when the block succeeds."""
        final = self.part_path(key)
        if self.fs is None:
            with atomic_path(final) as local_tmp:
                yield str(local_tmp)
            return
        self.fs.makedirs(final.rsplit("/", 1)[0], exist_ok=True)
        tmp = final.rsplit("/", 1)[0] + f"/.{key}-{uuid.uuid4().hex[:8]}.parquet.tmp"
        try:
            yield tmp
            self.fs.mv(tmp, final)
        finally:
            with contextlib.suppress(OSError):
                if self.fs.exists(tmp):
                    self.fs.rm(tmp)

    def exists(self, key: str) -> bool:
        path = self.part_path(key)
        return bool(self.fs.exists(path)) if self.fs is not None else os.path.exists(path)

    def read(self, keys: Iterable[str], *, codes: Iterable[str] | None = None) -> pa.Table:
        """The rows of the given sources (only ``codes`` when given) as one Arrow table."""
        import pyarrow as pa  # lazy: pyarrow loads on use
        import pyarrow.parquet as pq  # lazy: pyarrow loads on use

        wanted = set(codes) if codes is not None else None
        tables = []
        for key in keys:
            path = self.part_path(key)
            filters = [("code", "in", sorted(wanted))] if wanted else None
            tables.append(pq.read_table(path, filesystem=self.fs, filters=filters))
        if not tables:
            return schema().empty_table()
        return pa.concat_tables(tables)


class PartWriter:
    """Writes one source's rows to ``path`` in batches of :data:`BATCH_ROWS`."""

    def __init__(self, path: str, *, source: str, fs: Any = None) -> None:
        self.path = path
        self.fs = fs
        self.source = source
        self.header = Header()
        self.rows: list[Row] = []
        self.count = 0
        self._writer: Any = None
        self._settings: dict[str, str] = {}

    def set_header(self, header: Header) -> None:
        self.header = header

    def add(self, rows: list[Row]) -> None:
        self.rows.extend(rows)
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def _setting(self, pos: str, on: dt.date | None) -> str:
        setting = self._settings.get(pos)
        if setting is None:
            setting = setting_for(pos.split(",") if pos else (), on)
            self._settings[pos] = setting
        return setting

    def flush(self) -> None:
        import pyarrow as pa  # lazy: pyarrow loads on use
        import pyarrow.parquet as pq  # lazy: pyarrow loads on use

        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.path, schema(), filesystem=self.fs, compression="zstd"
            )
        if not self.rows:
            return
        on = self.header.file_date
        transposed = zip(*self.rows, strict=True)
        columns: dict[str, list[Any]] = {
            name: list(values) for name, values in zip(ROW_FIELDS, transposed, strict=True)
        }
        n = len(self.rows)
        columns["npis"] = [list(npis) for npis in columns["npis"]]
        data = {
            "payer": [self.header.payer] * n,
            "plan": [self.header.plan] * n,
            "source": [self.source] * n,
            "file_date": [on] * n,
            "setting": [self._setting(pos, on) for pos in columns["pos"]],
            **columns,
        }
        self._writer.write_table(pa.table({c: data[c] for c in COLUMNS}, schema=schema()))
        self.count += n
        self.rows = []

    def close(self) -> None:
        self.flush()
        self._writer.close()
        self._writer = None

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
