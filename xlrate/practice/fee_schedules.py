"""Payer fee schedules (CSV / XLSX) in, one normalized table out.

Payers send fee schedules in every shape: a preamble of titles and disclaimers, the header
on some row below it, codes stored as numbers (``100`` for ``00100``), modifiers as two
spaces or the number 26, amounts as ``$1,023.32`` or as words (``Not a benefit``, ``BR``).
This module finds the header, recognises the columns by their names (or takes an explicit
mapping), normalizes every row and reports what it did.

Output (``FeeSchedule.rows``): ``payer, code, modifier, setting, amount, note`` and, when the
file has them, ``description, volume, pos``.

- ``setting`` is ``nonfacility`` / ``facility`` when the file gives separate amounts (one
  output row each), or when the modifier column names the setting in words (``Office
  setting`` / ``Hospital Setting``, seen in Colorado Medicaid's schedule); else ``""``.
- ``amount`` is a float holding the file's value (NaN when the file gives none); ``note``
  keeps the file's text (``Not a benefit``) and modifier text that is not a modifier.
- Identical repeats (one row per benefit limit) collapse into one row. Repeats with a
  different amount are all kept and listed in ``report.conflicts``: which one applies is
  the user's call, not ours.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlrate.codes import clean_code, code_cell, code_problem, parse_modifiers
from xlrate.errors import CodeError, ImportFileError
from xlrate.text import decode_text
from xlrate.xlsx import read_sheets

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["FIELDS", "FeeReadReport", "FeeSchedule", "read_fee_schedule", "read_fee_schedules"]

#: Column roles a fee schedule can have; ``mapping`` keys must be among them.
FIELDS = (
    "code",
    "modifier",
    "amount",
    "nonfacility",
    "facility",
    "description",
    "payer",
    "pos",
    "volume",
)
OUTPUT_COLUMNS = ["payer", "code", "modifier", "setting", "amount", "note"]
OPTIONAL_COLUMNS = ["description", "volume", "pos"]
HEADER_SCAN_ROWS = 60

_CODE_WORDS = {
    "code",
    "codes",
    "cpt",
    "hcpcs",
    "hcpc",
    "cpt4",
    "procedure",
    "proc",
    "or",
    "and",
    "billing",
    "service",
    "codeid",
    "id",
    "level",
    "ii",
    "no",
    "number",
}
_CODE_KEYS = {"code", "codes", "cpt", "hcpcs", "hcpc", "cpt4", "procedure", "proc", "codeid"}
_MODIFIER_WORDS = {
    "mod",
    "mods",
    "modifier",
    "modifiers",
    "mod1",
    "mod2",
    "modifier1",
    "modifier2",
    "modifier3",
    "modifier4",
}
_DESCRIPTION_WORDS = {"description", "descriptions", "desc", "descriptor", "descr"}
_AMOUNT_KEYS = {
    "amount",
    "amt",
    "fee",
    "fees",
    "feeamount",
    "allowed",
    "allowable",
    "allowance",
    "rate",
    "rates",
    "price",
    "reimbursement",
    "payment",
}
_VOLUME_KEYS = {"volume", "utilization", "frequency", "count", "units", "services", "qty"}
_NOT_AMOUNT_WORDS = {"date", "effective", "term", "termination", "percent", "pct", "type",
                     "indicator", "status", "method", "methodology"}  # fmt: skip
_LIMIT_WORDS = {"max", "maximum", "limit", "type", "per", "unity", "benefit"}
# Setting vocabularies of real schedules: "Max Allowable Fee NFS" / "... FS", "Non-Fac" /
# "Fac", "NF" / "F", "Office" / "Hospital", "Non-Facility" / "Facility".
_FACILITY_WORDS = {"hospital", "facility", "fac", "f", "fs", "inpatient", "outpatient",
                   "institutional"}  # fmt: skip
_NONFACILITY_WORDS = {"office", "nonfacility", "nonfac", "non", "nf", "nfs", "professional"}
# Words a bare setting header ("Non-Fac", "F", "Office") may have besides the setting.
_BARE_SETTING_EXTRA = {"setting", "price", "pricing", "site", "of", "service"}


def _setting_of(words: Sequence[str]) -> str | None:
    """The setting a header's words name, or None: 'Non Facility' is nonfacility."""
    wordset = set(words)
    if wordset & _NONFACILITY_WORDS:
        return "nonfacility"
    if wordset & _FACILITY_WORDS:
        return "facility"
    return None


