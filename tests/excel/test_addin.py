"""The macro workbook, read back with oletools and by inspecting its package parts."""

from __future__ import annotations

import re
import sys
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree

from xlrate.errors import ReportError
from xlrate.excel import addin

with warnings.catch_warnings():  # oletools still uses pyparsing's old names
    warnings.simplefilter("ignore")
    from oletools.olevba import VBA_Parser

VBA_DIR = Path(addin.__file__).resolve().parent / "vba"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return addin.build_addin(tmp_path_factory.mktemp("addin") / "xlrate.xlsm")


@pytest.fixture(scope="module")
def modules(built: Path) -> dict[str, str]:
    parser = VBA_Parser(str(built))
    try:
        assert parser.detect_vba_macros()
        return {name.rsplit(".", 1)[0]: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


# --- xlwings' generator -------------------------------------------------------------------


def test_generator_declares_the_functions_with_their_arguments() -> None:
    vba = addin.udf_wrapper_module()
    signatures = dict(re.findall(r"^Function (\w+)\((.*)\)\s*$", vba, re.MULTILINE))
    assert signatures == {
        "PCT_MEDICARE": "rate, code, Optional modifier, Optional locality, "
        "Optional setting, Optional year",
        "MEDICARE_RATE": "code, Optional modifier, Optional locality, Optional setting, "
        "Optional year",
        "MEDICARE_NOTE": "code, Optional modifier, Optional locality, Optional setting, "
        "Optional year",
        "MEDICARE_LOCALITY": "zip",
    }
    # Each wrapper calls back into the functions module, passing the caller slot.
    assert 'XLPy.CallUDF("xlrate.excel.functions", "PCT_MEDICARE", Array(rate, code, ' in vba
    assert "Array(zip, Nothing), ThisWorkbook, Application.Caller)" in vba
    assert vba.startswith('Attribute VB_Name = "xlwings_udfs"')


@pytest.mark.skipif(sys.platform == "win32", reason="pywin32 is real on Windows")
def test_generator_leaves_no_com_stand_ins_behind() -> None:
    addin.udf_wrapper_module()
    for name in ("pythoncom", "pywintypes", "win32com", "win32com.client", "xlwings.udfs"):
        assert name not in sys.modules
    import xlwings

    assert not hasattr(xlwings, "udfs")
    from xlrate.excel import functions

    assert not hasattr(functions.MEDICARE_RATE, "__xlfunc__")  # the imported module untouched


def test_help_module_registers_category_and_argument_docs() -> None:
    vba = addin.function_help_module()
    assert vba.count('Category:="xlrate"') == 4
    assert "Positional argument" not in vba
    assert 'Macro:=book & "PCT_MEDICARE"' in vba and "Payer rate(s) in dollars" in vba


# --- the built workbook -------------------------------------------------------------------


def test_vba_project_holds_our_modules_xlwings_and_wrappers(modules: dict[str, str]) -> None:
    assert {
        "xlwings",
        "Dictionary",
        "xlrate_buttons",
        "xlwings_udfs",
        "xlrate_function_help",
    } <= set(modules)
    installed = addin.xlwings_vba_module()
    version = re.search(r"'Version: (\S+)", installed)
    assert version and f"'Version: {version.group(1)}" in modules["xlwings"]
    assert "Public Function RunPython(" in modules["xlwings"]
    for name in ("PCT_MEDICARE", "MEDICARE_RATE", "MEDICARE_LOCALITY"):
        assert re.search(rf"^Function {name}\(", modules["xlwings_udfs"], re.MULTILINE)
    ours = (VBA_DIR / "xlrate_buttons.bas").read_text(encoding="utf-8")
    for sub in re.findall(r"Public Sub (\w+)\(\)", ours):
        assert f"Public Sub {sub}()" in modules["xlrate_buttons"]
    assert "Private Sub Workbook_Open()" in modules["ThisWorkbook"]
    assert "RegisterXlrateFunctions" in modules["ThisWorkbook"]


def test_each_button_is_bound_to_its_macro(built: Path, modules: dict[str, str]) -> None:
    with zipfile.ZipFile(built) as z:
        names = z.namelist()
        sheet_xml = [
            z.read(n).decode()
            for n in names
            if n.startswith("xl/worksheets/sheet") and "<controls>" in z.read(n).decode()
        ]
        vml = "".join(z.read(n).decode() for n in names if n.endswith(".vml"))
        drawing = "".join(z.read(n).decode() for n in names if n.startswith("xl/drawings/drawing"))
        ctrl_props = [z.read(n).decode() for n in names if n.startswith("xl/ctrlProps/")]
    assert len(sheet_xml) == 1
    controls = dict(
        re.findall(
            r'<control [^>]*name="(\w+)"[^>]*>\s*<controlPr[^>]*macro="\[0\]!(\w+)"', sheet_xml[0]
        )
    )
    vml_macros = re.findall(r"<x:FmlaMacro>\[0\]!(\w+)</x:FmlaMacro>", vml)
    captions = re.findall(r"<div[^>]*>([^<]+)</div>", vml)
    for button in addin.BUTTONS:
        assert controls[f"btn{button.macro}"] == button.macro
        assert button.macro in vml_macros
        assert button.caption in captions
        assert f'name="btn{button.macro}"' in drawing
        assert f"Public Sub {button.macro}()" in modules["xlrate_buttons"]
    assert len(ctrl_props) == len(addin.BUTTONS)
    assert all('objectType="Button"' in p for p in ctrl_props)


def test_package_is_a_valid_macro_workbook(built: Path) -> None:
    with zipfile.ZipFile(built) as z:
        types = z.read("[Content_Types].xml").decode()
        assert "application/vnd.ms-excel.sheet.macroEnabled.main+xml" in types
        assert "xl/vbaProject.bin" in z.namelist()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
        assert "vbaProject" in rels
        for name in z.namelist():
            if name.endswith((".xml", ".rels", ".vml")):
                ElementTree.fromstring(z.read(name))
        assert 'codeName="ThisWorkbook"' in z.read("xl/workbook.xml").decode()
    wb = openpyxl.load_workbook(built)
    conf = wb[addin.CONF_SHEET]
    assert conf.sheet_state == "hidden"
    assert (conf["A1"].value, conf["B1"].value) == ("UDF Modules", "xlrate.excel.functions")


def test_template_content_is_kept(tmp_path: Path) -> None:
    template = tmp_path / "template.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"] = "Practice"
    ws["B2"] = "=1+1"
    wb.create_sheet("Medicare")["C3"] = 42
    wb.save(template)
    out = addin.build_addin(
        tmp_path / "out.xlsm", template=template, interpreter="C:\\py\\pythonw.exe"
    )
    back = openpyxl.load_workbook(out)
    assert back["Summary"]["A1"].value == "Practice"
    assert back["Summary"]["B2"].value == "=1+1"
    assert back["Medicare"]["C3"].value == 42
    keys = {row[0].value: row[1].value for row in back[addin.CONF_SHEET].iter_rows()}
    assert "C:\\py\\pythonw.exe" in keys.values()


