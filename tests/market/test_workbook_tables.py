"""The tables a Market sheet, the Summary's market columns and the scenario will use."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import UHC
from test_peers import _independent_99213

from xlrate.analysis.market import (
    against_market,
    benchmark,
    market_median_change,
    market_summary,
)
from xlrate.market.ingest import ingest
from xlrate.market.store import Store

UHC_NAME = "UnitedHealthcare Insurance Company of New York"


def test_practice_rows_against_market(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    result = ingest([str(UHC)], codes=["99213", "99214"], store=store, fetch_remote=False)
    dollars = benchmark(store.read(result.keys), own_tins=["113026610"]).dollars
    rows = pd.DataFrame(
        {
            "payer": ["UHC", "UHC", "Aetna"],
            "code": ["99213", "99214", "99213"],
            "modifier": ["", "", ""],
            "setting": ["nonfacility", "nonfacility", "nonfacility"],
            "rate": [80.0, 200.0, 90.0],
            "volume": [100.0, 10.0, 50.0],
            "medicare": [100.0, 150.0, 100.0],
        }
    )
    joined = against_market(rows, dollars, {"UHC": UHC_NAME})
    # The peers' median counted independently: the own TIN 113026610 is not its own peer,
    # and the other two TINs share one provider reference in this file.
    peer_median, _ = _independent_99213()
    assert joined["market_median"].iloc[0] == pytest.approx(peer_median)
    assert list(joined["below_market_median"]) == [True, False, False]
    assert joined["market_tins"].tolist() == [2, 2, 0] and joined["market_rank"].iloc[0] == "3 of 3"
    change = market_median_change(joined, ["UHC", "Aetna"])
    assert change["UHC"] == pytest.approx((peer_median - 80.0) * 100)
    assert change["Aetna"] == 0.0
    summary = market_summary(joined, ["UHC", "Aetna"]).set_index("payer")
    m14 = joined["market_median"].iloc[1]
    assert summary.loc["UHC", "market_median_pct"] == pytest.approx(
        (peer_median * 100 + m14 * 10) / (100 * 100 + 150 * 10)
    )
    assert summary.loc["UHC", "codes_below_market_median"] == 1
    assert pd.isna(summary.loc["Aetna", "market_median_pct"])
