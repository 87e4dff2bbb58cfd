"""Fill the designed template with an :class:`~xlrate.analysis.Analysis`.

Sheets: Summary (with a bar chart), one per payer, Matrix, Scenarios, Medicare, Sources,
Read me. Values the practice or CMS supplied (codes, rates, volumes, Medicare amounts,
RVUs) are written as values; everything that derives from other cells (percent of
Medicare, variances, totals, medians, scenario results, the lowest payer) is a native
formula, with INDEX/MATCH into the Medicare sheet. Only functions that Excel 2016,
LibreOffice 7.4 and Google Sheets all know are used (:data:`ALLOWED_FUNCTIONS`), so the
file recalculates the same for a recipient without Python.

While writing each formula the builder records the value the Python analysis computed for
it (:attr:`BuildResult.expected`); the tests recalculate the file in LibreOffice and hold
every formula to that value.

The file is written to a temporary name next to the output and renamed into place; an
existing output is kept unless ``force`` (then the previous file is kept as ``.bak``).
"""

from __future__ import annotations

import math
import re
from collections import namedtuple
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

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
from xlrate.report.fastcells import fast_cells
from xlrate.report.styles import named_styles

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
BELOW_TARGET_FILL = PatternFill("solid", fgColor="F8CBAD")
TOP_UNDERPAID = 10
_LETTERS = [""] + [get_column_letter(i) for i in range(1, 400)]


@dataclass
class BuildResult:
    path: Path
    expected: dict[tuple[str, str], Any] = field(default_factory=dict)
    payer_sheets: dict[str, str] = field(default_factory=dict)
    backup: Path | None = None


def default_template() -> Path:
    """The template shipped with the package (``xlrate/report/template.xlsx``), else the repo's."""
    packaged = resources.files("xlrate.report").joinpath("template.xlsx")
    if packaged.is_file():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[2] / "workbook" / "template.xlsx"


def quote(sheet: str) -> str:
    return "'" + sheet.replace("'", "''") + "'"


def sheet_names(payers: Sequence[str]) -> dict[str, str]:
    """A valid, unique sheet name (31 characters, no []:*?/\\) for each payer."""
    taken = {name.lower() for name in FIXED_SHEETS} | {"payer"}
    names: dict[str, str] = {}
    for payer in payers:
        base = _INVALID_SHEET_CHARS.sub(" ", payer).strip().strip("'") or "Payer"
        base = re.sub(r"\s+", " ", base).replace("( ", "(").replace(" )", ")")[:31]
        candidate, n = base, 2
        while candidate.lower() in taken:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
            n += 1
        taken.add(candidate.lower())
        names[payer] = candidate
    return names


def _records(frame: pd.DataFrame) -> list[Any]:
    """Rows as namedtuples of plain Python values (much faster than itertuples on string columns)."""
    row_type = namedtuple("row_type", list(frame.columns))  # type: ignore[misc]
    columns = [frame[c].tolist() for c in frame.columns]
    return [row_type._make(values) for values in zip(*columns, strict=True)]


def _kinds(sources: pd.Series) -> list[str]:
    """Where a payer's rates came from, fee schedule first."""
    present = set(sources)
    return [kind for kind in ("fee schedule", "835") if kind in present]


def _blank(value: Any) -> Any:
    """Python's missing values as the workbook shows them ("" for a formula, None for a value)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    return value


class _Writer:
    """Writes cells with the template's named styles and records formula expectations."""

    def __init__(self, wb: Workbook, result: BuildResult):
        self.wb = wb
        self.result = result
        self._styles: dict[str, Any] = {}
        scratch = wb.create_sheet("_styles")
        defaults = {style.name: style for style in named_styles()}
        for index, name in enumerate(L.STYLE_NAMES, start=1):
            if name not in wb.named_styles:
                wb.add_named_style(defaults[name])  # a template from before this style existed
            cell = scratch.cell(index, 1)
            cell.style = name
            self._styles[name] = cell._style
        wb.remove(scratch)

    def put(
        self,
        ws: Worksheet,
        row: int,
        column: int,
        value: Any,
        style: str | None = None,
        keep_blank: bool = False,
    ) -> None:
        """Write a value with a named style (formulas go through :meth:`formula`).

        A blank value writes nothing unless ``keep_blank`` (a styled empty cell, as in a
        totals row). Numbers and formulas skip openpyxl's type sniffing: with 60,000 rows
        that is a third of the build time.
        """
        value = _blank(value)
        if value is None and not keep_blank:
            return
        if isinstance(value, bool):
            value = "yes" if value else ""
        # Cell copies the style array it is given, so the template's style stays untouched.
        cell = Cell(ws, row=row, column=column, style_array=self._styles[style] if style else None)
        if value is None:
            pass
        elif type(value) is float or type(value) is int:
            cell._value = value
            cell.data_type = "n"
        else:
            cell.value = value  # text from the user's files: openpyxl checks it
            if cell.data_type == "f":
                cell.data_type = "s"  # "=..." in a payer's file is text, never a formula
        ws._cells[(row, column)] = cell

    def formula(
        self,
        ws: Worksheet,
        row: int,
        column: int,
        text: str,
        expected: Any,
        style: str | None = None,
    ) -> None:
        cell = Cell(ws, row=row, column=column, style_array=self._styles[style] if style else None)
        cell._value = "=" + text
        cell.data_type = "f"
        ws._cells[(row, column)] = cell
        expected = _blank(expected)
        self.result.expected[(ws.title, f"{_LETTERS[column]}{row}")] = (
            "" if expected is None else expected
        )

    def style(self, name: str) -> Any:
        return copy(self._styles[name])


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
    try:
        wb = load_workbook(template_path)
    except FileNotFoundError:
        raise ReportError(
            f"template {template_path} not found: pass --template with an .xlsx file"
        ) from None
    except Exception as exc:
        raise ReportError(
            f"cannot read the template {template_path}: {describe_read_error(exc)}"
        ) from None
    missing = [name for name in (*FIXED_SHEETS, "Payer") if name not in wb.sheetnames]
    if missing:
        raise ReportError(
            f"template {template_path} lacks the sheets {', '.join(missing)}: start from workbook/template.xlsx"
        )

    result = BuildResult(path=output)
    writer = _Writer(wb, result)
    names = sheet_names(analysis.payer_names)
    result.payer_sheets = names

    medicare_rows = _medicare_sheet(writer, wb["Medicare"], analysis)
    ranges: dict[str, tuple[int, int]] = {}
    proto = wb["Payer"]
    position = wb.sheetnames.index("Summary") + 1
    for payer in analysis.payers:
        ws = wb.copy_worksheet(proto)
        ws.title = names[payer.name]
        wb.move_sheet(ws, offset=position - wb.sheetnames.index(ws.title))
        position += 1
        ranges[payer.name] = _payer_sheet(writer, ws, analysis, payer.name, medicare_rows)
    wb.remove(proto)
    lowest_range = _matrix_sheet(writer, wb["Matrix"], analysis, names, ranges, medicare_rows)
    _summary_sheet(writer, wb["Summary"], analysis, names, ranges, lowest_range, medicare_rows)
    _scenarios_sheet(writer, wb["Scenarios"], analysis, names, ranges)
    _sources_sheet(writer, wb["Sources"], analysis, template_path)
    _names_and_checks(wb, analysis, names)
    # Excel recalculates everything on open (openpyxl stores no cached results).
    wb.calculation.fullCalcOnLoad = True
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws.title == "Summary"
    _save(wb, output, result, force)
    return result


