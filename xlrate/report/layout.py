"""Where things sit in the analysis workbook: columns, widths, styles, fixed rows.

Shared by ``scripts/build_template.py`` (which draws the template) and
:mod:`xlrate.report.workbook` (which fills it), so the two cannot drift apart.
Column letters are derived from the order of each list.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl.utils import get_column_letter


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    style: str


STYLE_NAMES = (
    "xlrate Title",
    "xlrate Subtitle",
    "xlrate Section",
    "xlrate Label",
    "xlrate Header",
    "xlrate Text",
    "xlrate Wrap",
    "xlrate Code",
    "xlrate Money",
    "xlrate Dollars",
    "xlrate Percent",
    "xlrate Count",
    "xlrate Number",
    "xlrate Input",
    "xlrate Total",
    "xlrate Note",
    "xlrate Value",
    "xlrate Hash",
    "xlrate Flag",
    "xlrate Center",
)

# Payer sheets: header block in rows 1-4, column headers in row 6, data from row 7.
PAYER_HEADER_ROW = 6
HEADER_HEIGHT = 45
PAYER_COLUMNS = [
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 6, "xlrate Code"),
    Column("description", "Description", 32, "xlrate Text"),
    Column("setting", "Setting", 11, "xlrate Text"),
    Column("volume", "Annual volume", 9, "xlrate Count"),
    Column("rate", "Payer rate", 10, "xlrate Money"),
    Column("medicare", "Medicare", 10, "xlrate Money"),
    Column("pct", "% of Medicare", 9, "xlrate Percent"),
    Column("target_rate", "Target rate", 10, "xlrate Money"),
    Column("variance", "Variance per unit", 10, "xlrate Money"),
    Column("impact", "Annual impact", 11, "xlrate Dollars"),
    Column("revenue", "Annual revenue", 11, "xlrate Dollars"),
    Column("cumulative_share", "Cumulative share of revenue", 10, "xlrate Percent"),
    Column("charge", "Your charge", 10, "xlrate Money"),
    Column("above_charge", "Rate at or above charge", 9, "xlrate Flag"),
    Column("era_allowed", "835 allowed per unit", 10, "xlrate Money"),
    Column("era_pct", "835 % of Medicare", 9, "xlrate Percent"),
    Column("note", "Note", 36, "xlrate Note"),
    # The Matrix and the Summary find a row by this key, so sorting a payer sheet is safe.
    Column("key", "Lookup key", 18, "xlrate Note"),
]
# Header block cells on a payer sheet (label cell, value cell).
PAYER_TARGET = "D3"
PAYER_WEIGHTED = "D4"
PAYER_REVENUE = "I3"
PAYER_BELOW = "I4"
PAYER_MEDIAN = "M3"
PAYER_SHORTFALL = "M4"

SUMMARY_HEADER_ROW = 12
SUMMARY_INFO = {
    "practice": "B4",
    "locality": "B5",
    "release": "B6",
    "setting": "B7",
    "generated": "B8",
    "data": "B9",
}
SUMMARY_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("data", "Data", 26, "xlrate Text"),
    Column("codes_compared", "Codes compared", 9, "xlrate Count"),
    Column("volume", "Annual volume", 10, "xlrate Count"),
    Column("revenue", "Annual revenue", 12, "xlrate Dollars"),
    Column("medicare_at_volume", "Medicare at the same volume", 12, "xlrate Dollars"),
    Column("weighted_pct", "Weighted % of Medicare", 10, "xlrate Percent"),
    Column("median_pct", "Median % of Medicare", 10, "xlrate Percent"),
    Column("target", "Target", 9, "xlrate Percent"),
    Column("codes_below_target", "Codes below target", 9, "xlrate Count"),
    Column("lowest_codes", "Lowest payer (codes)", 9, "xlrate Count"),
    Column("shortfall", "Shortfall to target per year", 12, "xlrate Dollars"),
    Column("codes_at_or_above_charge", "Codes at or above your charge", 10, "xlrate Count"),
]
TOP_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("code", "Code", 26, "xlrate Code"),
    Column("modifier", "Mod", 9, "xlrate Code"),
    Column("volume", "Annual volume", 10, "xlrate Count"),
    Column("rate", "Payer rate", 12, "xlrate Money"),
    Column("medicare", "Medicare", 12, "xlrate Money"),
    Column("pct", "% of Medicare", 10, "xlrate Percent"),
    Column("target", "Target", 10, "xlrate Percent"),
    Column("shortfall", "Shortfall per year", 9, "xlrate Dollars"),
]

MATRIX_HEADER_ROW = 4
MATRIX_FIXED = [
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 6, "xlrate Code"),
    Column("setting", "Setting", 11, "xlrate Text"),
    Column("medicare", "Medicare", 10, "xlrate Money"),
]
MATRIX_PAYER_WIDTH = 12
MATRIX_LOWEST_WIDTH = 26

SCENARIO_INPUT_ROW = 5
SCENARIO_HEADER_ROW = 6
SCENARIO_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("revenue", "Annual revenue now", 12, "xlrate Dollars"),
    Column("weighted_pct", "Weighted % of Medicare now", 10, "xlrate Percent"),
    Column("target", "Payer's target (its sheet)", 10, "xlrate Percent"),
    Column("at_payer_target", "Change: all codes at the payer's target", 13, "xlrate Dollars"),
    Column("at_target_1", "Change: all codes at this % of Medicare", 13, "xlrate Dollars"),
    Column("at_target_2", "Change: all codes at this % of Medicare", 13, "xlrate Dollars"),
    Column("at_target_3", "Change: all codes at this % of Medicare", 13, "xlrate Dollars"),
    Column("at_target_4", "Change: all codes at this % of Medicare", 13, "xlrate Dollars"),
    Column("at_user_target", "Change: all codes at your % of Medicare", 13, "xlrate Dollars"),
    Column("floor", "Change: codes below this % raised to it", 13, "xlrate Dollars"),
    Column("uniform", "Change: every rate up by this %", 13, "xlrate Dollars"),
]
SCENARIO_INPUTS = {
    "at_target_1": "Target 1",
    "at_target_2": "Target 2",
    "at_target_3": "Target 3",
    "at_target_4": "Target 4",
    "at_user_target": "Your target",
    "floor": "Floor",
    "uniform": "Uniform raise",
}

MEDICARE_HEADER_ROW = 4
MEDICARE_COLUMNS = [
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 6, "xlrate Code"),
    Column("setting", "Setting", 11, "xlrate Text"),
    Column("amount", "Medicare amount", 11, "xlrate Money"),
    Column("status", "Status", 12, "xlrate Center"),
    Column("work_rvu", "Work RVU", 8, "xlrate Number"),
    Column("pe_rvu", "PE RVU (this setting)", 9, "xlrate Number"),
    Column("mp_rvu", "MP RVU", 8, "xlrate Number"),
    Column("work_gpci", "Work GPCI", 8, "xlrate Number"),
    Column("pe_gpci", "PE GPCI", 8, "xlrate Number"),
    Column("mp_gpci", "MP GPCI", 8, "xlrate Number"),
    Column("conversion_factor", "Conversion factor", 9, "xlrate Number"),
    Column("yoy_old", "Prior year", 11, "xlrate Money"),
    Column("yoy_new", "Newest year", 11, "xlrate Money"),
    Column("yoy_change", "Change", 9, "xlrate Percent"),
    Column("note", "Note", 52, "xlrate Note"),
    Column("key", "Lookup key", 18, "xlrate Note"),
]

SOURCES_CMS_COLUMNS = [
    Column("what", "What", 18, "xlrate Text"),
    Column("who", "Payer / release", 24, "xlrate Text"),
    Column("file", "File", 36, "xlrate Text"),
    Column("sha256", "SHA-256", 66, "xlrate Hash"),
    Column("bytes", "Bytes", 11, "xlrate Count"),
    Column("rows_read", "Rows read", 9, "xlrate Count"),
    Column("rows_used", "Rows used", 9, "xlrate Count"),
    Column("details", "Details", 64, "xlrate Wrap"),
]


def letter(columns: list[Column], key: str) -> str:
    """The column letter of ``key`` in ``columns``."""
    for index, column in enumerate(columns, start=1):
        if column.key == key:
            return str(get_column_letter(index))
    raise KeyError(key)
