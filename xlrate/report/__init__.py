"""The analysis workbook: :func:`build_workbook` fills ``workbook/template.xlsx``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlrate.report.workbook import BuildResult

__all__ = ["build_workbook", "xlrate_version"]


def build_workbook(
    analysis: Any, output: Any, template: Any = None, force: bool = False
) -> BuildResult:
    """Write ``analysis`` to ``output`` (see :mod:`xlrate.report.workbook`)."""
    from xlrate.report.workbook import build_workbook as build

    return build(analysis, output, template=template, force=force)


def xlrate_version() -> str:
    try:
        from importlib.metadata import version

        return version("xlrate")
    except Exception:
        return "unknown"