def _names_and_checks(wb: Workbook, a: Analysis, names: dict[str, str]) -> None:
    """Named input cells (for the Name box and the user's own formulas) and input checks."""

    def percent() -> DataValidation:
        return DataValidation(
            type="decimal",
            operator="between",
            formula1="0",
            formula2="10",
            showErrorMessage=True,
            errorTitle="Percent of Medicare",
            error="Enter a percent such as 125% (or 1.25).",
        )

    inputs = {
        f"Scenario_{label.replace(' ', '')}": f"Scenarios!${_LETTERS[i]}${L.SCENARIO_INPUT_ROW}"
        for i, column in enumerate(L.SCENARIO_COLUMNS, start=1)
        if (label := L.SCENARIO_INPUTS.get(column.key))
    }
    scenario_check = percent()
    for ref in inputs.values():
        scenario_check.add(ref.replace("$", "").split("!")[1])
    wb["Scenarios"].add_data_validation(scenario_check)
    for i, payer in enumerate(a.payer_names, start=1):
        sheet = names[payer]
        inputs[f"Target_{i:02d}"] = f"{quote(sheet)}!${L.PAYER_TARGET[0]}${L.PAYER_TARGET[1:]}"
        check = percent()
        check.add(L.PAYER_TARGET)
        wb[sheet].add_data_validation(check)
    for name, ref in inputs.items():
        wb.defined_names[name] = DefinedName(name, attr_text=ref)


def _save(wb: Workbook, output: Path, result: BuildResult, force: bool) -> None:
    existed = output.exists()
    try:
        with atomic_path(output, backup=force) as tmp:
            with fast_cells():
                save_workbook(wb, tmp)
            if output.exists() and not force:
                raise ReportError(f"{output} appeared while writing: pass --force to replace it")
        if force and existed:
            result.backup = backups_of(output)[-1]
    except OSError as exc:
        raise ReportError(describe_os_error(exc, output, open_elsewhere=True)) from None


# ---------------------------------------------------------------------------- sheets


def _finish_table(
    ws: Worksheet, header_row: int, last_col: int, last_row: int, freeze: str
) -> None:
    ws.freeze_panes = freeze
    ws.auto_filter.ref = (
        f"A{header_row}:{get_column_letter(last_col)}{max(last_row, header_row + 1)}"
    )
    ws.print_title_rows = f"{header_row}:{header_row}"


def _medicare_sheet(w: _Writer, ws: Worksheet, a: Analysis) -> tuple[int, int]:
    """Medicare amounts with RVUs and GPCIs; returns (first, last) data row."""
    cols = {c.key: i for i, c in enumerate(L.MEDICARE_COLUMNS, start=1)}
    setting = a.profile.setting
    ws["A2"] = (
        f"Locality {a.locality}, CY{a.year} release {a.release}; amounts rounded half-up to cents as CMS does. "
        f"Prior year / newest year: {a.yoy_label or 'not available'}."
    )
    if a.yoy_years:
        old, new = a.yoy_years
        national = "national" in a.yoy_label
        suffix = " (national)" if national else ""
        ws.cell(L.MEDICARE_HEADER_ROW, cols["yoy_old"], f"{old} amount{suffix}")
        ws.cell(L.MEDICARE_HEADER_ROW, cols["yoy_new"], f"{new} amount{suffix}")
        ws.cell(L.MEDICARE_HEADER_ROW, cols["yoy_change"], f"Change {old[:4]} to {new[:4]}")
    first = L.MEDICARE_HEADER_ROW + 1
    row = first - 1
    for row, rec in enumerate(_records(a.medicare), start=first):  # noqa: B007
        for column in L.MEDICARE_COLUMNS:
            key = column.key
            c = cols[key]
            if key == "key":
                code, mod, sett = (
                    get_column_letter(cols[k]) for k in ("code", "modifier", "setting")
                )
                w.formula(
                    ws,
                    row,
                    c,
                    f'{code}{row}&"|"&{mod}{row}&"|"&{sett}{row}',
                    f"{rec.code}|{rec.modifier}|{rec.setting}",
                    column.style,
                )
            elif key == "yoy_change":
                old, new = get_column_letter(cols["yoy_old"]), get_column_letter(cols["yoy_new"])
                w.formula(
                    ws,
                    row,
                    c,
                    f'IF(AND(ISNUMBER({old}{row}),ISNUMBER({new}{row})),IF({old}{row}>0,{new}{row}/{old}{row}-1,""),"")',
                    rec.yoy_change,
                    column.style,
                )
            elif key == "status":
                w.put(ws, row, c, str(rec.status).replace("_", " "), column.style)
            else:
                w.put(ws, row, c, getattr(rec, key), column.style)
    del setting
    _finish_table(ws, L.MEDICARE_HEADER_ROW, len(L.MEDICARE_COLUMNS), row, "D5")
    return first, max(row, first)


