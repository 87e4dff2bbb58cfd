"""HCPCS code and modifier normalisation, shared by every importer and the pricing engine.

Real files store codes in every shape: Excel turns the anesthesia code ``00100`` into the
number 100, a CSV round trip writes ``99213.0``, people type ``g0008`` or ``99 213``. All of
them become the five-character code CMS uses. Modifiers come blank, as two spaces, as the
number 26, or as free text that is not a modifier at all (``Office setting``): the last is
kept as a note, never guessed into a modifier.

Canonical forms:
- code: five upper-case characters, e.g. ``99213``, ``00100``, ``G0008``, ``0001F``.
- modifiers: two-character modifiers joined with ``-`` in the order given, e.g. ``26``,
  ``25-59``; the empty string when there is none.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from xlrate.errors import CodeError, InputError

# CPT category I (5 digits), category II/III, PLA and MAAA codes (4 digits + F/T/U/M), and
# HCPCS level II (a letter and 4 digits, which includes the dental D codes).
HCPCS_RE = re.compile(r"^(?:\d{4}[0-9FTUM]|[A-Z]\d{4})$")
MODIFIER_RE = re.compile(r"^[A-Z0-9]{2}$")
_MODIFIER_SPLIT_RE = re.compile(r"[\s,:;/+\-]+")
_CODE_MOD_RE = re.compile(r"^\s*([A-Za-z0-9. ]+?)\s*(?:[-:]\s*(.*))?$")

MODIFIER_SEPARATOR = "-"


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def clean_code(value: object) -> str:
    """Return ``value`` as a HCPCS-shaped string, or ``""`` when blank.

    The one rule, shared by the command line, CSV and spreadsheet input and 835 SVC01:
    a *number* (an Excel cell, or text such as ``100.0`` that was written from one) lost
    its leading zeros on the way, so ``100`` becomes ``00100``; *text* is taken as written
    (trimmed, upper-cased): ``9921`` stays ``9921`` and ``99 213`` keeps its space, and
    both are then rejected by :func:`is_valid_code` with the reason from
    :func:`code_problem`. Does not validate.
    """
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            return str(value)
    if isinstance(value, int):
        text = str(value)
        return text.zfill(5) if value >= 0 and len(text) < 5 else text
    text = str(value).strip().upper()
    if text.endswith(".0") and text[:-2].isdigit():
        # Written from a number (a CSV round trip): the number's leading zeros were lost.
        text = text[:-2]
        if 0 < len(text) < 5:
            text = text.zfill(5)
    return text


def is_valid_code(code: str) -> bool:
    """True when ``code`` (already cleaned) has the shape of a HCPCS / CPT code."""
    return bool(HCPCS_RE.match(code))


def code_problem(value: object) -> str:
    """Why ``value`` is not a code, in plain words (``""`` when it is one)."""
    code = clean_code(value)
    if not code:
        return "no code"
    if is_valid_code(code):
        return ""
    if any(ch.isspace() for ch in code):
        return "it has a space inside: write the code without spaces, e.g. 99213"
    if code.isdigit() and len(code) < 5:
        return (
            f"it has {len(code)} digits, codes have 5 (if a spreadsheet dropped leading "
            f"zeros, write {code.zfill(5)} and keep the column as text)"
        )
    if len(code) != 5:
        return f"it has {len(code)} characters, codes have 5 (99213, 00100, 0001F, G0008)"
    return "not a CPT/HCPCS code: 5 digits, 4 digits and F/T/U/M, or a letter and 4 digits"


def normalize_code(value: object) -> str:
    """Clean ``value`` and check it is a HCPCS code; raise :class:`CodeError` otherwise."""
    code = clean_code(value)
    if not is_valid_code(code):
        raise CodeError(
            f"{value!r} is not a HCPCS/CPT code: {code_problem(value)}; codes have 5 "
            "characters, such as 99213, 00100, 0001F or G0008"
        )
    return code


@dataclass(frozen=True)
class Modifiers:
    """Modifiers parsed from a cell: the valid ones, and any text that was not a modifier."""

    codes: tuple[str, ...]
    note: str = ""

    @property
    def text(self) -> str:
        return MODIFIER_SEPARATOR.join(self.codes)


def parse_modifiers(value: object) -> Modifiers:
    """Parse a modifier cell: blank, ``26``, 26 (a number), ``26 51``, ``HF:99``, free text.

    Text that is not a list of two-character modifiers is returned as ``note`` with no
    modifiers, so a fee schedule's ``Office setting`` never becomes a fake modifier.
    """
    if _is_missing(value):
        return Modifiers(())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value).zfill(2)
        return Modifiers((text,)) if MODIFIER_RE.match(text) else Modifiers((), str(value))
    raw = str(value).strip()
    if not raw:
        return Modifiers(())
    parts = [p for p in _MODIFIER_SPLIT_RE.split(raw.upper()) if p]
    if parts and all(MODIFIER_RE.match(p) for p in parts):
        return Modifiers(tuple(parts))
    return Modifiers((), raw)


def normalize_modifiers(value: object) -> str:
    """Canonical modifier string (``""``, ``26``, ``25-59``); raise on text that is not one."""
    mods = parse_modifiers(value)
    if mods.note:
        raise CodeError(
            f"{value!r} is not a modifier: expected two-character modifiers such as 26, TC "
            "or 25, separated by '-' or spaces"
        )
    return mods.text


def split_code_modifier(text: str) -> tuple[str, str]:
    """Split ``99214-25`` / ``76145-26`` / ``27447-50-51`` into (code, modifiers).

    Raises :class:`CodeError` naming the text when the code part is not a HCPCS code.
    """
    match = _CODE_MOD_RE.match(str(text))
    if not match:
        raise CodeError(f"{text!r} is not a code: write it as 99213 or 99214-25")
    code = normalize_code(match.group(1))
    mods = normalize_modifiers(match.group(2)) if match.group(2) else ""
    return code, mods


def is_blank(value: object) -> bool:
    """True for an input cell that says nothing: None, NaN, or text of only spaces.

    The one rule for "not given" in request tables and worksheet arguments (a 0 is given).

    >>> [is_blank(v) for v in (None, float("nan"), "  ", "", 0, "26")]
    [True, True, True, True, False, False]
    """
    if _is_missing(value):
        return True
    return isinstance(value, str) and not value.strip()


def request_key(code_value: object, mod_value: object) -> tuple[object, ...]:
    """A memo key for a raw (code, modifier) request: the request itself when it is text, as
    nearly always (so a dict of them is searched with the requests as they come), else one
    that tells apart values Python calls equal (1, 1.0 and True; "1" is not 1).

    >>> request_key("99213", None), request_key(1, None) == request_key(1.0, None)
    (('99213', None), False)
    """
    if type(code_value) is str and (mod_value is None or type(mod_value) is str):
        return (code_value, mod_value)
    return (type(code_value), code_value, type(mod_value), mod_value)


def code_cell(value: object) -> tuple[str, tuple[str, ...]]:
    """(code, modifiers) of a code cell: a code, or a code with modifiers attached the way
    the command line takes them (``99214-25``, ``27447-50-51``).

    The rule every input shares (command line, request CSV, fee schedule). Raises
    :class:`CodeError` with the reason (:func:`code_problem`, or the modifier that is not
    one).
    """
    code = clean_code(value)
    if is_valid_code(code):
        return code, ()
    text = "" if _is_missing(value) else str(value)
    if isinstance(value, str) and re.search(r"[A-Za-z0-9]\s*[-:]", text):
        code, mods = split_code_modifier(text)
        return code, tuple(m for m in mods.split(MODIFIER_SEPARATOR) if m)
    raise CodeError(f"{text!r} is not a HCPCS/CPT code: {code_problem(value)}")


_RELEASE_RE = re.compile(r"^(?:(\d{4}))?([A-Z])$")


def parse_release(value: object) -> tuple[int | None, str]:
    """``2025D`` -> (2025, "D"), ``d`` -> (None, "D"); raise :class:`InputError` otherwise.

    The message says which part is wrong and shows the right form, so ``2025Z`` is not
    answered with a suggestion to install release ``Z``.
    """
    text = "" if value is None else "".join(str(value).split()).upper()
    match = _RELEASE_RE.match(text)
    if match and match.group(2) in "ABCD":
        year = match.group(1)
        return (int(year) if year else None), match.group(2)
    if match:
        year = match.group(1) or "2025"
        raise InputError(
            f"{text!r} is not a release: the quarter letter is A, B, C or D (e.g. {year}D)"
        )
    raise InputError(
        f"{str(value)[:20]!r} is not a release: write the quarter letter A, B, C or D, or "
        "the year and the letter, e.g. 2025D"
    )
