"""The macro workbook: ``xlrate addin build`` writes ``xlrate.xlsm``.

The workbook is the analysis template (``workbook/template.xlsx``) plus:

- our own VBA, kept as text in ``xlrate/excel/vba/`` (the button macros and the
  ``Workbook_Open`` that gives the functions their help text);
- xlwings' standalone VBA module (``xlwings.bas``, and ``Dictionary.cls`` that it needs on
  Mac), read from the installed xlwings package so the VBA always matches the Python side;
- the UDF wrapper module that xlwings' own generator
  (:func:`xlwings.udfs.generate_vba_wrapper`) writes for :mod:`xlrate.excel.functions`,
  so the functions work without an "Import Functions" click;
- one Forms button per macro, bound in the drawing, VML and control parts as Excel binds
  them;
- a hidden ``xlwings.conf`` sheet naming the UDF module (and the interpreter, if given).

Nothing needs "Trust access to the VBA project object model": the VBA project is written
into the file with pyopenvba (pure Python, any OS), not through Excel.

xlwings' generator lives in ``xlwings.udfs``, which imports pywin32 at the top. Off
Windows we stand in for exactly those three COM modules while the generator runs and
remove the stand-ins afterwards; the generator itself, and our functions module, run
unchanged.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import re
import shutil
import sys
import tempfile
import types
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from xlrate.errors import ReportError
from xlrate.files import atomic_path, describe_read_error, save_workbook

FUNCTIONS_MODULE = "xlrate.excel.functions"
UDF_WRAPPER_MODULE = "xlwings_udfs"
HELP_MODULE = "xlrate_function_help"
CONF_SHEET = "xlwings.conf"
DEFAULT_OUTPUT = "xlrate.xlsm"
#: The workbook name holding the practice profile's path (read by Rebuild analysis).
PROFILE_NAME = "Profile"

_MACRO_ENABLED = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
_WORKBOOK_MAIN = re.compile(
    r'(<Override[^>]*PartName="/xl/workbook.xml"[^>]*ContentType=")[^"]*(")'
)
# Forms-control properties with no linked cell or list: Excel omits the attributes.
_EMPTY_BINDING = re.compile(rb'\s(?:fmlaLink|fmlaRange)=""')
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# A cell calling one of our functions, with the error value a calculation without them left.
_STALE_UDF_VALUE = re.compile(
    r'(<c [^>]*?)\s+t="e"([^>]*>\s*<f[^>]*>[^<]*(?:PCT_MEDICARE|MEDICARE_RATE|MEDICARE_LOCALITY)'
    r"[^<]*</f>)\s*<v>#[A-Z0-9/!?]+</v>"
)


@dataclass(frozen=True)
class Button:
    macro: str
    caption: str


#: The buttons, in the order they appear, each bound to a macro in xlrate/excel/vba.
BUTTONS: tuple[Button, ...] = (
    Button("RefreshMedicareRates", "Refresh Medicare rates"),
    Button("RebuildAnalysis", "Rebuild analysis"),
    Button("PrepareToShare", "Prepare to share"),
    Button("EmailWorkbook", "Email"),
)

#: Sheets the buttons go on, first one present wins (else the first sheet).
BUTTON_SHEETS = ("Summary", "Settings", "Start")


def vba_source_dir() -> Path:
    """Our VBA source, kept as text beside this module (shipped as package data)."""
    path = Path(__file__).resolve().parent / "vba"
    if not (path / "xlrate_buttons.bas").is_file():
        raise ReportError(
            f"the VBA source (xlrate_buttons.bas) is missing from {path}: reinstall xlrate"
        )
    return path


def default_template() -> Path | None:
    """The analysis template (the packaged copy of ``workbook/template.xlsx``)."""
    # lazy: pandas and the report load only when a workbook is built
    from xlrate.report.workbook import default_template as report_template

    path = report_template()
    return path if path.is_file() else None


def xlwings_vba_module() -> str:
    """xlwings' standalone VBA module, from the installed xlwings."""
    return (resources.files("xlwings") / "xlwings.bas").read_text(encoding="utf-8")


