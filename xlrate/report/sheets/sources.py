"""The Sources sheet: every file the numbers come from, with checksums, and this workbook's facts.

The facts block holds the named settings cells: ``Locality`` and ``MedicareYear`` (the
Excel functions take a missing locality or year from them) and ``MedicareReleaseInUse``
(the release the Medicare sheet was priced with; the Refresh button rewrites it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from xlrate.report import layout as L
from xlrate.report.sheets import Book


def write(book: Book, ws: Worksheet, version: str) -> None:
    a, w = book.analysis, book.writer
    cols = L.SOURCES_CMS_COLUMNS
    row = 4

    def header() -> None:
        nonlocal row
        for i, column in enumerate(cols, start=1):
            w.put(ws, row, i, column.header, "xlrate Header")
        row += 1

    def line(values: Iterable[Any]) -> None:
        nonlocal row
        items = list(values)
        for i, (column, value) in enumerate(zip(cols, items, strict=False), start=1):
            w.put(ws, row, i, value, column.style)
        # Spreadsheet apps do not grow a row for wrapped text on open: size it here.
        lines = max(1, math.ceil(len(str(items[-1] or "")) / (cols[-1].width * 1.15)))
        if lines > 1:
            ws.row_dimensions[row].height = 13.5 * lines
        row += 1

    w.put(ws, row, 1, "Medicare: CMS files", "xlrate Section")
    row += 1
    header()
    releases = [(a.release, a.cms_provenance)]
    releases += [(rid, prov) for rid, prov in a.yoy_provenance.items() if rid != a.release]
    for release_id, prov in releases:
        cf = prov.get("conversion_factor", "")
        details = (
            f"CY{prov.get('year', release_id[:4])} release {release_id}, released {prov.get('release_date', '?')}; "
            f"conversion factor ${cf}; {prov.get('source_url', '')}"
        )
        if prov.get("note"):
            details += f"; {prov['note']}"
        for f in prov.get("files", []):
            line(
                [
                    "CMS",
                    release_id,
                    f.get("name"),
                    f.get("sha256"),
                    f.get("bytes"),
                    None,
                    None,
                    details,
                ]
            )
    # The other schedules (CLFS, ASP, DMEPOS, PEN) whose releases priced a row.
    for schedule_release, prov in a.schedule_provenance.items():
        where = prov.get("source_url") or prov.get("landing_page", "")
        details = f"{schedule_release} fee schedule; {where}"
        if prov.get("note"):
            details += f"; {prov['note']}"
        for f in prov.get("files", []):
            file_name = str(f.get("name") or "")
            if f.get("member"):
                file_name += f" ({f['member']})"
            line(
                ["CMS", schedule_release, file_name, f.get("sha256"), f.get("bytes"), None, None,
                 details]
            )  # fmt: skip
    row += 1
    w.put(ws, row, 1, "Your input files", "xlrate Section")
    row += 1
    header()
    for item in a.inputs:
        details = "; ".join(part for part in (item.source, item.notes) if part)
        if item.synthetic:
            details = "SYNTHETIC: invented for the demo, not a real payer's rates. " + details
        line(
            [
                item.role,
                item.payer or "all payers",
                item.name,
                item.sha256,
                item.bytes,
                item.rows_read,
                item.rows_used,
                details.strip(),
            ]
        )
    row += 1
    w.put(ws, row, 1, "This workbook", "xlrate Section")
    row += 1
    facts: list[tuple[str, str | int, str | None]] = [
        ("Generated", a.generated.strftime("%Y-%m-%d %H:%M:%S UTC"), None),
        ("xlrate version", version, None),
        ("Template", book.template.name, None),
        ("Medicare locality", a.locality, L.LOCALITY),
        ("Medicare year", a.year, L.MEDICARE_YEAR),
        ("Medicare release", a.release, L.RELEASE_IN_USE),
        ("Year over year", a.yoy_label or "not available", None),
    ]
    for label, value, name in facts:
        w.put(ws, row, 1, label, "xlrate Label")
        w.put(ws, row, 2, value, "xlrate Value")
        if name:
            book.define(name, ws, f"$B${row}")
        row += 1
    for text in a.warnings[:50]:
        w.put(ws, row, 1, "Warning", "xlrate Label")
        w.put(ws, row, 2, text, "xlrate Value")
        row += 1
    ws.print_title_rows = None