def _bare_setting(header: object) -> str | None:
    """The setting of a header made only of setting words ('Non-Fac', 'F', 'Hospital')."""
    words = _words(header)
    if not words or not set(words) <= _FACILITY_WORDS | _NONFACILITY_WORDS | _BARE_SETTING_EXTRA:
        return None
    return _setting_of(words)


class _AmbiguousAmounts(Exception):
    """Two amount columns whose settings cannot be told apart."""

    def __init__(self, headers: list[str]) -> None:
        super().__init__(", ".join(headers))
        self.headers = headers


_SETTING_TEXT = {
    "office setting": "nonfacility",
    "office": "nonfacility",
    "non facility": "nonfacility",
    "nonfacility": "nonfacility",
    "hospital setting": "facility",
    "facility setting": "facility",
    "facility": "facility",
    "hospital": "facility",
}
_AMOUNT_RE = re.compile(r"^\(?-?\$?\s*-?\d[\d,]*(?:\.\d*)?\)?$|^\(?-?\$?\s*-?\.\d+\)?$")


@dataclass
class FeeReadReport:
    """What was read: rows, what was kept or skipped and why, invalid codes, conflicts."""

    file: str
    sheet: str | None = None
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    rows_kept: int = 0
    repeats_collapsed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    invalid_codes: list[tuple[int, str]] = field(default_factory=list)
    # Why each invalid code was refused (row -> reason), from xlrate.codes.code_problem.
    code_reasons: dict[int, str] = field(default_factory=dict)
    negative_amounts: int = 0
    conflicts: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def text(self) -> str:
        where = f"{self.file}" + (f" [sheet {self.sheet}]" if self.sheet else "")
        lines = [
            f"{where}: header on row {self.header_row}; columns: "
            + ", ".join(f"{role}={name!r}" for role, name in self.columns.items()),
            f"  rows read {self.rows_read}, kept {self.rows_kept}, identical repeats "
            f"collapsed {self.repeats_collapsed}, skipped {self.rows_skipped}",
        ]
        for reason, count in self.skipped.most_common():
            lines.append(f"  skipped {count}: {reason}")
        if self.invalid_codes:
            shown = ", ".join(
                f"row {row}: {value!r}"
                + (f" ({self.code_reasons[row]})" if self.code_reasons.get(row) else "")
                for row, value in self.invalid_codes[:10]
            )
            more = len(self.invalid_codes) - 10
            lines.append(
                f"  not valid HCPCS codes ({len(self.invalid_codes)}): {shown}"
                + (f" and {more} more" if more > 0 else "")
            )
        if self.negative_amounts:
            lines.append(
                f"  negative amounts ({self.negative_amounts}): kept with a note, not used as rates"
            )
        if self.conflicts:
            lines.append(f"  conflicting repeats ({len(self.conflicts)}), all kept:")
            lines.extend(f"    {c}" for c in self.conflicts[:20])
            if len(self.conflicts) > 20:
                lines.append(f"    and {len(self.conflicts) - 20} more")
        return "\n".join(lines)


@dataclass
class FeeSchedule:
    """A normalized fee schedule: ``rows`` (DataFrame) and the read ``report``."""

    rows: pd.DataFrame
    report: FeeReadReport


@dataclass
class FeeSchedules:
    """Several fee schedules read together: one table, one report per file."""

    rows: pd.DataFrame
    reports: list[FeeReadReport]


