"""Issue 10 item 8: schedules with abbreviated setting columns keep both amounts."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlrate.errors import ImportFileError
from xlrate.practice.fee_schedules import read_fee_schedule

PAIRS = [
    ("Max Allowable Fee NFS", "Max Allowable Fee FS"),
    ("Non-Fac", "Fac"),
    ("NF", "F"),
    ("Office", "Hospital"),
    ("Non-Facility", "Facility"),
    ("Non Facility Rate", "Facility Rate"),
    ("Office Fee", "Hospital Fee"),
    ("Fac", "Non-Fac"),  # either order
]


@pytest.mark.parametrize(("nonfacility", "facility"), PAIRS)
def test_both_amounts_are_kept_with_their_settings(
    tmp_path: Path, nonfacility: str, facility: str
) -> None:
    path = tmp_path / "s.csv"
    if facility == "Non-Fac":
        nonfacility, facility = facility, nonfacility
        path.write_text(
            f"CPT,Description,{facility},{nonfacility}\n99213,Office visit,63.72,88.95\n"
        )
    else:
        path.write_text(
            f"CPT,Description,{nonfacility},{facility}\n99213,Office visit,88.95,63.72\n"
        )
    rows = read_fee_schedule(path).rows
    got = {(r.setting, r.amount) for r in rows.itertuples()}
    assert got == {("nonfacility", 88.95), ("facility", 63.72)}


def test_a_lone_setting_word_is_not_an_amount(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("Code,Fee,F\n99213,88.95,x\n")
    rows = read_fee_schedule(path).rows
    assert list(rows.amount) == [88.95] and list(rows.setting) == [""]


@pytest.mark.parametrize(
    ("first", "second"),
    [("Max Allowable Fee A", "Max Allowable Fee B"), ("Fee 1", "Fee 2"), ("Rate", "Rate")],
)
def test_two_amounts_that_cannot_be_told_apart_stop_with_a_map_hint(
    tmp_path: Path, first: str, second: str
) -> None:
    path = tmp_path / "s.csv"
    path.write_text(f"Code,{first},{second}\n99213,88.95,63.72\n")
    with pytest.raises(ImportFileError) as info:
        read_fee_schedule(path)
    text = str(info.value)
    assert "cannot be told apart" in text and "--map nonfacility=" in text
    assert "\n" not in text
    if first != second:
        mapping = {"code": "Code", "nonfacility": first, "facility": second}
        schedule = read_fee_schedule(path, mapping=mapping)
        assert set(schedule.rows.setting) == {"nonfacility", "facility"}
