"""Text from inputs never becomes a formula: payer and practice names, sources, file names.

Issue 10 item 1. A payer named ``=HYPERLINK("http://evil","x")`` or ``=cmd|' /C calc'!A0``
(a DDE call) used to become a live formula in its sheet's A1; a practice name did the same
on the Summary. Every text cell the report writes goes through one guard
(:mod:`xlrate.report.cells`); this holds the built workbook, the same recalculated by
LibreOffice, the shared copy and the e-mailed attachment to it.
"""

from __future__ import annotations

import ast
import email
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_helpers import recalculate

from xlrate.analysis import PayerSpec, Profile, analyze
from xlrate.report.workbook import build_workbook

HOSTILE = (
    '=HYPERLINK("http://evil.invalid","x")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
)
PRACTICE = '=HYPERLINK("http://evil.invalid/practice","Riverbend")'


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("hostile")
    fees = root / "fees.csv"
    fees.write_text(
        "Code,Description,Fee,Volume\n99213,=1+1,95.00,10\n99214,@x,130.00,4\n", "utf-8"
    )
    profile = Profile(
        name=PRACTICE,
        locality="01112-05",
        year=2025,
        release="2025D",
        payers=tuple(
            PayerSpec(name, fees=(fees,), target=1.2, source=f"=1+2 {i}")
            for i, name in enumerate(HOSTILE)
        ),
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLRATE_HOME", str(root / "home"))
        from xlrate.medicare import store

        store.clear_cache()
        analysis = analyze(profile)
        result = build_workbook(analysis, root / "hostile.xlsx")
        store.clear_cache()
    return {"root": root, "result": result, "analysis": analysis}


def cells(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path)
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def assert_inert(path: Path) -> None:
    """Each hostile text is in the file as a string cell, and in no formula."""
    found = {text: 0 for text in (*HOSTILE, PRACTICE)}
    for cell in cells(path):
        value = cell.value
        if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
            assert cell.data_type == "s" or not any(t in str(value) for t in found), (
                cell.parent.title,
                cell.coordinate,
                value,
            )
        if cell.data_type == "s" and isinstance(value, str):
            for text in found:
                if text in value:
                    found[text] += 1
    missing = [text for text, n in found.items() if n == 0]
    assert not missing, f"not shown as text: {missing}"


def test_hostile_names_are_text_in_the_workbook(hostile: dict[str, Any]) -> None:
    path = hostile["result"].path
    assert_inert(path)
    wb = openpyxl.load_workbook(path)
    for name, sheet in hostile["result"].payer_sheets.items():
        a1 = wb[sheet]["A1"]
        assert a1.data_type == "s" and a1.value == name
        assert not sheet.startswith(("=", "+", "-", "@"))
    summary = wb["Summary"]
    assert summary["B4"].data_type == "s" and summary["B4"].value.startswith(PRACTICE)
    assert summary["A13"].value == HOSTILE[0] and summary["A13"].data_type == "s"


def test_libreoffice_shows_them_as_text(hostile: dict[str, Any]) -> None:
    root: Path = hostile["root"]
    (out,) = recalculate([hostile["result"].path], root / "recalculated", root / "lo-profile")
    assert_inert(out)
    values = openpyxl.load_workbook(out, data_only=True)
    rows = [values["Summary"].cell(13 + i, 1).value for i in range(len(HOSTILE))]
    assert rows == list(HOSTILE)
    for name, sheet in hostile["result"].payer_sheets.items():
        assert values[sheet]["A1"].value == name


def test_the_shared_copy_and_its_attachment_keep_them_text(hostile: dict[str, Any]) -> None:
    from xlrate.email import compose_message
    from xlrate.excel.functions import FUNCTIONS
    from xlrate.report.readback import headline
    from xlrate.report.shared import prepare_shared_copy

    source: Path = hostile["result"].path
    copy = prepare_shared_copy(source, functions=FUNCTIONS)
    assert_inert(copy.path)
    message = compose_message(copy.path, to=["a@example.invalid"], lines=headline(source))
    parsed = email.message_from_bytes(message.as_bytes())
    (attachment,) = [part for part in parsed.walk() if part.get_filename()]
    received = hostile["root"] / "received.xlsx"
    received.write_bytes(attachment.get_payload(decode=True))
    assert_inert(received)


def test_a_hostile_file_name_in_the_shared_copy_is_text(hostile: dict[str, Any]) -> None:
    from xlrate.report.shared import prepare_shared_copy

    root: Path = hostile["root"]
    odd = root / "=cmd|' -c calc'!A0.xlsx"
    odd.write_bytes(hostile["result"].path.read_bytes())
    copy = prepare_shared_copy(odd, root / "odd-shared.xlsx")
    texts = [c for c in cells(copy.path) if isinstance(c.value, str) and odd.name in c.value]
    assert texts and all(c.data_type == "s" for c in texts)


def test_no_report_module_writes_a_cell_around_the_guard() -> None:
    """By construction: only xlrate/report/cells.py assigns cell values."""
    root = Path(__file__).resolve().parents[2] / "xlrate" / "report"
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.name == "cells.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in ("value", "_value"):
                    offenders.append(f"{path.name}:{node.lineno} .{target.attr} =")
                if (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in ("ws", "sheet", "worksheet")
                ):
                    offenders.append(f"{path.name}:{node.lineno} ws[...] =")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "cell"
                and (len(node.args) > 2 or any(k.arg == "value" for k in node.keywords))
            ):
                offenders.append(f"{path.name}:{node.lineno} .cell(row, column, value)")
            if isinstance(node, ast.Attribute) and node.attr in ("_cells", "_value", "_style"):
                offenders.append(f"{path.name}:{node.lineno} openpyxl private .{node.attr}")
    assert not offenders, offenders


def test_the_report_never_imports_the_skins() -> None:
    """report renders an Analysis: it imports neither excel, cli nor the e-mail code."""
    root = Path(__file__).resolve().parents[2] / "xlrate" / "report"
    upward = ("xlrate.excel", "xlrate.cli", "xlrate.share", "xlrate.email")
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n.startswith(upward)]
    assert not found, found
