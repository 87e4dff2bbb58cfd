"""Benchmarks for the market reader (issue 13): a ~1 GB payer file, and 4 files over workers.

``rows()`` returns one dict per measurement (benchmark, value, unit, baseline,
baseline_value, target). Run it directly to print them:

    .venv/bin/python scripts/benches/market.py            # ~1 GB of JSON
    XLRATE_BENCH_MARKET_MB=256 .venv/bin/python scripts/benches/market.py   # quicker

- The big file is built at bench time in a temporary folder (never committed) by
  repeating the ``in_network`` array of the real UnitedHealthcare NY file
  (``tests/data/tic/dolthub__uhc_ny_2022-09__TEST_FILE.json.gz``, 17 MB of JSON) until the
  JSON reaches the size asked for, then gzip-compressed as payers publish it.
- Reading = the streaming reader asked for two codes (99213, 99214) into a Parquet part,
  in a fresh subprocess whose peak RSS (VmHWM, reset after imports) is its own. Baseline:
  merely decompressing the same .json.gz in 1 MB chunks (the least any reader must do).
  Goal: no worse than 4x the baseline, peak memory growth under 500 MB.
- ijson backends: the same items parse of the real file with yajl2_c (used), yajl2 (ctypes)
  and python, against json.loads of the whole text.
- Scale: 4 files of a quarter of the size each, read serially (baseline), by 2 local
  worker processes, and by a 2-worker Dask LocalCluster (1 thread each), side by side.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
UHC = REPO / "tests" / "data" / "tic" / "dolthub__uhc_ny_2022-09__TEST_FILE.json.gz"
MB = 1024 * 1024
CODES = "99213,99214"

_PEAK = r"""
def status_kb(field):
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return status_kb("VmRSS")
    except OSError:
        return 0
"""

_READ = (
    _PEAK
    + r"""
import json, sys, time
from xlrate.market.ingest import ingest
import pyarrow, pyarrow.parquet, ijson  # imported before the mark: the read's own memory
base = reset_peak()
start = time.perf_counter()
result = ingest(sys.argv[1:-1], codes=sys.argv[-1].split(","), store=sys.argv[1] + ".store",
                force=True, fetch_remote=False)
elapsed = time.perf_counter() - start
assert not result.errors, result.errors
entry = result.files[0].entry
print(json.dumps({"seconds": elapsed, "base_kb": base, "peak_kb": status_kb("VmHWM"),
                  "items": entry["items"], "rows": entry["rows"]}))
"""
)

_GUNZIP = r"""
import gzip, json, sys, time
start = time.perf_counter()
n = 0
with gzip.open(sys.argv[1], "rb") as fh:
    while chunk := fh.read(1 << 20):
        n += len(chunk)
print(json.dumps({"seconds": time.perf_counter() - start, "bytes": n}))
"""

_SCALE = r"""
import json, sys, time
from xlrate.market.ingest import ingest
mode, store, codes, files = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4:]
kwargs = {}
cluster = client = None
if mode == "dask":
    from dask.distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster)
    # Warm workers (imports done), as a standing cluster would be; startup is not timed.
    client.run(lambda: __import__("xlrate.market.ingest") and __import__("pyarrow.parquet"))
    kwargs["dask"] = client
elif mode == "processes":
    kwargs["workers"] = 2
start = time.perf_counter()
result = ingest(files, codes=codes, store=store, force=True, fetch_remote=False, **kwargs)
elapsed = time.perf_counter() - start
assert not result.errors, result.errors
if client is not None:
    client.close(); cluster.close()
print(json.dumps({"seconds": elapsed}))
"""


def _python(script: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def build_big_file(target: Path, json_bytes: int) -> int:
    """A .json.gz whose JSON repeats the real UHC file's in_network items; returns its size."""
    raw = gzip.decompress(UHC.read_bytes())
    start = raw.index(b"[", raw.index(b'"in_network"')) + 1
    end = raw.rindex(b"]")
    head, items, tail = raw[:start], raw[start:end].strip(), raw[end:]
    copies = max(1, round((json_bytes - len(head) - len(tail)) / (len(items) + 1)))
    written = 0
    with gzip.open(target, "wb", compresslevel=6) as out:
        out.write(head)
        for i in range(copies):
            if i:
                out.write(b",")
            out.write(items)
        out.write(tail)
        written = len(head) + copies * (len(items) + 1) - 1 + len(tail)
    return written


