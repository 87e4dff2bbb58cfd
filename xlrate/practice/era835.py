"""X12 835 remittance advice: what each payer actually paid, per code, with no PHI.

Why our own parser and not a library
------------------------------------
We looked at what PyPI offers for 835s: ``pyx12`` (4.0, maintained; a HIPAA *validator*,
parser and converter that checks each segment against the implementation-guide maps),
``linuxforhealth-x12`` (ASC 5010 only, streams each transaction into pydantic models),
``edi-835-parser`` (parses whole files into transaction objects, patients included, then
DataFrames) and ``badx12`` (last release 2018). None fits:

- Real files are not clean enough for a validator. Our samples (``tests/data/practice/
  era835``) declare ``:`` in ISA16 and write ``HC>12345``, start every segment with ``~``,
  carry a BOM and indentation, have no ISA at all, or are version 4010 (which rules out
  linuxforhealth-x12). A validating parser rejects them or needs the same pre-cleaning
  that is most of this module anyway.
- We need a dozen segment types (ISA/IEA/GS/GE/ST/SE, N1, CLP, SVC, CAS, AMT, PLB) and
  running sums, not a tree: a 100 MB remit must take seconds and constant memory.
  Validating every element or building objects per claim costs far more (benchmark in
  ``scripts/benches/practice.py``).
- Privacy is simplest when the parser never keeps a name, member id or claim number: ours
  reads CLP01 and NM1 only to skip them. edi-835-parser's output carries patient data.
- No new dependency to audit and pin for a module of a few hundred lines.

What it handles (see DOMAIN.md section 3): delimiters from the ISA (element separator =
4th character, component separator = ISA16, segment terminator = the character after it,
or the next non-blank character when a newline follows ISA16); files with no ISA (GS or ST
first: ``*``, ``~`` or newline, ``:``); BOM, CRLF, indentation, one-line files, segments
that *start* with ``~``; several interchanges (each ISA may change the delimiters),
transactions and payers per file; a component separator that differs from ISA16 (the
separator actually used in SVC01 wins); reversals (CLP02 = 22) netting out;
multi-triplet CAS; AMT*B6 or allowed = paid + PR adjustments; units default 1.

Errors: a file that is not an 835 or whose envelope is broken (ISA not fixed width, GS
truncated, ST of another transaction set, SE/GE/IEA control numbers that do not match, a file ending
inside an envelope, no segment terminator for megabytes) raises :class:`ImportFileError` naming the file and segment
number. A wrong SE01 segment count is only a warning (test files often miscount). One
broken segment inside a good file (a CLP without amounts, an SVC whose code
composite is split) is skipped with a warning naming file, segment number and id; the
segments it owned are not counted and ``EraResult.skipped_segments`` says how many were
skipped. No warning or error ever quotes a claim number, name or member id.

Totals (``EraResult``):
- ``by_code``: one row per payer, code (SVC01, the code the payment is for) and modifiers:
  ``lines, units, billed (SVC02), allowed, paid (SVC03)``. ``allowed`` is AMT*B6 when the
  line has it, else paid + the line's PR (patient responsibility) adjustments.
- ``by_payer``: one row per payer (N1*PR name): ``claims, lines`` and the claim-level
  ``billed (CLP03), paid (CLP04)``, i.e. what the payer paid including claim-level
  adjustments (so it can differ from the sum of ``by_code``); ``allowed`` is the sum of the
  line allowed amounts, or for a claim without service lines (institutional remits) its
  paid + claim-level PR adjustments.
- A reversal claim (CLP02 = 22) counts -1 claim and each of its lines -1 line (units
  negated when the file gives them positive), so a claim and its reversal net to zero.
- Provider-level adjustments (PLB) are not per code: they are reported in ``warnings``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from xlrate.codes import code_problem
from xlrate.errors import ImportFileError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EraResult", "ServiceLine", "read_era"]

CHUNK_SIZE = 1 << 20
UNKNOWN_PAYER = "(no payer name)"
_SEGMENT_ID_RE = re.compile(r"[A-Z][A-Z0-9]{1,2}\Z")
# Positions of the element separator in the fixed-width (106-character) ISA segment.
_ISA_SEPARATOR_POSITIONS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1)
_ZERO = Decimal(0)
_ONE = Decimal(1)
_BOM = "\u00ef\u00bb\u00bf"  # the UTF-8 BOM read as latin-1
_MAX_WARNINGS = 200
_MAX_SEGMENT = 2 * CHUNK_SIZE


class ServiceLine(NamedTuple):
    """One 835 service line, for the underpayment audit (``read_era(..., lines=True)``).

    It carries the practice's claim control number (CLP01), which the audit worklist needs
    to appeal from, and never a patient name or member id (NM1 is not read). Amounts are as
    the file gives them: a reversal (CLP02 = 22) has negative amounts, and its units are
    negated when the file gives them positive, as in the totals.
    """

    payer: str  # N1*PR name
    claim: str  # CLP01, the practice's claim control number
    claim_status: str  # CLP02: 1/2/3 processed, 4 denied, 22 reversal
    place_of_service: str  # CLP08 (facility code: the place of service on professional claims)
    service_date: date | None  # DTM*472 (or 150) of the line, else the claim's DTM*232/233
    line: int  # position of the SVC within its claim, from 1
    code: str  # SVC01 (the code the payment is for)
    modifiers: str  # SVC01 modifiers joined with '-'
    units: Decimal  # SVC05, default 1
    billed: Decimal  # SVC02
    allowed: Decimal  # AMT*B6, else paid + the line's PR adjustments
    paid: Decimal  # SVC03
    adjustments: tuple[tuple[str, str, Decimal], ...]  # the line's CAS (group, reason, amount)
    billed_code: str = ""  # SVC06 when the payer changed the code, else ""
    file: str = ""


@dataclass
class EraResult:
    """Aggregated remittance totals: nothing in here identifies a patient or a claim."""

    by_code: pd.DataFrame
    by_payer: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    skipped_segments: int = 0
    files: list[str] = field(default_factory=list)
    segments: int = 0
    # With skip_bad_files: one line per file refused whole (name, segment, what to do).
    refused: list[str] = field(default_factory=list)
    # With lines=True: one ServiceLine per 835 service line (for the audit; see ServiceLine).
    lines: list[ServiceLine] = field(default_factory=list)


@dataclass
class _Delimiters:
    element: str
    component: str
    terminator: str


class _BrokenSegment(Exception):
    """One segment cannot be read; the caller skips it with a warning."""


class _EnvelopeProblem(Exception):
    """Raised by the tokenizer; the parser adds the file name and segment number."""

    def __init__(self, segment_id: str, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.segment_id = segment_id
        self.problem = problem
        self.fix = fix


def _num(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        # The value itself is not quoted: in a garbled segment it may be a name or an id.
        raise _BrokenSegment(f"{what} is not a number") from None
    if not value.is_finite():
        raise _BrokenSegment(f"{what} is not a number")
    return value


def _fail(name: str, number: int, segment_id: str, problem: str, fix: str) -> ImportFileError:
    where = f"segment {number} ({segment_id})" if segment_id else f"segment {number}"
    return ImportFileError(f"{name}: {where}: {problem}. {fix}")


_FIX_SENDER = "Ask the clearinghouse or payer to resend the 835."
_FIX_TRUNCATED = "Download the 835 again from the clearinghouse."


def _isa_delimiters(text: str) -> tuple[_Delimiters, int]:
    """Delimiters from an ISA at the start of ``text``; also how many characters it spans."""
    if len(text) < 106:
        raise _EnvelopeProblem(
            "ISA", "the ISA segment is cut short (X12 requires 106 characters)", _FIX_SENDER
        )
    element = text[3]
    if element.isalnum() or element.isspace():
        raise _EnvelopeProblem(
            "ISA", f"{element!r} cannot be an element separator", "This is not an X12 file."
        )
    if any(text[p] != element for p in _ISA_SEPARATOR_POSITIONS):
        fields = text.split(element, 16)[1:16]
        detail = ""
        for index, (value, width) in enumerate(zip(fields, _ISA_WIDTHS, strict=False), 1):
            if len(value) != width:
                detail = (
                    f" (ISA{index:02d} is {len(value)} character(s) long where X12 "
                    f"requires {width})"
                )
                break
        raise _EnvelopeProblem(
            "ISA",
            "the ISA fields are not padded to their fixed widths, so its separators cannot be "
            f"read{detail}",
            _FIX_SENDER,
        )
    component = text[104]
    terminator = text[105]
    span = 106
    if terminator in "\r\n":
        # A newline after ISA16: either the newline ends segments, or the real terminator
        # follows it (files where every segment starts with '~').
        rest = text[105:]
        stripped = rest.lstrip()
        if stripped and not stripped[0].isalnum():
            terminator = stripped[0]
            span = 105 + (len(rest) - len(stripped)) + 1
        else:
            terminator = "\n"
    if component.isalnum() or component == element or component.isspace():
        raise _EnvelopeProblem(
            "ISA", f"ISA16 {component!r} cannot be a component separator", _FIX_SENDER
        )
    if terminator.isalnum() or terminator in (element, component, " "):
        raise _EnvelopeProblem("ISA", f"{terminator!r} cannot end segments", _FIX_SENDER)
    return _Delimiters(element, component, terminator), span


def _start_delimiters(head: str) -> _Delimiters:
    if head.startswith("ISA"):
        return _isa_delimiters(head)[0]
    if head[:2] in ("GS", "ST") and len(head) > 2 and not head[2].isalnum():
        element = head[2]
        terminator = "~" if "~" in head and element != "~" else "\n"
        return _Delimiters(element, ":" if element != ":" else ">", terminator)
    if head.startswith("%PDF"):
        kind = " (it is a PDF)"
    elif head.startswith("PK"):
        kind = " (it is a zip or Excel file)"
    elif head.startswith("<"):
        kind = " (it looks like HTML or XML)"
    else:
        kind = ""  # the start is not quoted: it may be a patient list
    raise _EnvelopeProblem(
        "",
        f"this is not an X12 835 remittance file{kind}: an 835 starts with ISA, GS or ST",
        "Export the 835 (ERA) file from the clearinghouse, not a PDF or a report.",
    )


_LOOKAHEAD = 512  # enough text after an ISA to read its delimiters (106 + newlines)


def _split(text: str, terminator: str) -> list[str]:
    """Split ``text`` into raw segments: every character of a file goes through here once."""
    return text.split(terminator)


def _isa_start(buf: str, index: int, start: int, term: str) -> bool:
    """True when the 'ISA' at ``index`` begins a segment (not text inside an element)."""
    if index == start:
        return True
    before = index - 1
    while before >= start and buf[before] in " \t\r\n":
        if buf[before] in "\r\n" and not buf[index + 3 : index + 4].isalnum():
            # Files concatenated after one whose last segment had no terminator:
            # 'IEA|1|000015442\nISA*00*...' - the new interchange starts on a new line.
            return True
        before -= 1
    return before < start or buf[before] == term or buf[before : before + len(term)] == term


def _batches(stream: BinaryIO) -> Iterator[tuple[list[str], _Delimiters]]:
    """Yield (raw segments, delimiters in force), a chunk at a time: constant memory.

    Each ISA declares its own delimiters. Every ISA that starts a segment is checked where
    it stands in the chunk (a find and a look at its 106 characters); only one whose
    delimiters differ cuts the chunk there, and the text after it is split with the new
    ones. Nothing is joined or split twice, so a file of 13,848 interchanges, or of
    interchanges that each declare other delimiters, reads as fast as one big interchange.
    """
    head = stream.read(CHUNK_SIZE)
    if not head.strip():
        raise _EnvelopeProblem("", "the file is empty", "Choose the 835 file itself.")
    buf = head.decode("latin-1")
    if buf.startswith(_BOM):
        buf = buf[len(_BOM) :]
    buf = buf.lstrip()
    delims = _start_delimiters(buf)
    eof = False
    start = 0  # where the unread text of ``buf`` begins
    while True:
        term = delims.terminator
        # Read up to a terminator that leaves room to see a whole ISA after it.
        room = max(start, len(buf) - _LOOKAHEAD)
        limit = len(buf) if eof else buf.rfind(term, start, room) + 1
        cut = -1
        if limit > start:
            find = buf.find
            element, component = delims.element, delims.component
            index = find("ISA", start, limit)
            while index >= 0:
                if (
                    buf[index + 3 : index + 4] == element
                    and buf[index + 104 : index + 106] == component + term
                ) or not _isa_start(buf, index, start, term):
                    pass  # the same delimiters (the common case: a few compares), or not an ISA
                else:
                    try:
                        same = _isa_delimiters(buf[index : index + _LOOKAHEAD])[0] == delims
                    except _EnvelopeProblem:
                        same = False  # let the parser say what is wrong with it, in place
                    if not same:
                        cut = index
                        break
                index = find("ISA", index + 3, limit)
        if cut >= 0:
            # A new interchange with other delimiters: read them from its ISA, then go on
            # from the ISA itself, split with them.
            if cut > start:
                yield _split(buf[start:cut], term), delims
            delims, span = _isa_delimiters(buf[cut : cut + _LOOKAHEAD])
            if span == 106 and buf[cut + 105] == delims.terminator:
                start = cut
            else:  # the terminator after a newline ('...*:\n~GS*'): the ISA on its own
                yield [buf[cut : cut + 105]], delims
                start = cut + span
            continue
        if limit > start:
            yield _split(buf[start:limit], term), delims
            start = limit
        if eof:
            return
        tail = buf[start:]
        if len(tail) > _MAX_SEGMENT:
            # Segments are a few hundred bytes: this terminator is not the file's.
            raise _EnvelopeProblem(
                "",
                f"no segment terminator ({term!r}) in {_MAX_SEGMENT // CHUNK_SIZE} MB, so the "
                "file cannot be split into segments",
                _FIX_SENDER,
            )
        chunk = stream.read(CHUNK_SIZE)
        if chunk:
            buf = tail + chunk.decode("latin-1")
        else:
            eof = True
            buf = tail
        start = 0


class _Totals:
    """Running sums shared by every file of one :func:`read_era` call."""

    def __init__(self) -> None:
        # (payer, code, modifiers) -> [lines, units, billed, allowed, paid]
        self.by_code: dict[tuple[str, str, str], list[Decimal]] = {}
        # payer -> [claims, lines, billed, allowed, paid]
        self.by_payer: dict[str, list[Decimal]] = {}
        self.changed_codes: dict[tuple[str, str], int] = {}
        self.plb: dict[str, Decimal] = {}

    def add(self, other: _Totals) -> None:
        """Add one file's sums (kept apart until the file has been read to its end)."""
        for key, values in other.by_code.items():
            mine = self.by_code.setdefault(key, [_ZERO] * len(values))
            self.by_code[key] = [a + b for a, b in zip(mine, values, strict=True)]
        for payer, values in other.by_payer.items():
            mine = self.by_payer.setdefault(payer, [_ZERO] * len(values))
            self.by_payer[payer] = [a + b for a, b in zip(mine, values, strict=True)]
        for codes, count in other.changed_codes.items():
            self.changed_codes[codes] = self.changed_codes.get(codes, 0) + count
        for payer, amount in other.plb.items():
            self.plb[payer] = self.plb.get(payer, _ZERO) + amount


