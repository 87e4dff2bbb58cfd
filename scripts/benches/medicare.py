"""Medicare engine benchmarks (issues 15 and 10.9), each beside an honest baseline.

- bulk pricing at 1M and 5M rows against what an analyst writes: a pandas merge of the
  RVU and GPCI tables *and* the multiply, and the same in polars when installed;
- the 5M/1M ratio (linear scaling is 5x);
- ``medicare_amount`` for a new code each call, against a dict of floats and pandas ``.loc``;
- 10,000 filled-down ``PCT_MEDICARE`` cells (first calculation) against one range call;
- ``xlrate price 99213 --national`` as a whole process against
  ``python -c "import xlrate; xlrate.medicare_amount('99213')"`` (medians of interleaved
  runs after one warm-up each, with compiled modules kept as in a user's shell);
- ``xlrate price --input`` of 1,000,000 rows against pandas ``read_csv`` + ``xlrate.price``
  + ``to_csv`` of the same rows in one process, and its peak memory at 1M against 100k rows.

All ratios come from one run on the same machine; run it when the machine is quiet.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import xlrate
from xlrate.medicare.store import load_release

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scripts/, run on its own
from benches import best  # noqa: E402


def _requests(n: int, seed: int = 7) -> pd.DataFrame:
    rel = load_release()
    rng = np.random.default_rng(seed)
    codes = rel.arrays["pprrvu.code"]
    mods = rel.arrays["pprrvu.modifier"]
    pick = rng.integers(0, len(codes), n)
    locs = np.array(rel.localities)[rng.integers(0, len(rel.localities), n)]
    return pd.DataFrame({"code": codes[pick], "modifier": mods[pick], "locality": locs})


def _tables() -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The RVU and GPCI tables as an analyst would hold them (floats), and the CF."""
    rel = load_release()
    rvu = rel.frame("pprrvu")[
        ["code", "modifier", "work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility", "mp_rvu"]
    ].copy()
    for column in ("work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility", "mp_rvu"):
        rvu[column] = rvu[column] / 100.0
    gpci = rel.frame("gpci")[["locality", "work_gpci", "pe_gpci", "mp_gpci"]].copy()
    for column in ("work_gpci", "pe_gpci", "mp_gpci"):
        gpci[column] = gpci[column] / 1000.0
    return rvu, gpci, rel.conversion_factor / 10000.0


def _pandas_price(frame: pd.DataFrame, rvu: pd.DataFrame, gpci: pd.DataFrame, cf: float) -> Any:
    m = frame.merge(rvu, on=["code", "modifier"], how="left").merge(gpci, on="locality", how="left")
    base = m["work_rvu"] * m["work_gpci"] + m["mp_rvu"] * m["mp_gpci"]
    m["nonfacility_amount"] = ((base + m["pe_rvu_nonfacility"] * m["pe_gpci"]) * cf).round(2)
    m["facility_amount"] = ((base + m["pe_rvu_facility"] * m["pe_gpci"]) * cf).round(2)
    return m


def _polars_price(frame: Any, rvu: Any, gpci: Any, cf: float) -> Any:
    import polars as pl

    base = pl.col("work_rvu") * pl.col("work_gpci") + pl.col("mp_rvu") * pl.col("mp_gpci")
    return (
        frame.join(rvu, on=["code", "modifier"], how="left")
        .join(gpci, on="locality", how="left")
        .with_columns(
            ((base + pl.col("pe_rvu_nonfacility") * pl.col("pe_gpci")) * cf)
            .round(2)
            .alias("nonfacility_amount"),
            ((base + pl.col("pe_rvu_facility") * pl.col("pe_gpci")) * cf)
            .round(2)
            .alias("facility_amount"),
        )
    )


def _polars_seconds(
    frame: pd.DataFrame, rvu: pd.DataFrame, gpci: pd.DataFrame, cf: float, repeat: int
) -> float | None:
    try:
        import polars as pl
    except ImportError:
        return None
    pframe = pl.from_pandas(frame)  # an analyst with polars holds the data in polars already
    prvu, pgpci = pl.from_pandas(rvu), pl.from_pandas(gpci)
    return best(lambda: _polars_price(pframe, prvu, pgpci, cf), repeat)


