"""``xlrate doctor``: check an installation the ways users break it, and say the fix.

Each check answers ok / not ok with one line of detail and, when not ok, the command or
click that mends it. Checks that only mean something on one OS say so and pass elsewhere.
Given a workbook, the checks use what the workbook asks for (its interpreter paths, the
xlwings DLL its VBA declares, the xlrate version its Lite requirements name).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlrate.errors import XlrateError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


_DLL = re.compile(r'Lib "xlwings(?:32|64)-([0-9][0-9A-Za-z.+-]*)\.dll"')


def _installed(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def expand_interpreter(path: str, *, windows: bool) -> str:
    """A path from xlwings.conf with the home variable xlwings expands, expanded here."""
    home = str(Path.home())
    if windows:
        path = re.sub(r"%USERPROFILE%", lambda _: home, path, flags=re.I)
        return path.replace("\\", os.sep) if os.sep != "\\" else path
    if path.startswith("$HOME"):
        return home + path[len("$HOME") :]
    return os.path.expanduser(path)


def workbook_facts(path: Path) -> dict[str, str]:
    """What a built workbook asks of the machine: conf values, DLL version, Lite requirements."""
    facts: dict[str, str] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "xl/vbaProject.bin" in names:
                facts["edition"] = "classic"
                from pyopenvba import ExcelFile  # lazy: only for macro workbooks

                with ExcelFile(path) as book:
                    for source in book.vba_modules().values():
                        found = _DLL.search(source or "")
                        if found:
                            facts["xlwings_dll_version"] = found.group(1)
                            break
            elif "xl/webextensions/webextension1.xml" in names:
                facts["edition"] = "lite"
    except (OSError, zipfile.BadZipFile) as exc:
        raise XlrateError(
            f"{path} is not a workbook xlrate can read ({exc}): pass an .xlsm or .xlsx"
        ) from exc
    if facts.get("edition") == "lite":
        # lazy: loaded on use, keeping this module's import light
        from xlrate.excel.lite import read_lite_parts

        reqs = read_lite_parts(path).get("requirements.txt", "")
        for line in reqs.splitlines():
            if line.strip().startswith("xlrate"):
                facts["lite_xlrate"] = line.split("#")[0].strip()
    if facts.get("edition") == "classic":
        import openpyxl  # lazy: the conf sheet is read only here

        wb = openpyxl.load_workbook(path, read_only=True, keep_vba=False)
        try:
            if "xlwings.conf" in wb.sheetnames:
                for row in wb["xlwings.conf"].iter_rows(values_only=True):
                    if row and row[0] and len(row) > 1 and row[1]:
                        facts[str(row[0])] = str(row[1])
        finally:
            wb.close()
    return facts


def _check_interpreter(facts: dict[str, str], platform: str) -> Check:
    key = {"win32": "Interpreter_Win", "darwin": "Interpreter_Mac"}.get(platform)
    if key is None:
        return Check(
            "interpreter", True, f"not checked on {platform}: Excel runs on Windows and Mac"
        )
    configured = facts.get(key)
    if not configured:
        return Check(
            "interpreter",
            True,
            f"no {key} in the workbook: xlwings uses its own setting or python on PATH",
        )
    path = expand_interpreter(configured, windows=platform == "win32")
    if Path(path).is_file():
        return Check("interpreter", True, f"{key} = {configured} exists")
    return Check(
        "interpreter",
        False,
        f"{key} = {configured} does not exist on this computer",
        "rebuild the workbook here (xlrate addin build --force), or pass "
        f"--interpreter-{'win' if platform == 'win32' else 'mac'} PATH",
    )


def _check_xlwings(facts: dict[str, str]) -> Check:
    have = _installed("xlwings")
    if have is None:
        return Check(
            "xlwings", False, "xlwings is not installed", "pip install xlrate (it brings xlwings)"
        )
    want = facts.get("xlwings_dll_version")
    if want and want != have:
        return Check(
            "xlwings",
            False,
            f"the workbook's VBA declares xlwings{'64'}-{want}.dll but xlwings {have} is installed",
            f"pip install xlwings=={want}, or rebuild the workbook: xlrate addin build --force",
        )
    return Check(
        "xlwings", True, f"xlwings {have}" + (" matches the workbook's DLL" if want else "")
    )


def _check_com(platform: str) -> Check:
    if platform != "win32":
        return Check("COM server", True, "Windows only: not needed here")
    try:
        importlib.import_module("pythoncom")
    except ImportError:
        return Check(
            "COM server",
            False,
            "pywin32 is missing, so Excel cannot call Python",
            "pip install pywin32",
        )
    return Check("COM server", True, "pywin32 present")


def _check_mac_runpython(platform: str) -> Check:
    if platform != "darwin":
        return Check("RunPython (Mac)", True, "Mac only: not needed here")
    have = _installed("xlwings") or "?"
    script = (
        Path.home()
        / "Library/Application Scripts/com.microsoft.Excel"
        / f"xlwings-{have}.applescript"
    )
    if script.is_file():
        return Check("RunPython (Mac)", True, f"{script} installed")
    return Check(
        "RunPython (Mac)",
        False,
        "the buttons need xlwings' AppleScript, which is not installed",
        "run: xlwings runpython install",
    )


def _check_functions() -> Check:
    try:
        importlib.import_module("xlrate.excel.functions")
    except Exception as exc:  # any import failure is what the user must hear about
        return Check(
            "functions",
            False,
            f"xlrate.excel.functions does not import: {exc}",
            "pip install --force-reinstall xlrate",
        )
    return Check("functions", True, "xlrate.excel.functions imports")


def _check_data() -> Check:
    try:
        # lazy: loaded on use, keeping this module's import light
        from xlrate.medicare.pricing import medicare_amount

        result = medicare_amount("99213")
    except XlrateError as exc:
        return Check(
            "Medicare data", False, str(exc), "xlrate medicare repair, or reinstall xlrate"
        )
    if result.amount is None:
        return Check(
            "Medicare data", False, f"99213 has no amount: {result.note}", "xlrate medicare repair"
        )
    return Check(
        "Medicare data", True, f"release {result.release}: 99213 national = ${result.amount}"
    )


def _check_lite(facts: dict[str, str]) -> Check:
    if facts.get("edition") != "lite":
        return Check("Lite requirements", True, "not a Lite workbook")
    want = facts.get("lite_xlrate", "")
    have = _installed("xlrate")
    if not want:
        return Check(
            "Lite requirements",
            False,
            "the workbook's requirements.txt does not name xlrate",
            "xlrate addin build --lite --force",
        )
    if have and want.startswith("xlrate==") and want[8:] != have:
        return Check(
            "Lite requirements",
            False,
            f"the workbook installs {want}, this computer has xlrate {have}",
            "rebuild it: xlrate addin build --lite --force",
        )
    return Check("Lite requirements", True, f"requirements name {want}")


def run_checks(workbook: Path | None = None, *, platform: str | None = None) -> list[Check]:
    """Every check, in the order a user meets the failures."""
    platform = platform or sys.platform
    facts = workbook_facts(workbook) if workbook is not None else {}
    checks: list[Callable[[], Check]] = [
        lambda: _check_interpreter(facts, platform),
        lambda: _check_xlwings(facts),
        lambda: _check_com(platform),
        lambda: _check_mac_runpython(platform),
        _check_functions,
        _check_data,
        lambda: _check_lite(facts),
    ]
    return [check() for check in checks]
