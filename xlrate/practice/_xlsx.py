"""A small streaming reader for the cell values of .xlsx sheets.

Why not only openpyxl: in read-only mode it builds a cell object per value and takes ~4 s
for a 20,000-row fee schedule on a modest machine (pandas.read_excel is no faster, it uses
openpyxl). Fee schedules need values only: shared strings, numbers, cached formula results.
This reader streams the sheet XML with the C ElementTree parser and is several times
faster. It keeps defusedxml's rule (no DTD, hence no entity declarations to expand): each
part's prolog is checked before parsing, and a part that has a DTD is refused (the pure
Python defusedxml parser is what made this slow). Anything it does not understand raises :class:`XlsxFormatError`,
and the caller falls back to openpyxl, so an odd but valid workbook still reads.

Values come back as openpyxl gives them with ``data_only=True``, except dates, which stay
Excel serial numbers (fee schedules do not need them): ``int`` for integral numbers
written without a decimal point, ``float`` otherwise, ``str`` for text, ``bool``, ``None``.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from typing import IO, Any

_MAIN_NS = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_REL_NS = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


_ROOT_START = re.compile(rb"<[A-Za-z_]")


class XlsxFormatError(Exception):
    """The package does not look like what this reader understands."""


def _check_prolog(head: bytes, part: str) -> None:
    """Refuse a part whose prolog (before the root element) has a DTD or is not UTF-8."""
    match = _ROOT_START.search(head)
    if match is None:
        raise XlsxFormatError(f"{part}: no root element in the first bytes")
    if b"<!" in head[: match.start()].replace(b"<!--", b""):
        raise XlsxFormatError(f"{part}: has a DTD")


def _namespace(tag: str) -> str:
    return tag[1 : tag.index("}")] if tag.startswith("{") else ""


def _column_index(ref: str) -> int:
    index = 0
    for char in ref:
        if "A" <= char <= "Z":
            index = index * 26 + (ord(char) - 64)
        else:
            break
    if index == 0:
        raise XlsxFormatError(f"cell reference {ref[:10]!r}")
    return index - 1


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


class XlsxReader:
    """Sheets of one workbook: ``sheets()`` lists (name, part), ``rows(part)`` streams."""

    def __init__(self, path: str | Any) -> None:
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise XlsxFormatError(str(exc)) from None
        self.shared: list[str] | None = None

    def close(self) -> None:
        self.zip.close()

    def _open(self, part: str) -> IO[bytes]:
        try:
            with self.zip.open(part) as probe:
                _check_prolog(probe.read(8192), part)
            return self.zip.open(part)
        except KeyError:
            raise XlsxFormatError(f"missing part {part}") from None

    def sheets(self) -> list[tuple[str, str]]:
        """(sheet name, zip part) in workbook order."""
        with self._open("xl/_rels/workbook.xml.rels") as handle:
            rels = {
                el.get("Id"): el.get("Target", "")
                for el in ET.parse(handle).getroot().iter(_PKG_REL)
            }
        with self._open("xl/workbook.xml") as handle:
            root = ET.parse(handle).getroot()
        ns = _namespace(root.tag)
        if ns not in _MAIN_NS:
            raise XlsxFormatError(f"workbook namespace {ns}")
        result = []
        for sheet in root.iter(f"{{{ns}}}sheet"):
            rid = next((sheet.get(f"{{{r}}}id") for r in _REL_NS if sheet.get(f"{{{r}}}id")), None)
            target = rels.get(rid, "")
            if not target:
                raise XlsxFormatError("sheet without a relationship")
            if target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = posixpath.normpath(posixpath.join("xl", target))
            result.append((sheet.get("name", ""), part))
        return result

    def _shared_strings(self) -> list[str]:
        if self.shared is not None:
            return self.shared
        strings: list[str] = []
        if "xl/sharedStrings.xml" not in self.zip.namelist():
            self.shared = strings
            return strings
        handle = self._open("xl/sharedStrings.xml")
        with handle:
            ns = ""
            for event, element in ET.iterparse(handle, events=("start", "end")):
                if event == "start":
                    if not ns:
                        ns = _namespace(element.tag)
                    continue
                if element.tag == f"{{{ns}}}si":
                    parts = []
                    for child in element:
                        if child.tag == f"{{{ns}}}t":
                            parts.append(child.text or "")
                        elif child.tag == f"{{{ns}}}r":
                            run = child.find(f"{{{ns}}}t")
                            if run is not None:
                                parts.append(run.text or "")
                    strings.append("".join(parts))
                    element.clear()
        self.shared = strings
        return strings

    def rows(self, part: str) -> Iterator[list[Any]]:
        """Rows of a sheet from row 1, with empty lists for rows the file leaves out."""
        shared = self._shared_strings()
        with self._open(part) as handle:
            events = ET.iterparse(handle, events=("start", "end"))
            _, root = next(events, (None, None))
            if root is None:
                raise XlsxFormatError("empty sheet part")
            ns = _namespace(root.tag)
            if ns not in _MAIN_NS:
                raise XlsxFormatError(f"sheet namespace {ns}")
            row_tag, cell_tag = f"{{{ns}}}row", f"{{{ns}}}c"
            v_tag, is_tag, t_tag = f"{{{ns}}}v", f"{{{ns}}}is", f"{{{ns}}}t"
            expected = 1
            for event, element in events:
                if event != "end" or element.tag != row_tag:
                    continue
                number_text = element.get("r")
                number = int(number_text) if number_text else expected
                while expected < number:
                    yield []
                    expected += 1
                values: list[Any] = []
                for cell in element.iter(cell_tag):
                    ref = cell.get("r")
                    column = _column_index(ref) if ref else len(values)
                    kind = cell.get("t", "n")
                    value: Any = None
                    if kind == "inlineStr":
                        inline = cell.find(is_tag)
                        if inline is not None:
                            value = "".join(t.text or "" for t in inline.iter(t_tag))
                    else:
                        v = cell.find(v_tag)
                        text = v.text if v is not None else None
                        if text is not None:
                            if kind == "s":
                                value = shared[int(text)]
                            elif kind == "n":
                                value = _number(text)
                            elif kind == "b":
                                value = text == "1"
                            else:  # str (formula text), e (error), d (ISO date)
                                value = text
                    if column >= len(values):
                        values.extend([None] * (column - len(values) + 1))
                    values[column] = value
                yield values
                expected = number + 1
                element.clear()