def _bulk_rows() -> list[dict[str, Any]]:
    rvu, gpci, cf = _tables()
    xlrate.price(_requests(1000))  # load data, warm caches
    out = []
    seconds: dict[int, float] = {}
    for n, repeat in ((1_000_000, 3), (5_000_000, 2)):
        frame = _requests(n)
        engine = best(lambda f=frame: xlrate.price(f), repeat)
        seconds[n] = engine
        merge = best(lambda f=frame: _pandas_price(f, rvu, gpci, cf), repeat)
        label = f"{n // 1_000_000}M"
        out.append(
            {
                "benchmark": f"price {label} request rows",
                "value": engine,
                "unit": "s",
                "baseline": "pandas merge (RVU + GPCI) and multiply, same rows",
                "baseline_value": merge,
                "target": "< 1.5x baseline",
            }
        )
        polars_s = _polars_seconds(frame, rvu, gpci, cf, repeat)
        del frame
        if polars_s is None:
            continue
        out.append(
            {
                "benchmark": f"price {label} request rows",
                "value": engine,
                "unit": "s",
                "baseline": "polars join and multiply, same rows",
                "baseline_value": polars_s,
                "target": "(for reference)",
            }
        )
    out.append(
        {
            "benchmark": "price 5M rows / price 1M rows",
            "value": seconds[5_000_000] / seconds[1_000_000],
            "unit": "x",
            "baseline": "linear scaling (5x)",
            "baseline_value": 5.0,
            "target": "< 5.5x",
        }
    )
    return out


def _scalar_rows() -> list[dict[str, Any]]:
    rel = load_release()
    xlrate.medicare_amount("99214", locality="01112-05")
    # Warm as a running Excel session is: the other schedules' data loaded too (codes the
    # PFS does not price go there); loading it once is the cold start's cost, not a call's.
    xlrate.medicare_amount("85025", locality="01112-05")
    n = 20000
    t = time.perf_counter()
    for _ in range(n):
        xlrate.medicare_amount("99214", locality="01112-05")
    warm_cached = (time.perf_counter() - t) / n
    codes = [str(c) for c in rel.columns["pprrvu.code"][:3000]]
    t = time.perf_counter()
    for c in codes:
        xlrate.medicare_amount(c, locality="10112-00", setting="facility")
    warm_new = (time.perf_counter() - t) / len(codes)

    # Baselines: a dict of precomputed float amounts; pandas .loc on an indexed frame.
    floats = {c: float(i) for i, c in enumerate(codes)}
    t = time.perf_counter()
    for c in codes:
        floats.get(c)
    dict_get = (time.perf_counter() - t) / len(codes)
    rvu, gpci, cf = _tables()
    table = rvu.drop_duplicates(["code"]).set_index("code")
    g = gpci.set_index("locality").loc["10112-00"]
    t = time.perf_counter()
    for c in codes[:1000]:
        r = table.loc[c]
        (r["work_rvu"] * g["work_gpci"] + r["pe_rvu_facility"] * g["pe_gpci"]) * cf
    pandas_loc = (time.perf_counter() - t) / 1000
    return [
        {
            "benchmark": "medicare_amount, a new code each call",
            "value": warm_new * 1e6,
            "unit": "us",
            "baseline": "pandas .loc of the code + multiply",
            "baseline_value": pandas_loc * 1e6,
            "target": "< 50 us",
        },
        {
            "benchmark": "medicare_amount, a new code each call",
            "value": warm_new * 1e6,
            "unit": "us",
            "baseline": "a dict of floats",
            "baseline_value": dict_get * 1e6,
            "target": "(for reference)",
        },
        {
            "benchmark": "medicare_amount, the same request again",
            "value": warm_cached * 1e6,
            "unit": "us",
            "baseline": "a dict of floats",
            "baseline_value": dict_get * 1e6,
            "target": "< 50 us",
        },
    ]


def _excel_rows() -> list[dict[str, Any]]:
    from xlrate.excel import functions as f

    rel = load_release()
    codes = [str(c) for c in rel.columns["pprrvu.code"][:10_000]]
    rates = [100.0 + i % 50 for i in range(len(codes))]

    def filled_down() -> None:
        f.clear_caches()
        for rate, code in zip(rates, codes, strict=True):
            f.PCT_MEDICARE(rate, code, None, "01112-05")

    def one_range() -> None:
        f.clear_caches()
        f.PCT_MEDICARE([[r] for r in rates], [[c] for c in codes], None, "01112-05")

    one_range()  # imports (pandas for the range path) and the release, once
    down = best(filled_down, 2)
    whole = best(one_range, 2)
    return [
        {
            "benchmark": "PCT_MEDICARE filled down 10,000 cells (first calc)",
            "value": down,
            "unit": "s",
            "baseline": "one PCT_MEDICARE over the 10,000-row range",
            "baseline_value": whole,
            "target": "< 3x baseline",
        }
    ]