def xlwings_dictionary_class() -> str:
    """The Dictionary class xlwings' module uses on Mac (Scripting.Dictionary on Windows)."""
    return (resources.files("xlwings") / "addin" / "Dictionary.cls").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# xlwings' generator, on any OS
# --------------------------------------------------------------------------------------

_COM_MODULES = ("pythoncom", "pywintypes", "win32com", "win32com.client")


def _com_stand_ins() -> dict[str, types.ModuleType]:
    """Minimal pythoncom / pywintypes / win32com.client: what ``xlwings.udfs`` touches at import."""

    def no_com(*_: Any, **__: Any) -> Any:
        raise RuntimeError("COM is not available: this is a stand-in for the VBA generator")

    pythoncom = types.ModuleType("pythoncom")
    pythoncom.CoInitialize = lambda: None  # type: ignore[attr-defined]
    pywintypes = types.ModuleType("pywintypes")
    pywintypes.com_error = type("com_error", (Exception,), {})  # type: ignore[attr-defined]
    win32com = types.ModuleType("win32com")
    win32com.__path__ = []
    client = types.ModuleType("win32com.client")
    client.Dispatch = no_com  # type: ignore[attr-defined]
    win32com.client = client  # type: ignore[attr-defined]
    return {
        "pythoncom": pythoncom,
        "pywintypes": pywintypes,
        "win32com": win32com,
        "win32com.client": client,
    }


@contextlib.contextmanager
def xlwings_udfs() -> Iterator[types.ModuleType]:
    """``xlwings.udfs`` imported, with COM stand-ins where pywin32 is absent; tidied after."""
    # lazy: xlwings (and its COM modules) load only when the add-in is built
    import xlwings

    watched = (*_COM_MODULES, "xlwings.udfs")
    before = {name: sys.modules.get(name) for name in watched}
    had_attr = hasattr(xlwings, "udfs")
    try:
        # lazy: pythoncom exists only on Windows; elsewhere stand-ins are used
        import pythoncom  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        sys.modules.update(_com_stand_ins())
    try:
        module = importlib.import_module("xlwings.udfs")
        yield module
    finally:
        for name, previous in before.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous
        if not had_attr and hasattr(xlwings, "udfs"):
            delattr(xlwings, "udfs")


@contextlib.contextmanager
def functions_with_metadata() -> Iterator[types.ModuleType]:
    """The functions module with xlwings' real decorators applied (``__xlfunc__`` set).

    On Windows that is the imported module. Elsewhere xlwings' decorators are no-ops, so
    a fresh copy of the module is executed with ``xw.func``/``arg``/``ret`` pointing at
    ``xlwings.udfs``' decorators, exactly what they are on Windows.
    """
    # lazy: xlwings (and its COM modules) load only when the add-in is built
    import xlwings

    from xlrate.excel import functions  # lazy: loaded on use, keeping this module's import light

    if all(hasattr(f, "__xlfunc__") for f in functions.FUNCTIONS.values()):
        yield functions
        return
    with xlwings_udfs() as udfs:
        saved = {name: getattr(xlwings, name) for name in ("func", "arg", "ret")}
        xlwings.func, xlwings.arg, xlwings.ret = udfs.xlfunc, udfs.xlarg, udfs.xlret
        spec_name = "xlrate.excel._functions_for_vba"
        try:
            spec = importlib.util.spec_from_file_location(spec_name, functions.__file__)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec_name] = module  # dataclasses look their module up while executing
            spec.loader.exec_module(module)
        finally:
            sys.modules.pop(spec_name, None)
            for name, value in saved.items():
                setattr(xlwings, name, value)
        yield module


class _BookName:
    """What the generator asks of the workbook: its name (``.xlam`` -> ActiveWorkbook)."""

    def __init__(self, name: str) -> None:
        self.Name = name


