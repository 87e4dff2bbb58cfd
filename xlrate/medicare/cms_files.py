"""Readers for CMS physician fee schedule files: PPRRVU, GPCI, LOCCO, ANES, OPPSCAP and ZIP5.

CMS changes file names and column layouts between releases (2026 inserts PRIC IND into the
RVU file), so nothing here depends on a column's position. Each file's header is normalised
(stacked header lines joined, spaces collapsed, upper case, the year and numbers inside
header names replaced by ``{YEAR}`` / ``{N}``) and mapped to standard names with the
per-release maps in ``layouts/columns.csv``. A header that matches no map raises
:class:`LayoutError` naming the file, the release and the missing or unexpected columns;
adding a new year is a new column in that CSV, not new code.

Everything returned is normalised for pricing: codes as 5-character strings, localities as
``MAC-LOC`` (``01112-05``), RVUs, GPCIs and conversion factors as exact scaled integers
(RVU x 100, GPCI x 1000, CF x 10000, dollars x 100) so that the engine can price without
floating-point error.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlrate.errors import LayoutError
from xlrate.files import sha256_hex
from xlrate.medicare import layouts
from xlrate.text import decode_text
from xlrate.xlsx import XlsxError, read_sheets

XLSX_ALLOWED = ("locco",)  # tables read from the .xlsx form when a bundle has no .csv
_MONTH_TO_QUARTER = {"JANUARY": "A", "APRIL": "B", "JULY": "C", "OCTOBER": "D"}
_RELEASE_RE = re.compile(
    r"(20\d\d)\s+NATIONAL PHYSICIAN FEE SCHEDULE.*?(JANUARY|APRIL|JULY|OCTOBER)"
)
_RELEASED_RE = re.compile(r"RELEASED\s+(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class SourceFile:
    """One CMS file read into a release, for provenance."""

    name: str
    table: str
    sha256: str
    bytes: int


@dataclass
class Bundle:
    """A parsed CMS RVU release: normalised tables plus where they came from."""

    release_id: str
    year: int
    quarter: str
    release_date: str
    conversion_factor: str
    tables: dict[str, pd.DataFrame | None]
    files: list[SourceFile] = field(default_factory=list)
    qp_conversion_factor: str | None = None
    # {table: the file's line number of each row}, for messages (not stored with the release)
    lines: dict[str, np.ndarray] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # {table: file name in the bundle}

    @property
    def complete(self) -> bool:
        """True when the bundle can price localities (it has GPCIs)."""
        return self.tables.get("gpci") is not None

    def provenance(self) -> dict[str, Any]:
        return {
            "release_id": self.release_id,
            "year": self.year,
            "quarter": self.quarter,
            "release_date": self.release_date,
            "conversion_factor": self.conversion_factor,
            "qp_conversion_factor": self.qp_conversion_factor,
            "complete": self.complete,
            "files": [f.__dict__ for f in self.files],
        }


# --------------------------------------------------------------------------- layouts


@cache
def _column_maps() -> dict[str, dict[str, tuple[dict[str, str], frozenset[str]]]]:
    """{table: {layout: ({normalised source name: standard}, kept standard names)}}."""
    rows = layouts.rows("columns.csv")
    names = [k for k in rows[0] if k not in ("table", "standard", "keep")]
    maps: dict[str, dict[str, tuple[dict[str, str], frozenset[str]]]] = {}
    for table in {r["table"] for r in rows}:
        maps[table] = {}
        for layout in names:
            mapping = {r[layout]: r["standard"] for r in rows if r["table"] == table and r[layout]}
            kept = frozenset(
                r["standard"] for r in rows if r["table"] == table and r["keep"] == "1"
            )
            maps[table][layout] = (mapping, kept)
    return maps


@cache
def _file_patterns() -> dict[str, tuple[str, bool]]:
    return {r["table"]: (r["pattern"], r["required"] == "1") for r in layouts.rows("files.csv")}


def normalize_header(name: str) -> str:
    text = " ".join(str(name).replace("\ufeff", "").split()).upper()
    text = re.sub(r"\b(19|20)\d\d\b", "{YEAR}", text)
    return re.sub(r"\b\d+\.\d+\b", "{N}", text)


def map_columns(headers: list[str], table: str, year: int, source: str) -> dict[int, str]:
    """Map header positions to standard names with the layout for ``year``.

    The newest layout not after ``year`` is tried first, then the others; the error for a
    header no layout accepts names the missing and unexpected columns of the closest one.
    """
    normalised = [normalize_header(h) for h in headers]
    present = {h for h in normalised if h}
    layouts = _column_maps()[table]
    order = sorted(layouts, key=lambda y: (int(y) > year, -int(y) if int(y) <= year else int(y)))
    best: tuple[int, str, set[str], set[str]] | None = None
    for layout in order:
        mapping, kept = layouts[layout]
        expected = set(mapping)
        missing = expected - present
        unexpected = present - expected
        if not missing and not unexpected:
            return {i: mapping[h] for i, h in enumerate(normalised) if h}
        score = len(missing) + len(unexpected)
        if best is None or score < best[0]:
            best = (score, layout, missing, unexpected)
    assert best is not None
    _, layout, missing, unexpected = best
    parts = []
    if missing:
        parts.append("missing columns " + ", ".join(sorted(missing)))
    if unexpected:
        parts.append("unexpected columns " + ", ".join(sorted(unexpected)))
    raise LayoutError(
        f"{source}: the {table.upper()} columns match no known layout for CY{year} "
        f"(closest: the {layout} layout; {'; '.join(parts)}). "
        "If CMS changed the file, add a column for this release to "
        "xlrate/medicare/layouts/columns.csv."
    )


# --------------------------------------------------------------------------- helpers


DOS_EOF = b"\x1a"


def strip_dos_eof(data: bytes) -> bytes:
    """CMS's text files often end with a DOS end-of-file byte (0x1A, Ctrl-Z), sometimes
    followed by a line of commas: everything from it on is not data."""
    cut = data.find(DOS_EOF)
    return data if cut < 0 else data[:cut]


def _decode(data: bytes) -> str:
    return decode_text(strip_dos_eof(data))


def xlsx_as_csv(data: bytes, source: str) -> bytes:
    """The first sheet of an .xlsx as csv bytes (cells as text, whole numbers without .0),
    so the csv readers read it; through :func:`xlrate.xlsx.read_sheets` (its zip guard first)."""
    try:
        _, rows = next(read_sheets(data, name=source))
        values = list(rows)
    except (XlsxError, StopIteration) as exc:
        raise LayoutError(f"{source}: not a readable .xlsx workbook with a sheet") from exc
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in values:
        writer.writerow(["" if c is None else c for c in row])
    return out.getvalue().encode("utf-8")


def _csv_rows(text: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text))
    rows = []
    for i, row in enumerate(reader):
        if limit is not None and i >= limit:
            break
        rows.append(row)
    return rows


def _frame_after(text: str, header_index: int, width: int) -> pd.DataFrame:
    frame = pd.read_csv(
        io.StringIO(text),
        header=None,
        skiprows=header_index + 1,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        names=list(range(width)),
        usecols=list(range(width)),
        engine="c",
        index_col=False,
    )
    return frame


@cache
def blank_policy() -> dict[tuple[str, str], str]:
    """{(table, column): "refuse" | "zero"} from ``layouts/plausibility.csv``: a blank GPCI
    is an error in the file, never 0."""
    return {
        (r["table"], r["column"]): r["blank"]
        for r in layouts.rows("plausibility.csv")
        if r["kind"] == "range" and r["blank"]
    }


def scaled(
    values: pd.Series,
    places: int,
    what: str,
    source: str,
    *,
    lines: pd.Series | None = None,
    blank: str = "zero",
) -> np.ndarray:
    """Exact integers ``value x 10**places``; raise when a value has more decimals, is not a
    number, or is blank where ``blank`` is "refuse". ``lines`` (the file's line numbers)
    name the row in the message."""

    def row(mask: pd.Series) -> str:
        if lines is None:
            return ""
        return f" row {int(lines[mask].iloc[0])}"

    cleaned = (
        values.astype(str)
        .str.strip()
        .str.replace(",", "", regex=False)
        .str.replace("$", "", regex=False)
    )
    empty = cleaned == ""
    if blank == "refuse" and empty.any():
        raise LayoutError(
            f"{source}{row(empty)}: {what} is blank (a blank is not 0): check the file, or "
            "install an earlier release"
        )
    cleaned = cleaned.where(~empty, "0")
    numbers = pd.to_numeric(cleaned, errors="coerce")
    bad = numbers.isna()
    if bad.any():
        first = values[bad].iloc[0]
        raise LayoutError(f"{source}{row(bad)}: {what} value {first!r} is not a number")
    factor = 10**places
    floats = numbers.to_numpy(dtype="float64") * factor
    ints = np.rint(floats)
    if np.any(np.abs(floats - ints) > 1e-6):
        raise LayoutError(
            f"{source}: {what} has more than {places} decimals; the engine cannot price it exactly"
        )
    result: np.ndarray = ints.astype(np.int64)
    return result


def _scaled_column(
    frame: pd.DataFrame, table: str, column: str, places: int, what: str, source: str
) -> np.ndarray:
    return scaled(
        frame[column],
        places,
        what,
        source,
        lines=frame["_line"] if "_line" in frame.columns else None,
        blank=blank_policy().get((table, column), "zero"),
    )


def _locality_ids(mac: pd.Series, number: pd.Series) -> pd.Series:
    return mac.str.strip().str.zfill(5) + "-" + number.str.strip().str.zfill(2)


# --------------------------------------------------------------------------- tables


def read_pprrvu(data: bytes, source: str) -> tuple[pd.DataFrame, int, str, str]:
    """Return (rvu table, year, quarter letter, release date ISO) from a PPRRVU csv."""
    text = _decode(data)
    head = _csv_rows(text, limit=40)
    header_index = next(
        (i for i, r in enumerate(head) if [c.strip().upper() for c in r[:2]] == ["HCPCS", "MOD"]),
        None,
    )
    if header_index is None:
        raise LayoutError(
            f"{source}: no header line starting 'HCPCS,MOD' in the first 40 lines: not a PPRRVU file"
        )
    banner = " ".join(" ".join(r) for r in head[:header_index]).upper()
    match = _RELEASE_RE.search(banner)
    if not match:
        raise LayoutError(f"{source}: the banner does not say which year and release this is")
    year, quarter = int(match.group(1)), _MONTH_TO_QUARTER[match.group(2)]
    released = _RELEASED_RE.search(banner)
    release_date = (
        f"{released.group(3)}-{int(released.group(1)):02d}-{int(released.group(2)):02d}"
        if released
        else ""
    )
    # Stacked header: the lines after the RELEASED banner down to the HCPCS line.
    first = max(
        (i for i, r in enumerate(head[:header_index]) if any("RELEASED" in c.upper() for c in r)),
        default=header_index - 5,
    )
    width = len(head[header_index])
    headers = []
    for j in range(width):
        parts = [
            head[i][j].strip()
            for i in range(first + 1, header_index + 1)
            if j < len(head[i]) and head[i][j].strip()
        ]
        headers.append(" ".join(parts))
    columns = map_columns(headers, "pprrvu", year, f"{source} (release {year}{quarter})")
    frame = _frame_after(text, header_index, width)
    frame = frame.rename(columns=columns)[list(columns.values())]
    frame["_line"] = frame.index + header_index + 2  # the file's line number, for messages
    frame = frame[frame["code"].str.strip() != ""]
    out = pd.DataFrame(
        {
            "code": frame["code"].str.strip().str.upper(),
            "modifier": frame["modifier"].str.strip().str.upper(),
        }
    )
    out["status_code"] = frame["status_code"].str.strip().str.upper()
    for col in ("work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility", "mp_rvu"):
        out[col] = _scaled_column(frame, "pprrvu", col, 2, col.replace("_", " "), source)
    out["na_nonfacility"] = frame["na_nonfacility"].str.strip().str.upper().eq("NA")
    out["na_facility"] = frame["na_facility"].str.strip().str.upper().eq("NA")
    for col in (
        "pctc",
        "global_days",
        "mult_proc",
        "bilat_surg",
        "asst_surg",
        "co_surg",
        "team_surg",
    ):
        out[col] = frame[col].str.strip()
    out["conversion_factor"] = _scaled_column(
        frame, "bundle", "conversion_factor", 4, "conversion factor", source
    )
    out["_line"] = frame["_line"].to_numpy()
    bad = ~out["code"].str.fullmatch(r"[0-9A-Z]{5}")
    if bad.any():
        raise LayoutError(
            f"{source}: row with HCPCS {out['code'][bad].iloc[0]!r} is not a 5-character code"
        )
    return out.reset_index(drop=True), year, quarter, release_date


def _simple_table(
    data: bytes, source: str, table: str, year: int, first_header: str
) -> pd.DataFrame:
    text = _decode(data)
    head = _csv_rows(text, limit=30)
    header_index = next(
        (i for i, r in enumerate(head) if r and normalize_header(r[0]).startswith(first_header)),
        None,
    )
    if header_index is None:
        raise LayoutError(
            f"{source}: no {table.upper()} header line (starting '{first_header}') in the first 30 lines"
        )
    headers = head[header_index]
    columns = map_columns(headers, table, year, source)
    frame = _frame_after(text, header_index, len(headers))
    frame = frame.rename(columns=columns)[list(columns.values())]
    frame["_line"] = frame.index + header_index + 2  # the file's line number, for messages
    return frame


def read_gpci(data: bytes, source: str, year: int) -> pd.DataFrame:
    frame = _simple_table(data, source, "gpci", year, "MEDICARE ADMINISTRATIVE")
    frame = frame[frame["mac"].str.strip().str.fullmatch(r"\d{4,5}")]
    out = pd.DataFrame({"locality": _locality_ids(frame["mac"], frame["locality_number"])})
    out["state"] = frame["state"].str.strip()
    out["name"] = frame["locality_name"].str.strip().str.rstrip("*")
    out["work_gpci"] = _scaled_column(frame, "gpci", "work_gpci", 3, "work GPCI", source)
    out["pe_gpci"] = _scaled_column(frame, "gpci", "pe_gpci", 3, "PE GPCI", source)
    out["mp_gpci"] = _scaled_column(frame, "gpci", "mp_gpci", 3, "MP GPCI", source)
    out["_line"] = frame["_line"].to_numpy()
    if out["locality"].duplicated().any():
        raise LayoutError(
            f"{source}: locality {out['locality'][out['locality'].duplicated()].iloc[0]} appears twice"
        )
    return out.reset_index(drop=True)


def read_locco(data: bytes, source: str, year: int) -> pd.DataFrame:
    frame = _simple_table(data, source, "locco", year, "MEDICARE ADMINSTRATIVE")
    frame = frame[frame["mac"].str.strip().str.fullmatch(r"\d{3,5}")].copy()
    state = frame["state"].str.strip().mask(frame["state"].str.strip() == "").ffill()
    out = pd.DataFrame({"locality": _locality_ids(frame["mac"], frame["locality_number"])})
    out["state_name"] = state.fillna("").str.title()
    out["area"] = frame["area"].str.strip()
    out["counties"] = frame["counties"].str.strip()
    return out.reset_index(drop=True)


def read_anes(data: bytes, source: str, year: int) -> pd.DataFrame:
    frame = _simple_table(data, source, "anes", year, "CONTRACTOR")
    frame = frame[frame["mac"].str.strip().str.fullmatch(r"\d{4,5}")]
    out = pd.DataFrame({"locality": _locality_ids(frame["mac"], frame["locality_number"])})
    out["anesthesia_cf"] = _scaled_column(
        frame, "anes", "anesthesia_cf", 4, "anesthesia CF", source
    )
    out["_line"] = frame["_line"].to_numpy()
    return out.reset_index(drop=True)


def read_oppscap(data: bytes, source: str, year: int) -> pd.DataFrame:
    frame = _simple_table(data, source, "oppscap", year, "HCPCS")
    frame = frame[frame["code"].str.strip() != ""]
    out = pd.DataFrame(
        {
            "code": frame["code"].str.strip().str.upper(),
            "modifier": frame["modifier"].str.strip().str.upper(),
        }
    )
    out["locality"] = _locality_ids(frame["mac"], frame["locality_number"])
    out["cap_facility"] = _scaled_column(
        frame, "oppscap", "cap_facility", 2, "OPPS facility price", source
    )
    out["cap_nonfacility"] = _scaled_column(
        frame, "oppscap", "cap_nonfacility", 2, "OPPS non-facility price", source
    )
    return out.reset_index(drop=True)


def read_zip5(data: bytes, source: str) -> pd.DataFrame:
    """The ZIP code to carrier locality file (fixed width, 80 characters; see ZIP5lyout.txt)."""
    lines = [ln for ln in _decode(data).splitlines() if ln.strip()]
    if not lines:
        raise LayoutError(f"{source}: empty ZIP5 file")
    bad = next(
        (
            i
            for i, ln in enumerate(lines)
            if len(ln) < 21 or not ln[2:7].isdigit() or not ln[7:12].strip().isdigit()
        ),
        None,
    )
    if bad is not None:
        raise LayoutError(
            f"{source}: line {bad + 1} is not a ZIP5 record (state 1-2, ZIP 3-7, carrier 8-12, "
            f"locality 13-14, fixed width 80): {lines[bad][:40]!r}"
        )
    s = pd.Series(lines, dtype=str)
    out = pd.DataFrame(
        {
            "zip": s.str[2:7],
            "state": s.str[0:2],
            "locality": s.str[7:12].str.strip().str.zfill(5)
            + "-"
            + s.str[12:14].str.strip().str.zfill(2),
            "rural": s.str[14:15].str.strip(),
            "plus4": s.str[20:21].eq("1"),
            "quarter": s.str[75:80].str.strip(),
        }
    )
    return out


# --------------------------------------------------------------------------- bundles


class _Source:
    """A folder or a zip of CMS files, listed by base name."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            self.names = {p.name: p for p in self.path.iterdir() if p.is_file()}
        elif zipfile.is_zipfile(self.path):
            self._zip = zipfile.ZipFile(self.path)
            self.names = {
                Path(i.filename).name: Path(i.filename)
                for i in self._zip.infolist()
                if not i.is_dir()
            }
        else:
            raise LayoutError(f"{self.path}: not a folder or a zip file of CMS files")

    def find(self, pattern: str) -> list[str]:
        return sorted(n for n in self.names if fnmatch.fnmatch(n.upper(), pattern.upper()))

    def read(self, name: str) -> bytes:
        target = self.names[name]
        if self._zip is not None:
            return self._zip.read(target.as_posix())
        return Path(target).read_bytes()

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def read_bundle(path: str | Path, release_id: str | None = None) -> Bundle:
    """Read a CMS RVU release bundle (a folder or the CMS zip) into normalised tables."""
    source = _Source(Path(path))
    try:
        patterns = _file_patterns()
        files: list[SourceFile] = []
        originals: dict[str, bytes] = {}  # the .xlsx read in place of a csv, for provenance

        def take(table: str) -> list[tuple[str, bytes]]:
            pattern, required = patterns[table]
            names = source.find(pattern)
            if not names and table in XLSX_ALLOWED:
                # One source reports RVU26C's LOCCO only as .xlsx: read it as the csv.
                xlsx = source.find(pattern.rsplit(".", 1)[0] + ".xlsx")
                for n in xlsx[:1]:
                    originals[n] = source.read(n)
                return [(n, xlsx_as_csv(originals[n], n)) for n in xlsx[:1]]
            if not names and required:
                raise LayoutError(f"{source.path}: no {pattern} file: this is not a CMS RVU bundle")
            return [(n, source.read(n)) for n in names]

        rvu_files = take("pprrvu")
        # 2026 ships _nonQPP and _QPP variants that differ only in the CF: price with the
        # non-QP file (the usual small practice) and keep the QP conversion factor.
        non_qp = [f for f in rvu_files if "_QPP" not in f[0].upper()]
        qp = [f for f in rvu_files if "_QPP" in f[0].upper()]
        main_name, main_data = (non_qp or qp)[0]
        rvu, year, quarter, release_date = read_pprrvu(main_data, f"{source.path.name}/{main_name}")
        found_id = f"{year}{quarter}"
        if release_id is not None:
            # A correction release (2024AR) carries its quarter's banner (January): it keeps
            # the id it was published under.
            wanted = release_id.strip().upper()
            base = wanted[:5] if re.fullmatch(r"\d{4}[A-D]R\d*", wanted) else wanted
            if base != found_id:
                raise LayoutError(
                    f"{source.path}: the PPRRVU banner says release {found_id}, not {wanted}"
                )
            found_id, quarter = wanted, wanted[4:]
        files.append(_source_file(main_name, "pprrvu", main_data))
        cfs = rvu["conversion_factor"].unique()
        if len(cfs) != 1:
            raise LayoutError(
                f"{main_name}: the CONV FACTOR column holds several values {sorted(cfs)[:3]}"
            )
        qp_cf = None
        if qp and non_qp:
            qp_name, qp_data = qp[0]
            qp_rvu, *_ = read_pprrvu(qp_data, f"{source.path.name}/{qp_name}")
            qp_cf = _format_cf(int(qp_rvu["conversion_factor"].iloc[0]))
            files.append(_source_file(qp_name, "pprrvu_qp", qp_data))
        lines = {"pprrvu": rvu.pop("_line").to_numpy()}
        sources = {"pprrvu": main_name}
        tables: dict[str, pd.DataFrame | None] = {"pprrvu": rvu.drop(columns=["conversion_factor"])}
        readers = {
            "gpci": read_gpci,
            "locco": read_locco,
            "anes": read_anes,
            "oppscap": read_oppscap,
        }
        for table, reader in readers.items():
            found = take(table)
            if not found:
                tables[table] = None
                continue
            name, data = found[0]
            frame = reader(data, f"{source.path.name}/{name} (release {found_id})", year)
            if "_line" in frame.columns:
                lines[table] = frame.pop("_line").to_numpy()
            tables[table] = frame
            sources[table] = name
            files.append(_source_file(name, table, originals.get(name, data)))
        return Bundle(
            release_id=found_id,
            year=year,
            quarter=quarter,
            release_date=release_date,
            conversion_factor=_format_cf(int(cfs[0])),
            tables=tables,
            files=files,
            qp_conversion_factor=qp_cf,
            lines=lines,
            sources=sources,
        )
    finally:
        source.close()


def _format_cf(scaled_cf: int) -> str:
    return f"{scaled_cf // 10000}.{scaled_cf % 10000:04d}"


def _source_file(name: str, table: str, data: bytes) -> SourceFile:
    return SourceFile(name=name, table=table, sha256=sha256_hex(data), bytes=len(data))