def _payer_sheet(
    w: _Writer, ws: Worksheet, a: Analysis, payer: str, med: tuple[int, int]
) -> tuple[int, int]:
    """One payer's codes; returns (first, last) row of the compared table."""
    spec = next(p for p in a.payers if p.name == payer)
    rows = a.rows[a.rows["payer"] == payer]
    compared = rows[rows["compared"]]
    others = rows[~rows["compared"]]
    summary = a.summary.set_index("payer").loc[payer]
    col = {c.key: get_column_letter(i) for i, c in enumerate(L.PAYER_COLUMNS, start=1)}
    idx = {c.key: i for i, c in enumerate(L.PAYER_COLUMNS, start=1)}

    ws["A1"] = payer + (" (SYNTHETIC)" if spec.synthetic else "")
    kinds = _kinds(rows["rate_source"])
    data = " and ".join(kinds) or "no rates"
    # The first clause of the source only: the full provenance is on the Sources sheet.
    source = (
        spec.source.split(";")[0].strip() if spec.source else "Files listed on the Sources sheet"
    )
    ws["A2"] = f"Rates from: {data}. {source}."

    first = L.PAYER_HEADER_ROW + 1
    last = first + max(len(compared), 1) - 1
    med_first, med_last = med
    mcol = {c.key: get_column_letter(i) for i, c in enumerate(L.MEDICARE_COLUMNS, start=1)}
    amount_range = f"Medicare!${mcol['amount']}${med_first}:${mcol['amount']}${med_last}"
    key_range = f"Medicare!${mcol['key']}${med_first}:${mcol['key']}${med_last}"
    target_ref = "$" + L.PAYER_TARGET[0] + "$" + L.PAYER_TARGET[1:]

    revenue_ref = "$" + L.PAYER_REVENUE[0] + "$" + L.PAYER_REVENUE[1:]
    revenue_total = float(compared["revenue"].sum())
    cumulative = (compared["revenue"].cumsum() / revenue_total).tolist() if revenue_total else []
    for r, rec in enumerate(_records(compared), start=first):
        put = w.put
        put(ws, r, idx["code"], rec.code, "xlrate Code")
        put(ws, r, idx["modifier"], rec.modifier or None, "xlrate Code")
        put(ws, r, idx["description"], rec.description or None, "xlrate Text")
        put(ws, r, idx["setting"], rec.setting, "xlrate Text")
        put(ws, r, idx["volume"], float(rec.volume), "xlrate Count")
        put(ws, r, idx["rate"], float(rec.rate), "xlrate Money")
        c = col
        w.formula(
            ws,
            r,
            idx["medicare"],
            f'INDEX({amount_range},MATCH({c["code"]}{r}&"|"&{c["modifier"]}{r}&"|"&{c["setting"]}{r},{key_range},0))',
            rec.medicare,
            "xlrate Money",
        )
        w.formula(
            ws, r, idx["pct"], f"{c['rate']}{r}/{c['medicare']}{r}", rec.pct, "xlrate Percent"
        )
        w.formula(
            ws,
            r,
            idx["target_rate"],
            f"{c['medicare']}{r}*{target_ref}",
            rec.target_rate,
            "xlrate Money",
        )
        w.formula(
            ws,
            r,
            idx["variance"],
            f"{c['rate']}{r}-{c['target_rate']}{r}",
            rec.variance,
            "xlrate Money",
        )
        w.formula(
            ws,
            r,
            idx["impact"],
            f"{c['variance']}{r}*{c['volume']}{r}",
            rec.impact,
            "xlrate Dollars",
        )
        w.formula(
            ws, r, idx["revenue"], f"{c['rate']}{r}*{c['volume']}{r}", rec.revenue, "xlrate Dollars"
        )
        # Rows run from the largest revenue down: this column shows which codes carry most of it.
        w.formula(
            ws,
            r,
            idx["cumulative_share"],
            f'IF({revenue_ref}=0,"",SUM(${c["revenue"]}${first}:{c["revenue"]}{r})/{revenue_ref})',
            cumulative[r - first] if revenue_total else None,
            "xlrate Percent",
        )
        put(ws, r, idx["charge"], rec.charge, "xlrate Money")
        # The two checks below only where their input exists (a third of the cells otherwise).
        if _blank(rec.charge) is not None:
            w.formula(
                ws,
                r,
                idx["above_charge"],
                f'IF(ISNUMBER({c["charge"]}{r}),IF({c["rate"]}{r}>={c["charge"]}{r},"yes",""),"")',
                "yes" if rec.at_or_above_charge else "",
                "xlrate Flag",
            )
        put(ws, r, idx["era_allowed"], rec.era_allowed, "xlrate Money")
        if _blank(rec.era_allowed) is not None:
            w.formula(
                ws,
                r,
                idx["era_pct"],
                f'IF(ISNUMBER({c["era_allowed"]}{r}),{c["era_allowed"]}{r}/{c["medicare"]}{r},"")',
                rec.era_pct,
                "xlrate Percent",
            )
        put(ws, r, idx["note"], rec.note or None, "xlrate Note")
        w.formula(
            ws,
            r,
            idx["key"],
            f'{c["code"]}{r}&"|"&{c["modifier"]}{r}&"|"&{c["setting"]}{r}',
            f"{rec.code}|{rec.modifier}|{rec.setting}",
            "xlrate Note",
        )

    def rng(key: str) -> str:
        return f"${col[key]}${first}:${col[key]}${last}"

    # Header block: the target is an input; the rest recalculates from the table.
    w.put(ws, 3, 4, spec.target, "xlrate Input")
    w.formula(
        ws,
        4,
        4,
        f'IF(SUMPRODUCT({rng("medicare")},{rng("volume")})=0,"",SUM({rng("revenue")})/SUMPRODUCT({rng("medicare")},{rng("volume")}))',
        summary["weighted_pct"],
        "xlrate Percent",
    )
    w.formula(ws, 3, 9, f"SUM({rng('revenue')})", summary["revenue"], "xlrate Dollars")
    w.formula(
        ws,
        4,
        9,
        # ISNUMBER: an empty table's blank cell would otherwise count as 0 < target.
        f"SUMPRODUCT(ISNUMBER({rng('pct')})*({rng('pct')}<{target_ref}))",
        summary["codes_below_target"],
        "xlrate Count",
    )
    w.formula(
        ws,
        3,
        13,
        f'IF(COUNT({rng("pct")})=0,"",MEDIAN({rng("pct")}))',
        summary["median_pct"],
        "xlrate Percent",
    )
    w.formula(ws, 4, 13, f'-SUMIF({rng("impact")},"<0")', summary["shortfall"], "xlrate Dollars")

    ws.conditional_formatting.add(
        f"{col['pct']}{first}:{col['pct']}{last}",
        CellIsRule(operator="lessThan", formula=[target_ref], fill=BELOW_TARGET_FILL),
    )

    # Rows that cannot be compared, with the reason, below the table.
    r = last + 2
    if len(others):
        ws.cell(
            r, 1, f"Not compared ({len(others)}): no Medicare amount, or no numeric rate"
        ).style = "xlrate Section"
        start = r + 1
        for r, rec in enumerate(_records(others), start=start):  # noqa: B007
            w.put(ws, r, idx["code"], rec.code, "xlrate Code")
            w.put(ws, r, idx["modifier"], rec.modifier or None, "xlrate Code")
            w.put(ws, r, idx["description"], rec.description or None, "xlrate Text")
            w.put(ws, r, idx["setting"], rec.setting, "xlrate Text")
            w.put(ws, r, idx["volume"], float(rec.volume), "xlrate Count")
            w.put(ws, r, idx["rate"], rec.rate, "xlrate Money")
            w.put(ws, r, idx["era_allowed"], rec.era_allowed, "xlrate Money")
            w.put(ws, r, idx["note"], rec.note or None, "xlrate Note")
    # Hide the columns this payer has nothing for (a user can unhide them). Description
    # stays: the header block's labels spill over it.
    empty = {
        "charge": rows["charge"].isna().all(),
        "above_charge": rows["charge"].isna().all(),
        "era_allowed": rows["era_allowed"].isna().all(),
        "era_pct": rows["era_allowed"].isna().all(),
    }
    for key, hide in empty.items():
        if hide:
            ws.column_dimensions[col[key]].hidden = True
    _finish_table(ws, L.PAYER_HEADER_ROW, len(L.PAYER_COLUMNS), last, f"C{first}")
    return first, last


