"""Medicare engine benchmarks (issue 2): bulk pricing, cold start, warm scalar call."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

import xlrate
from xlrate.medicare.store import load_release


def _requests(n: int, seed: int = 7) -> pd.DataFrame:
    rel = load_release()
    rng = np.random.default_rng(seed)
    codes = rel.arrays["pprrvu.code"]
    mods = rel.arrays["pprrvu.modifier"]
    pick = rng.integers(0, len(codes), n)
    locs = np.array(rel.localities)[rng.integers(0, len(rel.localities), n)]
    return pd.DataFrame({"code": codes[pick], "modifier": mods[pick], "locality": locs})


def _best(fn: Any, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rows() -> list[dict[str, Any]]:
    rel = load_release()
    frame = _requests(1_000_000)
    rvu = rel.frame("pprrvu")
    gpci = rel.frame("gpci")

    def bare_merge() -> pd.DataFrame:
        return frame.merge(rvu, on=["code", "modifier"], how="left").merge(
            gpci, on="locality", how="left"
        )

    xlrate.price(frame.head(1000))  # load data, warm caches
    engine = _best(lambda: xlrate.price(frame))
    merge = _best(bare_merge)

    cmd = [
        sys.executable,
        "-c",
        "import xlrate; xlrate.medicare_amount('99213', locality='01112-05')",
    ]
    bare = [sys.executable, "-c", "pass"]
    cold = statistics.median(_timed_run(cmd) for _ in range(5))
    interp = statistics.median(_timed_run(bare) for _ in range(5))

    xlrate.medicare_amount("99214", locality="01112-05")
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        xlrate.medicare_amount("99214", locality="01112-05")
    warm_cached = (time.perf_counter() - t) / n
    codes = [str(c) for c in rel.arrays["pprrvu.code"][:2000]]
    t = time.perf_counter()
    for c in codes:
        xlrate.medicare_amount(c, locality="10112-00", setting="facility")
    warm_new = (time.perf_counter() - t) / len(codes)
    t = time.perf_counter()
    for _ in range(n):
        {"99214": 1}.get("99214")
    dict_get = (time.perf_counter() - t) / n
    return [
        {
            "benchmark": "price 1,000,000 request rows",
            "value": engine,
            "unit": "s",
            "baseline": "bare pandas merge (RVU + GPCI) of the same rows",
            "baseline_value": merge,
            "target": "< 1 s and < 1.5x baseline",
        },
        {
            "benchmark": "cold start: import + one medicare_amount",
            "value": cold,
            "unit": "s",
            "baseline": "python -c pass",
            "baseline_value": interp,
            "target": "< 0.5 s",
        },
        {
            "benchmark": "warm scalar call (same request again)",
            "value": warm_cached * 1e6,
            "unit": "us",
            "baseline": "a dict lookup in a loop",
            "baseline_value": dict_get * 1e6,
            "target": "< 50 us",
        },
        {
            "benchmark": "warm scalar call (new code each time)",
            "value": warm_new * 1e6,
            "unit": "us",
            "baseline": "a dict lookup in a loop",
            "baseline_value": dict_get * 1e6,
            "target": "(engine path, for reference)",
        },
    ]


def _timed_run(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t