def _backends() -> list[dict[str, Any]]:
    import io

    import ijson

    raw = gzip.decompress(UHC.read_bytes())
    start = time.perf_counter()
    json.loads(raw)
    baseline = time.perf_counter() - start
    rows = []
    # The floor for any ijson reader: yajl2_c tokenising the text without building objects.
    backend = ijson.get_backend("yajl2_c")
    start = time.perf_counter()
    for _ in backend.items(io.BytesIO(raw), "no.such.prefix"):
        pass
    rows.append(
        {
            "benchmark": "ijson yajl2_c: tokenise only (no objects), the real UHC file",
            "value": time.perf_counter() - start,
            "unit": "s",
            "baseline": "json.loads of the whole text",
            "baseline_value": baseline,
            "target": "the floor of any ijson reader",
        }
    )
    start = time.perf_counter()
    gzip.decompress(UHC.read_bytes())
    rows.append(
        {
            "benchmark": "gunzip the real UHC file (1 MB gz -> 17 MB)",
            "value": time.perf_counter() - start,
            "unit": "s",
            "baseline": "json.loads of the whole text",
            "baseline_value": baseline,
            "target": "the reader's baseline",
        }
    )
    for name in ("yajl2_c", "yajl2", "python"):
        try:
            backend = ijson.get_backend(name)
        except Exception:  # noqa: BLE001 (a backend that is not installed)
            continue
        start = time.perf_counter()
        for _ in backend.items(io.BytesIO(raw), "in_network.item", use_float=True):
            pass
        rows.append(
            {
                "benchmark": f"ijson {name}: items of the real UHC file (17 MB JSON)",
                "value": time.perf_counter() - start,
                "unit": "s",
                "baseline": "json.loads of the whole text",
                "baseline_value": baseline,
                "target": "yajl2_c used (fastest)",
            }
        )
    return rows


def rows() -> list[dict[str, Any]]:
    size_mb = int(os.environ.get("XLRATE_BENCH_MARKET_MB", "1024"))
    out = _backends()
    folder = Path(tempfile.mkdtemp(prefix="xlrate-bench-market-"))
    try:
        big = folder / "big.json.gz"
        json_bytes = build_big_file(big, size_mb * MB)
        label = f"{json_bytes / MB:,.0f} MB JSON ({big.stat().st_size / MB:,.0f} MB gz)"
        gunzip = _python(_GUNZIP, str(big))
        read = _python(_READ, str(big), CODES)
        out.append(
            {
                "benchmark": f"read {label}, codes {CODES}",
                "value": read["seconds"],
                "unit": "s",
                "baseline": "gunzip the same file",
                "baseline_value": gunzip["seconds"],
                "target": "<= 4x baseline",
            }
        )
        out.append(
            {
                "benchmark": f"peak memory growth reading {label}",
                "value": (read["peak_kb"] - read["base_kb"]) / 1024,
                "unit": "MB",
                "baseline": "size of the JSON",
                "baseline_value": json_bytes / MB,
                "target": "< 500 MB",
            }
        )
        quarter = folder / "quarter.json.gz"
        build_big_file(quarter, size_mb * MB // 4)
        files = []
        for i in range(4):
            copy = folder / f"payer{i}.json.gz"
            shutil.copyfile(quarter, copy)
            files.append(str(copy))
        timings = {
            mode: _python(_SCALE, mode, str(folder / f"store-{mode}"), CODES, *files)["seconds"]
            for mode in ("serial", "processes", "dask")
        }
        for mode, what in (("processes", "2 local processes"), ("dask", "Dask LocalCluster 2x1")):
            out.append(
                {
                    "benchmark": f"4 files of {size_mb // 4} MB JSON, {what}",
                    "value": timings[mode],
                    "unit": "s",
                    "baseline": "the 4 files read serially",
                    "baseline_value": timings["serial"],
                    "target": "~0.5x on 2 free cores",
                }
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


if __name__ == "__main__":
    for row in rows():
        ratio = row["value"] / row["baseline_value"] if row["baseline_value"] else float("nan")
        print(
            f"{row['benchmark']}: {row['value']:.3f} {row['unit']} vs {row['baseline']} "
            f"{row['baseline_value']:.3f} {row['unit']} ({ratio:.2f}x; target {row['target']})"
        )
