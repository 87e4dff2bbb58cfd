"""What the workbook's buttons do.

The work is done on an openpyxl workbook, so it runs the same from a button, a test or a
script:

- :func:`refresh_medicare`: update the Medicare data (the updater of
  :mod:`xlrate.medicare.update`), then rewrite the Medicare sheet for the workbook's
  locality and year; on failure nothing in the workbook changes.
- :func:`rebuild_analysis`: re-read the payer inputs the workbook's profile names and
  refresh the analysis sheets.
- Prepare to share and Email are file operations: :mod:`xlrate.report.shared` and
  :mod:`xlrate.report.shared`.

Everything is read and written through the defined names the report writes
(:mod:`xlrate.report.readback`), never by a heading or a label.

The ``*_clicked`` functions at the bottom are the RunPython entry points: they find the
calling book with xlwings, hand a copy of its cells to the functions above as an openpyxl
workbook, and write back only the sheets that changed. Status goes to Excel's status bar;
a failure shows its one-line message in a dialog.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import xlwings as xw
from openpyxl.workbook.defined_name import DefinedName

import xlrate
from xlrate.email import compose_message, write_eml
from xlrate.errors import ReportError, UpdateError, XlrateError
from xlrate.excel import functions as f
from xlrate.report import build_workbook, readback
from xlrate.report.cells import set_value
from xlrate.report.readback import SETTING_NAMES, headline, named_value
from xlrate.report.shared import prepare_shared_copy

MEDICARE_SHEET = "Medicare"


# --------------------------------------------------------------------------------------
# Settings from named cells
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkbookSettings:
    locality: str | None
    zip: str | None
    year: int | None
    release: str | None
    setting: str


def workbook_settings(wb: Any) -> WorkbookSettings:
    """Locality/ZIP, year, release and setting from the workbook's named cells."""
    locality_value = named_value(wb, *SETTING_NAMES["locality"])
    zip_value = named_value(wb, *SETTING_NAMES["zip"])
    year_value = named_value(wb, *SETTING_NAMES["year"])
    release_value = named_value(wb, *SETTING_NAMES["release"])
    setting_value = named_value(wb, *SETTING_NAMES["setting"])
    in_use = f._release(named_value(wb, *SETTING_NAMES["release_in_use"]))
    if year_value is None and release_value is None and in_use and in_use[:4].isdigit():
        # A refresh keeps the year of the release in use and takes the newest release of
        # that year. Only a MedicareRelease cell pins a release.
        year_value = int(in_use[:4])
    locality = f._locality_id(locality_value) if locality_value is not None else None
    zip5 = f._zip5(zip_value) if zip_value is not None else None
    if locality is None and locality_value is not None:
        zip5 = zip5 or f._zip5(locality_value)
        if zip5 is None:
            raise ReportError(
                f"the Locality cell holds {locality_value!r}: write a locality such as "
                "01112-05, NATIONAL, or a ZIP code"
            )
    try:
        year = f._year(year_value)
        setting = f._setting(setting_value)
    except ValueError as exc:
        raise ReportError(f"workbook settings: {exc}") from None
    release = f._release(release_value)
    if release and re.fullmatch(r"[A-D]", release) and year:
        release = f"{year}{release}"
    return WorkbookSettings(locality, zip5, year, release, setting)


# --------------------------------------------------------------------------------------
# Refresh Medicare rates
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RefreshResult:
    release: str
    rows: int
    update_message: str

    @property
    def message(self) -> str:
        return f"Medicare release {self.release} in use; {self.rows} code(s) repriced. " + (
            self.update_message
        )


Updater = Callable[[int | None, str | None], Any]


def _default_updater(year: int | None, release: str | None) -> Any:
    from xlrate.medicare.update import update_release  # lazy: reads CMS files with pandas

    quarter = release[-1] if release else None
    return update_release(year, quarter, progress=False)


