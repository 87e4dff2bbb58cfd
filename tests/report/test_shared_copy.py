"""The shared copy (xlrate.report.shared): values for every xlrate function, no macros,
Sources complete, no 835 detail."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from xlrate.errors import ShareError
from xlrate.excel import addin
from xlrate.excel.functions import FUNCTIONS, MEDICARE_LOCALITY, MEDICARE_RATE, PCT_MEDICARE
from xlrate.report import shared
from xlrate.report.shared import ADDIN_FUNCTIONS, SharedCopy, shared_copy_path


def prepare_shared_copy(workbook: Path, output: Path | None = None) -> SharedCopy:
    """The shared copy as the Excel button and the CLI make it: with the Excel functions."""
    return shared.prepare_shared_copy(workbook, output, functions=FUNCTIONS)


SF = "01112-05"


def template_with_functions(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws["A1"], ws["B1"] = "Locality", SF
    wb.defined_names["Locality"] = DefinedName("Locality", attr_text="Summary!$B$1")
    ws.append([])
    ws.append(["Code", "Rate", "Medicare", "% of Medicare", "ZIP", "Locality", "Native"])
    rows = [(99213, 150.0, "94110"), (76145, 1500.0, "02108"), ("20930", 10.0, None)]
    for i, (code, rate, zip5) in enumerate(rows, start=4):
        ws.append(
            [
                code,
                rate,
                f"=MEDICARE_RATE(A{i},,$B$1,,2025)",
                f"=PCT_MEDICARE(B{i},A{i},,$B$1,,2025)",
                zip5,
            ]
        )
        ws[f"F{i}"] = f"=MEDICARE_LOCALITY(E{i})"
        ws[f"G{i}"] = f"=B{i}*2"
    ws["I3"] = "Spilled"
    ws["I4"] = '=MEDICARE_RATE(A4:A6,,"NATIONAL","facility",2025)'
    other = wb.create_sheet("Other sheet")
    other["A1"] = '=MEDICARE_RATE(Summary!A4,,"NATIONAL")'
    wb.save(path)
    return path


@pytest.fixture
def macro_workbook(tmp_path: Path) -> Path:
    template = template_with_functions(tmp_path / "template.xlsx")
    return addin.build_addin(tmp_path / "analysis.xlsm", template=template)


def test_functions_become_the_values_they_return(macro_workbook: Path) -> None:
    copy = prepare_shared_copy(macro_workbook)
    assert (
        copy.path
        == shared_copy_path(macro_workbook)
        == macro_workbook.with_name("analysis (shared).xlsx")
    )
    wb = openpyxl.load_workbook(copy.path)
    ws = wb["Summary"]
    for r, code in ((4, 99213), (5, 76145), (6, "20930")):
        assert ws[f"C{r}"].value == MEDICARE_RATE(code, None, SF, None, 2025)
        pct = PCT_MEDICARE(ws[f"B{r}"].value, code, None, SF, None, 2025)
        # A ratio is stored with Excel's 15-16 significant digits; amounts are exact cents.
        assert ws[f"D{r}"].value == (pct if isinstance(pct, str) else pytest.approx(pct, rel=1e-15))
        assert ws[f"G{r}"].value == f"=B{r}*2"  # native formulas stay
    assert ws["C5"].value == 1339.81  # CMS PFREV25C
    assert ws["D6"].value.startswith("not priced: status B (bundled)")
    assert ws["F4"].value == MEDICARE_LOCALITY("94110") == SF
    assert ws["F6"].value is None or ws["F6"].value == ""
    spilled = [ws[f"I{r}"].value for r in (4, 5, 6)]
    assert spilled == MEDICARE_RATE([99213, 76145, "20930"], None, "NATIONAL", "facility", 2025)
    assert wb["Other sheet"]["A1"].value == MEDICARE_RATE(99213, None, "NATIONAL")
    assert copy.frozen["Summary!C5"] == 1339.81


def test_no_function_no_macro_no_buttons(macro_workbook: Path) -> None:
    copy = prepare_shared_copy(macro_workbook)
    with zipfile.ZipFile(copy.path) as z:
        names = z.namelist()
        assert not [n for n in names if "vbaProject" in n or "ctrlProp" in n or n.endswith(".vml")]
        types = z.read("[Content_Types].xml").decode()
        assert "macroEnabled" not in types
        assert "spreadsheetml.sheet.main+xml" in types
        text = "".join(z.read(n).decode("utf-8", "replace") for n in names if n.endswith(".xml"))
    for name in ADDIN_FUNCTIONS:
        assert name not in text.upper()
    wb = openpyxl.load_workbook(copy.path)
    assert "xlwings.conf" not in wb.sheetnames
    assert copy.dropped_sheets == ["xlwings.conf"]


def test_sources_sheet_names_the_medicare_data(macro_workbook: Path) -> None:
    from xlrate.medicare import store

    copy = prepare_shared_copy(macro_workbook)
    wb = openpyxl.load_workbook(copy.path)
    text = "\n".join(str(v) for row in wb["Sources"].iter_rows(values_only=True) for v in row if v)
    info = store.resolve_release()
    for entry in info.provenance["files"]:
        assert entry["sha256"] in text and entry["name"] in text
    assert "Shared copy" in text and "analysis.xlsm" in text
    assert re.search(r"\d+ xlrate function cell\(s\) replaced", text)


def _with_cached_value(path: Path, cell: str, value: str) -> None:
    """Give one formula cell the value Excel would have saved with it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buffer, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = re.sub(
                    rf'(<c r="{cell}"[^>]*>)(<f>[^<]*</f>)(<v\s*/>|<v></v>)?',
                    rf"\g<1>\g<2><v>{value}</v>",
                    text,
                )
                data = text.encode()
            dst.writestr(item, data)
    path.write_bytes(buffer.getvalue())