# -- reading cells ---------------------------------------------------------------------


def _words(header: object) -> list[str]:
    text = "" if header is None else str(header)
    text = text.replace("-", "").lower() if "non-fac" in text.lower() else text.lower()
    return re.findall(r"[a-z0-9]+", text)


def _classify(header: object) -> str | None:
    """The role a header names, or None. Order matters: 'Procedure Code Modifier' is a
    modifier, 'Procedure Description' a description, 'Non-Facility Fee' a nonfacility amount."""
    words = _words(header)
    if not words:
        return None
    wordset = set(words)
    if wordset & _MODIFIER_WORDS:
        return "modifier"
    if wordset & _DESCRIPTION_WORDS:
        return "description"
    if "pos" in wordset or " ".join(words).find("place of service") >= 0:
        return "pos"
    if wordset & {"payer", "payor", "insurer", "insurance"} and not wordset & _AMOUNT_KEYS:
        return "payer"
    if wordset & _AMOUNT_KEYS or "$" in str(header):
        if wordset & _NOT_AMOUNT_WORDS:  # "Effective Date", "Fee Type", "Rate Method"
            return None
        return _setting_of(words) or "amount"
    if wordset & _CODE_KEYS and wordset <= _CODE_WORDS:
        return "code"
    if wordset & _VOLUME_KEYS and not wordset & _LIMIT_WORDS:
        return "volume"
    return None


def _norm_header(value: object) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""


def _find_columns(
    row: Sequence[object], mapping: Mapping[str, str] | None
) -> dict[str, list[int]] | None:
    """Column indexes per role for a header row, or None when ``row`` is not the header."""
    roles: dict[str, list[int]] = {}
    if mapping:
        wanted = {role: _norm_header(name) for role, name in mapping.items()}
        cells = [_norm_header(c) for c in row]
        for role, name in wanted.items():
            if name not in cells:
                return None
            roles[role] = [cells.index(name)]
        # Recognise the other columns too, unless the mapping already took them.
        taken = {i for idx in roles.values() for i in idx}
        mapped = set(roles)
        amounts_mapped = bool({"amount", "nonfacility", "facility"} & mapped)
        for index, cell in enumerate(row):
            found = _classify(cell)
            if not found or found in mapped or index in taken or found == "code":
                continue
            if amounts_mapped and found in ("amount", "nonfacility", "facility"):
                continue
            roles.setdefault(found, []).append(index)
        if not amounts_mapped:
            _add_bare_settings(row, roles)
        if "code" not in roles:
            return None
    else:
        for index, cell in enumerate(row):
            found = _classify(cell)
            if found:
                roles.setdefault(found, []).append(index)
        _add_bare_settings(row, roles)
        if "code" not in roles:
            return None
        if not {"amount", "nonfacility", "facility"} & roles.keys():
            return None
    if "nonfacility" not in roles and "facility" not in roles:
        _check_amounts_apart(row, roles.get("amount", []))
    # One column per role, except modifiers (Modifier1, Modifier2 ...).
    for role in list(roles):
        if role == "modifier":
            continue
        if len(roles[role]) > 1:
            roles[role] = [_best(row, roles[role], role)]
    if "volume" in roles and any(
        {"type"} <= set(_words(c)) and set(_words(c)) & {"unit", "unity", "units"} for c in row
    ):
        # 'Units' next to 'Unit Type' is a benefit limit, not the practice's volume.
        del roles["volume"]
    if "amount" in roles and ("nonfacility" in roles or "facility" in roles):
        del roles["amount"]
    return roles


def _add_bare_settings(row: Sequence[object], roles: dict[str, list[int]]) -> None:
    """Columns headed only by a setting ('Non-Fac' and 'Fac', 'NF' and 'F') are amounts
    when the row has both settings: alone, 'F' or 'Office' may mean anything."""
    taken = {i for idx in roles.values() for i in idx}
    bare: dict[str, list[int]] = {}
    for index, cell in enumerate(row):
        if index not in taken:
            setting = _bare_setting(cell)
            if setting:
                bare.setdefault(setting, []).append(index)
    if not bare:
        return
    for setting, indexes in bare.items():
        other = "facility" if setting == "nonfacility" else "nonfacility"
        if other in roles or other in bare:
            roles.setdefault(setting, []).extend(indexes)