def refresh_medicare(
    wb: Any, *, update: bool = True, updater: Updater | None = None
) -> RefreshResult:
    """Update the Medicare data, then reprice the Medicare sheet for the workbook's settings.

    Everything is computed before the first cell is written, so a failure (no network,
    a locality CMS does not list) leaves the workbook as it was.
    """
    table = readback.medicare_table(wb)
    if table is None:
        raise ReportError(
            f"this workbook has no named {MEDICARE_SHEET} table (Medicare_Code...): rebuild "
            "it with `xlrate build`"
        )
    settings = workbook_settings(wb)
    update_message = ""
    if update:
        try:
            result = (updater or _default_updater)(settings.year, settings.release)
        except XlrateError as exc:
            raise UpdateError(f"Medicare rates not refreshed: {exc}") from None
        update_message = str(getattr(result, "message", "") or "")
    ws = table.sheet
    code_col = table.columns["code"]
    mod_col = table.columns.get("modifier")
    set_col = table.columns.get("setting")
    rows: list[int] = []
    codes: list[Any] = []
    mods: list[Any] = []
    row_settings: list[str] = []
    for r in table.rows:
        code = ws.cell(r, code_col).value
        if code in (None, ""):
            continue
        rows.append(r)
        codes.append(code)
        mods.append(ws.cell(r, mod_col).value if mod_col else None)
        row_value = ws.cell(r, set_col).value if set_col else None
        try:
            row_settings.append(f._setting(row_value) if row_value else settings.setting)
        except ValueError as exc:
            raise ReportError(f"{ws.title}!row {r}: {exc}") from None
    import pandas as pd  # lazy: loading the add-in stays free of pandas

    frame = pd.DataFrame({"code": codes, "modifier": mods, "setting": row_settings})
    place: dict[str, Any] = {}
    if settings.locality:
        place["locality"] = settings.locality
    elif settings.zip:
        place["zip"] = settings.zip
    try:
        priced = xlrate.price(
            frame, year=settings.year, release=settings.release, detail=True, **place
        )
    except XlrateError as exc:
        raise ReportError(f"Medicare rates not refreshed: {exc}") from None
    if len(priced):
        facility = priced["setting"] == "facility"
        priced["pe_rvu_setting"] = priced["pe_rvu_facility"].where(
            facility, priced["pe_rvu_nonfacility"]
        )
        priced["status"] = priced["status"].astype(str).str.replace("_", " ")
    release_id = str(priced["release"].iloc[0]) if len(priced) else ""
    if not release_id:
        from xlrate.medicare.store import resolve_release  # lazy: numpy on use only

        release_id = resolve_release(settings.year, settings.release).release_id
    # Computed: now write.
    columns = {
        table.columns[key]: source
        for key, source in readback.MEDICARE_PRICE_COLUMNS.items()
        if key in table.columns
    }
    for i, r in enumerate(rows):
        for col, source in columns.items():
            if source not in priced.columns:
                continue
            value = priced[source].iloc[i]
            if hasattr(value, "item"):
                value = value.item()
            if (isinstance(value, float) and math.isnan(value)) or value == "":
                value = None
            set_value(ws.cell(r, col), value)  # a note is text, never a formula
    # The Summary and the Medicare sheet state the release by formula from this cell.
    readback.set_named(wb, readback.SETTING_NAMES["release_in_use"][0], release_id)
    readback.set_named(wb, readback.STATUS_NAME, f"Medicare release {release_id}")
    return RefreshResult(release_id, len(rows), update_message)


# --------------------------------------------------------------------------------------
# Rebuild analysis
# --------------------------------------------------------------------------------------

#: Sheets the rebuild leaves alone: the user's settings and notes, xlwings' config.
KEEP_SHEETS = ("xlwings.conf", "Notes")


