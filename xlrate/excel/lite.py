"""The xlwings Lite edition: the Excel functions on Windows, Mac and Excel on the web.

xlwings Lite (a free Office add-in) runs Python in the browser through Pyodide and keeps the
code inside the workbook: ``xl/webextensions/webextension1.xml`` holds ``main.py`` and
``requirements.txt`` as properties of the add-in's web extension. ``build_lite`` writes a
plain .xlsx (no macros) whose ``main.py`` registers ``MEDICARE_RATE``, ``PCT_MEDICARE``,
``MEDICARE_NOTE`` and ``MEDICARE_LOCALITY`` and a script that reprices the Medicare sheet.
The code only forwards to :mod:`xlrate.medicare.cells`, which needs nothing but the standard
library and xlrate's embedded Medicare data, so the functions work offline once the add-in
has installed the package.

What the parts look like was learnt from a workbook the Lite add-in saved (see
``docs/excel.md``): the web extension references the add-in by its store id
(``wa200008175``, OMEX), each property value is a JSON-encoded string, a task pane part
points at the extension, and ``containsCustomFunctions`` tells Excel to load the functions
when the workbook opens.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from xlrate import __version__
from xlrate.errors import ReportError
from xlrate.files import atomic_path
from xlrate.medicare.cells import ARGUMENT_HELP, FUNCTION_HELP

LITE_STORE_ID = "wa200008175"
LITE_ADDIN_VERSION = "1.0.0.0-18"
PYODIDE_VERSION = "0.27.5"
XLWINGS_VERSION = "0.37.8"

EXAMPLE_CODES = (
    ("99213", ""),
    ("99214", ""),
    ("99203", ""),
    ("93000", ""),
    ("71046", "26"),
    ("20610", ""),
    ("36415", ""),
    ("G0008", ""),
)

WEBEXTENSION_PART = "xl/webextensions/webextension1.xml"
TASKPANES_PART = "xl/webextensions/taskpanes.xml"


def requirements(package: str | None = None) -> str:
    """The Lite requirements: what the add-in needs, then xlrate itself.

    ``package`` is a requirement line for xlrate: the default names the release on PyPI;
    a URL of a wheel you host works too (it must allow CORS).
    """
    lines = [
        f"xlwings=={XLWINGS_VERSION}  # required",
        "python-dotenv  # required",
        "pyodide-http  # required",
        "black  # required",
        package or f"xlrate=={__version__}",
    ]
    return "\n".join(lines)


def _doc(name: str, args: tuple[str, ...]) -> str:
    lines = [FUNCTION_HELP[name], "", "Arguments:"]
    lines += [f"    {arg}: {ARGUMENT_HELP[arg]}" for arg in args]
    return "\n".join(lines)


def main_py() -> str:
    """The ``main.py`` stored in the workbook: thin wrappers over xlrate.medicare.cells."""
    rate_args = ("code", "modifier", "locality", "setting", "year")
    return f'''"""xlrate Lite: Medicare amounts as Excel functions (xlwings Lite).

Written by `xlrate addin build --lite` (xlrate {__version__}). The work is done by
xlrate.medicare.cells; these wrappers only register the functions with Excel.
Pass the workbook's Locality and MedicareYear cells as arguments, e.g.
    =MEDICARE_RATE(A5, B5, Locality, "nonfacility", MedicareYear)
