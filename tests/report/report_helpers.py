"""LibreOffice recalculation and the demo fixture's shape, shared by the report tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from xlrate.analysis import Analysis
from xlrate.report.workbook import BuildResult

# A scenario change the second recalculation checks: (cell on Scenarios, new value).
SCENARIO_EDITS = {"F5": 1.05, "J5": 1.33, "K5": 1.15, "L5": 0.05}
# And one payer's own target, on its sheet (payer, new target).
TARGET_EDIT = ("Blue Harbor PPO", 1.40)


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(paths: list[Path], outdir: Path, profile: Path) -> list[Path]:
    """Open each file in headless LibreOffice, recalculate, save as xlsx in ``outdir``."""
    exe = soffice()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed: .ci/run must install it")
        pytest.skip("LibreOffice (soffice) is not installed")
    outdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        exe,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(outdir),
        *map(str, paths),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    outputs = [outdir / p.name for p in paths]
    missing = [p for p in outputs if not p.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {done.stdout}\n{done.stderr}"
    return outputs


@dataclass
class Demo:
    analysis: Analysis
    result: BuildResult
    path: Path
    edited: Path
    recalculated: Path
    recalculated_edited: Path
    edge_analysis: Analysis
    edge: BuildResult
    recalculated_edge: Path
