"""Build the embedded CLFS, ASP, DMEPOS and PEN releases (xlrate/medicare/data/<schedule>/<ID>/).

Inputs are the CMS files in tests/data/schedules/ (provenance in its PROVENANCE.md, pinned
by its SHA256SUMS); the script refuses to run when a checksum differs. Descriptions are
dropped (CPT text is AMA-copyrighted). Only the schedule folders are replaced; the PFS
releases (scripts/build_embedded_data.py) are left alone.

    python scripts/build_schedule_data.py
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlrate.medicare import asp, clfs, dmepos, schedule_store, schedule_update  # noqa: E402

SRC = ROOT / "tests" / "data" / "schedules"
OUT = ROOT / "xlrate" / "medicare" / "data"

CLFS_PAGE = (
    "https://www.cms.gov/medicare/payment/fee-schedules/clinical-laboratory-fee-schedule-clfs/files"
)
ASP_PAGE = "https://www.cms.gov/medicare/payment/part-b-drugs/asp-pricing-files"
DME_PAGE = "https://www.cms.gov/medicare/payment/fee-schedules/dmepos/dmepos-fee-schedule"


def check_sums() -> None:
    for line in (SRC / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        actual = hashlib.sha256((SRC / name).read_bytes()).hexdigest()
        if actual != digest:
            raise SystemExit(f"{name}: sha256 {actual} differs from SHA256SUMS; refusing to build")


def file_entry(rel: str, table: str, rows: int, member: str = "") -> dict[str, Any]:
    """The provenance entry of a file under SRC, as an install writes it."""
    return schedule_update.file_entry(Path(rel).name, (SRC / rel).read_bytes(), table, rows, member)


def main() -> None:
    check_sums()
    for kind in schedule_store.SCHEDULE_DIRS:
        if (OUT / kind).exists():
            shutil.rmtree(OUT / kind)
    common = {"installed_by": "scripts/build_schedule_data.py"}

    for rel, year, url in (
        ("clfs_2025q1/25CLABQ1.zip", 2025, ""),
        ("clfs_2026q1/CLFS_2026_Q1V1.xlsx", 2026, ""),
    ):
        arrays = clfs.read((SRC / rel).read_bytes(), Path(rel).name, year)
        release = clfs.release_id(arrays)
        n = len(arrays["code"])
        member = "CLFS 2025 Q1V1.csv" if rel.endswith(".zip") else ""
        prov = {
            **common,
            "schedule": "CLFS",
            "release_id": release,
            "files": [file_entry(rel, "clfs", n, member)],
            "landing_page": CLFS_PAGE,
            "source_url": url,
        }
        if rel.endswith(".xlsx"):
            prov["note"] = (
                "a copy re-saved by a third party (github.com/maggiexgao/explain-my-bills); "
                "numeric HCPCS padded to 5 characters"
            )
        schedule_store.install("clfs", release, arrays, prov, root=OUT)
        print(f"clfs {release}: {n} rows")

    rel = "asp_2025q1/january-2025-asp-pricing-file-12_19_24-final-file.zip"
    arrays = asp.read((SRC / rel).read_bytes(), Path(rel).name, 2025)
    release = str(arrays.pop("effective")[0])
    n = len(arrays["code"])
    schedule_store.install(
        "asp",
        release,
        arrays,
        {
            **common,
            "schedule": "ASP",
            "release_id": release,
            "files": [
                file_entry(
                    rel,
                    "asp",
                    n,
                    "section 508 version of Jan 2025 ASP Pricing File updated 030725.csv",
                )
            ],
            "landing_page": ASP_PAGE,
            "source_url": "",  # the landing page's "January 2025 ASP Pricing File" link
        },
        root=OUT,
    )
    print(f"asp {release}: {n} rows")

    rural_rel = "dmepos_2025q1/DME Rural ZIP Code Quarter 1, 2025.csv"
    rural = dmepos.read_rural_zips((SRC / rural_rel).read_bytes(), Path(rural_rel).name, 2025)
    for kind, rel in (
        ("dmepos", "dmepos_2025q1/DMEPOS_JAN.csv"),
        ("pen", "dmepos_2025q1/DMEPEN_JAN.csv"),
    ):
        arrays = dmepos.read((SRC / rel).read_bytes(), Path(rel).name, kind, 2025)
        arrays.update(rural)
        n = len(arrays["code"])
        release = "2025A"  # "January 2025 Fee Schedule" in the title block
        schedule_store.install(
            kind,
            release,
            arrays,
            {
                **common,
                "schedule": kind.upper(),
                "release_id": release,
                "files": [
                    file_entry(rel, kind, n),
                    file_entry(rural_rel, "rural_zip", len(rural["rural_zip"])),
                ],
                "landing_page": DME_PAGE,
                "source_url": "",  # CSV members of the DME25 zip; the zip was not available
            },
            root=OUT,
        )
        print(
            f"{kind} {release}: {n} rows, {len(arrays['states'])} states, {len(rural['rural_zip'])} rural ZIPs"
        )


if __name__ == "__main__":
    main()