def udf_wrapper_module(workbook_name: str = DEFAULT_OUTPUT) -> str:
    """The ``xlwings_udfs`` VBA module, as xlwings' "Import Functions" writes it."""
    buffer = io.StringIO()
    with xlwings_udfs() as udfs, functions_with_metadata() as module:
        writer = udfs.VBAWriter(buffer)
        writer.writeln(f'Attribute VB_Name = "{UDF_WRAPPER_MODULE}"')
        writer.writeln("'Autogenerated code by xlwings - changes will be lost with next import!")
        writer.writeln("""#Const App = "Microsoft Excel" 'Adjust when using outside of Excel""")
        udfs.generate_vba_wrapper(FUNCTIONS_MODULE, module, buffer, _BookName(workbook_name))
    return errors_as_errors(buffer.getvalue())


_CALL = re.compile(r"^(\s*)(\w+) = (XLPy\.CallUDF\(.*\))\s*$", re.M)
_FAILED = re.compile(r"^failed:\n(\s*)(\w+) = Err\.Description$", re.M)


def errors_as_errors(wrapper: str) -> str:
    """Make xlwings' wrappers hand Excel real error values, never error text.

    xlwings' generator returns ``Err.Description`` when Python or its DLL cannot be reached
    ("File not found: xlwings64-....dll"): text that SUM skips, that compares above every
    number, and that a shared copy would carry as if it were a result. Here a failure gives
    ``#N/A`` (the description goes to the status bar), and the ``"#N/A"`` our functions return
    for a code Medicare does not price becomes Excel's ``#N/A`` (``XlrateResult`` in the
    help module), so ISNA and IFERROR work.
    """
    wrapper = _CALL.sub(r"\1\2 = XlrateResult(\3)", wrapper)
    return _FAILED.sub(
        'failed:\n\\1Application.StatusBar = "xlrate: " & Err.Description\n\\1\\2 = CVErr(xlErrNA)',
        wrapper,
    )


def _vba_string(text: str) -> str:
    return '"' + " ".join(text.split()).replace('"', '""')[:255] + '"'


def function_help_module() -> str:
    """``RegisterXlrateFunctions``: descriptions, argument help and category via MacroOptions.

    xlwings' import does this through COM at import time; a built workbook does it when
    it opens, from the same metadata.
    """
    lines = [
        f'Attribute VB_Name = "{HELP_MODULE}"',
        "' Generated by `xlrate addin build` from xlrate.excel.functions: do not edit.",
        "Option Explicit",
        "",
        "Public Sub RegisterXlrateFunctions()",
        "    Dim wasSaved As Boolean",
        "    Dim book As String",
        "    wasSaved = ThisWorkbook.Saved",
        "    ' Qualified as xlwings' Import Functions does: 'name.xlsm'!FUNCTION",
        '    book = "\'" & Replace(ThisWorkbook.Name, "\'", "\'\'") & "\'!"',
        "    On Error Resume Next",
    ]
    with functions_with_metadata() as module:
        for name in module.FUNCTIONS:
            info = getattr(module, name).__xlfunc__
            docs = [
                _vba_string(arg["doc"])
                for arg in info["args"]
                if not arg["vba"] and arg["name"] != "caller"
            ]
            lines += [
                "    Application.MacroOptions _",
                f"""        Macro:=book & "{name}", _""",
                f"        Description:={_vba_string(info['ret']['doc'])}, _",
                f'        Category:="{info["category"]}", _',
                "        ArgumentDescriptions:=Array( _",
                *[f"            {doc}, _" for doc in docs[:-1]],
                f"            {docs[-1]})",
            ]
    lines += ["    ThisWorkbook.Saved = wasSaved", "End Sub", ""]
    lines += RESULT_FUNCTION.splitlines()
    return "\r\n".join(lines)


#: Turns the "#N/A" our functions return (one cell or every cell of a range) into Excel's
#: #N/A error value, so a cell Medicare does not price is an error, not text.
RESULT_FUNCTION = """
Public Function XlrateResult(ByVal value As Variant) As Variant
    Dim r As Long, c As Long, dims As Long
    If IsArray(value) Then
        dims = 1
        On Error Resume Next
        c = LBound(value, 2)
        If Err.Number = 0 Then dims = 2
        Err.Clear
        On Error GoTo 0
        If dims = 2 Then
            For r = LBound(value, 1) To UBound(value, 1)
                For c = LBound(value, 2) To UBound(value, 2)
                    If VarType(value(r, c)) = vbString Then
                        If value(r, c) = "#N/A" Then value(r, c) = CVErr(xlErrNA)
                    End If
                Next c
            Next r
        Else
            For r = LBound(value) To UBound(value)
                If VarType(value(r)) = vbString Then
                    If value(r) = "#N/A" Then value(r) = CVErr(xlErrNA)
                End If
            Next r
        End If
    ElseIf VarType(value) = vbString Then
        If value = "#N/A" Then value = CVErr(xlErrNA)
    End If
    XlrateResult = value
End Function
"""