def _check_amounts_apart(row: Sequence[object], indexes: list[int]) -> None:
    """Two amount columns that the header words rank equally: which is which setting (or
    which is the rate) is a guess, so stop and let the user say (--map)."""
    if len(indexes) < 2:
        return

    def words(index: int) -> frozenset[str]:
        return frozenset(_words(row[index]))

    candidates = [i for i in indexes if not words(i) & _VOLUME_KEYS]  # 'Allowed Units'
    if len(candidates) < 2:
        return
    scores = {i: _score(row, i, "amount") for i in candidates}
    top = max(scores.values())
    tied = [i for i in candidates if scores[i] == top]
    if len(tied) >= 2:
        first, second = tied[0], tied[1]
        if words(first) & words(second) & _AMOUNT_KEYS:
            raise _AmbiguousAmounts([_cell_text(row[first]), _cell_text(row[second])])


def _score(row: Sequence[object], index: int, role: str) -> int:
    """How plainly the header at ``index`` says it is the ``role`` column."""
    words = _words(row[index])
    plain = 0
    if role == "code":
        plain = 2 if words and words[-1] in _CODE_KEYS else 0
    elif role in ("amount", "nonfacility", "facility"):
        plain = sum(w in {"allowed", "allowable", "fee", "amount", "rate"} for w in words)
        if "total" in words:
            plain += 2
    return plain


def _best(row: Sequence[object], indexes: list[int], role: str) -> int:
    """Among several candidate columns, the one whose header says it most plainly (the
    leftmost of equals)."""
    return max(indexes, key=lambda index: (_score(row, index, role), -index))


