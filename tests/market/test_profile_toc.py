"""A profile payer's ``toc`` + ``plan`` reach its in-network files through analyze()."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import TOC, UHC

from xlrate.analysis import analyze


def test_profile_toc_and_plan_in_the_analysis(server: Any, tmp_path: Path) -> None:
    toc = json.loads(TOC.read_bytes())
    structures = toc["reporting_structure"]
    structures[0]["in_network_files"] = [{"description": "uhc", "location": server.url + "/uhc"}]
    structures[1]["in_network_files"] = [{"description": "x", "location": server.url + "/gone"}]
    server.file("/uhc", UHC)
    server.file("/toc.json", json.dumps(toc).encode(), content_type="application/json")
    (tmp_path / "fees.csv").write_text("Code,Fee,Volume\n99213,80.00,100\n", "utf-8")
    (tmp_path / "p.toml").write_text(
        '[practice]\nname = "X"\nzip = "10001"\nyear = 2025\nnpi = 1730666900\n'
        '[[payers]]\nname = "UHC"\nfees = "fees.csv"\n'
        f'toc = "{server.url}/toc.json"\nplan = "MEDICAID"\n',
        "utf-8",
    )
    analysis = analyze(tmp_path / "p.toml")
    assert analysis.market is not None and analysis.warnings == []
    row = analysis.market.rows.iloc[0]
    assert (row["payer"], row["code"], row["market_tins"], row["market_rank"]) == (
        "UHC",
        "99213",
        2,  # the two other TINs (the NPI's own TIN is not its own peer)
        "3 of 3",
    )
    assert server.statuses("/gone") == []  # the other plan's file was not fetched
    tic = [i for i in analysis.inputs if i.role == "TiC file"]
    assert [(i.payer, i.source) for i in tic] == [("UHC", server.url + "/uhc")]
