"""Issue 10 item 7: one code rule for the command line, CSV input and 835 input, with
the reason in each refusal; and the messages that used to mislead."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from xlrate.codes import clean_code, code_problem

ERA = Path(__file__).parents[1] / "data" / "practice" / "era835"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("9921", "4 digits"), ("99 213", "space inside"), ("99213-XYZ", "not a modifier")],
)
def test_one_code_rule_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, reason: str
) -> None:
    if "-" not in value:
        assert reason in code_problem(value)
    # the command line
    code, out, err = run_main(capsys, "price", value, "--national")
    assert code == 1 and reason in err, err
    # a bulk CSV: a row refused with its reason, never priced as another code
    requests = tmp_path / "r.csv"
    requests.write_text(f"code,locality\n{value},01112-05\n99213,01112-05\n")
    code, out, err = run_main(capsys, "price", "--input", str(requests), "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["status"] == "invalid_code" and reason in rows[0]["note"], rows[0]
    assert rows[0]["nonfacility_amount"] == "" and rows[0]["code"] == value
    assert rows[1]["status"] == "priced"


def test_attached_modifiers_read_alike_on_the_command_line_and_in_a_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_main(
        capsys, "price", "76145-26", "99213-XX", "--national", "--format", "csv"
    )
    typed = list(csv.DictReader(io.StringIO(out)))
    requests = tmp_path / "r.csv"
    requests.write_text("code,modifier\n76145-26,\n99213,XX\n99213-XX,\n")
    code, out, err = run_main(
        capsys, "price", "--input", str(requests), "--national", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["nonfacility_amount"] for r in rows] == [
        typed[0]["nonfacility_amount"],
        typed[1]["nonfacility_amount"],
        typed[1]["nonfacility_amount"],
    ]
    fees = tmp_path / "f.csv"
    fees.write_text("Code,Fee\n76145-26,40\n99213-XYZ,5\n")
    schedule_rows = list(
        csv.DictReader(io.StringIO(run_main(capsys, "fees", str(fees), "--format", "csv")[1]))
    )
    assert [(r["code"], r["modifier"]) for r in schedule_rows] == [("76145", "26")]


def test_numbers_keep_their_leading_zeros_text_does_not_gain_them() -> None:
    assert clean_code(100) == "00100" and clean_code(100.0) == "00100"
    assert clean_code("100.0") == "00100"  # written from a number
    assert clean_code("9921") == "9921" and clean_code(" g0008 ") == "G0008"


def test_blank_locality_in_a_bulk_csv_is_not_national(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requests = tmp_path / "r.csv"
    requests.write_text("code,locality\n99213,\n99213,01112-05\n")
    code, out, err = run_main(capsys, "price", "--input", str(requests), "--format", "csv")
    # The file is refused at the row that does not say where, naming it and the fix.
    assert code == 1 and "line 2" in err and "no locality" in err and "--national" in err
    requests.write_text("code\n99213\n")
    code, out, err = run_main(capsys, "price", "--input", str(requests))
    assert code == 1 and "--national" in err


def test_negative_fee_is_refused_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fees = tmp_path / "f.csv"
    fees.write_text("Code,Fee\n99213,-45.00\n99214,93.11\n")
    code, out, err = run_main(capsys, "fees", str(fees), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["amount"] == "" and "negative" in rows[0]["note"]
    assert "negative amounts (1)" in err


def test_svc01_text_is_a_skipped_line_not_a_code_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (ERA / "linuxforhealth__managed-care.835").read_text("latin-1")
    first = text.index("SVC*HC:")
    end = text.index(":", first + 7)
    code_start = first + 7
    evil = text[:code_start] + "DROP TABLE" + text[end if text[end] == ":" else end :]
    path = tmp_path / "x.835"
    path.write_text(evil, "latin-1")
    code, out, err = run_main(capsys, "era", str(path), "--by", "code", "--format", "csv")
    assert code == 0, err
    assert "DROP" not in out
    assert "SVC01 code 'DROP TABLE' is not a CPT/HCPCS code" in err


def test_fees_folder_says_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from xlrate.errors import ImportFileError
    from xlrate.practice.fee_schedules import read_fee_schedule

    with pytest.raises(ImportFileError, match="is a folder"):
        read_fee_schedule(tmp_path)


def test_init_template_suggests_a_command_that_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import re

    profile = tmp_path / "p.toml"
    assert run_main(capsys, "init", str(profile))[0] == 0
    for suggestion in re.findall(r"`(xlrate [^`]+)`", profile.read_text()):
        if suggestion.startswith("xlrate localities"):
            code, out, err = run_main(capsys, *suggestion.split()[1:])
            assert code == 0 and "10112-00" in out, err


def test_xxe_refusal_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from xlrate.analysis import analyze, load_profile
    from xlrate.demo import demo_profile_path
    from xlrate.report import build_workbook

    good = tmp_path / "good.xlsx"
    build_workbook(analyze(load_profile(demo_profile_path())), good)
    evil = tmp_path / "evil.xlsx"
    dtd = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(evil, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/workbook.xml":
                data = dtd + data
            dst.writestr(name, data)
    for args in (
        ["share", str(evil)],
        ["demo", "--template", str(evil), "--output", str(tmp_path / "d.xlsx")],
    ):
        code, out, err = run_main(capsys, *args)
        assert code == 1 and "DTD" in err and "Please see the exception" not in err, err
