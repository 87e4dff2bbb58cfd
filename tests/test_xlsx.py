"""Workbook reading (xlrate.xlsx): the zip guard in front of python-calamine (issue 10 item 5)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest
from zipbomb import bomb_xlsx

from xlrate.errors import ImportFileError
from xlrate.practice import read_fee_schedule
from xlrate.xlsx import read_sheets


def test_a_zip_bomb_fee_schedule_is_refused_in_one_line(tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "fees.xlsx", 64)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ImportFileError) as err:
        read_fee_schedule(path)
    message = str(err.value)
    assert "fees.xlsx refused" in message and "xl/media/padding.bin" in message
    assert "zip bomb" in message and "\n" not in message


@pytest.mark.slow
def test_a_4_mb_workbook_that_unpacks_to_4_gb_is_refused(tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "big.xlsx", 4095)
    assert path.stat().st_size < 8 << 20
    with pytest.raises(ImportFileError, match="big.xlsx refused"):
        list(read_sheets(path))


def test_slip_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "slip.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../evil.xml", "<x/>")
    with pytest.raises(ImportFileError, match=r"'\.\./evil\.xml' has a '\.\.' path"):
        list(read_sheets(path))


def test_volumes_xlsx_read_as_text(tmp_path: Path) -> None:
    from xlrate.analysis import _read_table

    path = tmp_path / "volumes.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["Code", "Modifier", "Volume"])
    book.active.append([99213, None, 120])
    book.active.append(["G0008", "26", 3])
    book.save(path)
    frame = _read_table(path, "volumes", ["code", "volume"])
    assert list(frame["code"]) == ["99213", "G0008"]
    assert list(frame["volume"]) == ["120", "3"]
    assert list(frame["modifier"]) == ["", "26"]


def test_a_zip_bomb_workbook_is_not_shared(tmp_path: Path) -> None:
    from xlrate.report.shared import prepare_shared_copy

    path = bomb_xlsx(tmp_path / "analysis.xlsx", 64)
    with pytest.raises(ImportFileError, match="analysis.xlsx refused"):
        prepare_shared_copy(path)
    assert not (tmp_path / "analysis (shared).xlsx").exists()


def test_a_workbook_in_memory_is_guarded_and_read(tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "locco.xlsx", 64)
    with pytest.raises(ImportFileError, match="LOCCO.xlsx refused"):
        list(read_sheets(path.read_bytes(), name="LOCCO.xlsx"))
    book = openpyxl.Workbook()
    book.active.append(["Locality", "GPCI"])
    book.active.append(["01112-05", 1.25])
    book.save(tmp_path / "ok.xlsx")
    ((title, rows),) = list(read_sheets((tmp_path / "ok.xlsx").read_bytes()))
    assert list(rows) == [["Locality", "GPCI"], ["01112-05", 1.25]]