class _Line:
    __slots__ = ("key", "billed", "paid", "units", "patient_resp", "allowed")

    def __init__(
        self, key: tuple[str, str, str], billed: Decimal, paid: Decimal, units: Decimal
    ) -> None:
        self.key = key
        self.billed = billed
        self.paid = paid
        self.units = units
        self.patient_resp = _ZERO
        self.allowed: Decimal | None = None


class _Claim:
    __slots__ = ("sign", "billed", "paid", "patient_resp", "lines", "allowed")

    def __init__(self, reversal: bool, billed: Decimal, paid: Decimal) -> None:
        self.sign = -_ONE if reversal else _ONE
        self.billed = billed
        self.paid = paid
        self.patient_resp = _ZERO
        self.lines = 0
        self.allowed = _ZERO


# Segments the parser does not need; recognised by their first three characters so the hot
# loop skips them without splitting (two-letter ids get the element separator appended).
_IGNORED_3 = (
    "DTM",
    "REF",
    "NM1",
    "QTY",
    "MIA",
    "MOA",
    "TS3",
    "TS2",
    "PER",
    "BPR",
    "TRN",
    "CUR",
    "RDM",
    "NTE",
    "MEA",
    "TOO",
    "PWK",
)
_COMPONENT_FALLBACKS = (":", ">", "^", "|", "\\", "!", "<", "{", "}")
_CACHE_LIMIT = 100_000
_CAS_GROUPS = ("CO", "PR", "OA", "PI", "CR")
_IGNORED_2 = ("LQ", "LX", "N3", "N4", "N2", "K3")


