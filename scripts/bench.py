#!/usr/bin/env python3
"""Print xlrate's performance figures, each beside a baseline measured in the same run.

    python3 scripts/run.py bench            # everything
    python3 scripts/run.py bench medicare   # one area: medicare, update, practice, report, base

Timing lives here, not in the tests: these machines are noisy. Each area runs in a process
of its own, so one area's leftovers (the 5M-row bench frees gigabytes) do not tax the next;
within an area, every ratio compares two measurements of the same run.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

AREAS = ["medicare", "update", "practice", "report", "base", "audit", "schedules", "market"]


def _area_rows(area: str) -> list[dict[str, object]]:
    """Run one area's benchmarks (in this process) and return its rows."""
    module = importlib.import_module(f"benches.{area}")
    rows: list[dict[str, object]] = module.rows()
    return rows


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one-area"]:  # the child: one area, rows as JSON on stdout
        print(json.dumps(_area_rows(argv[1])))
        return 0
    areas = argv or AREAS
    table = []
    for area in areas:
        if area not in AREAS:
            print(f"({area}: no benchmarks; the areas are {', '.join(AREAS)})", file=sys.stderr)
            continue
        print(f"running {area} benchmarks ...", file=sys.stderr, flush=True)
        child = subprocess.run(
            [sys.executable, __file__, "--one-area", area], stdout=subprocess.PIPE, text=True
        )
        if child.returncode:
            print(f"({area}: the benchmarks failed, exit {child.returncode})", file=sys.stderr)
            continue
        for row in json.loads(child.stdout.strip().splitlines()[-1]):
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
