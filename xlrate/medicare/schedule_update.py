"""Install a CLFS, ASP, DMEPOS or PEN release from a CMS file already on disk.

This is the verified, atomic install step of a refresh, without the download: the CMS
file (the quarter's zip or its CSV/XLSX) is parsed with the layouts in
``layouts/<schedule>_columns.csv``, checked for plausibility, and written with
:func:`schedule_store.install` (temp folder + rename) with its sha256 and size in the
provenance. ``xlrate medicare update --schedule ...`` (download discovery in
``download.py``) can hand its downloaded bytes to :func:`install_file`.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from xlrate.errors import LayoutError
from xlrate.medicare import asp, clfs, dmepos, schedule_store
from xlrate.medicare import schedule_files as sf

MIN_ROWS = {"clfs": 1000, "asp": 300, "dmepos": 1000, "pen": 20}
_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_MEMBERS = {
    "dmepos": r"^DMEPOS[^/]*\.csv$",
    "pen": r"^DMEPEN[^/]*\.csv$",
    "rural": r"rural[^/]*zip[^/]*\.csv$",
}


def _title_release(rows: list[list[str]]) -> str:
    """``2025A`` from a title such as "January 2025 Fee Schedule"."""
    for row in rows[:10]:
        text = " ".join(row).lower()
        for i, month in enumerate(_MONTHS):
            found = re.search(rf"\b{month}\s+(20\d\d)\b", text)
            if found:
                return f"{found.group(1)}{'ABCD'[i // 3]}"
    return ""


def file_entry(name: str, data: bytes, table: str, rows: int, member: str = "") -> dict[str, Any]:
    """The provenance entry of one source file: its name, sha256, size and what it holds."""
    entry: dict[str, Any] = {
        "name": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "table": table,
        "rows": rows,
    }
    if member:
        entry["member"] = member
    return entry


def install_file(
    schedule: str,
    path: str | Path,
    *,
    rural_zip_file: str | Path | None = None,
    release_id: str | None = None,
    source_url: str = "",
    extra_provenance: dict[str, Any] | None = None,
    root: Path | None = None,
    name: str | None = None,
) -> schedule_store.ScheduleInfo:
    """Parse ``path`` (a CMS zip, CSV or XLSX of ``schedule``) and install it atomically.

    DMEPOS and PEN need CMS's rural ZIP file too: a member of the zip, or ``rural_zip_file``.
    ``extra_provenance`` (a refresh's source URL, download time, zip sha256) is merged in.
    ``name`` is the file's name for messages and provenance (CMS's name, when ``path`` is a
    refresh's temporary file).
    """
    schedule = schedule.lower()
    if schedule not in schedule_store.SCHEDULE_DIRS:
        raise LayoutError(
            f"unknown schedule {schedule!r}: choose one of {', '.join(schedule_store.SCHEDULE_DIRS)}"
        )
    path = Path(path)
    data = path.read_bytes()
    label = name or path.name
    files: list[dict[str, Any]] = []
    if schedule == "clfs":
        arrays = clfs.read(data, label)
        release = release_id or clfs.release_id(arrays)
        files.append(file_entry(label, data, "clfs", len(arrays["code"])))
    elif schedule == "asp":
        arrays = asp.read(data, label)
        effective = arrays.pop("effective", np.array([""], dtype=str))
        release = release_id or str(effective[0])
        files.append(file_entry(label, data, "asp", len(arrays["code"])))
    else:
        if sf.is_bundle(data):
            member, body = sf.zip_member(data, _MEMBERS[schedule], label)
            if rural_zip_file is None:
                rural_name, rural_data = sf.zip_member(data, _MEMBERS["rural"], label)
            else:
                rural_name, rural_data = (
                    Path(rural_zip_file).name,
                    Path(rural_zip_file).read_bytes(),
                )
        else:
            member, body = label, data
            if rural_zip_file is None:
                raise LayoutError(
                    f"{label}: {schedule.upper()} fees need CMS's DMEPOS rural ZIP file too "
                    "(give the quarter's zip, or the rural ZIP CSV as well)"
                )
            rural_name, rural_data = Path(rural_zip_file).name, Path(rural_zip_file).read_bytes()
        arrays = dmepos.read(body, member, schedule)
        rural = dmepos.read_rural_zips(rural_data, rural_name)
        arrays.update(rural)
        release = release_id or _title_release(sf.file_rows(body, member)[:10])
        files.append(
            file_entry(
                label,
                data,
                schedule,
                len(arrays["code"]),
                member if member != label else "",
            )
        )
        if rural_zip_file is not None:
            files.append(file_entry(rural_name, rural_data, "rural_zip", len(rural["rural_zip"])))
    if not re.fullmatch(r"20\d\d[ABCD]", release or ""):
        raise LayoutError(
            f"{label}: cannot tell which quarter the file is for; give release_id such as 2025A"
        )
    rows = len(arrays["code"])
    if rows < MIN_ROWS[schedule]:
        raise LayoutError(
            f"{label}: only {rows} {schedule.upper()} rows (a real file has at least "
            f"{MIN_ROWS[schedule]}); not installed"
        )
    provenance = {
        "schedule": schedule.upper(),
        "release_id": release,
        "files": files,
        "source_url": source_url,
        "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "installed_by": "xlrate.medicare.schedule_update.install_file",
    }
    provenance.update(extra_provenance or {})
    return schedule_store.install(schedule, release, arrays, provenance, root=root)


def zip_of(members: dict[str, bytes]) -> bytes:
    """A zip holding ``members`` (for tests and for re-packing CMS's CSV members)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buffer.getvalue()