# --------------------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------------------


def _base_workbook(template: Path | None) -> Any:
    # lazy: openpyxl loads only when a workbook is built or read
    import openpyxl

    if template is not None:
        try:
            return openpyxl.load_workbook(template)
        except Exception as exc:
            raise ReportError(
                f"cannot read the template {template}: {describe_read_error(exc)}"
            ) from None
    return _minimal_base()


def _minimal_base() -> Any:
    """A small workbook with the settings the functions read, for when no template exists."""
    # lazy: openpyxl loads only when a workbook is built or read
    import openpyxl
    from openpyxl.workbook.defined_name import DefinedName

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "xlrate: payer rates against Medicare"
    ws["A3"], ws["B3"] = "Locality", "NATIONAL"
    ws["A4"], ws["B4"] = "Medicare year", None
    ws["A5"], ws["B5"] = "Setting", "nonfacility"
    for name, ref in (("Locality", "B3"), ("MedicareYear", "B4"), ("Setting", "B5")):
        col, row = ref[0], ref[1:]
        wb.defined_names[name] = DefinedName(name, attr_text=f"Summary!${col}${row}")
    ws["A7"], ws["B7"], ws["C7"], ws["D7"] = "Code", "Payer rate", "Medicare", "% of Medicare"
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 14
    return wb


def _build_analysis(profile: Path, output: Path) -> Path:
    """The analysis workbook for ``profile``, as ``xlrate build`` writes it."""
    # lazy: pandas and the report load only when a workbook is built
    from xlrate.analysis import analyze, load_profile
    from xlrate.report import build_workbook

    build_workbook(analyze(load_profile(profile)), output, force=True)
    return output


#: The sheet of live function cells in the macro workbook.
FUNCTIONS_SHEET = "Functions"


def _add_functions_sheet(wb: Any) -> None:
    """Live MEDICARE_RATE / MEDICARE_NOTE cells for the workbook's codes.

    Each formula passes the ``Locality`` and ``MedicareYear`` cells as arguments, so Excel
    knows the dependency and recalculates the cells when either changes (F9 is enough).
    """
    from xlrate.excel.lite import EXAMPLE_CODES  # lazy: the codes every practice bills

    if FUNCTIONS_SHEET in wb.sheetnames:
        del wb[FUNCTIONS_SHEET]
    from openpyxl.workbook.defined_name import DefinedName  # lazy: openpyxl loads on use

    defined = {name.upper() for name in wb.defined_names}
    ws = wb.create_sheet(FUNCTIONS_SHEET)
    # A workbook without the analysis's named settings gets its own, here.
    for cell, label, name, value in (
        ("G3", "Locality", "Locality", "NATIONAL"),
        ("G4", "Medicare year", "MedicareYear", None),
    ):
        if name.upper() not in defined:
            ws[f"F{cell[1:]}"] = label
            ws[cell] = value
            wb.defined_names[name] = DefinedName(name, attr_text=f"{FUNCTIONS_SHEET}!$G${cell[1:]}")
    locality, year = "Locality", "MedicareYear"
    ws["A1"] = (
        "Live Medicare amounts (xlrate functions; recalculate when Locality or MedicareYear change)"
    )
    ws["A1"].data_type = "s"
    for col, head in zip(
        "ABCDE", ("Code", "Modifier", "Office", "Facility", "Why no amount"), strict=True
    ):
        ws[f"{col}3"] = head
    for row, (code, modifier) in enumerate(EXAMPLE_CODES, start=4):
        ws[f"A{row}"] = code
        ws[f"B{row}"] = modifier or None
        ws[f"C{row}"] = f'=MEDICARE_RATE(A{row},B{row},{locality},"nonfacility",{year})'
        ws[f"D{row}"] = f'=MEDICARE_RATE(A{row},B{row},{locality},"facility",{year})'
        ws[f"E{row}"] = f'=MEDICARE_NOTE(A{row},B{row},{locality},"nonfacility",{year})'
    ws.column_dimensions["A"].width = 12
    ws.column_dimensions["E"].width = 60


