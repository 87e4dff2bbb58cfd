"""Where things sit in the analysis workbook: columns, formulas, fixed cells, defined names.

Declared once and shared by ``scripts/build_template.py`` (which draws the template), the
sheet modules of :mod:`xlrate.report.sheets` (which fill it) and
:mod:`xlrate.report.readback` (which reads a built workbook back), so the three cannot drift
apart. Column letters are derived from the order of each list.

A column's ``formula`` is a template filled by :func:`str.format`: ``{r}`` is the row, a
column key such as ``{rate}`` is that column's letter on the same sheet, ``{here}`` the
formula's own column letter, and a sheet adds
its own fields (``{rng[revenue]}`` for a payer's revenue range, ``{target}`` for its target
cell...). Excel formulas have no braces, so nothing else needs escaping.
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
    #: A formula template (see the module docstring); None for a column of values.
    formula: str | None = None
    #: Write the formula only on rows where this field of the record has a value.
    when: str | None = None


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

#: A row's lookup key (code|modifier|setting), on the payer sheets and the Medicare sheet.
KEY_FORMULA = '{code}{r}&"|"&{modifier}{r}&"|"&{setting}{r}'

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
    # By key into the Medicare sheet: {amounts} and {keys} are its two columns.
    Column(
        "medicare",
        "Medicare",
        10,
        "xlrate Money",
        'INDEX({amounts},MATCH({code}{r}&"|"&{modifier}{r}&"|"&{setting}{r},{keys},0))',
    ),
    Column("pct", "% of Medicare", 9, "xlrate Percent", "{rate}{r}/{medicare}{r}"),
    Column("target_rate", "Target rate", 10, "xlrate Money", "{medicare}{r}*{target}"),
    Column("variance", "Variance per unit", 10, "xlrate Money", "{rate}{r}-{target_rate}{r}"),
    Column("impact", "Annual impact", 11, "xlrate Dollars", "{variance}{r}*{volume}{r}"),
    Column("revenue", "Annual revenue", 11, "xlrate Dollars", "{rate}{r}*{volume}{r}"),
    # Rows run from the largest revenue down: this column shows which codes carry most of it.
    Column(
        "cumulative_share",
        "Cumulative share of revenue",
        10,
        "xlrate Percent",
        'IF({total_revenue}=0,"",SUM(${revenue}${first}:{revenue}{r})/{total_revenue})',
    ),
    Column("charge", "Your charge", 10, "xlrate Money"),
    # The two checks only where their input exists (a third of the cells otherwise).
    Column(
        "above_charge",
        "Rate at or above charge",
        9,
        "xlrate Flag",
        'IF(ISNUMBER({charge}{r}),IF({rate}{r}>={charge}{r},"yes",""),"")',
        when="charge",
    ),
    Column("era_allowed", "835 allowed per unit", 10, "xlrate Money"),
    Column(
        "era_pct",
        "835 % of Medicare",
        9,
        "xlrate Percent",
        'IF(ISNUMBER({era_allowed}{r}),{era_allowed}{r}/{medicare}{r},"")',
        when="era_allowed",
    ),
    Column("note", "Note", 36, "xlrate Note"),
    # The Matrix and the Summary find a row by this key, so sorting a payer sheet is safe.
    Column("key", "Lookup key", 18, "xlrate Note", KEY_FORMULA),
]
# Header block cells on a payer sheet (label cell, value cell).
PAYER_TARGET = "D3"
PAYER_WEIGHTED = "D4"
PAYER_REVENUE = "I3"
PAYER_BELOW = "I4"
PAYER_MEDIAN = "M3"
PAYER_SHORTFALL = "M4"
# The header block's formulas over the compared table ({rng[key]}: that column's rows).
PAYER_BLOCK = {
    PAYER_WEIGHTED: (
        "weighted_pct",
        'IF(SUMPRODUCT({rng[medicare]},{rng[volume]})=0,"",'
        "SUM({rng[revenue]})/SUMPRODUCT({rng[medicare]},{rng[volume]}))",
        "xlrate Percent",
    ),
    PAYER_REVENUE: ("revenue", "SUM({rng[revenue]})", "xlrate Dollars"),
    # ISNUMBER: an empty table's blank cell would otherwise count as 0 < target.
    PAYER_BELOW: (
        "codes_below_target",
        "SUMPRODUCT(ISNUMBER({rng[pct]})*({rng[pct]}<{target}))",
        "xlrate Count",
    ),
    PAYER_MEDIAN: (
        "median_pct",
        'IF(COUNT({rng[pct]})=0,"",MEDIAN({rng[pct]}))',
        "xlrate Percent",
    ),
    PAYER_SHORTFALL: ("shortfall", '-SUMIF({rng[impact]},"<0")', "xlrate Dollars"),
}

SUMMARY_HEADER_ROW = 12
SUMMARY_INFO = {
    "practice": "B4",
    "locality": "B5",
    "release": "B6",
    "setting": "B7",
    "generated": "B8",
    "data": "B9",
}
# One row per payer: {sheet} is the payer's sheet, {rng[key]} a column of its table,
# {lowest} the Matrix's Lowest payer column.
SUMMARY_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("data", "Data", 26, "xlrate Text"),
    Column("codes_compared", "Codes compared", 9, "xlrate Count", "COUNT({rng[pct]})"),
    Column("volume", "Annual volume", 10, "xlrate Count", "SUM({rng[volume]})"),
    Column("revenue", "Annual revenue", 12, "xlrate Dollars", "SUM({rng[revenue]})"),
    Column(
        "medicare_at_volume",
        "Medicare at the same volume",
        12,
        "xlrate Dollars",
        "SUMPRODUCT({rng[medicare]},{rng[volume]})",
    ),
    Column(
        "weighted_pct",
        "Weighted % of Medicare",
        10,
        "xlrate Percent",
        'IF({medicare_at_volume}{r}=0,"",{revenue}{r}/{medicare_at_volume}{r})',
    ),
    Column("median_pct", "Median % of Medicare", 10, "xlrate Percent", "{sheet}!" + PAYER_MEDIAN),
    Column("target", "Target", 9, "xlrate Percent", "{sheet}!" + PAYER_TARGET),
    Column("codes_below_target", "Codes below target", 9, "xlrate Count", "{sheet}!" + PAYER_BELOW),
    # Exact match: COUNTIF would read * and ? in a payer's name as wildcards.
    Column(
        "lowest_codes",
        "Lowest payer (codes)",
        9,
        "xlrate Count",
        "SUMPRODUCT(({lowest}={payer}{r})*1)",
    ),
    Column(
        "shortfall",
        "Shortfall to target per year",
        12,
        "xlrate Dollars",
        "{sheet}!" + PAYER_SHORTFALL,
    ),
    Column(
        "codes_at_or_above_charge",
        "Codes at or above your charge",
        10,
        "xlrate Count",
        'COUNTIF({rng[above_charge]},"yes")',
    ),
]
# The All payers row: these columns add up; the weighted percent is recomputed.
SUMMARY_TOTALS = (
    "codes_compared",
    "volume",
    "revenue",
    "medicare_at_volume",
    "shortfall",
    "lowest_codes",
    "codes_at_or_above_charge",
)
SUMMARY_TOTAL_WEIGHTED = 'IF({medicare_at_volume}{r}=0,"",{revenue}{r}/{medicare_at_volume}{r})'

# The top underpaid codes on the Summary: each row finds its code on the payer's sheet by
# key ({match} is MATCH("code|modifier|setting", the sheet's key column, 0)).
TOP_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("code", "Code", 26, "xlrate Code"),
    Column("modifier", "Mod", 9, "xlrate Code"),
    Column("volume", "Annual volume", 10, "xlrate Count", "INDEX({rng[volume]},{match})"),
    Column("rate", "Payer rate", 12, "xlrate Money", "INDEX({rng[rate]},{match})"),
    Column("medicare", "Medicare", 12, "xlrate Money", "INDEX({rng[medicare]},{match})"),
    Column("pct", "% of Medicare", 10, "xlrate Percent", "INDEX({rng[pct]},{match})"),
    Column("target", "Target", 10, "xlrate Percent", "{sheet}!" + PAYER_TARGET),
    Column("shortfall", "Shortfall per year", 9, "xlrate Dollars", "-INDEX({rng[impact]},{match})"),
]
TOP_MATCH = "MATCH({key},{rng[key]},0)"
TOP_UNDERPAID = 10

MATRIX_HEADER_ROW = 4
MATRIX_FIXED = [
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 6, "xlrate Code"),
    Column("setting", "Setting", 11, "xlrate Text"),
    Column("medicare", "Medicare", 10, "xlrate Money"),
]
MATRIX_MEDICARE = 'INDEX({amounts},MATCH({code}{r}&"|"&{modifier}{r}&"|"&{setting}{r},{keys},0))'
# By key, not by row: a payer sheet sorted by its filter still lines up.
MATRIX_PAYER = 'INDEX({rng[pct]},MATCH($A{r}&"|"&$B{r}&"|"&$C{r},{rng[key]},0))'
MATRIX_LOWEST = 'IF(COUNT({span})<2,"",INDEX({names},MATCH(MIN({span}),{span},0)))'
MATRIX_PAYER_WIDTH = 12
MATRIX_LOWEST_WIDTH = 26

SCENARIO_INPUT_ROW = 5
SCENARIO_HEADER_ROW = 6
# One row per payer: {sheet} and {rng[key]} as on the Summary; {here} is the column's own
# letter, so {here}${input_row} is its input cell (row-absolute: the same down the column).
_AT_INPUT = "SUMPRODUCT(({rng[medicare]}*{here}${input_row}-{rng[rate]})*{rng[volume]})"
SCENARIO_COLUMNS = [
    Column("payer", "Payer", 34, "xlrate Text"),
    Column("revenue", "Annual revenue now", 12, "xlrate Dollars", "SUM({rng[revenue]})"),
    Column(
        "weighted_pct",
        "Weighted % of Medicare now",
        10,
        "xlrate Percent",
        "{sheet}!" + PAYER_WEIGHTED,
    ),
    Column("target", "Payer's target (its sheet)", 10, "xlrate Percent", "{sheet}!" + PAYER_TARGET),
    Column(
        "at_payer_target",
        "Change: all codes at the payer's target",
        13,
        "xlrate Dollars",
        "SUMPRODUCT(({rng[medicare]}*{target}{r}-{rng[rate]})*{rng[volume]})",
    ),
    Column(
        "at_target_1", "Change: all codes at this % of Medicare", 13, "xlrate Dollars", _AT_INPUT
    ),
    Column(
        "at_target_2", "Change: all codes at this % of Medicare", 13, "xlrate Dollars", _AT_INPUT
    ),
    Column(
        "at_target_3", "Change: all codes at this % of Medicare", 13, "xlrate Dollars", _AT_INPUT
    ),
    Column(
        "at_target_4", "Change: all codes at this % of Medicare", 13, "xlrate Dollars", _AT_INPUT
    ),
    Column(
        "at_user_target", "Change: all codes at your % of Medicare", 13, "xlrate Dollars", _AT_INPUT
    ),
    Column(
        "floor",
        "Change: codes below this % raised to it",
        13,
        "xlrate Dollars",
        "SUMPRODUCT(({rng[pct]}<{here}${input_row})*({rng[medicare]}*{here}${input_row}-{rng[rate]})*{rng[volume]})",
    ),
    Column(
        "uniform",
        "Change: every rate up by this %",
        13,
        "xlrate Dollars",
        "SUM({rng[revenue]})*{here}${input_row}",
    ),
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
    Column("schedule", "Schedule", 9, "xlrate Center"),
    Column("work_rvu", "Work RVU", 8, "xlrate Number"),
    Column("pe_rvu", "PE RVU (this setting)", 9, "xlrate Number"),
    Column("mp_rvu", "MP RVU", 8, "xlrate Number"),
    Column("work_gpci", "Work GPCI", 8, "xlrate Number"),
    Column("pe_gpci", "PE GPCI", 8, "xlrate Number"),
    Column("mp_gpci", "MP GPCI", 8, "xlrate Number"),
    Column("conversion_factor", "Conversion factor", 9, "xlrate Number"),
    Column("yoy_old", "Prior year", 11, "xlrate Money"),
    Column("yoy_new", "Newest year", 11, "xlrate Money"),
    Column(
        "yoy_change",
        "Change",
        9,
        "xlrate Percent",
        "IF(AND(ISNUMBER({yoy_old}{r}),ISNUMBER({yoy_new}{r})),"
        'IF({yoy_old}{r}>0,{yoy_new}{r}/{yoy_old}{r}-1,""),"")',
    ),
    Column("note", "Note", 52, "xlrate Note"),
    Column("key", "Lookup key", 18, "xlrate Note", KEY_FORMULA),
]

# The Market sheet (only when a payer has Transparency in Coverage files): one row per
# compared code of such a payer. The market figures are values from the payer's files; the
# practice's rate comes from its payer sheet and the Medicare amount from the Medicare sheet
# (by key, as on the Matrix), and every percent of Medicare is a formula over those cells.
# {rng[key]} is a column of the row's payer sheet, {amounts}/{keys} the Medicare sheet's.
MARKET_SHEET = "Market"
MARKET_HEADER_ROW = 4
MARKET_HEADER_HEIGHT = 58
_MARKET_KEY = '{code}{r}&"|"&{modifier}{r}&"|"&{setting}{r}'
MARKET_COLUMNS = [
    Column("payer", "Payer", 24, "xlrate Text"),
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 6, "xlrate Code"),
    Column("setting", "Setting", 11, "xlrate Text"),
    Column("volume", "Annual volume", 9, "xlrate Count"),
    Column(
        "rate",
        "Your rate (payer sheet)",
        10,
        "xlrate Money",
        "INDEX({rng[rate]},MATCH(" + _MARKET_KEY + ",{rng[key]},0))",
    ),
    Column("tins", "Other TINs in payer's files", 9, "xlrate Count"),
    Column("p25", "Market 25th percentile", 10, "xlrate Money"),
    Column("median", "Market median", 10, "xlrate Money"),
    Column("p75", "Market 75th percentile", 10, "xlrate Money"),
    Column("own_file_rate", "Your rate in the payer's files", 10, "xlrate Money"),
    Column("rank", "Your rank (lowest first)", 9, "xlrate Center"),
    Column(
        "medicare",
        "Medicare",
        10,
        "xlrate Money",
        "INDEX({amounts},MATCH(" + _MARKET_KEY + ",{keys},0))",
    ),
    Column("rate_pct", "Your rate % of Medicare", 9, "xlrate Percent", "{rate}{r}/{medicare}{r}"),
    Column("p25_pct", "25th pct. % of Medicare", 9, "xlrate Percent", "{p25}{r}/{medicare}{r}"),
    Column("median_pct", "Median % of Medicare", 9, "xlrate Percent", "{median}{r}/{medicare}{r}"),
    Column("p75_pct", "75th pct. % of Medicare", 9, "xlrate Percent", "{p75}{r}/{medicare}{r}"),
    Column(
        "own_file_pct",
        "Your file rate % of Medicare",
        9,
        "xlrate Percent",
        "{own_file_rate}{r}/{medicare}{r}",
        when="own_file_rate",
    ),
    Column(
        "below",
        "Below the market median",
        9,
        "xlrate Flag",
        'IF({rate}{r}<{median}{r},"yes","")',
    ),
    Column(
        "to_median",
        "Change per year at the market median",
        11,
        "xlrate Dollars",
        "IF({rate}{r}<{median}{r},({median}{r}-{rate}{r})*{volume}{r},0)",
    ),
]
# Added to the Summary's payer table and the Scenarios table when there is a Market sheet
# ({mk[key]}: that column of the Market sheet; {payer}{r}: the row's payer cell). A payer
# without TiC files leaves its cells empty.
_MARKET_OF = "({mk[payer]}={payer}{r})"
SUMMARY_MARKET_COLUMNS = [
    Column(
        "market_median_pct",
        "Market median % of Medicare",
        11,
        "xlrate Percent",
        "IF(SUMPRODUCT(" + _MARKET_OF + '*{mk[medicare]}*{mk[volume]})=0,"",'
        "SUMPRODUCT(" + _MARKET_OF + "*{mk[median]}*{mk[volume]})"
        "/SUMPRODUCT(" + _MARKET_OF + "*{mk[medicare]}*{mk[volume]}))",
    ),
    Column(
        "codes_below_market_median",
        "Codes below market median",
        10,
        "xlrate Count",
        "SUMPRODUCT(" + _MARKET_OF + "*({mk[rate]}<{mk[median]}))",
    ),
]
SUMMARY_MARKET_TOTAL = (
    'IF(SUMPRODUCT({mk[medicare]},{mk[volume]})=0,"",'
    "SUMPRODUCT({mk[median]},{mk[volume]})/SUMPRODUCT({mk[medicare]},{mk[volume]}))"
)
SCENARIO_MARKET_COLUMNS = [
    Column(
        "at_market_median",
        "Change: codes below market median raised to it",
        13,
        "xlrate Dollars",
        "SUMPRODUCT(" + _MARKET_OF + "*{mk[to_median]})",
    ),
]
# Underpayments sheets (one per payer with a contract audit): the header block in rows 1-4,
# column headers in row 6, one row per code and modifiers from row 7, then an All codes row.
UNDERPAID_SHEET = "Underpayments"  # the template's prototype sheet, and a lone audit's name
UNDERPAID_HEADER_ROW = 6
UNDERPAID_COLUMNS = [
    Column("code", "Code", 8, "xlrate Code"),
    Column("modifier", "Mod", 7, "xlrate Code"),
    Column("lines", "Lines", 8, "xlrate Count"),
    Column("units", "Units", 8, "xlrate Count"),
    Column("expected", "Expected (contract)", 12, "xlrate Money"),
    Column("allowed", "Allowed (835)", 12, "xlrate Money"),
    # Only where a line had a contract term (else expected and allowed are blank).
    Column(
        "variance",
        "Variance (allowed - expected)",
        12,
        "xlrate Money",
        "{allowed}{r}-{expected}{r}",
        when="expected",
    ),  # fmt: skip
    Column("underpaid_lines", "Lines underpaid", 9, "xlrate Count"),
    Column("underpaid_amount", "Dollars underpaid", 12, "xlrate Money"),
    Column("denied_lines", "Denied lines", 8, "xlrate Count"),
    Column("note", "Note", 40, "xlrate Note"),
]
#: The All codes row: these columns add up (SUM over the table), each under a defined name
#: (:func:`underpaid_name`).
UNDERPAID_TOTALS = {
    "underpaid_amount": "",
    "underpaid_lines": "_Lines",
    "lines": "_AllLines",
    "units": "_Units",
    "expected": "_Expected",
    "allowed": "_Allowed",
    "variance": "_Variance",
    "denied_lines": "_Denied",
}
#: The Summary's "underpaid in the period" figure (label, value, the period in words).
SUMMARY_UNDERPAID_LABEL = "A10"
SUMMARY_UNDERPAID = "B10"
SUMMARY_UNDERPAID_NOTE = "C10"

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
    return letters(columns)[key]


def letters(columns: list[Column]) -> dict[str, str]:
    """Each column's key -> its letter."""
    return {c.key: str(get_column_letter(i)) for i, c in enumerate(columns, start=1)}


