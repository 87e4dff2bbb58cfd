"""Build the embedded Medicare dataset (xlrate/medicare/data/) from the real CMS files.

Inputs are the CMS files kept in tests/data/cms/ (provenance and checksums in
tests/data/cms/PROVENANCE.md and SHA256SUMS); this script refuses to run when a checksum
differs, so the embedded data can always be traced to those exact files. CPT descriptions
are dropped (AMA copyright): the embedded tables hold codes, RVUs and indicators only.

    python scripts/build_embedded_data.py
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xlrate.medicare import cms_files, store  # noqa: E402

CMS = ROOT / "tests" / "data" / "cms"
OUT = ROOT / "xlrate" / "medicare" / "data"

# folder (or zip) under tests/data/cms -> provenance added to the release
BUNDLES = {
    "rvu25a/rvu25a-updated-01_10_2025.zip": {
        # CMS's own zip, byte for byte; CMS named it with slashes in the date.
        "source_url": "https://www.cms.gov/files/zip/rvu25a-updated-01/10/2025.zip",
        "landing_page": "https://www.cms.gov/medicare/payment/fee-schedules/physician/pfs-relative-value-files/rvu25a",
    },
    "rvu25d": {
        "source_url": "https://www.cms.gov/files/zip/rvu25d.zip",
        "landing_page": "https://www.cms.gov/medicare/payment/fee-schedules/physician/pfs-relative-value-files/rvu25d",
    },
    "rvu26c": {
        "source_url": "https://www.cms.gov/files/zip/rvu26c-updated-06-30-2026.zip",
        "landing_page": "https://www.cms.gov/medicare/payment/fee-schedules/physician/pfs-relative-value-files/rvu26c",
        "note": "PPRRVU only: GPCI2026, 26LOCCO, ANES2026 and OPPSCAP were not available, so "
        "CY2026 prices nationally until `xlrate medicare update --year 2026` installs a full bundle",
    },
}
ZIP5 = {
    "folder": "zip_locality_2025q4",
    "file": "ZIP5_OCT2025.txt",
    "source_url": "https://www.cms.gov/files/zip/zip-code-carrier-locality-file-revised-08/14/2025.zip",
}


def check_sums() -> None:
    for line in (CMS / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        actual = hashlib.sha256((CMS / name).read_bytes()).hexdigest()
        if actual != digest:
            raise SystemExit(f"{name}: sha256 {actual} differs from SHA256SUMS; refusing to build")


def main() -> None:
    check_sums()
    # Only the PFS folders: data/<schedule>/ is built by scripts/build_schedule_data.py.
    for kind in ("releases", "zip5"):
        if (OUT / kind).exists():
            shutil.rmtree(OUT / kind)
    for folder, extra in BUNDLES.items():
        path = CMS / folder
        bundle = cms_files.read_bundle(path)
        provenance: dict[str, object] = {**extra, "installed_by": "scripts/build_embedded_data.py"}
        if path.is_file():
            data = path.read_bytes()
            provenance["archive"] = {
                "name": extra["source_url"].split("/files/zip/", 1)[-1],
                "saved_as": path.name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
            }
        info = store.install_bundle(bundle, provenance, root=OUT)
        rows = len(bundle.tables["pprrvu"] if bundle.tables["pprrvu"] is not None else ())
        print(f"{info.release_id}: {rows} RVU rows, complete={bundle.complete}")
    data = (CMS / ZIP5["folder"] / ZIP5["file"]).read_bytes()
    frame = cms_files.read_zip5(data, ZIP5["file"])
    provenance = {
        "quarter": str(frame["quarter"].iloc[0]),
        "files": [
            {
                "name": ZIP5["file"],
                "sha256": hashlib.sha256(data).hexdigest(),
                "bytes": len(data),
                "table": "zip5",
            }
        ],
        "source_url": ZIP5["source_url"],
        "installed_by": "scripts/build_embedded_data.py",
    }
    path = store.install_zip5(frame, provenance, root=OUT)
    print(f"zip5 {path.name}: {len(frame)} ZIP codes")
    (OUT / "__init__.py").write_text(
        '"""Embedded Medicare data, built by scripts/build_embedded_data.py."""\n'
    )


if __name__ == "__main__":
    main()
