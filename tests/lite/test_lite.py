"""The xlwings Lite edition: its workbook, and its functions in real Pyodide under Node.

Pyodide is the runtime xlwings Lite runs in Excel (Windows, Mac, the web). The npm package
carries the runtime and the standard library, so these tests run offline: the wheel built
from this repository is unpacked into Pyodide's site-packages, with no numpy and no pandas
(Pyodide has neither until a package asks for them), and the functions are called there.

Golden amounts are recomputed in the test from CMS's PPRRVU and GPCI files (Decimal, half-up
to cents), never taken from the engine.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from xlrate.excel import lite
from xlrate.medicare import cells

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CMS = ROOT / "tests" / "data" / "cms" / "rvu25d"
SF = "01112-05"


def cms_amount(code: str, locality: str = SF, setting: str = "nonfacility") -> Decimal:
    """CMS's formula over CMS's own 2025 October files, independent of the engine."""
    rows = list(csv.reader((CMS / "PPRRVU2025_Oct.csv").open(encoding="latin-1")))
    start = next(i for i, r in enumerate(rows) if r[:2] == ["HCPCS", "MOD"]) + 1
    rvu = next(r for r in rows[start:] if r and r[0] == code and r[1] == "")
    mac, loc = locality.split("-")
    gpci = next(
        r for r in csv.reader((CMS / "GPCI2025.csv").open()) if r[:1] == [mac] and r[2:3] == [loc]
    )
    pe = rvu[6] if setting == "nonfacility" else rvu[8]
    raw = (
        Decimal(rvu[5]) * Decimal(gpci[4])
        + Decimal(pe) * Decimal(gpci[5])
        + Decimal(rvu[10]) * Decimal(gpci[6])
    ) * Decimal(rvu[24])
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_cms_golden_value_of_the_issue() -> None:
    # The issue's interface example: 99213 in San Francisco, 2025, office = $109.15.
    assert cms_amount("99213") == Decimal("109.15")


# --------------------------------------------------------------------------------------
# The shared cell logic (CPython)
# --------------------------------------------------------------------------------------


def test_cells_answer_like_excel_hands_values_over() -> None:
    assert cells.medicare_rate(99213.0, None, SF, "nonfacility", 2025.0) == float(
        cms_amount("99213")
    )
    column = cells.medicare_rate([[99213.0], [99214.0], ["99999"], [None]], None, SF, None, 2025)
    assert column == [
        [float(cms_amount("99213"))],
        [float(cms_amount("99214"))],
        [cells.NA],
        [""],  # an empty code cell stays empty
    ]
    notes = cells.medicare_note([[99213.0], ["zz"]], None, SF, None, 2025)
    assert notes[0] == [""] and "zz" in notes[1][0]
    pct = cells.pct_medicare(120.0, "99213", None, SF, None, 2025)
    assert pct == pytest.approx(120 / float(cms_amount("99213")), rel=1e-12)
    assert cells.pct_medicare("not a rate", "99213", None, SF) == cells.NA
    assert cells.medicare_locality(94110.0) == SF
    # ranges of different sizes cannot be broadcast: an error, not a guess
    assert cells.medicare_rate([[99213], [99214]], [["26"], ["26"], ["26"]], SF) == cells.NA


# --------------------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------------------


def test_lite_workbook_carries_code_and_requirements_and_no_macros(tmp_path: Path) -> None:
    out = lite.build_lite(tmp_path / "xlrate-lite.xlsx", locality=SF, year=2025)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("_rels/.rels").decode()
        workbook = zf.read("xl/workbook.xml").decode()
    assert lite.WEBEXTENSION_PART in names and lite.TASKPANES_PART in names
    assert not any("vbaProject" in n for n in names)
    assert "macroEnabled" not in types
    assert "application/vnd.ms-office.webextension+xml" in types
    assert lite.TASKPANES_PART in rels
    assert 'name="Locality"' in workbook and 'name="MedicareYear"' in workbook
    parts = lite.read_lite_parts(out)
    code = parts["main.py"]
    compile(code, "main.py", "exec")
    for name in ("MEDICARE_RATE", "PCT_MEDICARE", "MEDICARE_LOCALITY", "MEDICARE_NOTE"):
        assert f"def {name}(" in code
    assert "@script" in code and "def reprice_medicare_sheet" in code
    reqs = parts["requirements.txt"].splitlines()
    assert any(line.startswith("xlwings==") for line in reqs)
    assert any(line.startswith("xlrate") for line in reqs)
    assert parts["pyodideVersion"] == lite.PYODIDE_VERSION


def test_lite_build_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    out.write_bytes(b"mine")
    from xlrate.errors import XlrateError

    with pytest.raises(XlrateError, match="--force"):
        lite.build_lite(out)
    assert out.read_bytes() == b"mine"


# --------------------------------------------------------------------------------------
# Real Pyodide under Node
# --------------------------------------------------------------------------------------

NODE_MODULES = HERE / "node_modules" / "pyodide"
WHEELS = HERE / "wheels"


def _need_pyodide() -> None:
    missing = []
    if not shutil.which("node"):
        missing.append("node")
    if not NODE_MODULES.exists():
        missing.append(f"the pyodide npm package (npm ci in {HERE})")
    if not list(WHEELS.glob("xlwings-*-py3-none-any.whl")):
        missing.append(f"xlwings' py3-none-any wheel in {WHEELS}")
    if missing:
        message = "Pyodide tests need " + ", ".join(missing) + " (scripts/run.py test sets them up)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def xlrate_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _need_pyodide()
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
    )
    (wheel,) = out.glob("xlrate-*.whl")
    return wheel


def run_in_pyodide(script: str, wheels: list[Path], tmp_path: Path) -> list[object]:
    path = tmp_path / "script.py"
    path.write_text(script)
    proc = subprocess.run(
        ["node", str(HERE / "run_pyodide.mjs"), str(path), *map(str, wheels)],
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return [json.loads(line[5:]) for line in proc.stdout.splitlines() if line.startswith("JSON ")]


@pytest.mark.slow
def test_engine_in_pyodide_with_only_the_standard_library(
    xlrate_wheel: Path, tmp_path: Path
) -> None:
    script = """
