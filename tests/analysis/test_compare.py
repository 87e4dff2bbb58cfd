"""Percent of Medicare and the negotiator's figures, on small tables worked by hand."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from xlrate.analysis import compare, scenarios

MEDICARE = pd.DataFrame(
    {
        "code": ["99213", "99214", "93000", "99396"],
        "modifier": ["", "", "", ""],
        "setting": ["nonfacility"] * 4,
        "amount": [80.0, 100.0, 20.0, float("nan")],
        "status": ["priced", "priced", "priced", "not_priced"],
        "note": ["", "", "", "not priced: status N (non-covered service)"],
    }
)


def fees(rates: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "payer": "x",
            "code": list(rates),
            "modifier": "",
            "setting": "",
            "amount": [v if isinstance(v, float) else float("nan") for v in rates.values()],
            "note": ["" if isinstance(v, float) else v for v in rates.values()],
        }
    )


VOLUMES = pd.DataFrame(
    {
        "payer": ["A", "A", "A", "B", "B", ""],
        "code": ["99213", "99214", "93000", "99213", "99214", "99396"],
        "modifier": "",
        "volume": ["10", "5", "20", "4", "0", "7"],
    }
)


@pytest.fixture
def rows() -> pd.DataFrame:
    a = compare.payer_rates(
        "A",
        fees=fees({"99213": 96.0, "99214": 110.0, "93000": 30.0, "99396": "Not a benefit"}),
        volumes=VOLUMES,
    )
    b = compare.payer_rates("B", fees=fees({"99213": 88.0, "99214": 130.0}), volumes=VOLUMES)
    return compare.compare_rates(
        pd.concat([a, b], ignore_index=True), MEDICARE, {"A": 1.25, "B": 1.0}
    )


def test_percent_of_medicare_variance_and_impact(rows: pd.DataFrame) -> None:
    r = rows.set_index(["payer", "code"])
    assert r.loc[("A", "99213"), "pct"] == pytest.approx(1.2)
    assert r.loc[("A", "99213"), "target_rate"] == pytest.approx(100.0)
    assert r.loc[("A", "99213"), "variance"] == pytest.approx(-4.0)
    assert r.loc[("A", "99213"), "impact"] == pytest.approx(-40.0)
    assert r.loc[("A", "99213"), "revenue"] == pytest.approx(960.0)
    # A text rate and a code with no PFS amount are kept, not compared, with the reason.
    assert not r.loc[("A", "99396"), "compared"]
    assert "Not a benefit" in r.loc[("A", "99396"), "note"]
    assert math.isnan(r.loc[("A", "99396"), "pct"])


def test_weighted_percent_is_rate_times_volume_over_medicare_times_volume(
    rows: pd.DataFrame,
) -> None:
    summary = compare.payer_summary(rows, ["A", "B"], {"A": 1.25, "B": 1.0}).set_index("payer")
    # A: (96*10 + 110*5 + 30*20) / (80*10 + 100*5 + 20*20) = 2110 / 1700
    assert summary.loc["A", "weighted_pct"] == pytest.approx(2110 / 1700)
    assert summary.loc["A", "median_pct"] == pytest.approx(1.2)  # of 1.2, 1.1, 1.5
    assert summary.loc["A", "codes_below_target"] == 2  # 1.2 and 1.1 < 1.25
    # Shortfall: 99213 (100-96)*10 + 99214 (125-110)*5 = 40 + 75
    assert summary.loc["A", "shortfall"] == pytest.approx(115.0)
    # B: 99214 has volume 0, so only 99213 weighs: 88*4 / 80*4
    assert summary.loc["B", "weighted_pct"] == pytest.approx(1.1)


def test_lowest_payer_per_code(rows: pd.DataFrame) -> None:
    lowest = compare.lowest_payer(rows, ["A", "B"]).set_index("code")["lowest_payer"]
    assert lowest.to_dict() == {"99213": "B", "99214": "A"}  # 93000: one payer only


def test_scenarios_by_hand(rows: pd.DataFrame) -> None:
    payers = ["A", "B"]
    # All at 130%: A = (104-96)*10 + (130-110)*5 + (26-30)*20 = 80 + 100 - 80
    assert scenarios.target_change(rows, 1.3, payers)["A"] == pytest.approx(100.0)
    # Floor 125%: only codes below it rise: (100-96)*10 + (125-110)*5
    assert scenarios.floor_change(rows, 1.25, payers)["A"] == pytest.approx(115.0)
    assert scenarios.uniform_change(rows, 0.03, payers)["A"] == pytest.approx(2110 * 0.03)
    table = scenarios.scenario_table(rows, payers, {"A": 1.25, "B": 1.0}).set_index("payer")
    assert table.loc["B", "floor"] == pytest.approx(0.0)
    assert table.loc["A", "at_payer_target"] == pytest.approx(
        scenarios.target_change(rows, 1.25, payers)["A"]
    )


def test_fee_schedule_and_835_side_by_side() -> None:
    era = pd.DataFrame(
        {
            "payer": "ACME",
            "code": ["99213", "99213", "71046"],
            "modifiers": ["25", "", "26"],
            "lines": [1, 1, 1],
            "units": [2, 1, 1],
            "billed": [300.0, 150.0, 40.0],
            "allowed": [180.0, 90.0, 12.5],
            "paid": [140.0, 70.0, 10.0],
        }
    )
    out = compare.payer_rates("A", fees=fees({"99213": 96.0}), era=era).set_index(
        ["code", "modifier"]
    )
    assert out.loc[("99213", ""), "rate"] == 96.0  # the contract rate wins
    assert out.loc[("99213", ""), "era_allowed"] == pytest.approx(90.0)  # 270 / 3 units
    assert out.loc[("99213", ""), "volume"] == 3  # 835 units when no volume file
    assert out.loc[("99213", ""), "charge"] == pytest.approx(150.0)  # billed per unit
    assert out.loc[("71046", "26"), "rate"] == pytest.approx(12.5)
    assert out.loc[("71046", "26"), "rate_source"] == "835"


def test_pos_picks_the_facility_setting() -> None:
    frame = fees({"99222": 150.0, "99213": 90.0}).assign(pos=["21", "11"])
    out = compare.fee_rows_for_payer(frame, "A", "nonfacility").set_index("code")
    assert out.loc["99222", "setting"] == "facility"
    assert out.loc["99213", "setting"] == "nonfacility"


def test_lesser_of_charges(rows: pd.DataFrame) -> None:
    charges = {
        ("A", "93000"): 100.0,
        ("A", "99213"): 100.0,
        ("A", "99214"): 25.0,
        ("B", "99213"): 80.0,
    }
    charged = rows.assign(
        charge=[charges.get((p, c)) for p, c in zip(rows["payer"], rows["code"], strict=True)]
    )
    again = compare.compare_rates(charged[compare.RATE_COLUMNS], MEDICARE, {"A": 1.25, "B": 1.0})
    flagged = compare.lesser_of_charges(again)
    assert sorted(zip(flagged["payer"], flagged["code"], strict=True)) == [
        ("A", "99214"),
        ("B", "99213"),
    ]


def test_year_over_year_falls_back_to_national_and_says_so() -> None:
    calls: list[dict[str, Any]] = []

    def pricer(frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        calls.append(kwargs)
        out = frame.copy()
        if kwargs.get("year") == 2026 and not kwargs.get("national"):
            out["amount"], out["status"] = float("nan"), "gpci_missing"
        else:
            out["amount"] = 100.0 if kwargs["year"] == 2025 else 103.0
            out["status"] = "priced"
        return out

    table, label = compare.year_over_year(
        MEDICARE, pricer, [(2025, "D"), (2026, "C")], locality="10112-00", zip=None
    )
    assert "national" in label and "not available" in label
    assert table["change"].iloc[0] == pytest.approx(0.03)
    assert calls[-1].get("national") is True


def test_top_codes_carry_most_of_the_revenue(rows: pd.DataFrame) -> None:
    # A's revenue: 99213 960, 93000 600, 99214 550 (of 2110): the first two pass 70%.
    top = compare.top_codes(rows, "A", share=0.7)
    assert list(top["code"]) == ["99213", "93000"]
    assert top["share"].sum() == pytest.approx(1560 / 2110)


def test_835_lines_with_payment_modifiers_compare_with_the_adjusted_medicare_amount() -> None:
    import xlrate

    # Two 27447 lines paid in full and one paid as a second procedure (51): 50%.
    by_code = pd.DataFrame(
        {
            "payer": ["P", "P", "P"],
            "code": ["27447", "27447", "99213"],
            "modifiers": ["RT", "51-LT", "25"],
            "lines": [2, 1, 3],
            "units": [2, 1, 3],
            "billed": [6000.0, 3000.0, 450.0],
            "allowed": [3000.0, 750.0, 300.0],
            "paid": [2400.0, 600.0, 240.0],
        }
    )
    rows = compare.era_rows_for_payer(by_code, "P", "facility")
    assert sorted(zip(rows["code"], rows["modifier"], strict=True)) == [
        ("27447", ""),
        ("27447", "51"),
        ("99213", ""),
    ]
    full = xlrate.medicare_amount("27447", locality="01112-05", setting="facility").amount
    second = xlrate.medicare_amount("27447", "51", locality="01112-05", setting="facility").amount
    assert full is not None and second is not None
    assert abs(float(second) - float(full) / 2) <= 0.01
