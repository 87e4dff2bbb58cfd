"""Payer fee schedules: golden values counted from the real sample files, plus the shapes
a practice meets (preambles, codes as numbers, $ amounts, text amounts, settings, payers).

How the sample counts were made, without our parser:
- CO csv: `awk -F, 'NR>5 && $1!=""'` gives 4,172 data rows (4,175 lines after the header
  on line 5, of which the last 3 are `,,,,,,,,,`). Rows whose 5th field does not start with
  `$` or `"` (text amounts): 815. Identical repeats of the first five fields (`sort | uniq
  -d`): E1225, S2235 and T2012, one extra row each. Modifier column values (csv module
  Counter): 213 `26`, 203 `TC`, one each `FP`, `TT`, `RR`, 3 `Hospital Setting`, 3 `Office
  setting`, the rest text such as `Rental modifier(s)` or blank.
- AL xlsx (openpyxl, rows 9 to 3,438): 3,430 rows, 3,255 distinct (code, modifier) pairs,
  100 of them with modifier 26; 99202 appears 8 times, every time 64.61.
- AZ xlsx (openpyxl, rows 6 to 1,245): 1,240 rows, no repeated code, 16 rates `BR`.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from xlrate.errors import ImportFileError
from xlrate.practice import read_fee_schedule, read_fee_schedules

FEES = Path(__file__).parents[1] / "data" / "practice" / "fee_schedules"
CO = FEES / "CO_Medicaid_fee_schedule_Jan2016__TRIMMED.csv"
AL = FEES / "AL_Medicaid_physician_fee_schedule_REF0129_2026-02-05__TRIMMED.xlsx"
AZ = FEES / "AZ_AHCCCS_physician_administered_drugs_FFS_2026-01-01.xlsx"
COLUMNS = ["payer", "code", "modifier", "setting", "amount", "note"]


def rate(rows, code: str, modifier: str = "", setting: str = "") -> float:  # type: ignore[no-untyped-def]
    match = rows[(rows.code == code) & (rows.modifier == modifier) & (rows.setting == setting)]
    assert len(match) == 1, match
    return float(match.amount.iloc[0])


@pytest.fixture(scope="module")
def co():  # type: ignore[no-untyped-def]
    return read_fee_schedule(CO, payer="CO Medicaid")


def test_co_report(co) -> None:  # type: ignore[no-untyped-def]
    report = co.report
    assert report.header_row == 5
    assert report.columns["code"] == "CPT or HCPCS Procedure Code"
    assert report.columns["modifier"] == "Procedure Code Modifier"
    assert report.columns["amount"].startswith("Total CO Medicaid Allowable")
    assert report.rows_read == 4172
    assert report.repeats_collapsed == 3  # E1225, S2235, T2012
    assert report.rows_kept == 4169
    assert report.rows_skipped == 0
    assert report.invalid_codes == []


def test_co_rows(co) -> None:  # type: ignore[no-untyped-def]
    rows = co.rows
    assert list(rows.columns) == COLUMNS
    assert len(rows) == 4169
    assert set(rows.payer) == {"CO Medicaid"}
    # Lines copied from the file:
    assert rate(rows, "99202") == 74.77  # 99202,,26.80,2.79,$74.77
    assert rate(rows, "36415") == 3.04  # 36415,,3.04,1.00,$3.04
    assert rate(rows, "V5245") == 1026.49  # V5245,,1026.49,1.00,"$1,026.49"
    assert rate(rows, "51729", "26") == 75.01  # 51729,26,...,$75.01
    assert rate(rows, "51729", "TC") == 112.00  # 51729,TC,...,$112.00
    assert rate(rows, "51729") == 187.01  # 51729,,...,$187.01
    assert rate(rows, "0042T") == 289.55
    # 58353 has 'Hospital Setting', 'Office setting' and a plain row.
    assert rate(rows, "58353", setting="facility") == 167.56
    assert rate(rows, "58353", setting="nonfacility") == 806.31
    # 815 text amounts, less the two collapsed 'Not a benefit' repeats (S2235, T2012).
    assert int(rows.amount.isna().sum()) == 813
    anesthesia = rows[rows.code == "00104"].iloc[0]
    assert math.isnan(anesthesia.amount)
    assert anesthesia.note == "Varies based on total anesthesia time"
    g0008 = rows[rows.code == "G0008"].iloc[0]
    assert math.isnan(g0008.amount) and g0008.note == "Not a benefit"
    counts = rows.modifier.value_counts().to_dict()
    assert counts["26"] == 213 and counts["TC"] == 203
    assert counts["FP"] == counts["TT"] == counts["RR"] == 1
    assert rows.setting.value_counts().to_dict() == {"": 4163, "facility": 3, "nonfacility": 3}
    # Free text in the modifier column is a note, never a modifier.
    assert not rows.modifier.str.contains("Rental", case=False).any()
    assert rows.note.str.contains("Rental modifier", case=False).sum() > 0


def test_co_conflicting_repeats_are_reported_not_resolved(co) -> None:  # type: ignore[no-untyped-def]
    # D6100 appears twice with different amounts (two age ranges): both kept, reported.
    assert sorted(co.rows[co.rows.code == "D6100"].amount) == [313.90, 328.03]
    assert any("D6100" in c and "328.03" in c and "313.9" in c for c in co.report.conflicts)


def test_al_codes_as_numbers_and_benefit_limit_repeats() -> None:
    schedule = read_fee_schedule(AL, payer="AL Medicaid")
    report = schedule.report
    rows = schedule.rows
    assert report.sheet == "REF0129"
    assert report.header_row == 8
    assert report.rows_read == 3430
    assert report.rows_kept == 3255
    assert report.repeats_collapsed == 175
    assert report.conflicts == []
    assert len(rows) == 3255
    assert list(rows.columns) == [*COLUMNS, "description"]
    assert (rows.modifier == "26").sum() == 100
    assert (rows.setting == "").all()
    assert rate(rows, "99202") == 64.61  # 8 identical rows -> one
    assert rate(rows, "99213") == 63.95
    assert rate(rows, "10004") == 39.51  # stored as the number 10004
    assert rate(rows, "2028F") == 0.0  # stored as text
    assert rows[rows.code == "10004"].description.iloc[0] == "FNA BX W/O IMG GDN EA ADDL"


def test_az_br_and_mixed_code_types() -> None:
    schedule = read_fee_schedule(AZ)
    rows = schedule.rows
    assert schedule.report.header_row == 5
    assert schedule.report.columns["amount"] == "Fee for Service Rate"
    assert schedule.report.rows_read == 1240
    assert len(rows) == 1240
    # Payer from the file name.
    assert set(rows.payer) == {"AZ_AHCCCS_physician_administered_drugs_FFS_2026-01-01"}
    assert rate(rows, "90371") == 137.83
    assert rate(rows, "J0121") == 4.14
    assert rate(rows, "S4024") == 930.0
    br = rows[rows.note == "BR"]
    assert len(br) == 16 and br.amount.isna().all()
    assert "90635" in set(br.code)


# -- the shapes a practice meets --------------------------------------------------------


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_normalizes_codes_modifiers_and_amounts(tmp_path: Path) -> None:
    path = write(
        tmp_path / "acme.csv",
        "Acme Health fee schedule\n"
        "Effective 2026\n"
        "\n"
        "CPT,Mod,Fee\n"
        "100,,$1023.32\n"
        '99213.0,,"$1,023.32"\n'
        "g0008,, 12 \n"
        "99 214,25,45.5\n"
        "76145,26,80\n"
        "99215,  ,By report\n"
        "99999X,,10\n"
        ",,\n"
        "99203,,(5.00)\n",
    )
    schedule = read_fee_schedule(path)
    rows = schedule.rows
    assert list(rows.code) == ["00100", "99213", "G0008", "99214", "76145", "99215", "99203"]
    assert list(rows.modifier) == ["", "", "", "25", "26", "", ""]
    assert list(rows.amount.fillna(-1)) == [1023.32, 1023.32, 12.0, 45.5, 80.0, -1, -5.0]
    assert rows.note.iloc[5] == "By report"
    assert set(rows.payer) == {"acme"}
    report = schedule.report
    assert report.header_row == 4
    assert report.rows_read == 9
    assert report.rows_kept == 7
    assert report.skipped == {"not a HCPCS code": 1, "blank row": 1}
    assert report.invalid_codes == [(11, "99999X")]
    text = report.text()
    assert "rows read 9, kept 7" in text and "99999X" in text


def test_facility_and_nonfacility_columns_give_one_row_each(tmp_path: Path) -> None:
    path = write(
        tmp_path / "plan.csv",
        "HCPCS,Modifier,Non-Facility Fee,Facility Fee,Payer\n"
        "99213,,95.10,70.25,Aetna\n"
        "99214,,Not covered,101.00,Cigna\n",
    )
    rows = read_fee_schedule(path).rows
    assert list(zip(rows.payer, rows.code, rows.setting, rows.amount.fillna(-1), strict=True)) == [
        ("Aetna", "99213", "nonfacility", 95.10),
        ("Aetna", "99213", "facility", 70.25),
        ("Cigna", "99214", "nonfacility", -1),
        ("Cigna", "99214", "facility", 101.00),
    ]
    assert rows.note.iloc[2] == "Not covered"


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [("utf-8", ",", b""), ("utf-8", "\t", b"\xef\xbb\xbf"), ("cp1252", ";", b"")],
)
def test_encodings_and_delimiters(
    tmp_path: Path, encoding: str, delimiter: str, bom: bytes
) -> None:
    lines = [
        ["Procedure", "Description", "Allowed Amount", "Volume", "POS"],
        ["99213", "Visite établie – niveau 3", "63.95", "120", "11"],
        ["J1100", "Dexaméthasone", "0.11", "40", "22"],
    ]
    text = "\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n"
    path = tmp_path / "x.csv"
    path.write_bytes(bom + text.encode(encoding))
    rows = read_fee_schedule(path, payer="P").rows
    assert list(rows.columns) == [*COLUMNS, "description", "volume", "pos"]
    assert list(rows.code) == ["99213", "J1100"]
    assert list(rows.amount) == [63.95, 0.11]
    assert list(rows.volume) == [120.0, 40.0]
    assert list(rows.pos) == ["11", "22"]
    assert rows.description.iloc[1] == "Dexaméthasone"


def test_explicit_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "odd.csv", "Svc,Pays\n99213,80\n")
    with pytest.raises(ImportFileError, match="--map"):
        read_fee_schedule(path)
    rows = read_fee_schedule(path, mapping={"code": "Svc", "amount": "pays"}).rows
    assert list(rows.code) == ["99213"] and list(rows.amount) == [80.0]
    with pytest.raises(ImportFileError, match="no row has all the mapped"):
        read_fee_schedule(path, mapping={"code": "Service", "amount": "Pays"})
    with pytest.raises(ImportFileError, match="not a column role"):
        read_fee_schedule(path, mapping={"code": "Svc", "price": "Pays"})


def test_several_files(tmp_path: Path) -> None:
    a = write(tmp_path / "aetna.csv", "Code,Fee\n99213,90\n")
    b = write(tmp_path / "cigna.csv", "Code,Fee\n99213,95\n")
    both = read_fee_schedules([a, b])
    assert list(both.rows.payer) == ["aetna", "cigna"]
    assert len(both.reports) == 2


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("old.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("broken.xlsx", b"PK\x03\x04 not really", "not a readable .xlsx"),
        ("binary.csv", b"\x00\x01\x02" * 100, "not a text"),
        ("empty.csv", b"", "cannot find the header row"),
        ("words.csv", b"just,some\ntext,here\n", "cannot find the header row"),
    ],
)
def test_unreadable_files_are_refused(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        read_fee_schedule(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        read_fee_schedule(tmp_path / "nope.csv")


def _openpyxl_rows(path: Path) -> list[list[object]]:
    """The reference: openpyxl's values of the first sheet (what the report library reads)."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def test_xlsx_reader_matches_openpyxl() -> None:
    from xlrate.xlsx import read_sheets

    for path in (AL, AZ):
        _, rows = next(read_sheets(path))
        reference = _openpyxl_rows(path)
        ours_all = list(rows)
        assert len(ours_all) == len(reference)
        for ours, theirs in zip(ours_all, reference, strict=True):
            ours = ours + [None] * (len(theirs) - len(ours))
            for a, b in zip(ours, theirs, strict=True):
                assert a == b and type(a) is type(b)


def test_payer_argument_wins_over_payer_column(tmp_path: Path) -> None:
    path = write(tmp_path / "x.csv", "Code,Fee,Payer\n99213,90,Aetna\n")
    assert list(read_fee_schedule(path).rows.payer) == ["Aetna"]
    assert list(read_fee_schedule(path, payer="Aetna PPO").rows.payer) == ["Aetna PPO"]


def test_csv_named_xlsx_is_read_by_content(tmp_path: Path) -> None:
    path = write(tmp_path / "download.xlsx", "Code,Fee\n99213,90\n")
    assert list(read_fee_schedule(path).rows.amount) == [90.0]


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, xlrate.practice; print('pandas' in sys.modules, 'openpyxl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_line_breaks_that_csv_does_not_split_on(tmp_path: Path) -> None:
    # Found by hypothesis: str.splitlines() breaks on \x0b, the csv module does not, so a
    # header found in a splitlines() sample pointed at the wrong row.
    path = write(tmp_path / "vt.csv", "\x01\x0b~,,\n,,\nCode,Mod,Fee\n99213,,90\n")
    schedule = read_fee_schedule(path)
    assert schedule.report.header_row == 3
    assert list(schedule.rows.amount) == [90.0]