def test_refuses_to_overwrite_or_to_drop_macros(tmp_path: Path, built: Path) -> None:
    with pytest.raises(ReportError, match="--force"):
        addin.build_addin(built)
    with pytest.raises(ReportError, match=r"\.xlsm"):
        addin.build_addin(tmp_path / "x.xlsx")


def test_buttons_run_their_python(built: Path) -> None:
    """Run each button's macro in pyopenvba's VBA interpreter with RunPython captured."""
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication.open(built, with_vba=False)
    app.add_module(
        "Public Calls As String\nPublic Function RunPython(cmd As String)\n"
        '    Calls = Calls & cmd & "|"\nEnd Function\n',
        name="FakeXlwings",
    )
    app.add_module(
        (VBA_DIR / "xlrate_buttons.bas").read_text(encoding="utf-8"), name="xlrate_buttons"
    )
    for button in addin.BUTTONS:
        app.run(button.macro)
    calls = [c for c in str(app.evaluate("Calls")).split("|") if c]
    import xlrate.excel.buttons as buttons

    assert len(calls) == len(addin.BUTTONS)
    for call in calls:
        func = re.search(r"b\.(\w+)\(\)", call)
        assert func and callable(getattr(buttons, func.group(1)))


def test_install_writes_udf_modules(tmp_path: Path) -> None:
    conf = tmp_path / "xlwings.conf"
    conf.write_text(
        '"INTERPRETER_WIN","C:\\py\\pythonw.exe"\n"UDF MODULES","old"\n', encoding="utf-8"
    )
    addin.install_user_config(conf)
    text = conf.read_text(encoding="utf-8")
    assert '"UDF MODULES","xlrate.excel.functions"' in text and '"old"' not in text
    assert "INTERPRETER_WIN" in text


def test_generated_vba_compiles_in_a_vba_parser() -> None:
    """The generated modules parse as VBA (pyopenvba's interpreter compiles them)."""
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication()
    app.add_workbook()
    app.add_module(addin.function_help_module(), name=addin.HELP_MODULE)
    # The parser does not take a comment after #Const, which xlwings writes and VBA accepts.
    wrappers = addin.udf_wrapper_module().replace("'Adjust when using outside of Excel", "")
    app.add_module(wrappers, name=addin.UDF_WRAPPER_MODULE)
