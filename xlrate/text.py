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