import json, sys
from decimal import Decimal
for heavy in ("numpy", "pandas"):
    try:
        __import__(heavy)
    except ImportError:
        pass
    else:
        raise SystemExit(heavy + " is importable: the test would not prove anything")
import xlrate
r = xlrate.medicare_amount("99213", locality="01112-05", year=2025, setting="nonfacility")
print("JSON " + json.dumps([str(r.amount), r.release, sys.platform]))
print("JSON " + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "pandas"))))
"""
    (answer, heavy) = run_in_pyodide(script, [xlrate_wheel], tmp_path)
    assert answer[0] == str(cms_amount("99213")) == "109.15"
    assert answer[2] == "emscripten"
    assert heavy == []


@pytest.mark.slow
def test_lite_functions_in_pyodide(xlrate_wheel: Path, tmp_path: Path) -> None:
    (xlwings_wheel,) = WHEELS.glob("xlwings-*-py3-none-any.whl")
    main_py = lite.main_py()
    script = f"""
import json
main_py = {main_py!r}
namespace = {{}}
exec(compile(main_py, "main.py", "exec"), namespace)
RATE, PCT, NOTE, LOC = (namespace[n] for n in ("MEDICARE_RATE", "PCT_MEDICARE", "MEDICARE_NOTE", "MEDICARE_LOCALITY"))
out = [
    RATE([["99213"]], [[None]], [["01112-05"]], [["nonfacility"]], [[2025]]),
    RATE([[99213.0], [99214.0], ["99999"], ["zz"]], [[None]], [["01112-05"]], [[None]], [[2025]]),
    NOTE([["zz"]], [[None]], [["01112-05"]], [[None]], [[2025]]),
    PCT([[150.0]], [["99214"]], [[None]], [["01112-05"]], [[None]], [[2025]]),
    LOC([[94110.0]]),
]
print("JSON " + json.dumps(out))
"""
    (out,) = run_in_pyodide(script, [xlrate_wheel, xlwings_wheel], tmp_path)
    single, column, note, pct, locality = out
    assert single == float(cms_amount("99213")) == 109.15
    assert column == [
        [float(cms_amount("99213"))],
        [float(cms_amount("99214"))],
        [cells.NA],
        [cells.NA],
    ]
    assert "zz" in note
    assert pct == pytest.approx(150 / float(cms_amount("99214")), rel=1e-12)
    assert locality == SF
