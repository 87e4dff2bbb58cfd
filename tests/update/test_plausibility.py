"""Implausible CMS values are refused at install (issue 10 item 4), with the file, the row
and the value in one line; the ranges are data (xlrate/medicare/layouts/plausibility.csv).

Each bundle here is CMS's genuine RVU25D with one value changed, as a damaged or mistyped
file would have it; the installed data must answer exactly as before.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from cms_fake import Protected, make_zip, rvu25d_members

from xlrate.errors import UpdateError
from xlrate.medicare.plausibility import bounds
from xlrate.medicare.update import Plausible, install_zip

AL = b"10112,AL,00,ALABAMA,1,0.869,0.575"


def _gpci(line: bytes) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        assert AL in members["GPCI2025.csv"]
        members["GPCI2025.csv"] = members["GPCI2025.csv"].replace(AL, line)

    return change


def _rvu(code: str, column: int, value: str) -> Callable[[dict[str, bytes]], None]:
    def change(members: dict[str, bytes]) -> None:
        text = members["PPRRVU2025_Oct.csv"].decode("latin-1")
        rows = list(csv.reader(io.StringIO(text)))
        row = next(r for r in rows if r[:2] == [code, ""])
        old = ",".join(row)
        row[column] = value
        assert text.count(old) == 1
        members["PPRRVU2025_Oct.csv"] = text.replace(old, ",".join(row)).encode("latin-1")

    return change


def _cf(members: dict[str, bytes]) -> None:
    members["PPRRVU2025_Oct.csv"] = members["PPRRVU2025_Oct.csv"].replace(b",32.3465,", b",3.2347,")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # GPCI read as 869 instead of 0.869: priced 99213 at $37,991.21 before
        (_gpci(b"10112,AL,00,ALABAMA,1,869,0.575"),
         r"GPCI2025\.csv row 4 \(10112-00\): PE GPCI 869 is outside the plausible 0\.25 to 3\.0"),
        (_gpci(b"10112,AL,00,ALABAMA,1,,0.575"),
         r"GPCI2025\.csv \(release 2025D\) row 4: PE GPCI is blank \(a blank is not 0\)"),
        (_gpci(b"10112,AL,00,ALABAMA,1,0.869,-0.575"),
         r"GPCI2025\.csv row 4 \(10112-00\): MP GPCI -0\.575 is outside"),
        (_rvu("99213", 5, "1300.00"),
         r"PPRRVU2025_Oct\.csv row \d+ \(99213\): work RVU 1300 is outside the plausible 0 to 200"),
        (_rvu("99213", 6, "-1.00"),
         r"PPRRVU2025_Oct\.csv row \d+ \(99213\): non-facility PE RVU -1 is outside"),
        (_cf, r"PPRRVU2025_Oct\.csv \(2025D\): conversion factor 3\.2347 is outside the plausible 25 to 45"),
    ],
)  # fmt: skip
def test_implausible_value_is_refused(
    protected: Protected,
    tmp_path: Path,
    change: Callable[[dict[str, bytes]], None],
    expected: str,
) -> None:
    members = rvu25d_members()
    change(members)
    bad = make_zip(tmp_path / "rvu25d.zip", members)
    with pytest.raises(UpdateError, match=expected) as err:
        install_zip(bad)
    message = str(err.value)
    assert "\n" not in message
    assert "still using Medicare release 2025D" in message
    protected.assert_unchanged()


def _scale_work_rvus(members: dict[str, bytes], share: float, factor: float) -> None:
    text = members["PPRRVU2025_Oct.csv"].decode("latin-1")
    lines = text.split("\r\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("HCPCS,MOD,"))
    body = [i for i in range(header + 1, len(lines)) if lines[i][:1].strip()]
    chosen = body[: int(len(body) * share)]
    for i in chosen:
        row = next(csv.reader([lines[i]]))
        if row[5] and float(row[5]) > 0:
            row[5] = f"{float(row[5]) * factor:.2f}"
            out = io.StringIO()
            csv.writer(out, lineterminator="").writerow(row)
            lines[i] = out.getvalue()
    members["PPRRVU2025_Oct.csv"] = "\r\n".join(lines).encode("latin-1")


def test_too_many_codes_moving_against_the_same_years_release_is_refused(
    protected: Protected, tmp_path: Path
) -> None:
    """Half the work RVUs x1.5: refused against 2025A (the previous release of the year)."""
    members = rvu25d_members()
    _scale_work_rvus(members, 0.5, 1.5)
    bad = make_zip(tmp_path / "rvu25d.zip", members)
    with pytest.raises(UpdateError, match=r"codes \(\d+\.\d%\) move more than 20% against 2025A, "
                       r"at most 5% may \(row \d+ ") as err:  # fmt: skip
        install_zip(bad)
    assert "\n" not in str(err.value)
    protected.assert_unchanged()
    # The same file is accepted when the check is switched off on purpose.
    assert install_zip(bad, plausible=Plausible(compare_previous=False)).status == "installed"


def test_a_few_codes_moving_is_normal(protected: Protected, tmp_path: Path) -> None:
    members = rvu25d_members()
    _scale_work_rvus(members, 0.01, 1.5)  # 1% of the rows
    assert install_zip(make_zip(tmp_path / "rvu25d.zip", members)).status == "installed"


def test_ranges_are_data() -> None:
    rows = {(b.table, b.column): b for b in bounds()}
    assert (str(rows["gpci", "pe_gpci"].low), str(rows["gpci", "pe_gpci"].high)) == ("0.25", "3.0")
    assert rows["pprrvu", "work_rvu"].high == 200
    assert rows["pprrvu", "total_rvu"].kind == "change"


def test_locco_as_xlsx_only(home: Path, tmp_path: Path) -> None:
    """One source reports RVU26C's LOCCO only as .xlsx: accepted, read like the csv
    (25LOCCO.xlsx here is CMS's own, from the RVU25A zip)."""
    import zipfile

    from cms_fake import CMS

    from xlrate.medicare.cms_files import read_bundle

    with zipfile.ZipFile(CMS / "rvu25a" / "rvu25a-updated-01_10_2025.zip") as z:
        xlsx = z.read("25LOCCO.xlsx")
    members = rvu25d_members()
    del members["25LOCCO.csv"]
    members["25LOCCO.xlsx"] = xlsx
    only_xlsx = make_zip(tmp_path / "rvu25d-xlsx.zip", members)
    result = install_zip(only_xlsx)
    assert result.status == "installed"
    from_xlsx = read_bundle(only_xlsx).tables["locco"]
    from_csv = read_bundle(CMS / "rvu25d").tables["locco"]
    assert from_xlsx is not None and from_csv is not None
    assert from_xlsx.equals(from_csv)
