"""Issue 11's findings in the classic (COM) edition, each checked on the built artefacts."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest

from xlrate.excel import addin, doctor


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return addin.build_addin(tmp_path_factory.mktemp("classic") / "xlrate.xlsm")


def test_conf_sheet_names_an_interpreter_for_windows_and_for_mac(built: Path) -> None:
    keys = {
        r[0].value: r[1].value for r in openpyxl.load_workbook(built)[addin.CONF_SHEET].iter_rows()
    }
    assert keys["Interpreter_Win"] and keys["Interpreter_Mac"]
    assert keys["Interpreter_Win"].lower().endswith("pythonw.exe")
    assert (
        keys["Interpreter_Mac"].endswith(("python", "python3"))
        or "python" in keys["Interpreter_Mac"]
    )


def test_interpreter_paths_under_home_are_written_home_relative(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    exe = tmp_path / "venvs" / "xlrate" / "bin" / "python"
    paths = addin.default_interpreters(str(exe))
    assert paths["Interpreter_Mac"] == "$HOME/venvs/xlrate/bin/python"
    assert paths["Interpreter_Win"] == "%USERPROFILE%\\venvs\\xlrate\\Scripts\\pythonw.exe"
    # and doctor expands them the way xlwings does
    assert doctor.expand_interpreter(paths["Interpreter_Mac"], windows=False) == str(exe)


def test_vba_project_stream_is_written_per_the_spec(built: Path) -> None:
    # [MS-OVBA] 2.3.4.1: Version MUST be 0xFFFF on write, no performance cache.
    with zipfile.ZipFile(built) as zf:
        ole = olefile.OleFileIO(io.BytesIO(zf.read("xl/vbaProject.bin")))
    stream = ole.openstream("VBA/_VBA_PROJECT").read()
    assert stream[:2] == b"\xcc\x61" and stream[2:4] == b"\xff\xff" and len(stream) == 7


def test_button_controls_carry_no_empty_bindings(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        props = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/ctrlProps/")]
    assert props and not any('fmlaLink=""' in p or 'fmlaRange=""' in p for p in props)


def test_wrappers_return_error_values_never_error_text() -> None:
    wrappers = addin.udf_wrapper_module()
    assert "= Err.Description" not in wrappers
    assert wrappers.count("CVErr(xlErrNA)") == len(re.findall(r"^Function ", wrappers, re.M))
    for name in ("MEDICARE_RATE", "PCT_MEDICARE", "MEDICARE_LOCALITY"):
        assert re.search(rf"{name} = XlrateResult\(XLPy\.CallUDF\(", wrappers)


def test_result_function_turns_na_text_into_the_error_value() -> None:
    """Run XlrateResult in pyopenvba's VBA interpreter: '#N/A' text becomes CVErr(2042)."""
    from pyopenvba.apps.excel import ExcelApplication

    app = ExcelApplication()
    app.add_workbook()
    app.add_module(addin.function_help_module(), name=addin.HELP_MODULE)
    app.add_module(
        "Public Function Probe() As String\n"
        '    Dim v As Variant\n    v = XlrateResult("#N/A")\n'
        '    Probe = CStr(IsError(v)) & "|" & CStr(IsError(XlrateResult(12.5))) & "|" & '
        'CStr(XlrateResult("ok"))\nEnd Function\n',
        name="Probe",
    )
    assert str(app.run("Probe")) == "True|False|ok"


def test_doctor_names_the_fix_for_a_mismatched_xlwings_and_a_missing_interpreter() -> None:
    bad = doctor._check_xlwings({"xlwings_dll_version": "0.30.0"})
    assert not bad.ok and "0.30.0" in bad.detail and "pip install xlwings==0.30.0" in bad.fix
    missing = doctor._check_interpreter(
        {"Interpreter_Win": "%USERPROFILE%\\nowhere\\pythonw.exe"}, "win32"
    )
    assert not missing.ok and "--interpreter-win" in missing.fix
    mac = doctor._check_mac_runpython("darwin")
    assert mac.ok or "xlwings runpython install" in mac.fix


def test_doctor_reads_a_built_workbook(built: Path) -> None:
    facts = doctor.workbook_facts(built)
    assert facts["edition"] == "classic"
    assert facts["xlwings_dll_version"]
    checks = {c.name: c for c in doctor.run_checks(built)}
    assert checks["xlwings"].ok and checks["Medicare data"].ok and checks["functions"].ok


def test_xlwings_is_pinned_to_the_version_whose_dll_the_vba_names() -> None:
    from importlib import resources

    import tomllib

    pyproject = tomllib.loads((Path(addin.__file__).parents[2] / "pyproject.toml").read_text())
    pin = next(d for d in pyproject["project"]["dependencies"] if d.startswith("xlwings"))
    vba = (resources.files("xlwings") / "xlwings.bas").read_text(encoding="utf-8")
    dll = re.search(r"xlwings64-([0-9.]+)\.dll", vba)
    assert dll and pin.split(";")[0].strip() == f"xlwings=={dll.group(1)}"


def test_function_cells_pass_the_locality_and_year_cells(built: Path) -> None:
    """Excel recalculates a function when a cell it reads changes only if it is an argument."""
    ws = openpyxl.load_workbook(built)[addin.FUNCTIONS_SHEET]
    formulas = [
        c.value
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    ]
    assert formulas and all(
        ",Locality," in f and f.rstrip(")").endswith("MedicareYear") for f in formulas
    )
    assert any(f.startswith("=MEDICARE_RATE(") for f in formulas)
