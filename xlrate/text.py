"""Text that leaves the program: CSV cells and terminal lines.

Two rules, each in one place, used by every command:

- :func:`csv_cell` applies OWASP's CSV-injection rule: a value that starts with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a spreadsheet
  shows it as text instead of running it (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``).
  Plain numbers (``-12.50``) are left alone: a spreadsheet reads them as numbers, never as
  formulas, and a reversal's negative amount must stay a number.
- :func:`terminal_text` removes ANSI escape sequences and other control characters, so
  text from an input file (an 835 payer name, a fee schedule cell) cannot move the cursor,
  recolour or retitle the user's terminal; line breaks and tabs become spaces.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from xlrate.errors import InputError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
# CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), other two-character escapes; then
# any C0/C1 control character and DEL that is left.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]"
)
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def terminal_text(value: object) -> str:
    """``value`` as one line safe to print: no escape sequences, no control characters."""
    text = "" if value is None else str(value)
    if not text.isprintable():
        text = _ANSI_RE.sub("", text)
        text = _CONTROL_RE.sub(lambda m: " " if m.group() in "\t\n\r\v\f" else "", text)
    return text


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = terminal_text(value) if value is not None else ""
    if value is not None and str(value)[:1] in ("\t", "\r"):
        return "'" + text
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV (header + rows, ``\\n`` line ends) with every cell through :func:`csv_cell`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([csv_cell(c) for c in header])
    writer.writerows([csv_cell(c) for c in row] for row in rows)
    return buffer.getvalue()


def header_text(value: str, what: str) -> str:
    """``value`` for an e-mail header; :class:`InputError` when it holds a line break.

    A CR or LF in a header would start a new header (``Bcc:`` injection); the e-mail
    library refuses it too, but with a traceback instead of a line naming the option.
    """
    if any(ch in value for ch in "\r\n\x00") or not value.replace("\t", " ").isprintable():
        shown = terminal_text(value)[:60]
        raise InputError(
            f"{what} {shown!r} contains a line break or control character: write it on one line"
        )
    return value


def csv_encoding(path: str | Path, *, what: str = "CSV file") -> str:
    """The encoding to read a CSV at ``path`` with, or :class:`InputError` in one line.

    A byte-order mark decides (UTF-8, UTF-16); otherwise UTF-8 when the first 1 MB decodes
    as UTF-8, else cp1252 (what Excel on Windows writes). An empty file, a zip (an .xlsx
    named .csv) or binary bytes are refused with what to do instead.
    """
    try:
        with open(path, "rb") as handle:
            sample = handle.read(1 << 20)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    name = Path(path).name
    if sample.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif sample.startswith(b"PK\x03\x04"):
        raise InputError(f"{name}: this is a zip or Excel file, not a {what}: save it as CSV")
    elif b"\x00" in sample or _binary(sample):
        raise InputError(f"{name}: this is not a text {what} (it has binary bytes): save it as CSV")
    else:
        try:
            sample.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError as exc:
            # A multi-byte character cut by the 1 MB sample is still UTF-8.
            cut = len(sample) == 1 << 20 and exc.start >= len(sample) - 3
            encoding = "utf-8" if cut else _single_byte(sample)
    if not sample.decode(encoding if encoding != "utf-16" else "utf-16", errors="replace").strip(
        "\ufeff \t\r\n"
    ):
        raise InputError(
            f"{name}: the {what} is empty: it needs a header row such as code,locality"
        )
    return encoding


def decode_text(data: bytes) -> str:
    """The bytes of a text file as text, by the rule of :func:`csv_encoding`: a byte-order
    mark decides (UTF-8, UTF-16); otherwise UTF-8 when the bytes decode as UTF-8, else
    cp1252 (what Excel on Windows writes), or latin-1 where cp1252 leaves a byte undefined."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(_single_byte(data))


def _binary(sample: bytes) -> bool:
    """More than 5% control bytes (other than tab, CR, LF): not a text file."""
    controls = sum(1 for byte in sample[:65536] if byte < 32 and byte not in (9, 10, 13))
    return controls * 20 > min(len(sample), 65536)


def _single_byte(sample: bytes) -> str:
    """cp1252 (Excel on Windows), or latin-1 for the five bytes cp1252 leaves undefined."""
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "latin-1"
    return "cp1252"