def _matrix_sheet(
    w: _Writer,
    ws: Worksheet,
    a: Analysis,
    names: dict[str, str],
    ranges: dict[str, tuple[int, int]],
    med: tuple[int, int],
) -> str:
    """Codes by payers, percent of Medicare; returns the range of the Lowest payer column."""
    payers = a.payer_names
    compared = a.rows[a.rows["compared"]]
    keys = (
        compared[["code", "modifier", "setting"]]
        .drop_duplicates()
        .sort_values(["code", "modifier", "setting"])
    )
    position = {
        (p, rec.code, rec.modifier, rec.setting): ranges[p][0] + i
        for p in payers
        for i, rec in enumerate(_records(compared[compared["payer"] == p]))
    }
    fixed = len(L.MATRIX_FIXED)
    first_payer = fixed + 1
    last_payer = fixed + len(payers)
    lowest_col = last_payer + 1
    header = L.MATRIX_HEADER_ROW
    for i, payer in enumerate(payers):
        c = first_payer + i
        w.put(ws, header, c, payer, "xlrate Header")
        ws.column_dimensions[get_column_letter(c)].width = L.MATRIX_PAYER_WIDTH
    w.put(ws, header, lowest_col, "Lowest payer", "xlrate Header")
    ws.column_dimensions[get_column_letter(lowest_col)].width = L.MATRIX_LOWEST_WIDTH
    ws.row_dimensions[header].height = L.HEADER_HEIGHT

    lowest = a.lowest.set_index(["code", "modifier", "setting"])["lowest_payer"].to_dict()
    pct = compared.set_index(["payer", "code", "modifier", "setting"])["pct"].to_dict()
    medicare = (
        compared.drop_duplicates(["code", "modifier", "setting"])
        .set_index(["code", "modifier", "setting"])["medicare"]
        .to_dict()
    )
    mcol = {c.key: get_column_letter(i) for i, c in enumerate(L.MEDICARE_COLUMNS, start=1)}
    pcol = {c.key: get_column_letter(i) for i, c in enumerate(L.PAYER_COLUMNS, start=1)}
    med_first, med_last = med
    fp, lp = get_column_letter(first_payer), get_column_letter(last_payer)
    first = header + 1
    row = first - 1
    for row, rec in enumerate(_records(keys), start=first):
        key = (rec.code, rec.modifier, rec.setting)
        w.put(ws, row, 1, rec.code, "xlrate Code")
        w.put(ws, row, 2, rec.modifier or None, "xlrate Code")
        w.put(ws, row, 3, rec.setting, "xlrate Text")
        w.formula(
            ws,
            row,
            4,
            f"INDEX(Medicare!${mcol['amount']}${med_first}:${mcol['amount']}${med_last},"
            f'MATCH(A{row}&"|"&B{row}&"|"&C{row},Medicare!${mcol["key"]}${med_first}:${mcol["key"]}${med_last},0))',
            medicare[key],
            "xlrate Money",
        )
        for i, payer in enumerate(payers):
            if (payer, *key) not in position:
                continue
            # By key, not by row: a payer sheet sorted by its filter still lines up.
            sheet, (f, l_) = quote(names[payer]), ranges[payer]
            w.formula(
                ws,
                row,
                first_payer + i,
                f"INDEX({sheet}!${pcol['pct']}${f}:${pcol['pct']}${l_},"
                f'MATCH($A{row}&"|"&$B{row}&"|"&$C{row},{sheet}!${pcol["key"]}${f}:${pcol["key"]}${l_},0))',
                pct[(payer, *key)],
                "xlrate Percent",
            )
        span = f"{fp}{row}:{lp}{row}"
        w.formula(
            ws,
            row,
            lowest_col,
            f'IF(COUNT({span})<2,"",INDEX(${fp}${header}:${lp}${header},MATCH(MIN({span}),{span},0)))',
            lowest.get(key, ""),
            "xlrate Text",
        )
    last = max(row, first)
    ws.conditional_formatting.add(
        f"{fp}{first}:{lp}{last}",
        ColorScaleRule(
            start_type="num",
            start_value=0.8,
            start_color="F8696B",
            mid_type="num",
            mid_value=1.2,
            mid_color="FFEB84",
            end_type="num",
            end_value=1.6,
            end_color="63BE7B",
        ),
    )
    _finish_table(ws, header, lowest_col, last, f"D{first}")
    lc = get_column_letter(lowest_col)
    return f"Matrix!${lc}${first}:${lc}${last}"


