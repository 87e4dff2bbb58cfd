"""Peers from an NPPES extract, likely ghost rates, own rate and rank, through the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from conftest import UHC
from independent import load
from test_inputs import run_cli

from xlrate.market.nppes import TAXONOMY_PREFIX, ZIP_COLUMN, read_nppes

# The three TINs of the real UHC file and one NPI of each (from its provider_references).
OWN_NPI, OWN_TIN = 1730666900, "113026610"
PEER_NPI, PEER_TIN = 1285613760, "112923650"
GHOST_NPI, GHOST_TIN = 1386610319, "262306566"


def _nppes(path: Path) -> Path:
    """A cut of NPPES with its real column names; ZIPs and taxonomies invented for the test."""
    header = ["NPI", "Entity Type Code", ZIP_COLUMN] + [
        f"{TAXONOMY_PREFIX}{i}" for i in range(1, 16)
    ]
    rows = [
        [OWN_NPI, 1, "100011234", "207Q00000X"] + [""] * 14,
        [PEER_NPI, 1, "10016", "207R00000X", "207Q00000X"] + [""] * 13,
        [GHOST_NPI, 1, "10002", "1223G0001X"] + [""] * 14,  # a dentist: never bills 99213
        [1999999999, 1, "94110", "207Q00000X"] + [""] * 14,  # not in the payer's file
    ]
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_nppes_reader_keeps_only_the_npis_asked_for(tmp_path: Path) -> None:
    info = read_nppes(_nppes(tmp_path / "npi.csv"), [OWN_NPI, GHOST_NPI])
    assert info == {
        OWN_NPI: ("10001", frozenset({"207Q00000X"})),
        GHOST_NPI: ("10002", frozenset({"1223G0001X"})),
    }


def test_peers_ghosts_own_rank_through_the_cli(tmp_path: Path) -> None:
    nppes = _nppes(tmp_path / "npi.csv")
    store = str(tmp_path / "store")
    done = run_cli("peers", "--nppes", str(nppes), str(UHC), "--codes", "99213",
                   "--npi", str(OWN_NPI), "--zip-prefix", "100", "--store", store)  # fmt: skip
    assert done.returncode == 0, done.stderr
    verdicts = {r["tin"]: r["status"] for r in csv.DictReader(io.StringIO(done.stdout))}
    # The practice's own TIN shares its own taxonomy, so it is listed as a peer too; the
    # benchmark never counts the practice among its own peers.
    assert verdicts == {OWN_TIN: "peer", PEER_TIN: "peer", GHOST_TIN: "ghost"}
    peers = tmp_path / "peers.csv"
    peers.write_text(done.stdout)

    done = run_cli(str(UHC), "--codes", "99213", "--npi", str(OWN_NPI), "--peers", str(peers),
                   "--store", store, "--format", "csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    row = next(csv.DictReader(io.StringIO(done.stdout)))
    expected_peer, expected_own = _independent_99213()
    assert row["tins"] == "1"
    assert float(row["median"]) == expected_peer
    assert float(row["own_rate"]) == round(expected_own, 2)
    assert row["own_rank"] == ("1 of 2" if expected_own <= expected_peer else "2 of 2")
    assert "not among the peers" in done.stderr

    kept = run_cli(str(UHC), "--codes", "99213", "--npi", str(OWN_NPI), "--peers", str(peers),
                   "--keep-ghosts", "--store", store, "--format", "csv")  # fmt: skip
    assert next(csv.DictReader(io.StringIO(kept.stdout)))["tins"] == "2"
    assert "ghost_tins" in kept.stderr


def _independent_99213() -> tuple[float, float]:
    """The peer TIN's and the own TIN's median 99213 rate, counted with json alone."""
    import statistics

    data = load(UHC)
    refs = {r["provider_group_id"]: r["provider_groups"] for r in data["provider_references"]}
    by_tin: dict[str, list[float]] = {}
    for item in data["in_network"]:
        if item["billing_code"] != "99213":
            continue
        for negotiated in item["negotiated_rates"]:
            for ref in negotiated["provider_references"]:
                for group in refs[ref]:
                    for price in negotiated["negotiated_prices"]:
                        if not price["billing_code_modifier"]:
                            by_tin.setdefault(group["tin"]["value"], []).append(
                                price["negotiated_rate"]
                            )
    return statistics.median(by_tin[PEER_TIN]), statistics.median(by_tin[OWN_TIN])