def _timed_run(cmd: list[str], stdout: Any = subprocess.DEVNULL, env: Any = None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=stdout, env=env)
    return time.perf_counter() - t


def _as_installed_env() -> dict[str, str]:
    """The environment of a user's shell: Python keeps compiled modules (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every process compile what it imports, and so
    charges a command for the size of the modules it needs rather than for their work)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _process_rows() -> list[dict[str, Any]]:
    python = sys.executable
    library = [python, "-c", "import xlrate; xlrate.medicare_amount('99213')"]
    command = [python, "-m", "xlrate", "price", "99213", "--national"]
    bare = [python, "-c", "pass"]
    env = _as_installed_env()
    for cmd in (library, command, bare):  # once first: compiled modules and disk cache warm
        _timed_run(cmd, env=env)
    runs: dict[str, list[float]] = {"library": [], "command": [], "bare": []}
    for _ in range(25):  # interleaved, so load on the machine hits each alike
        runs["library"].append(_timed_run(library, env=env))
        runs["command"].append(_timed_run(command, env=env))
        runs["bare"].append(_timed_run(bare, env=env))
    lib, cmd, interp = (statistics.median(runs[k]) for k in ("library", "command", "bare"))
    return [
        {
            "benchmark": "xlrate price 99213 --national (whole process)",
            "value": cmd,
            "unit": "s",
            "baseline": "python -c \"import xlrate; xlrate.medicare_amount('99213')\"",
            "baseline_value": lib,
            "target": "< 1.2x baseline",
        },
        {
            "benchmark": "import xlrate + one medicare_amount (whole process)",
            "value": lib,
            "unit": "s",
            "baseline": "python -c pass",
            "baseline_value": interp,
            "target": "(for reference)",
        },
    ]


def _peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a child process, via GNU time when present."""
    gnu_time = Path("/usr/bin/time")
    if not gnu_time.exists():
        return _timed_run(cmd), float("nan")
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as fh:
        report = fh.name
    try:
        seconds = _timed_run([str(gnu_time), "-f", "%M", "-o", report, *cmd])
        kb = float(Path(report).read_text().strip().splitlines()[-1])
    finally:
        os.unlink(report)
    return seconds, kb / 1024


def _input_rows() -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "requests_1m.csv"
        small = Path(tmp) / "requests_100k.csv"
        frame = _requests(1_000_000)
        frame.to_csv(big, index=False)
        frame.head(100_000).to_csv(small, index=False)
        del frame
        written = Path(tmp) / "out.csv"

        def library() -> None:
            requests = pd.read_csv(big, dtype=str, keep_default_na=False)
            xlrate.price(requests, setting="both").to_csv(written, index=False)

        base = best(library, 2)
        cmd = [sys.executable, "-m", "xlrate", "price", "--input", str(big), "--format", "csv"]
        with open(written, "w") as sink:
            timings = [_timed_run(cmd, stdout=sink) for _ in range(2)]
        seconds = min(timings)
        _, rss_big = _peak_rss_mb(cmd)
        _, rss_small = _peak_rss_mb(cmd[:-3] + [str(small), "--format", "csv"])
    out.append(
        {
            "benchmark": "xlrate price --input 1,000,000 rows (whole process, CSV out)",
            "value": seconds,
            "unit": "s",
            "baseline": "pandas read_csv + xlrate.price + to_csv, in process",
            "baseline_value": base,
            "target": "< 2x baseline",
        }
    )
    out.append(
        {
            "benchmark": "xlrate price --input peak RSS, 1,000,000 rows",
            "value": rss_big,
            "unit": "MB",
            "baseline": "the same command on 100,000 rows",
            "baseline_value": rss_small,
            "target": "flat (~1x)",
        }
    )
    return out


def rows() -> list[dict[str, Any]]:
    out = []
    # Small measurements first: the bulk ones leave gigabytes of freed memory behind.
    for section in (_scalar_rows, _excel_rows, _process_rows, _bulk_rows, _input_rows):
        gc.collect()
        out.extend(section())
    return out