def _summary_sheet(
    w: _Writer,
    ws: Worksheet,
    a: Analysis,
    names: dict[str, str],
    ranges: dict[str, tuple[int, int]],
    lowest_range: str,
    med: tuple[int, int],
) -> None:
    profile = a.profile
    synthetic = [p.name for p in a.payers if p.synthetic]
    info = {
        "practice": profile.name + (" (synthetic demo practice)" if profile.synthetic_note else ""),
        "locality": a.locality
        + (f" ({a.locality_name})" if a.locality_name else "")
        + (f", from ZIP {profile.zip}" if profile.zip and not profile.locality else ""),
        "release": f"CY{a.year} Medicare Physician Fee Schedule, release {a.release}",
        "setting": profile.setting,
        "generated": a.generated.strftime("%Y-%m-%d %H:%M UTC"),
        "data": (
            f"SYNTHETIC payers (invented for the demo): {', '.join(synthetic)}. {profile.synthetic_note}".strip()
            if synthetic
            else "Your own fee schedules and remittances (see Sources)."
        ),
    }
    for key, ref in L.SUMMARY_INFO.items():
        ws[ref] = info[key]
    ws["A2"] = (
        f"{profile.name}: what each payer pays as a percent of Medicare, weighted by annual volume. "
        "Yellow cells on the payer and Scenarios sheets are inputs."
    )

    pcol = {c.key: get_column_letter(i) for i, c in enumerate(L.PAYER_COLUMNS, start=1)}
    idx = {c.key: i for i, c in enumerate(L.SUMMARY_COLUMNS, start=1)}
    scol = {c.key: get_column_letter(i) for i, c in enumerate(L.SUMMARY_COLUMNS, start=1)}
    styles = {c.key: c.style for c in L.SUMMARY_COLUMNS}
    summary = a.summary.set_index("payer")
    first = L.SUMMARY_HEADER_ROW + 1
    row = first - 1
    for row, payer in enumerate(a.payer_names, start=first):
        spec = a.payers[a.payer_names.index(payer)]
        s = summary.loc[payer]
        sheet = quote(names[payer])
        f, l_ = ranges[payer]

        def rng(key: str, f: int = f, l_: int = l_, sheet: str = sheet) -> str:
            return f"{sheet}!${pcol[key]}${f}:${pcol[key]}${l_}"

        kinds = _kinds(a.rows.loc[a.rows["payer"] == payer, "rate_source"])
        data = " + ".join(kinds) + (" (SYNTHETIC)" if spec.synthetic else "")
        w.put(ws, row, idx["payer"], payer, "xlrate Text")
        w.put(ws, row, idx["data"], data, "xlrate Text")
        w.formula(
            ws,
            row,
            idx["codes_compared"],
            f"COUNT({rng('pct')})",
            s["codes_compared"],
            styles["codes_compared"],
        )
        w.formula(ws, row, idx["volume"], f"SUM({rng('volume')})", s["volume"], styles["volume"])
        w.formula(
            ws, row, idx["revenue"], f"SUM({rng('revenue')})", s["revenue"], styles["revenue"]
        )
        w.formula(
            ws,
            row,
            idx["medicare_at_volume"],
            f"SUMPRODUCT({rng('medicare')},{rng('volume')})",
            s["medicare_at_volume"],
            styles["medicare_at_volume"],
        )
        w.formula(
            ws,
            row,
            idx["weighted_pct"],
            f'IF({scol["medicare_at_volume"]}{row}=0,"",{scol["revenue"]}{row}/{scol["medicare_at_volume"]}{row})',
            s["weighted_pct"],
            styles["weighted_pct"],
        )
        w.formula(
            ws,
            row,
            idx["median_pct"],
            f"{sheet}!{L.PAYER_MEDIAN}",
            s["median_pct"],
            styles["median_pct"],
        )
        w.formula(
            ws, row, idx["target"], f"{sheet}!{L.PAYER_TARGET}", s["target"], styles["target"]
        )
        w.formula(
            ws,
            row,
            idx["codes_below_target"],
            f"{sheet}!{L.PAYER_BELOW}",
            s["codes_below_target"],
            styles["codes_below_target"],
        )
        w.formula(
            ws,
            row,
            idx["lowest_codes"],
            # Exact match: COUNTIF would read * and ? in a payer's name as wildcards.
            f"SUMPRODUCT(({lowest_range}={scol['payer']}{row})*1)",
            s["lowest_codes"],
            styles["lowest_codes"],
        )
        w.formula(
            ws,
            row,
            idx["shortfall"],
            f"{sheet}!{L.PAYER_SHORTFALL}",
            s["shortfall"],
            styles["shortfall"],
        )
        w.formula(
            ws,
            row,
            idx["codes_at_or_above_charge"],
            f'COUNTIF({rng("above_charge")},"yes")',
            s["codes_at_or_above_charge"],
            styles["codes_at_or_above_charge"],
        )
    last = row
    total = last + 1
    w.put(ws, total, 1, "All payers", "xlrate Total")
    for column in L.SUMMARY_COLUMNS[1:]:
        w.put(ws, total, idx[column.key], None, "xlrate Total", keep_blank=True)
    for key in (
        "codes_compared",
        "volume",
        "revenue",
        "medicare_at_volume",
        "shortfall",
        "lowest_codes",
        "codes_at_or_above_charge",
    ):
        cell_range = f"{scol[key]}{first}:{scol[key]}{last}"
        w.formula(
            ws, total, idx[key], f"SUM({cell_range})", float(summary[key].sum()), "xlrate Total"
        )
        ws.cell(total, idx[key]).number_format = ws.cell(first, idx[key]).number_format
    revenue, medicare_total = (
        float(summary["revenue"].sum()),
        float(summary["medicare_at_volume"].sum()),
    )
    w.formula(
        ws,
        total,
        idx["weighted_pct"],
        f'IF({scol["medicare_at_volume"]}{total}=0,"",{scol["revenue"]}{total}/{scol["medicare_at_volume"]}{total})',
        revenue / medicare_total if medicare_total else None,
        "xlrate Total",
    )
    ws.cell(total, idx["weighted_pct"]).number_format = "0.0%"
    ws.freeze_panes = f"B{first}"
    ws.print_title_rows = f"{L.SUMMARY_HEADER_ROW}:{L.SUMMARY_HEADER_ROW}"

    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Weighted percent of Medicare by payer"
    chart.y_axis.title = None
    chart.y_axis.numFmt = "0%"
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"
    chart.y_axis.scaling.min = 0
    chart.legend = None
    data = Reference(ws, min_col=idx["weighted_pct"], min_row=L.SUMMARY_HEADER_ROW, max_row=last)
    cats = Reference(ws, min_col=1, min_row=first, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(cats)
    labels = DataLabelList()
    labels.showVal = True
    labels.showSerName = labels.showCatName = labels.showLegendKey = labels.showPercent = False
    labels.numFmt = "0%"
    chart.series[0].dLbls = labels
    chart.series[0].graphicalProperties.solidFill = "2F5597"
    chart.gapWidth = 60
    chart.height = max(6.0, 1.1 * len(a.payer_names) + 2.5)
    chart.width = 18
    chart_row = total + 2
    ws.add_chart(chart, f"A{chart_row}")
    row = chart_row + int(chart.height / 0.53) + 2

    # Medicare year over year and context.
    ws.cell(row, 1, "Medicare itself").style = "xlrate Section"
    row += 1
    mcol = {c.key: get_column_letter(i) for i, c in enumerate(L.MEDICARE_COLUMNS, start=1)}
    if a.yoy_years:
        old, new = a.yoy_years
        change = a.medicare["yoy_change"].dropna()
        span = f"Medicare!${mcol['yoy_change']}${med[0]}:${mcol['yoy_change']}${med[1]}"
        w.put(
            ws,
            row,
            1,
            f"Medicare {old} to {new}: median change over the codes in use",
            "xlrate Text",
        )
        w.put(ws, row, 6, f"({a.yoy_label}; per code on the Medicare sheet)", "xlrate Note")
        w.formula(
            ws,
            row,
            5,
            f'IF(COUNT({span})=0,"",MEDIAN({span}))',
            float(change.median()) if len(change) else None,
            "xlrate Percent",
        )
        row += 1
    w.put(
        ws,
        row,
        1,
        "For context: commercial payers pay roughly 120-145% of Medicare for physician services on average "
        "(Milliman 2023: 139%; HCCI: 122% nationally, 98% to 188% by state).",
        "xlrate Note",
    )
    row += 2

    # Top underpaid codes, across payers.
    top = _top_underpaid(a)
    ws.cell(
        row, 1, f"Top {len(top)} codes by shortfall to target (annual volume x gap per unit)"
    ).style = "xlrate Section"
    row += 1
    for i, column in enumerate(L.TOP_COLUMNS, start=1):
        w.put(ws, row, i, column.header, "xlrate Header")
    ws.row_dimensions[row].height = L.HEADER_HEIGHT
    tcol = {c.key: i for i, c in enumerate(L.TOP_COLUMNS, start=1)}
    start = row + 1
    for row, (_, rec) in enumerate(top, start=start):  # noqa: B007
        sheet = quote(names[rec.payer])
        f, l_ = ranges[rec.payer]
        match = f'MATCH("{rec.code}|{rec.modifier}|{rec.setting}",{sheet}!${pcol["key"]}${f}:${pcol["key"]}${l_},0)'

        def lookup(
            key: str, sheet: str = sheet, f: int = f, l_: int = l_, match: str = match
        ) -> str:
            return f"INDEX({sheet}!${pcol[key]}${f}:${pcol[key]}${l_},{match})"

        w.put(ws, row, tcol["payer"], rec.payer, "xlrate Text")
        w.put(ws, row, tcol["code"], rec.code, "xlrate Code")
        w.put(ws, row, tcol["modifier"], rec.modifier or None, "xlrate Code")
        for key in ("volume", "rate", "medicare", "pct"):
            w.formula(
                ws,
                row,
                tcol[key],
                lookup(key),
                getattr(rec, key),
                L.TOP_COLUMNS[tcol[key] - 1].style,
            )
        w.formula(
            ws, row, tcol["target"], f"{sheet}!{L.PAYER_TARGET}", rec.target, "xlrate Percent"
        )
        w.formula(
            ws,
            row,
            tcol["shortfall"],
            f"-{lookup('impact')}",
            -rec.impact,
            "xlrate Dollars",
        )


def _top_underpaid(a: Analysis) -> list[tuple[int, Any]]:
    """(payer sheet row, row record) of the largest shortfalls, across payers."""
    out = []
    first_row = L.PAYER_HEADER_ROW + 1
    for payer in a.payer_names:
        compared = a.rows[(a.rows["payer"] == payer) & a.rows["compared"]].reset_index(drop=True)
        for i, rec in enumerate(_records(compared)):
            if rec.impact < 0:
                out.append((first_row + i, rec))
    out.sort(key=lambda item: (item[1].impact, item[1].payer, item[1].code))
    return out[:TOP_UNDERPAID]


def _scenarios_sheet(
    w: _Writer,
    ws: Worksheet,
    a: Analysis,
    names: dict[str, str],
    ranges: dict[str, tuple[int, int]],
) -> None:
    spec = a.profile.scenarios
    idx = {c.key: i for i, c in enumerate(L.SCENARIO_COLUMNS, start=1)}
    scol = {c.key: get_column_letter(i) for i, c in enumerate(L.SCENARIO_COLUMNS, start=1)}
    pcol = {c.key: get_column_letter(i) for i, c in enumerate(L.PAYER_COLUMNS, start=1)}
    inputs = {
        "at_target_1": spec.targets[0],
        "at_target_2": spec.targets[1],
        "at_target_3": spec.targets[2],
        "at_target_4": spec.targets[3],
        "at_user_target": spec.user_target,
        "floor": spec.floor,
        "uniform": spec.uniform_increase,
    }
    in_row = L.SCENARIO_INPUT_ROW
    for key, label in L.SCENARIO_INPUTS.items():
        w.put(ws, in_row - 1, idx[key], label, "xlrate Label")
        w.put(ws, in_row, idx[key], inputs[key], "xlrate Input")
    table = a.scenarios.set_index("payer")
    first = L.SCENARIO_HEADER_ROW + 1
    row = first - 1
    for row, payer in enumerate(a.payer_names, start=first):
        sheet = quote(names[payer])
        f, l_ = ranges[payer]

        def rng(key: str, f: int = f, l_: int = l_, sheet: str = sheet) -> str:
            return f"{sheet}!${pcol[key]}${f}:${pcol[key]}${l_}"

        s = table.loc[payer]
        med, rate, vol, pct = rng("medicare"), rng("rate"), rng("volume"), rng("pct")
        w.put(ws, row, idx["payer"], payer, "xlrate Text")
        w.formula(ws, row, idx["revenue"], f"SUM({rng('revenue')})", s["revenue"], "xlrate Dollars")
        w.formula(
            ws,
            row,
            idx["weighted_pct"],
            f"{sheet}!{L.PAYER_WEIGHTED}",
            s["weighted_pct"],
            "xlrate Percent",
        )
        w.formula(
            ws, row, idx["target"], f"{sheet}!{L.PAYER_TARGET}", s["target"], "xlrate Percent"
        )
        w.formula(
            ws,
            row,
            idx["at_payer_target"],
            f"SUMPRODUCT(({med}*{scol['target']}{row}-{rate})*{vol})",
            s["at_payer_target"],
            "xlrate Dollars",
        )
        for key in ("at_target_1", "at_target_2", "at_target_3", "at_target_4", "at_user_target"):
            ref = f"{scol[key]}${in_row}"
            w.formula(
                ws,
                row,
                idx[key],
                f"SUMPRODUCT(({med}*{ref}-{rate})*{vol})",
                s[key],
                "xlrate Dollars",
            )
        ref = f"{scol['floor']}${in_row}"
        w.formula(
            ws,
            row,
            idx["floor"],
            f"SUMPRODUCT(({pct}<{ref})*({med}*{ref}-{rate})*{vol})",
            s["floor"],
            "xlrate Dollars",
        )
        ref = f"{scol['uniform']}${in_row}"
        w.formula(
            ws, row, idx["uniform"], f"SUM({rng('revenue')})*{ref}", s["uniform"], "xlrate Dollars"
        )
    last = row
    total = last + 1
    w.put(ws, total, 1, "All payers", "xlrate Total")
    for column in L.SCENARIO_COLUMNS[1:]:
        key = column.key
        if key in ("weighted_pct", "target"):
            w.put(ws, total, idx[key], None, "xlrate Total", keep_blank=True)
            continue
        w.formula(
            ws,
            total,
            idx[key],
            f"SUM({scol[key]}{first}:{scol[key]}{last})",
            float(table[key].sum()),
            "xlrate Total",
        )
        ws.cell(total, idx[key]).number_format = "$#,##0;[Red]-$#,##0"
    notes = [
        "All codes at a percent: every compared code paid at that percent of Medicare (rates above it come down too).",
        "Floor: every code paid below the percent is raised to it; the others stay as they are.",
        "Uniform raise: every rate goes up by the percent.",
        "Only codes with both a rate and a Medicare amount count; volumes are the annual volumes on the payer sheets.",
    ]
    for offset, text in enumerate(notes, start=total + 2):
        w.put(ws, offset, 1, text, "xlrate Note")
    ws.freeze_panes = f"B{first}"
    ws.print_title_rows = f"{in_row - 1}:{L.SCENARIO_HEADER_ROW}"


def _sources_sheet(w: _Writer, ws: Worksheet, a: Analysis, template: Path) -> None:
    from xlrate.report import xlrate_version

    cols = L.SOURCES_CMS_COLUMNS
    row = 4

    def header() -> None:
        nonlocal row
        for i, column in enumerate(cols, start=1):
            w.put(ws, row, i, column.header, "xlrate Header")
        row += 1

    def line(values: Iterable[Any]) -> None:
        nonlocal row
        items = list(values)
        for i, (column, value) in enumerate(zip(cols, items, strict=False), start=1):
            w.put(ws, row, i, value, column.style)
        # Spreadsheet apps do not grow a row for wrapped text on open: size it here.
        lines = max(1, math.ceil(len(str(items[-1] or "")) / (cols[-1].width * 1.15)))
        if lines > 1:
            ws.row_dimensions[row].height = 13.5 * lines
        row += 1

    ws.cell(row, 1, "Medicare: CMS files").style = "xlrate Section"
    row += 1
    header()
    releases = [(a.release, a.cms_provenance)]
    for release_id, provenance in _yoy_provenance(a):
        if release_id != a.release:
            releases.append((release_id, provenance))
    for release_id, prov in releases:
        cf = prov.get("conversion_factor", "")
        details = (
            f"CY{prov.get('year', release_id[:4])} release {release_id}, released {prov.get('release_date', '?')}; "
            f"conversion factor ${cf}; {prov.get('source_url', '')}"
        )
        if prov.get("note"):
            details += f"; {prov['note']}"
        for f in prov.get("files", []):
            line(
                [
                    "CMS",
                    release_id,
                    f.get("name"),
                    f.get("sha256"),
                    f.get("bytes"),
                    None,
                    None,
                    details,
                ]
            )
    row += 1
    ws.cell(row, 1, "Your input files").style = "xlrate Section"
    row += 1
    header()
    for item in a.inputs:
        details = "; ".join(part for part in (item.source, item.notes) if part)
        if item.synthetic:
            details = "SYNTHETIC: invented for the demo, not a real payer's rates. " + details
        line(
            [
                item.role,
                item.payer or "all payers",
                item.name,
                item.sha256,
                item.bytes,
                item.rows_read,
                item.rows_used,
                details.strip(),
            ]
        )
    row += 1
    ws.cell(row, 1, "This workbook").style = "xlrate Section"
    row += 1
    facts: list[tuple[str, str | int]] = [
        ("Generated", a.generated.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("xlrate version", xlrate_version()),
        ("Template", template.name),
        ("Medicare locality", a.locality),
        ("Medicare year", a.year),
        ("Medicare release", f"{a.release} (CY{a.year})"),
        ("Year over year", a.yoy_label or "not available"),
    ]
    # Named cells: the Excel functions (MEDICARE_RATE, PCT_MEDICARE) take a missing locality
    # or year from Locality and MedicareYear. No MedicareRelease name: that would pin the
    # release, and the Refresh button moves the workbook to its year's newest release.
    names = {"Medicare locality": "Locality", "Medicare year": "MedicareYear"}
    for label, value in facts:
        w.put(ws, row, 1, label, "xlrate Label")
        w.put(ws, row, 2, value, "xlrate Value")
        if label in names:
            ref = f"{quote(ws.title)}!$B${row}"
            ws.parent.defined_names[names[label]] = DefinedName(names[label], attr_text=ref)
        row += 1
    for text in a.warnings[:50]:
        w.put(ws, row, 1, "Warning", "xlrate Label")
        w.put(ws, row, 2, text, "xlrate Value")
        row += 1
    ws.print_title_rows = None


def _yoy_provenance(a: Analysis) -> list[tuple[str, dict[str, Any]]]:
    if not a.yoy_years:
        return []
    out = []
    for release_id in a.yoy_years:
        try:
            from xlrate.medicare.store import load_release

            loaded = load_release(int(release_id[:4]), release_id[4:])
            out.append((release_id, dict(loaded.provenance)))
        except Exception:  # provenance is best effort: the release priced fine moments ago
            continue
    return out
