"""DMEPOS and PEN: the state's rural or non-rural fee by ZIP, modifiers as CMS's read-me says.

Expected cells are read from CMS's CSVs here with the csv module.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pandas as pd

import xlrate
from xlrate.medicare import schedule_store

DIR = Path(__file__).parents[1] / "data" / "schedules" / "dmepos_2025q1"


def _table(name: str) -> tuple[list[str], list[list[str]]]:
    with open(DIR / name, encoding="cp1252", newline="") as fh:
        rows = list(csv.reader(fh))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "HCPCS")
    return rows[start], [r for r in rows[start + 1 :] if r and r[0].strip()]


def _cell(name: str, code: str, mod: str, mod2: str, column: str) -> Decimal:
    header, rows = _table(name)
    row = next(r for r in rows if (r[0], r[1], r[2]) == (code, mod, mod2))
    return Decimal(row[header.index(column)])


def _rural_zips() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with open(DIR / "DME Rural ZIP Code Quarter 1, 2025.csv", newline="") as fh:
        for r in list(csv.reader(fh))[1:]:
            if r:
                out.setdefault(r[0], set()).add(r[1].zfill(5))
    return out


def test_every_row_is_loaded() -> None:
    for kind, name in (("dmepos", "DMEPOS_JAN.csv"), ("pen", "DMEPEN_JAN.csv")):
        header, rows = _table(name)
        rel = schedule_store.load_for(kind, 2025, "A")
        assert rel is not None
        assert len(rel.arrays["code"]) == len(rows)
        states = [h.replace(" ", "").removesuffix("(NR)") for h in header if h.endswith("(NR)")]
        assert rel.arrays["states"].tolist() == states
        assert rel.arrays["nonrural_cents"].shape == (len(rows), len(states))
    rel = schedule_store.load_for("dmepos", 2025, "A")
    assert rel is not None
    assert len(rel.arrays["rural_zip"]) == sum(len(v) for v in _rural_zips().values())


def test_rural_and_non_rural_fee_for_two_states() -> None:
    rural = _rural_zips()
    al_rural = sorted(rural["AL"])[0]
    ny_rural = sorted(rural["NY"])[0]
    assert "35203" not in rural["AL"] and "10001" not in rural["NY"]  # Birmingham, Manhattan
    frame = pd.DataFrame(
        {
            "code": ["E0260"] * 4,
            "modifier": ["RR"] * 4,
            "zip": ["35203", al_rural, "10001", ny_rural],
        }
    )
    priced = xlrate.price(frame, year=2025)
    expected = [
        _cell("DMEPOS_JAN.csv", "E0260", "RR", "", column)
        for column in ("AL (NR)", "AL (R)", "NY (NR)", "NY (R)")
    ]
    assert expected[0] != expected[1] and expected[2] != expected[3]
    assert [Decimal(str(a)).quantize(Decimal("0.01")) for a in priced["amount"]] == expected
    assert priced["schedule"].tolist() == ["DMEPOS"] * 4
    assert "rural fee" in priced["note"][1] and "non-rural" in priced["note"][0]
    # A ZIP decides rural or not; a state taken from the locality cannot, and says so.
    assert "give a ZIP" not in priced["note"][0]
    by_locality = xlrate.price(
        pd.DataFrame({"code": ["E0260"], "modifier": ["RR"]}), locality="10112-00"
    )
    assert by_locality["amount"][0] == float(expected[0])  # Alabama's non-rural fee
    assert "AL non-rural fee (the state of locality 10112-00: give a ZIP" in by_locality["note"][0]
    # The file's category, with its meaning from CMS's read-me (capped rental for E0260).
    assert "category CR (capped rental items)" in by_locality["note"][0]


def test_modifiers_pick_the_row_cms_lists() -> None:
    header, rows = _table("DMEPOS_JAN.csv")
    # A code with an RR row and an RR+KU row: KU picks its own fee.
    keys = {(r[0], r[1], r[2]) for r in rows}
    code = next(
        c for c, m1, m2 in sorted(keys) if (m1, m2) == ("RR", "KU") and (c, "RR", "") in keys
    )
    plain = _cell("DMEPOS_JAN.csv", code, "RR", "", "CA (NR)")
    ku = _cell("DMEPOS_JAN.csv", code, "RR", "KU", "CA (NR)")
    # Rented only: every row of the code is RR, and one has no second modifier.
    rented = next(
        c
        for c in sorted({k[0] for k in keys})
        if (c, "RR", "") in keys and all(m1 == "RR" for c2, m1, _ in keys if c2 == c)
    )
    rented_fee = _cell("DMEPOS_JAN.csv", rented, "RR", "", "CA (NR)")
    frame = pd.DataFrame(
        {
            "code": [code] * 3 + [rented],
            "modifier": ["RR", "RR-KU", "KU-RR-KX", ""],
            "state": ["CA"] * 4,
        }
    )
    priced = xlrate.price(frame, year=2025)
    assert Decimal(str(priced["amount"][0])).quantize(Decimal("0.01")) == plain
    assert Decimal(str(priced["amount"][1])).quantize(Decimal("0.01")) == ku
    assert Decimal(str(priced["amount"][2])).quantize(Decimal("0.01")) == ku  # KX ignored
    # Without a modifier: CMS lists the code with one least-modified row (RR), priced as that.
    assert Decimal(str(priced["amount"][3])).quantize(Decimal("0.01")) == rented_fee
    assert f"priced as {rented}-RR" in priced["note"][3]
    # A code sold new, used or rented needs the modifier that says which.
    choice = next(
        c
        for c, m1, m2 in sorted(keys)
        if not m2 and {(c, "NU", ""), (c, "RR", ""), (c, "UE", "")} <= keys
    )
    open_choice = xlrate.medicare_amount(choice, year=2025, state="CA")
    assert open_choice.status == "needs_modifier" and open_choice.amount is None
    assert all(m in open_choice.note for m in ("NU", "RR", "UE"))


def test_pen_fee_and_a_request_without_a_place() -> None:
    nr = _cell("DMEPEN_JAN.csv", "B4034", "", "", "TX(NR)")
    result = xlrate.medicare_amount("B4034", year=2025, state="TX")
    assert result.schedule == "PEN"
    assert result.amount == nr
    national = xlrate.medicare_amount("B4034", year=2025)
    assert national.amount is None and national.status == "needs_state"
    assert "give a ZIP" in national.note
