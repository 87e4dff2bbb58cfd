"""The template is designed in workbook/ and shipped inside the package: the two must agree."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_packaged_template_is_the_repo_template() -> None:
    repo = (ROOT / "workbook" / "template.xlsx").read_bytes()
    packaged = (ROOT / "xlrate" / "report" / "template.xlsx").read_bytes()
    assert repo == packaged, "run scripts/build_template.py: it writes both copies"


def test_addin_and_report_start_from_the_same_template() -> None:
    from xlrate.excel.addin import default_template as addin_template
    from xlrate.report.workbook import default_template as report_template

    assert addin_template() == report_template()