def _amount(value: object) -> tuple[float | None, str]:
    """(amount, text): a number, or None with the file's text as the reason."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, ""
    if isinstance(value, bool):
        return None, str(value)
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return (number, "") if math.isfinite(number) else (None, str(value))
    text = " ".join(str(value).split())
    if not text:
        return None, ""
    if _AMOUNT_RE.match(text):
        negative = text.startswith("(") or "-" in text
        digits = re.sub(r"[^\d.]", "", text)
        try:
            number = float(Decimal(digits))
        except InvalidOperation:
            return None, text
        return (-number if negative else number), ""
    return None, text


def _cell_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _volume(value: object) -> float | None:
    number, _ = _amount(value)
    return number


def _pos(value: object) -> str:
    text = _cell_text(value)
    return text.zfill(2) if text.isdigit() and len(text) < 2 else text


# -- sources ---------------------------------------------------------------------------


def _csv_rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _read_csv(
    path: Path, name: str, mapping: Mapping[str, str] | None
) -> tuple[list[list[Any]], int, dict[str, list[int]], str | None]:
    raw = path.read_bytes()
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFileError(
            f"{name}: this is not a text (CSV) file. Save the fee schedule as CSV or .xlsx."
        )
    text = decode_text(raw)
    if "\x00" in text:
        text = text.replace("\x00", "")
    # Try each delimiter Excel may write; the one that yields a recognisable header wins.
    head = text[: 1 << 16]
    for delimiter in (",", ";", "\t", "|"):
        if delimiter not in head:
            continue
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        found: tuple[int, dict[str, list[int]]] | None = None
        try:
            for index, row in enumerate(itertools.islice(reader, HEADER_SCAN_ROWS)):
                roles = _find_columns(row, mapping)
                if roles:
                    found = (index, roles)
                    break
        except csv.Error:
            continue  # not this delimiter
        if found is None:
            continue
        try:
            rows = _csv_rows(text, delimiter)
        except csv.Error as exc:
            raise ImportFileError(
                f"{name}: the CSV cannot be read ({exc}). Open it in Excel and save it again "
                "as CSV."
            ) from None
        return rows, found[0], found[1], None
    raise _no_header(name, _preview(_csv_rows_safe(head)), mapping)


def _csv_rows_safe(sample: str) -> list[list[str]]:
    try:
        return _csv_rows(sample, ",")[:8]
    except csv.Error:
        return []


def _scan_sheet(
    rows: Iterator[list[Any]], mapping: Mapping[str, str] | None
) -> tuple[list[list[Any]], int, dict[str, list[int]] | None]:
    """Read rows until the header is found in the first rows, then read the rest."""
    head: list[list[Any]] = []
    for row in rows:
        head.append(row)
        roles = _find_columns(row, mapping)
        if roles:
            return head + list(rows), len(head) - 1, roles
        if len(head) >= HEADER_SCAN_ROWS:
            break
    return head, -1, None


def _read_excel(
    path: Path, name: str, mapping: Mapping[str, str] | None
) -> tuple[list[list[Any]], int, dict[str, list[int]], str | None]:
    """The first sheet whose header names the columns (zip-guarded, read by calamine)."""
    previews: list[list[Any]] = []
    for title, sheet_rows in read_sheets(path):
        rows, index, roles = _scan_sheet(sheet_rows, mapping)
        if roles:
            return rows, index, roles, title
        previews.extend(rows[:8])
    raise _no_header(name, _preview(previews), mapping)


def _preview(rows: Iterable[Sequence[object]]) -> str:
    cells = []
    for row in rows:
        texts = [_cell_text(c)[:30] for c in row if _cell_text(c)]
        if texts:
            cells.append(" | ".join(texts[:6]))
        if len(cells) >= 3:
            break
    return "; ".join(cells)


def _no_header(name: str, preview: str, mapping: Mapping[str, str] | None) -> ImportFileError:
    if mapping:
        wanted = ", ".join(f"{k}={v!r}" for k, v in mapping.items())
        return ImportFileError(
            f"{name}: no row has all the mapped column names ({wanted}). Check the spelling "
            f"against the file's header row. First rows: {preview or '(empty)'}"
        )
    return ImportFileError(
        f"{name}: cannot find the header row: no row in the first {HEADER_SCAN_ROWS} names a "
        "code column (code, CPT, HCPCS, procedure) and an amount column (amount, fee, "
        'allowed, rate). Name the columns with --map, e.g. --map code="Procedure" '
        f'amount="Allowed Amount". First rows: {preview or "(empty)"}'
    )


# -- normalizing -----------------------------------------------------------------------


def _check_mapping(mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    if not mapping:
        return None
    clean: dict[str, str] = {}
    for role, name in mapping.items():
        key = str(role).strip().lower().replace("-", "").replace("_", "")
        if key not in FIELDS:
            raise ImportFileError(
                f"--map {role}=...: {role!r} is not a column role; use one of " + ", ".join(FIELDS)
            )
        clean[key] = str(name)
    if "code" not in clean:
        raise ImportFileError(
            '--map needs the code column too, e.g. --map code="Procedure" amount="Allowed Amount"'
        )
    return clean


def _payer_from_name(path: Path) -> str:
    return path.stem.strip() or path.name


def _normalize(
    rows: list[list[Any]],
    header_index: int,
    roles: dict[str, list[int]],
    payer: str,
    report: FeeReadReport,
) -> Iterator[dict[str, Any]]:
    header = rows[header_index]
    report.header_row = header_index + 1
    report.columns = {
        role: ", ".join(_cell_text(header[i]) for i in idx) for role, idx in roles.items()
    }
    (code_col,) = roles["code"]
    mod_cols = roles.get("modifier", [])
    amount_cols = [
        (setting, roles[role][0])
        for role, setting in (
            ("amount", ""),
            ("nonfacility", "nonfacility"),
            ("facility", "facility"),
        )
        if role in roles
    ]
    payer_col = roles.get("payer", [None])[0]
    desc_col = roles.get("description", [None])[0]
    vol_col = roles.get("volume", [None])[0]
    pos_col = roles.get("pos", [None])[0]

    data = rows[header_index + 1 :]
    # Trailing blank rows (CSV exports end with a few) are not data.
    while data and not any(_cell_text(c) for c in data[-1]):
        data.pop()
    report.rows_read = len(data)

    def cell(row: list[Any], index: int | None) -> Any:
        return row[index] if index is not None and index < len(row) else None

    for offset, row in enumerate(data):
        line = header_index + 2 + offset  # the row number the user sees in Excel
        if not any(_cell_text(c) for c in row):
            report.skipped["blank row"] += 1
            continue
        raw_code = cell(row, code_col)
        modifier_codes: list[str] = []
        notes: list[str] = []
        if not clean_code(raw_code):
            report.skipped["no code"] += 1
            continue
        try:
            # The rule every input shares (xlrate.codes): a code, or one with modifiers
            # attached as on the command line (99214-25).
            code, attached = code_cell(raw_code)
        except CodeError as exc:
            report.skipped["not a HCPCS code"] += 1
            report.invalid_codes.append((line, _cell_text(raw_code)[:40]))
            problem = code_problem(raw_code)
            report.code_reasons[line] = (
                str(exc).split(": ", 1)[-1] if "not a modifier" in str(exc) else problem
            )
            continue
        modifier_codes.extend(attached)
        setting_from_text = ""
        for index in mod_cols:
            parsed = parse_modifiers(cell(row, index))
            modifier_codes.extend(parsed.codes)
            if parsed.note:
                note = " ".join(parsed.note.split())
                notes.append(note)
                setting_from_text = _SETTING_TEXT.get(note.casefold(), setting_from_text)
        row_payer = _cell_text(cell(row, payer_col)) or payer
        extra: dict[str, Any] = {}
        if desc_col is not None:
            extra["description"] = _cell_text(cell(row, desc_col))
        if vol_col is not None:
            extra["volume"] = _volume(cell(row, vol_col))
        if pos_col is not None:
            extra["pos"] = _pos(cell(row, pos_col))
        for setting, column in amount_cols:
            amount, text = _amount(cell(row, column))
            if amount is not None and amount < 0:
                # A fee below zero is a typo or a credit line, never a rate: not compared.
                report.negative_amounts += 1
                text = f"negative amount {amount:.2f} in the file: not used as a rate"
                amount = None
            note_parts = [*notes, text] if text else list(notes)
            if amount is None and not text:
                note_parts.append("no amount in the file")
            yield {
                "_line": line,
                "payer": row_payer,
                "code": code,
                "modifier": "-".join(modifier_codes),
                "setting": setting or setting_from_text,
                "amount": amount,
                "note": "; ".join(note_parts),
                **extra,
            }


def _collapse(records: list[dict[str, Any]], report: FeeReadReport) -> list[dict[str, Any]]:
    """Drop identical repeats; keep and report repeats whose amounts differ."""
    kept: list[dict[str, Any]] = []
    seen: dict[tuple[Any, ...], dict[Any, int]] = {}
    lines_kept: set[int] = set()
    lines_all: set[int] = set()
    for record in records:
        key = (
            record["payer"],
            record["code"],
            record["modifier"],
            record["setting"],
            record.get("pos", ""),
            record["note"],
        )
        value = record["amount"]
        lines_all.add(record["_line"])
        amounts = seen.setdefault(key, {})
        if value in amounts:
            continue
        amounts[value] = record["_line"]
        kept.append(record)
        lines_kept.add(record["_line"])
    report.rows_kept = len(lines_kept)
    report.repeats_collapsed = len(lines_all - lines_kept)
    for key, amounts in seen.items():
        if len(amounts) > 1:
            payer, code, modifier, setting = key[:4]
            label = (
                code + (f"-{modifier}" if modifier else "") + (f" ({setting})" if setting else "")
            )
            shown = ", ".join(
                f"{'none' if a is None else f'{a:g}'} (row {line})" for a, line in amounts.items()
            )
            report.conflicts.append(f"{payer}: {label}: {shown}")
    return kept


def _frame(records: list[dict[str, Any]], optional: Sequence[str]) -> pd.DataFrame:
    # lazy: pandas stays out of `import xlrate.practice`
    import pandas as pd

    columns = OUTPUT_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in optional]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame["amount"] = frame["amount"].astype("float64")
    if "volume" in frame:
        frame["volume"] = frame["volume"].astype("float64")
    for column in ("payer", "code", "modifier", "setting", "note", "description", "pos"):
        if column in frame:
            frame[column] = frame[column].astype(object)
    return frame


def read_fee_schedule(
    path: str | os.PathLike[str],
    *,
    payer: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> FeeSchedule:
    """Read one payer fee schedule (CSV or .xlsx) into normalized rows plus a read report.

    ``payer`` names the payer (else the file's payer column, else the file name).
    ``mapping`` names columns the reader does not recognise: ``{"code": "Procedure",
    "amount": "Allowed Amount"}``; roles are listed in :data:`FIELDS`.
    Raises :class:`ImportFileError` naming the file and what to do.
    """
    file = Path(path)
    name = file.name
    clean_mapping = _check_mapping(mapping)
    if file.is_dir():
        raise ImportFileError(
            f"{file}: this is a folder, not a fee schedule: name the CSV or .xlsx file itself"
        )
    if not file.is_file():
        raise ImportFileError(f"{file}: no such file. Check the path.")
    try:
        with open(file, "rb") as handle:
            magic = handle.read(8)
        # By content, not by name: payer portals often send CSV or HTML named .xls/.xlsx.
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportFileError(
                f"{name}: old Excel .xls files are not read. Open it in Excel and save it as "
                ".xlsx (or export it as CSV)."
            )
        if magic.startswith(b"PK\x03\x04"):
            rows, header_index, roles, sheet = _read_excel(file, name, clean_mapping)
        else:
            rows, header_index, roles, sheet = _read_csv(file, name, clean_mapping)
    except OSError as exc:
        raise ImportFileError(f"{file}: cannot read the file ({exc.strerror or exc}).") from None
    except _AmbiguousAmounts as exc:
        first, second = exc.headers
        raise ImportFileError(
            f"{name}: two amount columns, {first!r} and {second!r}, and their settings "
            "cannot be told apart: say which is which with --map, e.g. "
            f'--map nonfacility="{first}" facility="{second}" (or --map amount="{first}" '
            "for one rate)"
        ) from None
    if payer:
        roles.pop("payer", None)  # the payer named by the user wins over the file's column
    report = FeeReadReport(file=name, sheet=sheet)
    default_payer = " ".join(payer.split()) if payer else _payer_from_name(file)
    records = list(_normalize(rows, header_index, roles, default_payer, report))
    kept = _collapse(records, report)
    for record in kept:
        del record["_line"]
    return FeeSchedule(
        rows=_frame(kept, [r for r in OPTIONAL_COLUMNS if r in roles]), report=report
    )


def read_fee_schedules(
    paths: Iterable[str | os.PathLike[str]],
    *,
    payer: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> FeeSchedules:
    """Read several fee schedules (one per payer, or files with a payer column) into one
    table. Each file's payer comes from ``payer``, its payer column or its file name."""
    # lazy: pandas stays out of `import xlrate.practice`
    import pandas as pd

    schedules = [read_fee_schedule(p, payer=payer, mapping=mapping) for p in paths]
    if not schedules:
        raise ImportFileError("No fee schedule given: name one or more files.")
    frames = [s.rows for s in schedules]
    rows = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return FeeSchedules(rows=rows, reports=[s.report for s in schedules])
