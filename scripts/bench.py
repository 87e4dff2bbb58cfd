#!/usr/bin/env python3
"""Print xlrate's performance figures, each beside a baseline measured in the same run.

    python3 scripts/run.py bench            # everything
    python3 scripts/run.py bench medicare   # one area: medicare, update, practice, report, base

Timing lives here, not in the tests: these machines are noisy.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

AREAS = ["medicare", "update", "practice", "report", "base"]


def main(argv: list[str]) -> int:
    areas = argv or AREAS
    table = []
    for area in areas:
        try:
            module = importlib.import_module(f"benches.{area}")
        except ModuleNotFoundError as exc:
            print(f"({area}: no benchmarks: {exc})", file=sys.stderr)
            continue
        print(f"running {area} benchmarks ...", file=sys.stderr, flush=True)
        for row in module.rows():
            table.append((area, row))
    header = ("area", "benchmark", "measured", "baseline", "baseline measured", "ratio", "target")
    lines = [header]
    for area, r in table:
        ratio = f"{r['value'] / r['baseline_value']:.2f}x" if r.get("baseline_value") else "n/a"
        lines.append(
            (
                area,
                r["benchmark"],
                f"{r['value']:.3f} {r['unit']}",
                r["baseline"],
                f"{r['baseline_value']:.3f} {r['unit']}",
                ratio,
                r["target"],
            )
        )
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
