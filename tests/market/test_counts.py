"""The reader's counts and the benchmark's figures against an independent stdlib-json count."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import ALL_TYPES, CMS_EXAMPLES, REFS_AFTER, UHC, UHS
from independent import counts, per_setting_stats

from xlrate.analysis.market import benchmark
from xlrate.market.ingest import ingest
from xlrate.market.pos import normalize_pos, setting_for
from xlrate.market.reader import normalize_tin
from xlrate.market.store import Store

COUNTED = [UHC, UHS, *CMS_EXAMPLES]


@pytest.mark.parametrize("path", COUNTED, ids=lambda p: p.name[:40])
def test_items_prices_and_tins_match_an_independent_count(path: Path, store_dir: Path) -> None:
    expected = counts(path)
    store = Store(store_dir)
    result = ingest([str(path)], codes=None, store=store, fetch_remote=False)
    assert result.errors == []
    entry = result.files[0].entry
    assert entry["items"] == expected["items"]
    assert entry["prices"] == expected["prices"]
    table = store.read(result.keys)
    tins = {t for t in table.column("tin").to_pylist() if t}
    assert tins == expected["tins"]


def test_the_real_uhc_file_counts() -> None:
    # Figures from the samples README (counted when the file was chosen), not from xlrate.
    assert counts(UHC)["items"] == 13_673


FIGURE_CODES = ["99213", "99214", "97110", "71046", "27447", "0001A"]


@pytest.fixture(scope="module")
def uhc_rates(tmp_path_factory: pytest.TempPathFactory) -> object:
    store = Store(tmp_path_factory.mktemp("uhc") / "store")
    result = ingest([str(UHC)], codes=FIGURE_CODES, store=store, fetch_remote=False)
    return store.read(result.keys)


@pytest.mark.parametrize("code", FIGURE_CODES)
def test_per_setting_min_median_max_match_an_independent_count(
    code: str, uhc_rates: object
) -> None:
    expected = per_setting_stats(UHC, code)
    assert expected, code
    bench = benchmark(uhc_rates, medicare=_no_medicare)
    got = {
        (row.modifier, row.setting): (row.tins, row.min, row.median, row.max)
        for row in bench.dollars.itertuples()
        if row.code == code
    }
    assert got.keys() == expected.keys()
    for key, (tins, low, mid, high) in expected.items():
        assert got[key][0] == tins
        assert got[key][1:] == pytest.approx((low, mid, high), abs=1e-9)


def test_percentage_rates_are_never_mixed_with_dollars(store_dir: Path) -> None:
    store = Store(store_dir)
    result = ingest([str(ALL_TYPES)], codes=["97110", "99214"], store=store)
    bench = benchmark(store.read(result.keys), medicare=_no_medicare)
    dollars = bench.dollars.set_index(["code", "setting"])
    # 97110's one rate is 65 (%) of billed charges: it must not appear among dollars.
    assert 65.0 not in set(bench.dollars["max"]) | set(bench.dollars["min"])
    assert list(bench.other_types["negotiated_type"]) == ["percentage"]
    assert bench.other_types["max"].iloc[0] == 65.0
    assert "percent of billed charges" in " ".join(bench.notes)
    assert len(dollars)


def test_references_after_the_rates_in_one_pass(store_dir: Path) -> None:
    store = Store(store_dir)
    result = ingest([str(REFS_AFTER)], codes=None, store=store, fetch_remote=False)
    entry = result.files[0].entry
    assert entry["references_after_rates"] is True
    assert entry["rows_without_tin"] == entry["rows"] == 2  # its one reference is remote
    assert "remote provider reference" in entry["notes"][0]


def test_pos_settings_follow_cms_list_as_in_force() -> None:
    assert normalize_pos("1") == "01" and normalize_pos(1) == "01" and normalize_pos("11") == "11"
    assert setting_for(["10"], dt.date(2023, 12, 31)) == "facility"
    assert setting_for(["10"], dt.date(2024, 1, 1)) == "nonfacility"
    assert setting_for(["11", "22"], None) == "mixed"
    assert setting_for(["11", "02"], None) == "mixed"
    assert setting_for(["21", "22"], None) == "facility"
    assert setting_for([], None) == "mixed"
    assert setting_for(["CSTM-00"], None) == "mixed"


def test_tins_are_normalised() -> None:
    assert normalize_tin("22-2222222") == normalize_tin("222222222") == "222222222"


def _no_medicare(frame, **kwargs):  # type: ignore[no-untyped-def]
    out = frame.copy()
    out["amount"] = float("nan")
    out["note"] = "not asked"
    return out