def _button_sheet(wb: Any) -> Any:
    for name in BUTTON_SHEETS:
        if name in wb.sheetnames:
            return wb[name]
    return wb.worksheets[0]


def _right_of_content_points(ws: Any) -> float:
    """Points from the left edge to one column right of the top rows' used columns."""
    # lazy: openpyxl loads only when a workbook is built or read
    from openpyxl.utils import get_column_letter

    # Only the rows beside the buttons count: a wide table further down may pass under them.
    top_rows = ws.iter_rows(min_row=1, max_row=min(ws.max_row, 11))
    used = max((c.column for row in top_rows for c in row if c.value is not None), default=1)
    total = 0.0
    for index in range(1, max(used + 1, 4) + 1):
        dim = ws.column_dimensions.get(get_column_letter(index))
        width = dim.width if dim is not None and dim.width else 8.43
        total += (width * 7 + 5) * 0.75  # Calibri 11: 7 px per character, 5 px padding
    return total + 12


def _home_relative(path: str, windows: bool) -> str:
    """``path`` under the user's home written with xlwings' home variable, else unchanged.

    xlwings expands ``%USERPROFILE%`` on Windows and ``$HOME`` on Mac, so a workbook built in
    one account finds the same virtual environment in another person's account.
    """
    home = str(Path.home())
    if path.startswith(home + os.sep) or path.startswith(home + "/"):
        rest = path[len(home) + 1 :]
        if windows:
            return "%USERPROFILE%\\" + rest.replace("/", "\\")
        return "$HOME/" + rest.replace("\\", "/")
    return path


def default_interpreters(python: str | None = None) -> dict[str, str]:
    """Interpreter_Win and Interpreter_Mac for xlwings.conf: the Python running this build.

    On the OS of the build that is this Python (pythonw.exe on Windows, so no console window
    opens); for the other OS, the same virtual environment's layout (``Scripts\\pythonw.exe``
    and ``bin/python``), under the same home-relative path. ``--interpreter-win`` and
    ``--interpreter-mac`` override either; ``xlrate doctor`` checks the one that applies.
    """
    exe = Path(python or sys.executable)
    windows_build = sys.platform == "win32"
    env = exe.parent.parent  # <env>/bin/python or <env>\\Scripts\\python.exe
    if windows_build:
        win = str(exe.with_name("pythonw.exe")) if exe.name.lower() == "python.exe" else str(exe)
        mac = str(env / "bin" / "python")
    else:
        mac = str(exe)
        win = str(env / "Scripts" / "pythonw.exe")
    return {
        "Interpreter_Win": _home_relative(win, windows=True),
        "Interpreter_Mac": _home_relative(mac, windows=False),
    }


def _add_conf_sheet(wb: Any, interpreters: dict[str, str]) -> None:
    if CONF_SHEET in wb.sheetnames:
        del wb[CONF_SHEET]
    ws = wb.create_sheet(CONF_SHEET)
    rows = [("UDF Modules", FUNCTIONS_MODULE), *sorted(interpreters.items())]
    for r, (key, value) in enumerate(rows, start=1):
        ws.cell(r, 1, key)
        ws.cell(r, 2, value)
    ws.sheet_state = "hidden"


