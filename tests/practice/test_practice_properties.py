"""Property tests: whatever bytes arrive, both importers return a result or raise the
project's own error (an XlrateError subclass), never anything else."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlrate.errors import XlrateError
from xlrate.practice import read_era, read_fee_schedule

DATA = Path(__file__).parents[1] / "data" / "practice"
ERA_FILES = sorted((DATA / "era835").iterdir())
ERA_BYTES = [p.read_bytes() for p in ERA_FILES]
CO_HEAD = b"".join(
    (DATA / "fee_schedules" / "CO_Medicaid_fee_schedule_Jan2016__TRIMMED.csv")
    .read_bytes()
    .splitlines(keepends=True)[:120]
)
AZ_BYTES = (
    DATA / "fee_schedules" / "AZ_AHCCCS_physician_administered_drugs_FFS_2026-01-01.xlsx"
).read_bytes()

SETTINGS = settings(
    max_examples=80,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Characters that matter to the parsers: delimiters, newlines, quotes, digits, signs.
SPECIAL = st.sampled_from(
    [b"~", b"*", b":", b">", b"^", b"|", b"\r\n", b"\n", b" ", b",", b";", b'"', b"$", b"-",
     b"0", b"9", b".", b"ISA", b"CLP*", b"SVC*HC:", b"SE*", b"\xef\xbb\xbf", b"\x00"]
)  # fmt: skip


def _outcome(read: Callable[[Path], Any], content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"input{suffix}"
        path.write_bytes(content)
        with contextlib.suppress(XlrateError):
            read(path)


@st.composite
def mangled(draw: st.DrawFn, sources: list[bytes]) -> bytes:
    """A real file with a few edits: cuts, insertions, swaps, duplicated or lost spans."""
    data = bytearray(draw(st.sampled_from(sources)))
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["cut", "insert", "replace", "duplicate", "truncate"]))
        if kind == "cut":
            del data[at : at + draw(st.integers(1, 40))]
        elif kind == "insert":
            piece = draw(st.one_of(SPECIAL, st.binary(min_size=1, max_size=8)))
            data[at:at] = piece
        elif kind == "replace":
            data[at : at + 1] = draw(SPECIAL)
        elif kind == "duplicate":
            span = bytes(data[at : at + draw(st.integers(1, 200))])
            data[at:at] = span
        else:
            del data[at:]
    return bytes(data)


@SETTINGS
@given(st.binary(max_size=600))
def test_era_random_bytes(content: bytes) -> None:
    _outcome(read_era, content, ".835")


@SETTINGS
@given(mangled(ERA_BYTES))
def test_era_mangled_real_files(content: bytes) -> None:
    _outcome(read_era, content, ".835")


@SETTINGS
@given(st.lists(SPECIAL, max_size=60).map(b"".join))
def test_era_delimiter_soup(content: bytes) -> None:
    _outcome(
        read_era,
        b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *260101*1200*^*00501*000000001*0*P*:~"
        + content,
        ".835",
    )


@SETTINGS
@given(st.binary(max_size=600))
def test_fees_random_bytes_csv(content: bytes) -> None:
    _outcome(read_fee_schedule, content, ".csv")


@SETTINGS
@given(mangled([CO_HEAD]))
def test_fees_mangled_real_csv(content: bytes) -> None:
    _outcome(read_fee_schedule, content, ".csv")


@settings(
    max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.binary(max_size=400))
def test_fees_random_bytes_xlsx(content: bytes) -> None:
    _outcome(read_fee_schedule, content, ".xlsx")


@settings(
    max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mangled([AZ_BYTES]))
def test_fees_mangled_real_xlsx(content: bytes) -> None:
    _outcome(read_fee_schedule, content, ".xlsx")


CELL = st.one_of(
    st.none(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=False, width=32),
    st.text(max_size=12),
    st.sampled_from(["99213", "00100", "26", "TC", "  ", "$1,023.32", "BR", "Not a benefit"]),
)


@settings(
    max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(st.lists(st.lists(CELL, min_size=1, max_size=5), max_size=12))
def test_fees_random_workbooks(body: list[list[Any]]) -> None:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Title"])
    sheet.append(["Code", "Mod", "Fee", "Payer", "Facility Fee"])
    for row in body:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", c) if isinstance(c, str) else c for c in row])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.xlsx"
        try:
            book.save(path)
        except Exception:  # openpyxl refuses some control characters: not our input
            return
        with contextlib.suppress(XlrateError):
            read_fee_schedule(path)


def _phi(text: str) -> set[str]:
    """Claim ids (CLP01), patient names and member ids (NM1*QC/IL) of a real file."""
    found: set[str] = set()
    for separator in ("*", "|"):
        for raw in text.replace("\n", "~").split("~"):
            e = raw.strip().split(separator)
            if e[0] == "CLP" and len(e) > 1 and len(e[1]) >= 6:
                found.add(e[1])
            if e[0] == "NM1" and len(e) > 1 and e[1] in ("QC", "IL"):
                found.update(v for v in e[3:5] + e[9:10] if len(v) >= 4)
    return found


PHI_SOURCES = [b for p, b in zip(ERA_FILES, ERA_BYTES, strict=True) if "perl" not in p.name]
PHI = [_phi(b.decode("latin-1")) for b in PHI_SOURCES]


@st.composite
def mangled_with_phi(draw: st.DrawFn) -> tuple[bytes, set[str]]:
    index = draw(st.integers(0, len(PHI_SOURCES) - 1))
    return draw(mangled([PHI_SOURCES[index]])), PHI[index]


@settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(mangled_with_phi())
def test_era_messages_never_quote_phi(case: tuple[bytes, set[str]]) -> None:
    """Whatever the damage, warnings and errors name segments, never the file's PHI."""
    content, phi = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.835"
        path.write_bytes(content)
        try:
            result = read_era(path)
        except XlrateError as exc:
            messages = str(exc)
        else:
            messages = "\n".join(result.warnings)
    assert not {value for value in phi if value in messages}