def profile_path(wb: Any, workbook_path: Path | None) -> Path:
    """The practice profile the workbook was built from."""
    named = named_value(wb, "Profile", "ProfilePath")
    candidates: list[Path] = []
    if named:
        path = Path(str(named)).expanduser()
        if not path.is_absolute() and workbook_path is not None:
            path = workbook_path.parent / path
        candidates.append(path)
    if workbook_path is not None:
        candidates.append(workbook_path.parent / "practice.toml")
    if os.environ.get("XLRATE_PROFILE"):
        candidates.append(Path(os.environ["XLRATE_PROFILE"]))
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates) or "no candidates"
    raise ReportError(
        "cannot find the practice profile that names the payer files (tried "
        f"{tried}): put its path in a cell named Profile, or practice.toml next to the workbook"
    )


def rebuild_analysis(
    wb: Any, workbook_path: Path | None = None, *, built: Path | None = None
) -> list[str]:
    """Re-read the payer inputs and refresh the analysis sheets; returns the sheets refreshed.

    The analysis is rebuilt into a fresh workbook by :func:`xlrate.report.build_workbook`,
    then each of its sheets' cells replaces the same sheet's cells in ``wb`` (formatting
    and sheets of the user's own stay). ``built`` skips the build (a workbook made already).
    """
    if built is None:
        # The analysis loads pandas: only when rebuilding.
        from xlrate.analysis import analyze, load_profile  # lazy: pandas on use only

        profile = load_profile(profile_path(wb, workbook_path))
        analysis = analyze(profile)
        with tempfile.TemporaryDirectory(prefix="xlrate-rebuild-") as tmp:
            fresh_path = Path(tmp) / "analysis.xlsx"
            build_workbook(analysis, fresh_path, force=True)
            fresh = openpyxl.load_workbook(fresh_path)
    else:
        fresh = openpyxl.load_workbook(built)
    refreshed = []
    for sheet in fresh.worksheets:
        if sheet.title in KEEP_SHEETS:
            continue
        target = wb[sheet.title] if sheet.title in wb.sheetnames else wb.create_sheet(sheet.title)
        copy_cells(sheet, target)
        refreshed.append(sheet.title)
    return refreshed


def copy_cells(source: Any, target: Any) -> None:
    """Make ``target``'s cell values and formulas those of ``source`` (formats stay)."""
    for row in target.iter_rows():
        for cell in row:
            if cell.value is not None and source.cell(cell.row, cell.column).value is None:
                cell.value = None
    for row in source.iter_rows():
        for cell in row:
            if cell.value is not None:
                target.cell(cell.row, cell.column).value = cell.value


# --------------------------------------------------------------------------------------
# The xlwings side: find the calling book, mirror it, write back what changed
# --------------------------------------------------------------------------------------


