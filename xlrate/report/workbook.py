"""Fill the designed template with an :class:`~xlrate.analysis.Analysis`.

Sheets: Summary (with a bar chart), one per payer, one Underpayments sheet per payer with
a contract audit, Matrix, Market (only when a payer has Transparency in Coverage files),
Scenarios, Medicare, Sources,
Read me; each is written by its module in :mod:`xlrate.report.sheets`, at the places
:mod:`xlrate.report.layout` declares. Values the practice or CMS supplied (codes, rates,
volumes, Medicare amounts, RVUs) are written as values; everything that derives from other
cells (percent of Medicare, variances, totals, medians, scenario results, the lowest payer)
is a native formula, with INDEX/MATCH into the Medicare sheet. Only functions that Excel
2016, LibreOffice 7.4 and Google Sheets all know are used (:data:`ALLOWED_FUNCTIONS`), so
the file recalculates the same for a recipient without Python.

While writing each formula the builder records the value the Python analysis computed for
it (:attr:`BuildResult.expected`); the tests recalculate the file in LibreOffice and hold
every formula to that value.

The file is written to a temporary name next to the output and renamed into place; an
existing output is kept unless ``force`` (then the previous file is kept as ``.bak``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from xlrate import __version__
from xlrate.analysis import Analysis
from xlrate.errors import ReportError
from xlrate.files import (
    atomic_path,
    backups_of,
    describe_os_error,
    describe_read_error,
    save_workbook,
)
from xlrate.report import layout as L
from xlrate.report.cells import FORMULA_STARTS, BuildResult, Writer
from xlrate.report.sheets import (
    Book,
    market,
    matrix,
    medicare,
    payer,
    scenarios,
    sources,
    summary,
    underpaid,
)

__all__ = ["ALLOWED_FUNCTIONS", "BuildResult", "build_workbook", "default_template", "sheet_names"]

ALLOWED_FUNCTIONS = frozenset(
    {
        "SUM",
        "SUMPRODUCT",
        "SUMIF",
        "COUNT",
        "COUNTIF",
        "MEDIAN",
        "MIN",
        "IF",
        "AND",
        "ISNUMBER",
        "INDEX",
        "MATCH",
    }
)
FIXED_SHEETS = ("Summary", "Matrix", "Scenarios", "Medicare", "Sources", "Read me")
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def default_template() -> Path:
    """The template shipped with the package (``xlrate/report/template.xlsx``), else the repo's."""
    packaged = resources.files("xlrate.report").joinpath("template.xlsx")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "workbook" / "template.xlsx"


def sheet_names(payers: Sequence[str], reserved: Sequence[str] = ()) -> dict[str, str]:
    """A valid, unique sheet name (31 characters, no []:*?/\\, no leading = + - @) per payer."""
    taken = {name.lower() for name in (*FIXED_SHEETS, *reserved)} | {
        "payer",
        L.UNDERPAID_SHEET.lower(),
    }
    names: dict[str, str] = {}
    for name in payers:
        base = _INVALID_SHEET_CHARS.sub(" ", name).strip()
        # A sheet name never starts like a formula (it is quoted inside formulas anyway).
        base = base.lstrip("".join(FORMULA_STARTS) + " ").strip().strip("'") or "Payer"
        base = re.sub(r"\s+", " ", base).replace("( ", "(").replace(" )", ")")[:31]
        candidate, n = base, 2
        while candidate.lower() in taken:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
            n += 1
        taken.add(candidate.lower())
        names[name] = candidate
    return names


def build_workbook(
    analysis: Analysis,
    output: str | Path,
    template: str | Path | None = None,
    force: bool = False,
) -> BuildResult:
    """Write the analysis workbook to ``output``; return where it went and what it should hold."""
    output = Path(output)
    if output.exists() and not force:
        raise ReportError(
            f"{output} already exists: pass --force to replace it (the old file is kept as .bak)"
        )
    template_path = Path(template) if template else default_template()
    wb = _open_template(template_path)
    result = BuildResult(path=output)
    # A payer named "Market" must not take the Market sheet's name.
    reserved = (L.MARKET_SHEET,) if analysis.market is not None else ()
    result.payer_sheets = sheet_names(analysis.payer_names, reserved)
    book = Book(Writer(wb, result), analysis, template_path, result.payer_sheets)

    medicare.write(book, wb["Medicare"])
    proto = wb["Payer"]
    position = wb.sheetnames.index("Summary") + 1
    for spec in analysis.payers:
        ws = wb.copy_worksheet(proto)
        ws.title = book.sheet_names[spec.name]
        wb.move_sheet(ws, offset=position - wb.sheetnames.index(ws.title))
        position += 1
        payer.write(book, ws, spec)
    wb.remove(proto)
    _underpayment_sheets(book, wb, position)
    matrix.write(book, wb["Matrix"])
    if analysis.market is not None and len(analysis.market.rows):
        ws = wb.create_sheet(L.MARKET_SHEET, wb.sheetnames.index("Matrix") + 1)
        market.write(book, ws)
    summary.write(book, wb["Summary"])
    scenarios.write(book, wb["Scenarios"])
    sources.write(book, wb["Sources"], __version__)
    _targets_and_checks(book, wb)
    # Excel recalculates everything on open (openpyxl stores no cached results).
    wb.calculation.fullCalcOnLoad = True
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "Summary"
    _save(wb, output, result, force)
    return result