so that Excel recalculates the cells when you change them.
"""

import xlwings as xw
from xlwings import arg, func, script

from xlrate.medicare import cells


@func
@arg("code", ndim=2)
@arg("modifier", ndim=2)
@arg("locality", ndim=2)
@arg("setting", ndim=2)
@arg("year", ndim=2)
def MEDICARE_RATE(code, modifier=None, locality=None, setting=None, year=None):
    """{_doc("MEDICARE_RATE", rate_args)}"""
    return cells.medicare_rate(code, modifier, locality, setting, year)


@func
@arg("code", ndim=2)
@arg("modifier", ndim=2)
@arg("locality", ndim=2)
@arg("setting", ndim=2)
@arg("year", ndim=2)
def MEDICARE_NOTE(code, modifier=None, locality=None, setting=None, year=None):
    """{_doc("MEDICARE_NOTE", rate_args)}"""
    return cells.medicare_note(code, modifier, locality, setting, year)


@func
@arg("rate", ndim=2)
@arg("code", ndim=2)
@arg("modifier", ndim=2)
@arg("locality", ndim=2)
@arg("setting", ndim=2)
@arg("year", ndim=2)
def PCT_MEDICARE(rate, code, modifier=None, locality=None, setting=None, year=None):
    """{_doc("PCT_MEDICARE", ("rate",) + rate_args)}"""
    return cells.pct_medicare(rate, code, modifier, locality, setting, year)


@func
@arg("zip_code", ndim=2)
def MEDICARE_LOCALITY(zip_code):
    """{_doc("MEDICARE_LOCALITY", ("zip",))}"""
    return cells.medicare_locality(zip_code)


@script
def reprice_medicare_sheet(book: xw.Book):
    """Reprice the Medicare sheet: the Medicare amounts of its codes for Locality and MedicareYear."""
    sheet = book.sheets["Medicare"]
    locality = sheet["{_LOCALITY_CELL}"].value
    year = sheet["{_YEAR_CELL}"].value
    rows = sheet["{_FIRST_CODE_CELL}"].expand("down").resize(column_size=2).value
    if rows and not isinstance(rows[0], list):
        rows = [rows]
    out = cells.reprice_rows(rows or [], locality, year)
    if out:
        sheet["{_FIRST_AMOUNT_CELL}"].value = [[amount] for amount, _ in out]
        sheet["{_FIRST_NOTE_CELL}"].value = [[note] for _, note in out]
'''


# Where the inputs and the code table sit on the Medicare sheet of the Lite workbook.
_LOCALITY_CELL = "B3"
_YEAR_CELL = "B4"
_HEADER_ROW = 6
_FIRST_CODE_CELL = f"A{_HEADER_ROW + 1}"
_FIRST_AMOUNT_CELL = f"C{_HEADER_ROW + 1}"
_FIRST_NOTE_CELL = f"E{_HEADER_ROW + 1}"


def _workbook(path: Path, locality: str, year: int | None) -> None:
    """The visible part: a Medicare sheet with named inputs, example codes and live formulas."""
    from openpyxl import Workbook  # lazy: openpyxl only to build the file
    from openpyxl.workbook.defined_name import DefinedName  # lazy: openpyxl loads on use

    wb = Workbook()
    ws = wb.active
    ws.title = "Medicare"
    ws["A1"] = "xlrate Lite: Medicare amounts for your locality"
    ws["A3"], ws[_LOCALITY_CELL] = "Locality", locality
    ws["A4"], ws[_YEAR_CELL] = "Medicare year", year if year is not None else None
    ws["C3"] = "MAC-LOC (01112-05), NATIONAL or a ZIP code"
    ws["C4"] = "empty: the release in force today"
    for col, head in zip(
        "ABCDE",
        ("Code", "Modifier", "Medicare (script)", "Live function", "Why no amount"),
        strict=True,
    ):
        ws[f"{col}{_HEADER_ROW}"] = head
    for i, (code, modifier) in enumerate(EXAMPLE_CODES, start=_HEADER_ROW + 1):
        ws[f"A{i}"] = code
        ws[f"B{i}"] = modifier or None
        # Typed here as text: the functions exist only where the Lite add-in runs, and a
        # formula cell stored without it would read #NAME? in other spreadsheets.
        ws[f"D{i}"] = f'=MEDICARE_RATE(A{i}, B{i}, Locality, "nonfacility", MedicareYear)'
        ws[f"D{i}"].data_type = "s"
    for name, cell in (("Locality", _LOCALITY_CELL), ("MedicareYear", _YEAR_CELL)):
        wb.defined_names[name] = DefinedName(name, attr_text=f"Medicare!${cell[0]}${cell[1:]}")
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["C"].width = 20
    ws.column_dimensions["D"].width = 62
    ws.column_dimensions["E"].width = 40
    notes = wb.create_sheet("Read me")
    lines = [
        "xlrate Lite (xlwings Lite edition)",
        "",
        "1. Install the free xlwings Lite add-in (Home > Add-ins > search 'xlwings Lite').",
        "2. Open this workbook and the xlwings Lite task pane: it installs xlrate (requirements.txt).",
        '3. Type a formula, e.g. =MEDICARE_RATE(A7, B7, Locality, "nonfacility", MedicareYear),',
        "   or run the script 'reprice_medicare_sheet' to fill column C.",
        "",
        "Functions: " + ", ".join(sorted(FUNCTION_HELP)),
        *[f"  {name}: {text}" for name, text in sorted(FUNCTION_HELP.items())],
        "",
        "A code Medicare does not price gives #N/A (so IFERROR/ISNA work); MEDICARE_NOTE says why.",
        "The Medicare data travels with the package: no internet needed after installation.",
    ]
    for i, line in enumerate(lines, start=1):
        notes[f"A{i}"] = line
        notes[f"A{i}"].data_type = "s"
    notes.column_dimensions["A"].width = 100
    wb.save(path)


def _webextension_xml(code: str, reqs: str) -> str:
    def prop(name: str, value: str) -> str:
        attr = {'"': "&quot;", "\n": "&#10;"}
        return (
            f'<we:property name="{escape(name, attr)}" value="{escape(json.dumps(value), attr)}"/>'
        )

    props = "".join(
        [
            prop("main.py", code),
            prop("requirements.txt", reqs),
            prop("pyodideVersion", PYODIDE_VERSION),
            prop("addinVersion", LITE_ADDIN_VERSION),
        ]
    )
    ext_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xlrate-lite")).upper() + "}"
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<we:webextension xmlns:we="http://schemas.microsoft.com/office/webextensions/'
        f'webextension/2010/11" id="{ext_id}">'
        f'<we:reference id="{LITE_STORE_ID}" version="1.0.0.0" store="en-US" storeType="OMEX"/>'
        '<we:alternateReferences><we:reference id="'
        f'{LITE_STORE_ID.upper()}" version="1.0.0.0" store="{LITE_STORE_ID.upper()}" '
        'storeType="OMEX"/></we:alternateReferences>'
        f"<we:properties>{props}</we:properties><we:bindings/>"
        '<we:snapshot xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"/>'
        '<we:extLst><a:ext xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'uri="{D87F86FE-615C-45B5-9D79-34F1136793EB}"><we:containsCustomFunctions/></a:ext>'
        '<a:ext xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'uri="{7C84B067-C214-45C3-A712-C9D94CD141B2}"><we:customFunctionIdList/></a:ext>'
        "</we:extLst></we:webextension>"
    )


_TASKPANES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11">'
    '<wetp:taskpane dockstate="right" visibility="1" width="438" row="3">'
    '<wetp:webextensionref xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'r:id="rId1"/></wetp:taskpane></wetp:taskpanes>'
)
_TASKPANES_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.microsoft.com/office/2011/relationships/webextension" '
    'Target="webextension1.xml"/></Relationships>'
)
_CONTENT_TYPES = (
    f'<Override PartName="/{TASKPANES_PART}" ContentType="application/vnd.ms-office.webextensiontaskpanes+xml"/>'
    f'<Override PartName="/{WEBEXTENSION_PART}" ContentType="application/vnd.ms-office.webextension+xml"/>'
)
_ROOT_REL = (
    '<Relationship Id="rIdXlrateLite" '
    'Type="http://schemas.microsoft.com/office/2011/relationships/webextensiontaskpanes" '
    f'Target="{TASKPANES_PART}"/>'
)


def _add_web_extension(src: Path, dst: Path, code: str, reqs: str) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", _CONTENT_TYPES.encode() + b"</Types>")
            elif item.filename == "_rels/.rels":
                data = data.replace(b"</Relationships>", _ROOT_REL.encode() + b"</Relationships>")
            zout.writestr(item, data)
        zout.writestr(WEBEXTENSION_PART, _webextension_xml(code, reqs))
        zout.writestr(TASKPANES_PART, _TASKPANES_XML)
        zout.writestr("xl/webextensions/_rels/taskpanes.xml.rels", _TASKPANES_RELS)


def build_lite(
    output: Path,
    *,
    locality: str = "NATIONAL",
    year: int | None = None,
    package: str | None = None,
    force: bool = False,
) -> Path:
    """Write the xlwings Lite workbook (a plain .xlsx, no macros) and return its path."""
    output = Path(output)
    if output.exists() and not force:
        raise ReportError(
            f"{output} exists: use --force to replace it (the old one is kept as .bak)"
        )
    with atomic_path(output, backup=force) as tmp:
        plain = tmp.with_name(tmp.name + ".plain.xlsx")
        try:
            _workbook(plain, locality, year)
            _add_web_extension(plain, tmp, main_py(), requirements(package))
        finally:
            plain.unlink(missing_ok=True)
    return output


def read_lite_parts(path: Path) -> dict[str, str]:
    """The Lite properties stored in a workbook (main.py, requirements.txt, versions)."""
    from defusedxml import ElementTree  # lazy: only tests and doctor read the parts back

    with zipfile.ZipFile(path) as zf:
        root = ElementTree.fromstring(zf.read(WEBEXTENSION_PART))
    ns = "{http://schemas.microsoft.com/office/webextensions/webextension/2010/11}"
    return {
        str(prop.get("name")): json.loads(str(prop.get("value")))
        for prop in root.iter(f"{ns}property")
    }