def test_value_excel_saved_is_kept(tmp_path: Path) -> None:
    path = template_with_functions(tmp_path / "book.xlsx")
    _with_cached_value(path, "C4", "123.45")
    copy = prepare_shared_copy(path)
    assert openpyxl.load_workbook(copy.path)["Summary"]["C4"].value == 123.45


def test_formula_that_cannot_be_frozen_is_named(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "=MEDICARE_RATE(99213)*1.2"
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(ShareError, match=r"Sheet!A1 .*open the workbook in Excel"):
        prepare_shared_copy(tmp_path / "book.xlsx")


@pytest.mark.parametrize(
    "cell_text",
    [
        "CLP*PATIENTCLAIM1*1*150*100**12*ABC123~",
        "ISA*00*          *00*          *ZZ*SENDER~",
    ],
)
def test_raw_835_text_stops_the_copy(tmp_path: Path, cell_text: str) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Payers"
    wb.active["B7"] = cell_text
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(ShareError, match=r"Payers!B7 holds raw 835"):
        prepare_shared_copy(tmp_path / "book.xlsx")
    assert not shared_copy_path(tmp_path / "book.xlsx").exists()


def test_patient_identifier_column_stops_the_copy(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Payer", "Claims", "Patient responsibility"])  # aggregates: fine
    ws.append(["Aetna", 12, 340.0])
    wb.create_sheet("Detail").append(["Member ID", "Paid"])
    wb.save(tmp_path / "book.xlsx")
    with pytest.raises(ShareError, match=r"Detail!A1 is headed 'Member ID'"):
        prepare_shared_copy(tmp_path / "book.xlsx")


def test_cli_share(macro_workbook: Path) -> None:
    from click.testing import CliRunner

    from xlrate.cli import cli

    out = macro_workbook.with_name("for-partner.xlsx")
    result = CliRunner().invoke(cli, ["share", str(macro_workbook), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "function cell(s) frozen" in result.output and out.is_file()


@pytest.mark.parametrize(
    "formula",
    [
        '=MEDICARE_RATE(A1,,"NATIONAL")',
        '=medicare_rate(A1,,"NATIONAL")',
        "='C:\\Users\\me\\xlwings.xlam'!MEDICARE_RATE(A1,,\"NATIONAL\")",  # via xlwings' add-in
        '=[1]!MEDICARE_RATE(A1,,"NATIONAL")',
        '=_xludf.MEDICARE_RATE(A1,,"NATIONAL")',  # saved by an Excel without the function
    ],
)
def test_every_way_excel_writes_the_call_is_frozen(tmp_path: Path, formula: str) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = 99213
    wb.active["B1"] = formula
    wb.save(tmp_path / "book.xlsx")
    copy = prepare_shared_copy(tmp_path / "book.xlsx")
    value = openpyxl.load_workbook(copy.path).active["B1"].value
    assert value == MEDICARE_RATE(99213, None, "NATIONAL")


def test_without_the_functions_an_uncalculated_call_is_named(macro_workbook: Path) -> None:
    """The report never imports the Excel skin: without the functions it says what to do."""
    with pytest.raises(ShareError, match=r"Summary!C4 .*open the workbook in Excel"):
        shared.prepare_shared_copy(macro_workbook)