def audit_sheet_names(audited: Sequence[str], payers: Sequence[str]) -> dict[str, str]:
    """The Underpayments sheet of each audited payer: ``Underpayments`` for a lone audit,
    else ``Underpaid <payer>`` (shortened, unique beside the payer sheets)."""
    if len(audited) == 1:
        return {audited[0]: L.UNDERPAID_SHEET}
    names = sheet_names([*payers, *(f"Underpaid {name}" for name in audited)])
    return {name: names[f"Underpaid {name}"] for name in audited}


def _underpayment_sheets(book: Book, wb: Workbook, position: int) -> None:
    """One sheet per audited payer after the payer sheets, from the template's prototype
    (a template from before it had one: a new sheet)."""
    a = book.analysis
    proto = wb[L.UNDERPAID_SHEET] if L.UNDERPAID_SHEET in wb.sheetnames else None
    if proto is not None:
        proto.title = "xlrate proto"  # frees the name for a lone audit
    audited = [name for name in a.payer_names if name in a.audits]
    names = audit_sheet_names(audited, a.payer_names)
    book.writer.result.audit_sheets = names
    for name in audited:
        ws = wb.copy_worksheet(proto) if proto is not None else wb.create_sheet()
        ws.title = names[name]
        wb.move_sheet(ws, offset=position - wb.sheetnames.index(ws.title))
        position += 1
        underpaid.write(book, ws, name, a.payer_names.index(name) + 1, a.audits[name])
    if proto is not None:
        wb.remove(proto)


def _open_template(path: Path) -> Workbook:
    try:
        wb = load_workbook(path)
    except FileNotFoundError:
        raise ReportError(
            f"template {path} not found: pass --template with an .xlsx file"
        ) from None
    except Exception as exc:
        raise ReportError(f"cannot read the template {path}: {describe_read_error(exc)}") from None
    missing = [name for name in (*FIXED_SHEETS, "Payer") if name not in wb.sheetnames]
    if missing:
        raise ReportError(
            f"template {path} lacks the sheets {', '.join(missing)}: start from workbook/template.xlsx"
        )
    return wb


def _percent_check() -> DataValidation:
    return DataValidation(
        type="decimal",
        operator="between",
        formula1="0",
        formula2="10",
        showErrorMessage=True,
        errorTitle="Percent of Medicare",
        error="Enter a percent such as 125% (or 1.25).",
    )


def _targets_and_checks(book: Book, wb: Workbook) -> None:
    """Named payer targets (for the Name box and the user's own formulas) and input checks."""
    scenario_check = _percent_check()
    idx = L.letters(L.SCENARIO_COLUMNS)
    for key in L.SCENARIO_INPUTS:
        scenario_check.add(f"{idx[key]}{L.SCENARIO_INPUT_ROW}")
    wb["Scenarios"].add_data_validation(scenario_check)
    for i, name in enumerate(book.analysis.payer_names, start=1):
        ws = wb[book.sheet_names[name]]
        book.define(L.target_name(i), ws, L.absolute(L.PAYER_TARGET))
        check = _percent_check()
        check.add(L.PAYER_TARGET)
        ws.add_data_validation(check)


def _save(wb: Workbook, output: Path, result: BuildResult, force: bool) -> None:
    existed = output.exists()
    try:
        with atomic_path(output, backup=force) as tmp:
            save_workbook(wb, tmp)
            if output.exists() and not force:
                raise ReportError(f"{output} appeared while writing: pass --force to replace it")
        if force and existed:
            result.backup = backups_of(output)[-1]
    except OSError as exc:
        raise ReportError(describe_os_error(exc, output, open_elsewhere=True)) from None