def numbers(columns: list[Column]) -> dict[str, int]:
    """Each column's key -> its number (A = 1)."""
    return {c.key: i for i, c in enumerate(columns, start=1)}


def absolute(cell: str) -> str:
    """``D3`` -> ``$D$3``."""
    split = next(i for i, ch in enumerate(cell) if ch.isdigit())
    return f"${cell[:split]}${cell[split:]}"


# ---------------------------------------------------------------------------- names
# The defined names the report writes: the only way anything reads a built workbook back
# (xlrate.report.readback). A name's cells move with the sheet's layout; its name does not.

#: Medicare settings on the Sources sheet (the Excel functions take a missing locality or
#: year from them). No MedicareRelease name: that would pin the release, and the Refresh
#: button moves the workbook to its year's newest release.
LOCALITY = "Locality"
MEDICARE_YEAR = "MedicareYear"
#: The release the Medicare sheet's amounts come from (Refresh rewrites it).
RELEASE_IN_USE = "MedicareReleaseInUse"
PRACTICE = "PracticeName"
#: The Summary's payer table (data rows) and its All payers row.
SUMMARY_PAYERS = "Summary_Payer"
SUMMARY_WEIGHTED = "Summary_WeightedPct"
SUMMARY_SHORTFALL = "Summary_Shortfall"
SUMMARY_TOTAL_WEIGHTED_NAME = "Summary_Total_WeightedPct"
SUMMARY_TOTAL_SHORTFALL = "Summary_Total_Shortfall"
#: With a Market sheet: the Summary's market columns (payer rows) and the All payers percent.
SUMMARY_MARKET_NAMES = {
    "market_median_pct": "Summary_MarketMedianPct",
    "codes_below_market_median": "Summary_CodesBelowMarketMedian",
}
SUMMARY_TOTAL_MARKET_MEDIAN = "Summary_Total_MarketMedianPct"
#: Medicare sheet columns (data rows), by column key: Medicare_Code, Medicare_Amount...
MEDICARE_NAMES = {
    "code": "Medicare_Code",
    "modifier": "Medicare_Modifier",
    "setting": "Medicare_Setting",
    "amount": "Medicare_Amount",
    "status": "Medicare_Status",
    "schedule": "Medicare_Schedule",
    "work_rvu": "Medicare_WorkRVU",
    "pe_rvu": "Medicare_PeRVU",
    "mp_rvu": "Medicare_MpRVU",
    "work_gpci": "Medicare_WorkGPCI",
    "pe_gpci": "Medicare_PeGPCI",
    "mp_gpci": "Medicare_MpGPCI",
    "conversion_factor": "Medicare_ConversionFactor",
    "note": "Medicare_Note",
}
#: Scenario inputs: Scenario_Target1 ... Scenario_Floor, Scenario_Uniformraise.
SCENARIO_NAMES = {
    key: "Scenario_" + label.replace(" ", "") for key, label in SCENARIO_INPUTS.items()
}


#: The Summary's "underpaid in the period" (the sum of the audited payers' totals).
SUMMARY_UNDERPAID_NAME = "Summary_Underpaid"


def underpaid_name(index: int, key: str = "underpaid_amount") -> str:
    """The name of a total on the ``index``-th payer's Underpayments sheet (1-based, the
    payer's place in the profile as for :func:`target_name`): Underpaid_02 (dollars),
    Underpaid_02_Lines, Underpaid_02_Expected..."""
    return f"Underpaid_{index:02d}{UNDERPAID_TOTALS[key]}"


def target_name(index: int) -> str:
    """The name of the ``index``-th payer's target cell (1-based): Target_01."""
    return f"Target_{index:02d}"
