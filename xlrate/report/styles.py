"""The named cell styles of the workbook template (``xlrate Title``, ``xlrate Money``...).

``scripts/build_template.py`` puts them in ``workbook/template.xlsx``; a user's template that
predates a style gets the default added when the workbook is built, so old copies keep working.
"""

from __future__ import annotations

from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

NAVY = "1F3864"
BLUE = "2F5597"
GREY = "595959"
LIGHT = "D9E1F2"
INPUT = "FFF2CC"
THIN = Side(style="thin", color="BFBFBF")
FONT = "Calibri"


def named_styles() -> list[NamedStyle]:
    def style(name: str, **kw: object) -> NamedStyle:
        s = NamedStyle(name=name)
        s.font = kw.pop("font", Font(name=FONT, size=10))
        for key, value in kw.items():
            setattr(s, key, value)
        return s

    money = "#,##0.00;[Red]-#,##0.00"
    dollars = "$#,##0;[Red]-$#,##0"
    return [
        style("xlrate Title", font=Font(name=FONT, size=16, bold=True, color=NAVY)),
        style("xlrate Subtitle", font=Font(name=FONT, size=10, italic=True, color=GREY)),
        style(
            "xlrate Section",
            font=Font(name=FONT, size=12, bold=True, color=NAVY),
            border=Border(bottom=Side(style="medium", color=NAVY)),
        ),
        style("xlrate Label", font=Font(name=FONT, size=10, bold=True, color=GREY)),
        style(
            "xlrate Header",
            font=Font(name=FONT, size=10, bold=True, color="FFFFFF"),
            fill=PatternFill("solid", fgColor=NAVY),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
            border=Border(bottom=THIN, left=THIN, right=THIN, top=THIN),
        ),
        style("xlrate Text"),
        style("xlrate Wrap", alignment=Alignment(wrap_text=True)),
        style(
            "xlrate Code",
            font=Font(name="Consolas", size=10),
            alignment=Alignment(horizontal="left"),
        ),
        style("xlrate Money", number_format=money),
        style("xlrate Dollars", number_format=dollars),
        style("xlrate Percent", number_format="0.0%"),
        style("xlrate Count", number_format="#,##0"),
        style("xlrate Number", number_format="0.0000"),
        style(
            "xlrate Input",
            font=Font(name=FONT, size=10, bold=True, color=BLUE),
            fill=PatternFill("solid", fgColor=INPUT),
            border=Border(bottom=THIN, left=THIN, right=THIN, top=THIN),
            number_format="0%",
        ),
        style(
            "xlrate Total",
            font=Font(name=FONT, size=10, bold=True),
            fill=PatternFill("solid", fgColor=LIGHT),
            border=Border(top=Side(style="thin", color=NAVY)),
        ),
        style("xlrate Note", font=Font(name=FONT, size=9, italic=True, color=GREY)),
        style(
            "xlrate Value", font=Font(name=FONT, size=10), alignment=Alignment(horizontal="left")
        ),
        style("xlrate Hash", font=Font(name="Consolas", size=8)),
        style("xlrate Center", alignment=Alignment(horizontal="center")),
        style(
            "xlrate Flag",
            font=Font(name=FONT, size=10, bold=True, color="C00000"),
            alignment=Alignment(horizontal="center"),
        ),
    ]
