"""NPPES extracts: where each NPI practises and which taxonomies it has, streamed.

CMS's NPPES data dissemination file (``npidata_pfile_*.csv``, about 9 GB, 330 columns) or
any extract of it with the same column names: ``NPI``, ``Provider Business Practice
Location Address Postal Code`` and ``Healthcare Provider Taxonomy Code_1`` to ``_15``. The
file is read row by row (csv module) and only the NPIs asked for are kept, so memory
follows the payer files' NPIs, not the 8 million rows.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from xlrate.errors import MarketFileError

NPI_COLUMN = "NPI"
ZIP_COLUMN = "Provider Business Practice Location Address Postal Code"
TAXONOMY_PREFIX = "Healthcare Provider Taxonomy Code_"

NpiInfo = tuple[str, frozenset[str]]  # (practice ZIP5, taxonomy codes)


def _open(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        gz = probe.read(2) == b"\x1f\x8b"
    if gz:
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")  # noqa: SIM115


def read_nppes(path: Path | str, npis: Iterable[int] | None = None) -> dict[int, NpiInfo]:
    """NPI -> (practice ZIP5, taxonomies) for ``npis`` (every NPI when None)."""
    path = Path(path)
    wanted = set(npis) if npis is not None else None
    out: dict[int, NpiInfo] = {}
    try:
        with _open(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header or NPI_COLUMN not in header or ZIP_COLUMN not in header:
                raise MarketFileError(
                    f"{path} is not an NPPES extract: it needs the columns {NPI_COLUMN!r} and "
                    f"{ZIP_COLUMN!r} (CMS's npidata_pfile CSV, or a cut of it)"
                )
            npi_at = header.index(NPI_COLUMN)
            zip_at = header.index(ZIP_COLUMN)
            taxonomy_at = [i for i, name in enumerate(header) if name.startswith(TAXONOMY_PREFIX)]
            for row in reader:
                if len(row) <= max(npi_at, zip_at):
                    continue
                try:
                    npi = int(row[npi_at])
                except ValueError:
                    continue
                if wanted is not None and npi not in wanted:
                    continue
                taxonomies = frozenset(
                    row[i].strip().upper() for i in taxonomy_at if i < len(row) and row[i].strip()
                )
                out[npi] = (row[zip_at].strip()[:5], taxonomies)
    except (OSError, EOFError, UnicodeError, csv.Error) as exc:
        raise MarketFileError(f"{path} could not be read as an NPPES CSV ({exc})") from exc
    return out
