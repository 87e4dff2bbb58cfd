"""One file per worker: local processes and a real Dask LocalCluster give the same store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ALL_TYPES, UHC, UHS

from xlrate.analysis.market import benchmark, market_benchmark
from xlrate.market.ingest import ingest
from xlrate.market.store import Store

FILES = [str(UHC), str(UHS), str(ALL_TYPES)]
CODES = ["99213", "99214", "97110", "0001A"]


def _rows(store: Store, keys: list[str]) -> list[tuple[Any, ...]]:
    table = store.read(keys).drop_columns(["npis"]).to_pylist()
    return sorted(tuple(str(v) for v in row.values()) for row in table)


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Any, ...]]:
    store = Store(tmp_path_factory.mktemp("serial") / "store")
    result = ingest(FILES, codes=CODES, store=store, fetch_remote=False)
    assert result.errors == []
    return _rows(store, result.keys)


def test_local_processes_give_the_same_rows(tmp_path: Path, serial: list[Any]) -> None:
    store = Store(tmp_path / "store")
    result = ingest(FILES, codes=CODES, store=store, workers=2, fetch_remote=False)
    assert result.errors == [] and [f.location for f in result.files] == FILES
    assert _rows(store, result.keys) == serial


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(tmp_path: Path, serial: list[Any]) -> None:
    from dask.distributed import Client, LocalCluster

    shared = tmp_path / "shared-store"  # a folder every worker process reaches
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        # As `--dask ADDRESS` does: a client is made (and closed) for the scheduler's address.
        run = market_benchmark(
            FILES, codes=CODES, store=shared, dask=cluster.scheduler_address, fetch_remote=False
        )
        # Work really ran in the worker processes, not here.
        assert len(client.scheduler_info()["workers"]) == 2
    assert run.ingest.errors == []
    store = Store(shared)
    assert _rows(store, run.ingest.keys) == serial
    assert sorted(p.name for p in (shared / "parts").iterdir()) == sorted(
        f"{k}.parquet" for k in run.ingest.keys
    )
    again = benchmark(store.read(run.ingest.keys, codes=CODES), medicare=_no_medicare)
    assert len(again.dollars) == len(run.benchmark.dollars)


def test_import_xlrate_stays_light() -> None:
    code = (
        "import sys, xlrate, xlrate.market, xlrate.cli;"
        "heavy = [m for m in ('pyarrow', 'duckdb', 'ijson', 'dask', 'pandas') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def _no_medicare(frame, **kwargs):  # type: ignore[no-untyped-def]
    out = frame.copy()
    out["amount"] = float("nan")
    out["note"] = ""
    return out


def test_store_at_an_fsspec_url(serial: list[Any]) -> None:
    import fsspec

    url = "memory://xlrate-test/market"
    try:
        store = Store(url)
        result = ingest(FILES, codes=CODES, store=store, fetch_remote=False)
        assert result.errors == []
        assert _rows(store, result.keys) == serial
        again = ingest(FILES, codes=CODES, store=Store(url), fetch_remote=False)
        assert {f.status for f in again.files} == {"unchanged"}
    finally:
        fsspec.filesystem("memory").rm("/xlrate-test", recursive=True)