def mirror(book: Any) -> Any:
    """An openpyxl workbook holding ``book``'s cells (formulas and constants) and names."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in book.sheets:
        ws = wb.create_sheet(sheet.name)
        used = sheet.used_range
        formulas = used.formula
        if not isinstance(formulas, (list, tuple)):
            formulas = ((formulas,),)
        elif formulas and not isinstance(formulas[0], (list, tuple)):
            formulas = (formulas,)
        top, left = used.row, used.column
        for dr, row in enumerate(formulas):
            for dc, value in enumerate(row):
                if value not in (None, ""):
                    ws.cell(top + dr, left + dc).value = value
    for name in book.names:
        refers_to = str(name.refers_to).lstrip("=")
        if "!" in name.name:
            continue  # sheet-scoped names are not settings
        wb.defined_names[name.name] = DefinedName(name.name, attr_text=refers_to)
    return wb


def _cells(ws: Any) -> dict[tuple[int, int], Any]:
    return {
        (c.row, c.column): c.value for row in ws.iter_rows() for c in row if c.value is not None
    }


def write_back(book: Any, before: Any, after: Any) -> list[str]:
    """Write into the live ``book`` the sheets whose cells differ between the two mirrors."""
    changed = []
    for ws in after.worksheets:
        new = _cells(ws)
        old = _cells(before[ws.title]) if ws.title in before.sheetnames else None
        if new == old:
            continue
        if old is None:
            sheet = book.sheets.add(ws.title, after=book.sheets[len(book.sheets) - 1])
        else:
            sheet = book.sheets[ws.title]
        for r, c in old or {}:
            if (r, c) not in new:
                sheet.range((r, c)).clear_contents()
        updates = {key: value for key, value in new.items() if old is None or old.get(key) != value}
        for (r, c0, c1), values in _row_runs(updates):
            # One COM call per run of neighbouring cells in a row, not per cell.
            if c0 == c1:
                sheet.range((r, c0)).formula = values[0]
            else:
                sheet.range((r, c0), (r, c1)).formula = values
        changed.append(ws.title)
    return changed


def _row_runs(cells: dict[tuple[int, int], Any]) -> list[tuple[tuple[int, int, int], list[Any]]]:
    """Cells grouped into runs of adjacent columns within a row: ((row, first, last), values)."""
    runs: list[tuple[tuple[int, int, int], list[Any]]] = []
    for (r, c), value in sorted(cells.items()):
        if runs:
            (row, first, last), values = runs[-1]
            if row == r and last == c - 1:
                runs[-1] = ((row, first, c), [*values, value])
                continue
        runs.append(((r, c, c), [value]))
    return runs


def _calling_book() -> Any:
    return xw.Book.caller()


def _status(book: Any, text: str) -> None:
    with contextlib.suppress(Exception):  # the status bar is a courtesy
        book.app.status_bar = text


def _alert(book: Any, text: str) -> None:
    try:
        book.app.alert(text, title="xlrate")
    except Exception:
        _status(book, text)


def _run_on_mirror(action: Callable[[Any, Path | None], str]) -> None:
    book = _calling_book()
    path = Path(book.fullname) if os.path.isabs(str(book.fullname)) else None
    _status(book, "xlrate: working...")
    try:
        before = mirror(book)
        after = mirror(book)
        message = action(after, path)
        write_back(book, before, after)
    except XlrateError as exc:
        _status(book, f"xlrate: {exc}")
        _alert(book, str(exc))
        return
    _status(book, f"xlrate: {message}")


def refresh_medicare_rates_clicked() -> None:
    """Button: Refresh Medicare rates."""

    def action(wb: Any, path: Path | None) -> str:
        result = refresh_medicare(wb)
        f.clear_caches()  # the functions answer from the new data too
        return result.message

    _run_on_mirror(action)


def rebuild_analysis_clicked() -> None:
    """Button: Rebuild analysis."""

    def action(wb: Any, path: Path | None) -> str:
        sheets = rebuild_analysis(wb, path)
        return f"analysis rebuilt ({', '.join(sheets)})"

    _run_on_mirror(action)


def _saved_path(book: Any) -> Path:
    book.save()
    return Path(book.fullname)


def prepare_to_share_clicked() -> None:
    """Button: Prepare to share. Saves the workbook, then writes the shared copy beside it."""
    book = _calling_book()
    try:
        copy = prepare_shared_copy(_saved_path(book), functions=f.FUNCTIONS)
    except XlrateError as exc:
        _alert(book, str(exc))
        return
    _status(book, f"xlrate: shared copy written: {copy.path}")
    _alert(book, f"Shared copy written:\n{copy.path}")


def email_clicked() -> None:
    """Button: Email. Writes the shared copy and a draft with it attached, then opens it."""
    book = _calling_book()
    try:
        path = _saved_path(book)
        copy = prepare_shared_copy(path, functions=f.FUNCTIONS)
        to = str(named_value(mirror(book), "EmailTo") or "")
        message = compose_message(
            copy.path,
            to=[to] if to else ["(recipient)"],
            lines=headline(path),
        )
        draft = write_eml(message, copy.path.with_suffix(".eml"))
    except XlrateError as exc:
        _alert(book, str(exc))
        return
    _status(book, f"xlrate: email draft written: {draft}")
    _open_file(draft)


def _open_file(path: Path) -> None:
    """Open ``path`` with the system's handler (the mail program for an .eml)."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
    elif sys.platform == "darwin":
        subprocess.run(["open", str(path)], check=False)
    else:
        subprocess.run(["xdg-open", str(path)], check=False)
