"""Issue 10 item 1 (CSV and terminal part): no formula and no escape sequence gets out."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from xlrate.text import csv_cell, terminal_text

DATA = Path(__file__).parents[1] / "data" / "practice" / "era835"
EVIL = ['=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0", "+1+1", "-1+cmd", "@SUM(A1)"]


@pytest.mark.parametrize("text", EVIL + ["\tTAB", "\rCR"])
def test_csv_cell_prefixes_formula_starts(text: str) -> None:
    assert csv_cell(text).startswith("'")


@pytest.mark.parametrize("text", ["-12.50", "93.11", "+5", "Aetna", "", "99213"])
def test_csv_cell_leaves_numbers_and_text(text: str) -> None:
    assert csv_cell(text) == text


def test_terminal_text_strips_escapes() -> None:
    assert terminal_text("\x1b[31mRED\x1b[0m PAYER\x1b]0;title\x07\x07\x00") == "RED PAYER"
    assert terminal_text("a\nb\tc") == "a b c"


def _csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _no_formula(cells: list[str]) -> None:
    for cell in cells:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        assert not (cell.startswith("-") and not cell.replace(".", "").lstrip("-").isdigit()), cell


def test_fees_csv_escapes_payer_and_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fees = tmp_path / "f.csv"
    fees.write_text('Code,Fee\n99213,"=1+cmd"\n99214,93.11\n', "utf-8")
    for payer in EVIL:
        code, out, err = run_main(capsys, "fees", str(fees), "--payer", payer, "--format", "csv")
        assert code == 0, err
        cells = _csv_cells(out)
        assert "'" + payer in cells
        _no_formula(cells)


def test_price_csv_escapes_echoed_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    requests = tmp_path / "req.csv"
    requests.write_text(
        "code,modifier,locality\n=1+2,,01112-05\n99213,@SUM(A1),01112-05\n99213,,=cmd|x\n"
    )
    code, out, err = run_main(capsys, "price", "--input", str(requests), "--format", "csv")
    assert code == 0, err
    _no_formula(_csv_cells(out))


def _evil_835(tmp_path: Path) -> Path:
    text = (DATA / "linuxforhealth__managed-care.835").read_text("latin-1")
    evil = text.replace("N1*PR*RUSHMORE LIFE", "N1*PR*\x1b[2J\x1b]0;pwned\x07=EVIL\x1b[31mPAYER", 1)
    assert evil != text
    path = tmp_path / "evil.835"
    path.write_text(evil, "latin-1")
    return path


@pytest.mark.parametrize("fmt", ["table", "csv"])
@pytest.mark.parametrize("by", ["payer", "code"])
def test_era_payer_name_escapes_never_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, by: str
) -> None:
    path = _evil_835(tmp_path)
    code, out, err = run_main(capsys, "era", str(path), "--by", by, "--format", fmt)
    assert code == 0, err
    assert "\x1b" not in out + err and "\x07" not in out + err
    assert "PAYER" in out
    if fmt == "csv":
        _no_formula(_csv_cells(out))
