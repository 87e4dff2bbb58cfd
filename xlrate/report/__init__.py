"""The analysis workbook: :func:`build_workbook` fills ``workbook/template.xlsx``.

- :mod:`~xlrate.report.layout`: where everything sits (columns, formula templates, names);
- :mod:`~xlrate.report.sheets`: one module per sheet; :mod:`~xlrate.report.cells`: the one
  way a cell is written (text never becomes a formula);
- :mod:`~xlrate.report.workbook`: :func:`build_workbook` (template, order of sheets, save);
- :mod:`~xlrate.report.readback`: reading a built workbook back by its defined names;
- :mod:`~xlrate.report.shared`: the shared copy (values, no macros, Sources completed).

The report renders an :class:`~xlrate.analysis.Analysis`; it never imports the Excel skin.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlrate.report.workbook import BuildResult

__all__ = ["build_workbook", "xlrate_version"]


def build_workbook(
    analysis: Any, output: Any, template: Any = None, force: bool = False
) -> BuildResult:
    """Write ``analysis`` to ``output`` (see :mod:`xlrate.report.workbook`)."""
    # lazy: the workbook code loads pandas and openpyxl (``import xlrate`` stays light).
    from xlrate.report.workbook import build_workbook as build

    return build(analysis, output, template=template, force=force)


def xlrate_version() -> str:
    try:
        return version("xlrate")
    except Exception:
        return "unknown"