def _rewrite_package(path: Path) -> None:
    """Make the package macro-enabled and declare ``r:`` where a sheet uses it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                text = data.decode("utf-8")
                text = _WORKBOOK_MAIN.sub(rf"\g<1>{_MACRO_ENABLED}\g<2>", text)
                data = text.encode("utf-8")
            elif item.filename.startswith("xl/worksheets/sheet") and item.filename.endswith(".xml"):
                text = data.decode("utf-8")
                root_end = text.find(">", text.find("<worksheet"))
                root = text[:root_end]
                if "xmlns:r=" not in root:
                    text = root + f' xmlns:r="{_R_NS}"' + text[root_end:]
                # pyopenvba calculates on save and knows no xlrate function: drop the
                # #NAME? it caches, so nothing reads it before Excel recalculates.
                text = _STALE_UDF_VALUE.sub(r"\g<1>\g<2>", text)
                data = text.encode("utf-8")
            elif item.filename.startswith("xl/ctrlProps/"):
                data = _EMPTY_BINDING.sub(b"", data)
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def _check_package(path: Path) -> None:
    """Every XML part parses: Excel refuses a file with one that does not."""
    # lazy: defusedxml loads only when a built package is checked
    from defusedxml import ElementTree

    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                try:
                    ElementTree.fromstring(z.read(name))
                except Exception as exc:
                    raise ReportError(
                        f"built workbook part {name} is not valid XML: {exc}"
                    ) from exc


def _add_buttons(path: Path, sheet_name: str, left: float) -> None:
    # lazy: pyopenvba loads only when the VBA project is written
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(path, with_vba=False)
    sheet = app.sheet(sheet_name)
    top = 12.0
    for button in BUTTONS:
        sheet.add_button(
            name=f"btn{button.macro}",
            left=left,
            top=top,
            width=170,
            height=28,
            text=button.caption,
            macro=button.macro,
        )
        top += 36
    app.save(path)


def _read_vba_sources() -> tuple[list[tuple[str, str]], str]:
    """Our standard modules (name, source) and the ThisWorkbook body."""
    folder = vba_source_dir()
    modules = []
    for bas in sorted(folder.glob("*.bas")):
        modules.append((bas.stem, bas.read_text(encoding="utf-8")))
    this_workbook = folder / "ThisWorkbook.cls"
    body = this_workbook.read_text(encoding="utf-8") if this_workbook.is_file() else ""
    return modules, body


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def _add_vba(path: Path, output: Path, workbook_name: str) -> None:
    # lazy: pyopenvba loads only when the VBA project is written
    from pyopenvba import ExcelFile
    from pyopenvba.vba import VBAModuleKind

    modules, this_workbook = _read_vba_sources()
    with ExcelFile(path) as book:
        project = book.add_vba_project()
        project.add_module("xlwings", _crlf(xlwings_vba_module()))
        project.add_module(
            "Dictionary", _crlf(xlwings_dictionary_class()), kind=VBAModuleKind.other
        )
        for name, source in modules:
            project.add_module(name, _crlf(source))
        project.add_module(UDF_WRAPPER_MODULE, _crlf(udf_wrapper_module(workbook_name)))
        project.add_module(HELP_MODULE, _crlf(function_help_module()))
        if this_workbook:
            document = next(m.name for m in project.modules if m.name.lower() == "thisworkbook")
            book.set_module(document, _crlf(this_workbook))
        book.save(output)
    _vba_project_stream_per_spec(output)


#: [MS-OVBA] 2.3.4.1: Reserved1 0x61CC, Version 0xFFFF ("MUST be 0xFFFF on write", so Office
#: ignores the compiled caches and compiles the source), Reserved2 0x00, Reserved3, and no
#: performance cache. xlwings' own standalone workbook carries exactly these 7 bytes.
VBA_PROJECT_STREAM = bytes.fromhex("cc61ffff000100")


def _vba_project_stream_per_spec(path: Path) -> None:
    from pyopenvba.cfb import CFB  # lazy: pyopenvba loads on use

    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/vbaProject.bin":
                cfb = CFB.from_bytes(data)
                cfb.write_stream_in_storage("VBA", "_VBA_PROJECT", VBA_PROJECT_STREAM)
                data = cfb.to_bytes()
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def build_addin(
    output: Path | str = DEFAULT_OUTPUT,
    *,
    template: Path | str | None = None,
    interpreter: str | None = None,
    force: bool = False,
    profile: Path | str | None = None,
    interpreter_win: str | None = None,
    interpreter_mac: str | None = None,
) -> Path:
    """Write the macro workbook to ``output`` and return its path.

    ``template`` defaults to ``workbook/template.xlsx`` (a small built-in base when that
    does not exist). The ``xlwings.conf`` sheet names the Python that xlwings starts, for
    Windows and for Mac: ``interpreter`` (default: the Python running this build) and its
    counterpart on the other OS (see :func:`default_interpreters`), unless
    ``interpreter_win`` / ``interpreter_mac`` name them.
    ``profile`` (a practice.toml) is recorded in the workbook's ``Profile`` name for the
    Rebuild analysis button; without a ``template`` the analysis is built from it first.
    """
    output = Path(output)
    if profile is not None and template is None:
        with tempfile.TemporaryDirectory(prefix="xlrate-analysis-") as tmp:
            analysis = _build_analysis(Path(profile), Path(tmp) / "analysis.xlsx")
            return build_addin(
                output,
                template=analysis,
                interpreter=interpreter,
                force=force,
                profile=profile,
                interpreter_win=interpreter_win,
                interpreter_mac=interpreter_mac,
            )
    if output.suffix.lower() != ".xlsm":
        raise ReportError(f"{output} must end in .xlsm: Excel keeps macros only in .xlsm files")
    if output.exists() and not force:
        raise ReportError(f"{output} exists: pass --force to overwrite it")
    template_path = Path(template) if template is not None else default_template()
    if template_path is not None and not template_path.is_file():
        raise ReportError(f"template {template_path} not found")
    wb = _base_workbook(template_path)
    sheet = _button_sheet(wb)
    left = _right_of_content_points(sheet)
    interpreters = default_interpreters(interpreter)
    if interpreter_win:
        interpreters["Interpreter_Win"] = interpreter_win
    if interpreter_mac:
        interpreters["Interpreter_Mac"] = interpreter_mac
    _add_conf_sheet(wb, interpreters)
    _add_functions_sheet(wb)
    if profile is not None:
        # lazy: openpyxl loads only when a workbook is built or read
        from openpyxl.workbook.defined_name import DefinedName

        text = str(Path(profile).expanduser().resolve()).replace('"', '""')
        wb.defined_names[PROFILE_NAME] = DefinedName(PROFILE_NAME, attr_text=f'"{text}"')
    with tempfile.TemporaryDirectory(prefix="xlrate-addin-") as tmp:
        staged = Path(tmp) / "staged.xlsm"
        save_workbook(wb, staged)
        _rewrite_package(staged)
        _add_buttons(staged, sheet.title, left)
        _rewrite_package(staged)
        finished = Path(tmp) / output.name
        _add_vba(staged, finished, output.name)
        _check_package(finished)
        with atomic_path(output, backup=True) as tmp_out:
            shutil.copyfile(finished, tmp_out)
    return output


# --------------------------------------------------------------------------------------
# xlwings' own add-in, for users who prefer it
# --------------------------------------------------------------------------------------


def install_instructions() -> str:
    """How to use xlwings' add-in instead of the macro workbook."""
    return "\n".join(
        [
            "To use the xlrate functions from any workbook through xlwings' add-in (Windows):",
            "  1. xlwings addin install",
            f'  2. In Excel, xlwings ribbon tab > UDF Modules: "{FUNCTIONS_MODULE}"',
            "     (or add the line to ~/.xlwings/xlwings.conf:",
            f'      "UDF MODULES","{FUNCTIONS_MODULE}")',
            "  3. xlwings ribbon tab > Interpreter: the python of the environment with xlrate",
            "  4. Click Import Functions once per workbook (needs File > Options > Trust",
            "     Center > Macro Settings > Trust access to the VBA project object model).",
            "The workbook from `xlrate addin build` needs none of this: its functions are",
            "already wired.",
        ]
    )


def install_user_config(config_path: Path | None = None) -> Path:
    """Add ``UDF MODULES`` = the functions module to xlwings' user config file."""
    # lazy: xlwings (and its COM modules) load only when the add-in is built
    import xlwings

    path = Path(config_path) if config_path else Path(xlwings.USER_CONFIG_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    lines = [line for line in lines if not line.upper().startswith('"UDF MODULES"')]
    lines.append(f'"UDF MODULES","{FUNCTIONS_MODULE}"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
