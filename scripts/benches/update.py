"""Medicare update benchmarks (issue 3): install a full RVU bundle from a local zip, load it.

The zip is built from the real RVU25D files in tests/data/cms/rvu25d/ into a temporary
folder, and installed into a temporary XLRATE_HOME, so the user's data is never touched.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from xlrate.medicare import store
from xlrate.medicare.update import install_zip

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # scripts/, run on its own
from benches import best  # noqa: E402

RVU25D = Path(__file__).resolve().parents[2] / "tests" / "data" / "cms" / "rvu25d"


@contextmanager
def _temporary_home() -> Iterator[Path]:
    saved = os.environ.get("XLRATE_HOME")
    with tempfile.TemporaryDirectory(prefix="xlrate-bench-") as folder:
        os.environ["XLRATE_HOME"] = str(Path(folder) / "home")
        store.clear_cache()
        try:
            yield Path(folder)
        finally:
            if saved is None:
                os.environ.pop("XLRATE_HOME", None)
            else:
                os.environ["XLRATE_HOME"] = saved
            store.clear_cache()


def _bundle_zip(folder: Path) -> Path:
    path = folder / "rvu25d.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for csv in sorted(RVU25D.glob("*.csv")):
            archive.write(csv, csv.name)
    return path


def rows() -> list[dict[str, Any]]:
    with _temporary_home() as folder:
        bundle = _bundle_zip(folder)

        def plain_read() -> pd.DataFrame:
            # What a script without xlrate would do: unzip and read the RVU file, no checks.
            with zipfile.ZipFile(bundle) as archive:
                data = archive.read("PPRRVU2025_Oct.csv")
            return pd.read_csv(io.BytesIO(data), skiprows=9, dtype=str, keep_default_na=False)

        plain_read()  # warm imports and the page cache
        install = best(lambda: install_zip(bundle))
        baseline = best(plain_read)

        def cold_load() -> None:
            store.clear_cache()
            release = store.load_release(2025, "D")
            assert release.info.source == "installed"

        load = best(cold_load, repeat=5)

    return [
        {
            "benchmark": "verify, parse and install RVU25D from a local zip (5 CSV files)",
            "value": install,
            "unit": "s",
            "baseline": "zipfile read + pandas.read_csv of PPRRVU only, no checks",
            "baseline_value": baseline,
            "target": "< 3 s",
        },
        {
            "benchmark": "load the installed 2025D release (cache cleared)",
            "value": load,
            "unit": "s",
            "baseline": "zipfile read + pandas.read_csv of PPRRVU only",
            "baseline_value": baseline,
            "target": "< 0.3 s",
        },
    ]


if __name__ == "__main__":
    for row in rows():
        print(row)