class _FileParser:
    """The state machine for one file. Reads CLP01 and NM1 only to skip them."""

    # Handlers a subclass adds to the loop's table (see _LineParser).
    extra_handlers: dict[str, Callable[[str, _Delimiters], None]] = {}  # noqa: RUF012

    def __init__(self, name: str, totals: _Totals, warnings: list[str]) -> None:
        self.name = name
        self.totals = totals
        self.warnings = warnings
        self.skipped = 0
        self.number = 0
        # envelope state
        self.isa_control: str | None = None
        self.gs_control: str | None = None
        self.st_control: str | None = None
        self.st_start = 0
        self.st_seen = 0
        # content state
        self.payer = UNKNOWN_PAYER
        self.claim: _Claim | None = None
        self.line: _Line | None = None
        self.in_broken = False  # inside a claim whose CLP was skipped
        self.numbers: dict[str, Decimal] = {}
        self.composites: dict[str, tuple[str, str, str]] = {}

    # -- helpers ------------------------------------------------------------------------
    def refuse(self, segment_id: str, problem: str, fix: str = _FIX_SENDER) -> ImportFileError:
        return _fail(self.name, self.number, segment_id, problem, fix)

    def skip(self, segment_id: str, reason: str) -> None:
        self.skipped += 1
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(
                f"{self.name}: segment {self.number} ({segment_id}) skipped: {reason}"
            )

    def close_line(self) -> None:
        line = self.line
        claim = self.claim
        if line is None or claim is None:
            self.line = None
            return
        allowed = line.allowed if line.allowed is not None else line.paid + line.patient_resp
        claim.allowed += allowed
        claim.lines += 1
        units = line.units
        if claim.sign < 0 and units > 0:
            units = -units
        row = self.totals.by_code.get(line.key)
        if row is None:
            self.totals.by_code[line.key] = [claim.sign, units, line.billed, allowed, line.paid]
        else:
            row[0] += claim.sign
            row[1] += units
            row[2] += line.billed
            row[3] += allowed
            row[4] += line.paid
        self.line = None

    def close_claim(self) -> None:
        self.close_line()
        claim = self.claim
        if claim is not None:
            allowed = claim.allowed if claim.lines else claim.paid + claim.patient_resp
            lines = claim.sign * claim.lines
            row = self.totals.by_payer.get(self.payer)
            if row is None:
                self.totals.by_payer[self.payer] = [
                    claim.sign,
                    lines,
                    claim.billed,
                    allowed,
                    claim.paid,
                ]
            else:
                row[0] += claim.sign
                row[1] += lines
                row[2] += claim.billed
                row[3] += allowed
                row[4] += claim.paid
        self.claim = None
        self.in_broken = False

    # -- the loop -----------------------------------------------------------------------
    def run(self, batches: Iterator[tuple[list[str], _Delimiters]]) -> None:
        number = 0
        try:
            for parts, delims in batches:
                e = delims.element
                handlers: dict[str, Callable[[str, _Delimiters], None] | None] = {
                    "ISA": self.on_isa, "IEA": self.on_iea, "GS" + e: self.on_gs,
                    "GE" + e: self.on_ge, "ST" + e: self.on_st, "SE" + e: self.on_se,
                    "N1" + e: self.on_n1, "CLP": self.on_clp, "SVC": self.on_svc,
                    "CAS": self.on_cas, "AMT": self.on_amt, "PLB": self.on_plb,
                }  # fmt: skip
                # Segments the parser does not need map to None: skipped without a split.
                handlers.update(dict.fromkeys(_IGNORED_3))
                handlers.update(dict.fromkeys(i + e for i in _IGNORED_2))
                handlers.update(self.extra_handlers)  # the line-level reader's DTM
                unknown = self.unknown
                for raw in parts:
                    segment = raw.strip()
                    if not segment:
                        continue
                    number += 1
                    head = segment[:3]
                    handler = handlers.get(head, unknown)
                    if handler is None:
                        continue
                    self.number = number
                    try:
                        handler(segment, delims)
                    except _BrokenSegment as exc:
                        cut = segment.find(e)
                        self.skip(segment[:cut] if cut > 0 else head, str(exc))
        except _EnvelopeProblem as exc:
            raise _fail(self.name, number + 1, exc.segment_id, exc.problem, exc.fix) from None
        self.number = number
        self.finish()

    def unknown(self, segment: str, d: _Delimiters) -> None:
        cut = segment.find(d.element)
        segment_id = segment if cut < 0 else segment[:cut]
        if self.number == 1:
            raise self.refuse("", "the file does not start with ISA, GS or ST")
        if not _SEGMENT_ID_RE.match(segment_id):
            self.skip("?", "it does not start with an X12 segment id")

    def finish(self) -> None:
        if self.st_control is not None:
            raise self.refuse(
                "",
                f"the file ends inside transaction ST {self.st_control[:12]} (no SE): it looks "
                "truncated",
                _FIX_TRUNCATED,
            )
        if self.gs_control is not None:
            raise self.refuse(
                "",
                "the file ends inside a functional group (no GE): it looks truncated",
                _FIX_TRUNCATED,
            )
        if self.isa_control is not None:
            raise self.refuse(
                "",
                "the file ends inside an interchange (no IEA): it looks truncated",
                _FIX_TRUNCATED,
            )
        if self.st_seen == 0:
            raise self.refuse(
                "",
                "no 835 transaction (ST*835) in the file",
                "Choose an 835 remittance (ERA) file.",
            )

    # -- envelope -----------------------------------------------------------------------
    def on_isa(self, segment: str, d: _Delimiters) -> None:
        if self.isa_control is not None or self.gs_control is not None:
            raise self.refuse(
                "ISA", "a new interchange starts before the previous one ended (no IEA)"
            )
        e = segment.split(d.element)
        if len(e) != 17:
            raise self.refuse("ISA", f"the ISA has {len(e) - 1} elements, X12 requires 16")
        self.isa_control = e[13].strip()
        self.composites.clear()  # the component separator may differ in this interchange

    def on_iea(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if self.isa_control is None:
            raise self.refuse("IEA", "IEA without a matching ISA")
        if self.gs_control is not None:
            raise self.refuse("IEA", "the interchange ends inside a functional group (no GE)")
        control = e[2].strip() if len(e) > 2 else ""
        if control != self.isa_control:
            raise self.refuse(
                "IEA",
                f"the interchange control number {control[:12]!r} does not match the ISA's "
                f"{self.isa_control!r}: the envelope is broken",
            )
        self.isa_control = None

    def on_gs(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if self.gs_control is not None:
            raise self.refuse(
                "GS", "a functional group starts before the previous one ended (no GE)"
            )
        if len(e) < 9 or not e[6].strip():
            raise self.refuse(
                "GS", f"the GS is truncated: it has {len(e) - 1} elements, X12 requires 8"
            )
        self.gs_control = e[6].strip()

    def on_ge(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if self.gs_control is None:
            raise self.refuse("GE", "GE without a matching GS")
        if self.st_control is not None:
            raise self.refuse("GE", "the group ends inside a transaction (no SE)")
        control = e[2].strip() if len(e) > 2 else ""
        if control != self.gs_control:
            raise self.refuse(
                "GE",
                f"the group control number {control[:12]!r} does not match the GS's "
                f"{self.gs_control[:12]!r}: the envelope is broken",
            )
        self.gs_control = None

    def on_st(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if self.st_control is not None:
            raise self.refuse("ST", "a transaction starts before the previous one ended (no SE)")
        kind = e[1].strip() if len(e) > 1 else ""
        if kind != "835":
            raise self.refuse(
                "ST",
                f"this is an X12 {kind[:6] or '(blank)'} transaction, not an 835 remittance",
                "Choose the 835 (ERA) file.",
            )
        self.st_control = e[2].strip() if len(e) > 2 else ""
        self.st_start = self.number
        self.st_seen += 1
        self.payer = UNKNOWN_PAYER
        self.claim = None
        self.line = None
        self.in_broken = False

    def on_se(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if self.st_control is None:
            raise self.refuse("SE", "SE without a matching ST")
        self.close_claim()
        count = e[1].strip() if len(e) > 1 else ""
        control = e[2].strip() if len(e) > 2 else ""
        actual = self.number - self.st_start + 1
        if control != self.st_control:
            raise self.refuse(
                "SE",
                f"the transaction control number {control[:12]!r} does not match the ST's "
                f"{self.st_control[:12]!r}: the envelope is broken",
            )
        if count != str(actual) and len(self.warnings) < _MAX_WARNINGS:
            # Hand-made and test files often miscount; the ST/SE pair still closes cleanly,
            # so the totals are read and the user is told.
            self.warnings.append(
                f"{self.name}: segment {self.number} (SE): SE01 says the transaction has "
                f"{count[:10]!r} segments but it has {actual}; the file may have been edited"
            )
        self.st_control = None

    # -- content ------------------------------------------------------------------------
    def on_n1(self, segment: str, d: _Delimiters) -> None:
        e = segment.split(d.element)
        if len(e) > 2 and e[1].strip() == "PR":
            self.close_claim()
            self.payer = " ".join(e[2].split()) or UNKNOWN_PAYER

    def on_clp(self, segment: str, d: _Delimiters) -> None:
        if self.claim is not None:
            self.close_claim()
        self.in_broken = True  # until the amounts are read
        if self.st_control is None:
            raise _BrokenSegment("a claim outside an 835 transaction (no ST before it)")
        e = segment.split(d.element)
        if len(e) < 5:
            raise _BrokenSegment(
                f"the claim has {len(e) - 1} elements; it needs the status (CLP02), charge "
                "(CLP03) and paid (CLP04) amounts, so the claim and its lines are not counted"
            )
        billed = self.number_of(e[3], "the claim charge (CLP03)")
        paid = self.number_of(e[4], "the claim payment (CLP04)")
        self.claim = _Claim(e[2].strip() == "22", billed, paid)
        self.in_broken = False

    def number_of(self, text: str, what: str) -> Decimal:
        """``text`` as a Decimal, cached: remits repeat the same few amounts and codes."""
        value = self.numbers.get(text)
        if value is None:
            value = _num(text, what)
            if len(self.numbers) < _CACHE_LIMIT:
                self.numbers[text] = value
        return value

    def composite(self, composite: str, d: _Delimiters) -> tuple[str, str, str]:
        """(code, modifiers, separator) of an SVC01 composite such as ``HC:99213:25``."""
        separator = d.component
        if separator not in composite:
            # Files that declare ':' in ISA16 and write HC>99213 (seen in real remits).
            for candidate in _COMPONENT_FALLBACKS:
                if candidate in composite:
                    separator = candidate
                    break
        parts = composite.split(separator)
        code = parts[1].strip().upper() if len(parts) > 1 else ""
        if not code:
            raise _BrokenSegment(
                "SVC01 has no procedure code (expected a composite such as "
                f"HC{d.component}99213); the line is not counted"
            )
        problem = _svc_code_problem(parts[0].strip().upper(), code)
        if problem:
            raise _BrokenSegment(f"SVC01 {problem}; the line is not counted")
        modifiers = "-".join(m for m in (p.strip().upper() for p in parts[2:6]) if m)
        parsed = (code, modifiers, separator)
        if len(self.composites) < _CACHE_LIMIT:
            self.composites[composite] = parsed
        return parsed

    def on_svc(self, segment: str, d: _Delimiters) -> None:
        if self.line is not None:
            self.close_line()
        if self.claim is None:
            if self.in_broken:
                return  # a line of a claim that was skipped: not counted
            raise _BrokenSegment("a service line outside a claim (no CLP before it)")
        e = segment.split(d.element)
        if len(e) < 4:
            raise _BrokenSegment(
                f"the service line has {len(e) - 1} elements; it needs the code (SVC01), "
                "charge (SVC02) and payment (SVC03)"
            )
        parsed = self.composites.get(e[1])
        code, modifiers, separator = parsed if parsed is not None else self.composite(e[1], d)
        numbers = self.numbers
        billed = numbers.get(e[2])
        if billed is None:
            billed = self.number_of(e[2], "the line charge (SVC02)")
        paid = numbers.get(e[3])
        if paid is None:
            paid = self.number_of(e[3], "the line payment (SVC03)")
        units = _ONE
        if len(e) > 5:
            units_text = e[5]
            cached = numbers.get(units_text)
            if cached is not None:
                units = cached
            elif units_text.strip():
                units = self.number_of(units_text, "the units (SVC05)")
            if len(e) > 6 and e[6].strip():
                original = e[6].split(separator)
                billed_code = original[1].strip().upper() if len(original) > 1 else ""
                if billed_code and billed_code != code:
                    key = (billed_code[:8], code)
                    self.totals.changed_codes[key] = self.totals.changed_codes.get(key, 0) + 1
        self.line = _Line((self.payer, code, modifiers), billed, paid, units)

    def on_cas(self, segment: str, d: _Delimiters) -> None:
        if self.claim is None:
            if self.in_broken:
                return
            raise _BrokenSegment("an adjustment outside a claim")
        e = segment.split(d.element)
        group = e[1].strip() if len(e) > 1 else ""
        if group != "PR":
            if group not in _CAS_GROUPS:
                raise _BrokenSegment(
                    f"the adjustment group {group[:4]!r} is not CO, PR, OA, PI or CR"
                )
            return  # only patient responsibility enters the totals (allowed = paid + PR)
        total = _ZERO
        for start in range(3, min(len(e), 20), 3):
            if e[start].strip():
                total += self.number_of(e[start], f"CAS{start:02d}")
        if self.line is not None:
            self.line.patient_resp += total
        else:
            self.claim.patient_resp += total

    def on_amt(self, segment: str, d: _Delimiters) -> None:
        if segment[4:6] != "B6" or self.line is None:
            return
        e = segment.split(d.element)
        if e[1].strip() == "B6" and len(e) > 2:
            self.line.allowed = self.number_of(e[2], "the allowed amount (AMT*B6)")

    def on_plb(self, segment: str, d: _Delimiters) -> None:
        self.close_claim()
        e = segment.split(d.element)
        total = _ZERO
        for index in range(4, len(e), 2):
            if e[index].strip():
                total += _num(e[index], f"PLB{index:02d}")
        self.totals.plb[self.payer] = self.totals.plb.get(self.payer, _ZERO) + total


# SVC01-1 qualifiers whose SVC01-2 is a CPT/HCPCS code (HCPCS, ADA dental, HIEC, ABC).
_PROCEDURE_QUALIFIERS = {"HC", "AD", "HP", "WK"}
_OTHER_CODE_RE = re.compile(r"^[A-Z0-9]{1,48}$")


def _svc_code_problem(qualifier: str, code: str) -> str:
    """Why SVC01's code cannot be a code row (``""`` when it can): the shared code rule
    (xlrate.codes) for procedure codes; revenue codes, NDCs and other qualified codes
    must at least be one word of letters and digits."""
    if qualifier in _PROCEDURE_QUALIFIERS:
        problem = code_problem(code)
        return f"code {code[:12]!r} is not a CPT/HCPCS code ({problem})" if problem else ""
    if _OTHER_CODE_RE.match(code):
        return ""
    return f"code {code[:12]!r} ({qualifier[:4] or 'no qualifier'}) is not a code"


def _display_name(path: Path) -> str:
    return path.name


def read_era(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    skip_bad_files: bool = False,
    lines: bool = False,
) -> EraResult:
    """Read one or several 835 files (or folders of them) and aggregate them by payer and by
    payer + code + modifiers.

    Raises :class:`ImportFileError` for a file that is not an 835 or whose envelope is
    broken (naming the file and the segment number); with ``skip_bad_files`` such a file is
    left out whole and listed in ``refused`` instead, so one bad remit in a folder does not
    stop the others. Single broken segments are skipped with a warning. No output contains
    patient names, member ids or claim numbers, except ``lines`` (``lines=True``): one
    :class:`ServiceLine` per service line, with the claim control number, for the audit.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    path_list: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():  # a folder of remits, as a clearinghouse download unpacks
            inside = sorted(p for p in path.iterdir() if p.is_file() and p.name[:1] != ".")
            if not inside:
                raise ImportFileError(f"{path}: the folder has no files. Name the 835 files.")
            path_list.extend(inside)
        else:
            path_list.append(path)
    if not path_list:
        raise ImportFileError("No 835 file given: name one or more remittance files.")
    totals = _Totals()
    warnings: list[str] = []
    skipped = 0
    segments = 0
    refused: list[str] = []
    all_lines: list[ServiceLine] = []
    for path in path_list:
        # Each file sums apart and joins the totals only when read to its end, so a file
        # refused half-way (a broken trailer) adds nothing.
        file_totals = _Totals()
        file_warnings: list[str] = []
        file_lines: list[ServiceLine] | None = [] if lines else None
        try:
            parser = _read_one(path, file_totals, file_warnings, file_lines)
        except ImportFileError as exc:
            if not skip_bad_files:
                raise
            refused.append(str(exc))
            continue
        totals.add(file_totals)
        warnings.extend(file_warnings)
        if file_lines:
            all_lines.extend(file_lines)
        skipped += parser.skipped
        segments += parser.number
    if refused and len(refused) == len(path_list):
        raise ImportFileError(
            refused[0]
            if len(refused) == 1
            else f"none of the {len(refused)} files is a readable 835: {refused[0]}"
        )
    for (original, paid_as), count in sorted(totals.changed_codes.items()):
        warnings.append(
            f"{count} service line(s) billed as {original} were paid as {paid_as} (SVC06); "
            f"they are counted under {paid_as}"
        )
    for payer, amount in sorted(totals.plb.items()):
        if amount:
            warnings.append(
                f"{payer}: provider-level adjustments (PLB) of {amount:.2f} are not part of the "
                "claim or code totals"
            )
    if skipped:
        warnings.append(f"{skipped} broken segment(s) skipped in total")
    return EraResult(
        by_code=_by_code_frame(totals),
        by_payer=_by_payer_frame(totals),
        warnings=warnings,
        skipped_segments=skipped,
        files=[str(p) for p in path_list],
        segments=segments,
        refused=refused,
        lines=all_lines,
    )


def _read_one(
    path: Path,
    totals: _Totals,
    warnings: list[str],
    lines: list[ServiceLine] | None = None,
) -> _FileParser:
    """Parse one file into ``totals`` (and ``lines`` when given); raises ImportFileError."""
    name = _display_name(path)
    try:
        stream = open(path, "rb")  # noqa: SIM115 - closed below, errors mapped first
    except OSError as exc:
        raise ImportFileError(
            f"{path}: cannot open the 835 file ({exc.strerror or exc}). Check the path."
        ) from None
    with stream:
        parser = (
            _FileParser(name, totals, warnings)
            if lines is None
            else _LineParser(name, totals, warnings, lines)
        )
        try:
            parser.run(_batches(stream))
        except OSError as exc:
            raise ImportFileError(
                f"{path}: reading failed ({exc.strerror or exc}). Check the file."
            ) from None
    return parser


def _money(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.01")))


def _by_code_frame(totals: _Totals) -> pd.DataFrame:
    import pandas as pd  # lazy: pandas loads on use

    records = [
        {
            "payer": payer,
            "code": code,
            "modifiers": mods,
            "lines": int(row[0]),
            "units": float(row[1]),
            "billed": _money(row[2]),
            "allowed": _money(row[3]),
            "paid": _money(row[4]),
        }
        for (payer, code, mods), row in sorted(totals.by_code.items())
    ]
    columns = ["payer", "code", "modifiers", "lines", "units", "billed", "allowed", "paid"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.astype(
        {
            "lines": "int64",
            "units": "float64",
            "billed": "float64",
            "allowed": "float64",
            "paid": "float64",
        }
    )


def _by_payer_frame(totals: _Totals) -> pd.DataFrame:
    import pandas as pd  # lazy: pandas loads on use

    records = [
        {
            "payer": payer,
            "claims": int(row[0]),
            "lines": int(row[1]),
            "billed": _money(row[2]),
            "allowed": _money(row[3]),
            "paid": _money(row[4]),
        }
        for payer, row in sorted(totals.by_payer.items())
    ]
    columns = ["payer", "claims", "lines", "billed", "allowed", "paid"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    return frame.astype(
        {
            "claims": "int64",
            "lines": "int64",
            "billed": "float64",
            "allowed": "float64",
            "paid": "float64",
        }
    )


# -- line-level records (the audit) ----------------------------------------------------


def _ccyymmdd(text: str) -> date | None:
    found = _DATES.get(text)
    if found is not None or text in _DATES:
        return found
    value = _parse_date(text)
    if len(_DATES) < _CACHE_LIMIT:
        _DATES[text] = value
    return value


_DATES: dict[str, date | None] = {}


def _parse_date(text: str) -> date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


_new_line = ServiceLine._make


class _LineParser(_FileParser):
    """The same state machine, also keeping one :class:`ServiceLine` per service line.

    Additive on purpose: each handler runs the totals' own code first, then reads the few
    extra elements a line record needs (CLP01/02/08, DTM dates, every CAS triplet).
    """

    def __init__(
        self, name: str, totals: _Totals, warnings: list[str], sink: list[ServiceLine]
    ) -> None:
        super().__init__(name, totals, warnings)
        self.sink = sink
        self.extra_handlers = {"DTM": self.on_dtm}
        self.claim_id = ""
        self.claim_status = ""
        self.claim_pos = ""
        self.claim_date: date | None = None
        self.claim_end: date | None = None
        self.line_no = 0
        self.line_date: date | None = None
        self.line_cas: list[tuple[str, str, Decimal]] = []
        self.billed_code = ""

    def on_clp(self, segment: str, d: _Delimiters) -> None:
        super().on_clp(segment, d)
        e = segment.split(d.element)
        self.claim_id = e[1].strip()
        self.claim_status = e[2].strip()
        self.claim_pos = e[8].strip() if len(e) > 8 else ""
        self.claim_date = self.claim_end = None
        self.line_no = 0

    def on_svc(self, segment: str, d: _Delimiters) -> None:
        super().on_svc(segment, d)
        if self.line is not None:
            self.line_no += 1
            self.line_date = None
            self.line_cas = []
            self.billed_code = ""
            if segment.count(d.element) < 6:
                return  # no SVC06 (the code as billed)
            e = segment.split(d.element)
            if len(e) > 6 and e[6].strip():
                separator = self.composites.get(e[1], ("", "", d.component))[2]
                original = e[6].split(separator)
                billed = original[1].strip().upper() if len(original) > 1 else ""
                if billed != self.line.key[1]:
                    self.billed_code = billed[:8]

    def on_cas(self, segment: str, d: _Delimiters) -> None:
        super().on_cas(segment, d)
        if self.line is None:
            return
        e = segment.split(d.element)
        group = e[1].strip()
        numbers = self.numbers
        for start in range(2, min(len(e) - 1, 19), 3):
            reason = e[start].strip()
            text = e[start + 1]
            if reason and text.strip():
                amount = numbers.get(text)
                if amount is None:
                    try:
                        amount = self.number_of(text, "CAS amount")
                    except _BrokenSegment:
                        continue  # the totals ignore a non-PR amount; so does the line record
                self.line_cas.append((group, reason[:5], amount))

    def on_dtm(self, segment: str, d: _Delimiters) -> None:
        if self.claim is None:
            return
        if segment[3:4] == d.element and segment[7:8] == d.element:  # DTM*472*...: no split
            qualifier = segment[4:7]
            e = ["DTM", qualifier, segment[8:].split(d.element, 1)[0]]
        else:
            e = segment.split(d.element)
            if len(e) < 3:
                return
            qualifier = e[1].strip()
        if self.line is not None:
            if qualifier == "472" or (qualifier == "150" and self.line_date is None):
                self.line_date = _ccyymmdd(e[2])
        elif qualifier == "232":
            self.claim_date = _ccyymmdd(e[2])
        elif qualifier == "233":
            self.claim_end = _ccyymmdd(e[2])

    def close_line(self) -> None:
        line, claim = self.line, self.claim
        super().close_line()
        if line is None or claim is None:
            return
        allowed = line.allowed if line.allowed is not None else line.paid + line.patient_resp
        units = line.units
        if claim.sign < 0 and units > 0:
            units = -units
        payer, code, modifiers = line.key
        self.sink.append(
            _new_line(  # positional, in ServiceLine's field order (fast)
                (
                    payer,
                    self.claim_id,
                    self.claim_status,
                    self.claim_pos,
                    self.line_date or self.claim_date or self.claim_end,
                    self.line_no,
                    code,
                    modifiers,
                    units,
                    line.billed,
                    allowed,
                    line.paid,
                    tuple(self.line_cas),
                    self.billed_code,
                    self.name,
                )
            )
        )
