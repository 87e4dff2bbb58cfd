"""Pricing rules checked against CMS's own numbers (DOMAIN.md section 1).

Golden values come from the CMS files themselves, never from our engine: the PPRRVU
NON-FACILITY TOTAL / FACILITY TOTAL columns (CMS's summed RVUs) times the file's CONV FACTOR
give CMS's national amounts; OPPSCAP's prices give the capped amounts.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
import pytest

import xlrate
from xlrate.errors import LayoutError
from xlrate.medicare import cms_files

DATA = Path(__file__).resolve().parents[1] / "data" / "cms"


def _pprrvu_rows(path: Path) -> list[list[str]]:
    rows = list(csv.reader(path.open(encoding="latin-1")))
    header = next(i for i, r in enumerate(rows) if r[:2] == ["HCPCS", "MOD"])
    return [r for r in rows[header + 1 :] if r and r[0]]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@pytest.mark.parametrize(
    ("path", "year", "cols"),
    [
        # (status, nonfacility total, facility total, conversion factor) column positions
        (DATA / "rvu25d" / "PPRRVU2025_Oct.csv", 2025, (3, 11, 12, 24)),
        (DATA / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv", 2026, (3, 11, 12, 25)),
    ],
)
def test_national_amounts_equal_cms_totals_times_cf(
    path: Path, year: int, cols: tuple[int, int, int, int]
) -> None:
    status, nf_total, f_total, cf = cols
    rows = [r for r in _pprrvu_rows(path) if r[status] in ("A", "R", "T")]
    assert len(rows) > 10000
    frame = pd.DataFrame({"code": [r[0] for r in rows], "modifier": [r[1] for r in rows]})
    priced = xlrate.price(frame, year=year, national=True, include_na=True)
    bad = []
    for r, nf, f in zip(rows, priced["nonfacility_amount"], priced["facility_amount"], strict=True):
        want_nf = _cents(Decimal(r[nf_total]) * Decimal(r[cf]))
        want_f = _cents(Decimal(r[f_total]) * Decimal(r[cf]))
        if Decimal(f"{nf:.2f}") != want_nf or Decimal(f"{f:.2f}") != want_f:
            bad.append((r[0], r[1], str(want_nf), nf, str(want_f), f))
    # Totals are rounded sums of the components; allow none to differ.
    assert bad == []


def test_national_99213_2025_and_2026() -> None:
    # 99213: work 1.30 + PE 1.35 + MP 0.10 = 2.75 RVUs x $32.3465 (2025) = $88.95;
    # 2026 July release: CMS's file total x $33.4009.
    assert xlrate.medicare_amount("99213", year=2025).amount == Decimal("88.95")
    rows = {(r[0], r[1]): r for r in _pprrvu_rows(DATA / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv")}
    want = _cents(Decimal(rows[("99213", "")][11]) * Decimal("33.4009"))
    assert xlrate.medicare_amount("99213", year=2026).amount == want


def test_professional_and_technical_components() -> None:
    glob = xlrate.medicare_amount("71045", locality="01112-05")
    pc = xlrate.medicare_amount("71045", "26", locality="01112-05")
    tc = xlrate.medicare_amount("71045", "TC", locality="01112-05")
    assert pc.status == tc.status == glob.status == "priced"
    assert pc.amount is not None and tc.amount is not None and glob.amount is not None
    assert pc.amount < glob.amount and tc.amount < glob.amount
    # A code that is not split (PCTC 0) has no 26 component: say so.
    r = xlrate.medicare_amount("99213", "26", locality="01112-05")
    assert r.status == "no_component" and r.amount is None and "PCTC 0" in r.note


def test_status_b_c_and_j_have_no_amount_and_say_why() -> None:
    b_code = next(r[0] for r in _pprrvu_rows(DATA / "rvu25d" / "PPRRVU2025_Oct.csv") if r[3] == "B")
    b = xlrate.medicare_amount(b_code, locality="01112-05")
    assert (
        b.amount is None
        and b.status == "not_priced"
        and b.note.startswith("not priced: status B (bundled)")
    )
    c = xlrate.medicare_amount("0633T", "TC", locality="01112-05")
    assert c.amount is None and c.status == "carrier_priced"
    j = xlrate.medicare_amount("00100")
    assert j.amount is None and "anesthesia" in j.note


def test_opps_imaging_cap_uses_cms_cap_price() -> None:
    caps = list(csv.reader((DATA / "rvu25d" / "OPPSCAP_Oct.csv").open()))
    row = next(r for r in caps if r[:2] == ["70496", ""] and r[3:5] == ["01112", "05"])
    rvu = {(r[0], r[1]): r for r in _pprrvu_rows(DATA / "rvu25d" / "PPRRVU2025_Oct.csv")}[
        ("70496", "")
    ]
    gpci = {(r[0], r[2]): r for r in csv.reader((DATA / "rvu25d" / "GPCI2025.csv").open())}[
        ("01112", "05")
    ]
    pfs = _cents(
        (
            Decimal(rvu[5]) * Decimal(gpci[4])
            + Decimal(rvu[6]) * Decimal(gpci[5])
            + Decimal(rvu[10]) * Decimal(gpci[6])
        )
        * Decimal(rvu[24])
    )
    cap = Decimal(row[6])
    assert cap < pfs  # the cap binds for this code and locality
    r = xlrate.medicare_amount("70496", locality="01112-05")
    assert r.amount == cap and "OPPS imaging cap" in r.note


def test_na_indicator_is_reported_not_priced() -> None:
    r = xlrate.medicare_amount("27447", locality="01112-05", setting="nonfacility")
    assert r.amount is None and r.status == "na_setting" and "NA" in r.note
    f = xlrate.medicare_amount("27447", locality="01112-05", setting="facility")
    assert f.amount is not None and f.status == "priced"
    forced = xlrate.medicare_amount("27447", locality="01112-05", include_na=True)
    assert forced.amount is not None and "NA" in forced.note


def test_options_and_policy_modifiers_apply_exact_factors() -> None:
    base = xlrate.medicare_amount("27447", locality="01112-05", setting="facility")
    assert base.amount is not None

    def exact(factor: str) -> Decimal:
        # base.amount is already rounded; recompute from the exact RVU sum instead.
        rvu = {(r[0], r[1]): r for r in _pprrvu_rows(DATA / "rvu25d" / "PPRRVU2025_Oct.csv")}[
            ("27447", "")
        ]
        gpci = {(r[0], r[2]): r for r in csv.reader((DATA / "rvu25d" / "GPCI2025.csv").open())}[
            ("01112", "05")
        ]
        raw = (
            Decimal(rvu[5]) * Decimal(gpci[4])
            + Decimal(rvu[8]) * Decimal(gpci[5])
            + Decimal(rvu[10]) * Decimal(gpci[6])
        ) * Decimal(rvu[24])
        return _cents(raw * Decimal(factor))

    kw = {"locality": "01112-05", "setting": "facility"}
    assert base.amount == exact("1")
    assert xlrate.medicare_amount("27447", participating=False, **kw).amount == exact("0.95")
    assert xlrate.medicare_amount("27447", limiting_charge=True, **kw).amount == exact("1.0925")
    assert xlrate.medicare_amount("27447", npp=True, **kw).amount == exact("0.85")
    assert xlrate.medicare_amount("27447", sequestration=True, **kw).amount == exact("0.984")
    assert xlrate.medicare_amount("27447", "50", **kw).amount == exact("1.5")  # BILAT SURG 1
    assert xlrate.medicare_amount("27447", "51", **kw).amount == exact("0.5")  # MULT PROC 2
    assert xlrate.medicare_amount("27447", "62", **kw).amount == exact("0.625")  # CO-SURG 1
    assert xlrate.medicare_amount("27447", "80", **kw).amount == exact("0.16")  # ASST SURG 2
    assert xlrate.medicare_amount("27447", "AS", **kw).amount == exact("0.136")
    assert xlrate.medicare_amount("27447", "25", **kw).amount == exact("1")  # no payment effect


def test_2026_locality_request_says_gpcis_missing() -> None:
    r = xlrate.medicare_amount("99213", locality="01112-05", year=2026)
    assert r.amount is None and r.status == "gpci_missing"
    assert "xlrate medicare update --year 2026" in r.note


def test_zip_resolution_and_split_zip() -> None:
    from xlrate.medicare.localities import resolve_zip

    assert resolve_zip("94110").locality == "01112-05"
    assert resolve_zip(94110.0).locality == "01112-05"
    # 72644 (Arkansas, near Missouri) carries the ZIP5 plus-four flag in ZIP5_OCT2025.
    split = resolve_zip("72644")
    assert (
        split.split
        and split.locality is None
        and "07102-13" in split.candidates
        and len(split.candidates) > 1
    )
    r = xlrate.medicare_amount("99213", zip="72644")
    assert r.status == "split_zip" and r.amount is None and "07102-13" in r.note


def test_vectorized_equals_scalar_for_mixed_requests() -> None:
    frame = pd.DataFrame(
        {
            "code": ["99213", "99214", 76145, "70450", "27447", "0633T", "XYZ", "99213", "00100"],
            "modifier": ["", "25", None, "TC", "50", "TC", "", 26, ""],
            "zip": ["94110", None, None, None, None, None, None, None, None],
            "locality": [
                None,
                "01112-05",
                "10112-00",
                "01112-05",
                "01112-05",
                "01112-05",
                "01112-05",
                "01112-05",
                "01112-05",
            ],
            "pos": [11, 22, 11, 11, 22, 11, 11, 11, 11],
        }
    )
    priced = xlrate.price(frame)
    for rec in priced.to_dict("records"):
        one = xlrate.medicare_amount(
            rec["code"],
            rec["modifier"],
            locality=rec["locality"] if rec["locality"] != "" else None,
            zip=rec["zip"],
            setting=rec["pos"],
        )
        got = None if rec["amount"] != rec["amount"] else Decimal(f"{rec['amount']:.2f}")
        assert got == one.amount, rec
        assert rec["status"] == one.status


def test_unknown_layout_fails_loudly(tmp_path: Path) -> None:
    src = (
        (DATA / "rvu25d" / "GPCI2025.csv")
        .read_text(encoding="latin-1")
        .replace("2025 PE GPCI", "2025 PRACTICE EXPENSE")
    )
    for f in (DATA / "rvu25d").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "GPCI2025.csv").write_text(src, encoding="latin-1")
    with pytest.raises(LayoutError) as err:
        cms_files.read_bundle(tmp_path)
    message = str(err.value)
    assert "GPCI2025.csv (release 2025D)" in message and "CY2025" in message
    assert "{YEAR} PE GPCI" in message and "{YEAR} PRACTICE EXPENSE" in message


def test_2026_layout_has_the_new_column_mapped_by_name() -> None:
    bundle = cms_files.read_bundle(DATA / "rvu26c")
    assert bundle.release_id == "2026C" and bundle.conversion_factor == "33.4009"
    assert not bundle.complete
    assert len(bundle.tables["pprrvu"]) == 19356


def test_embedded_provenance_matches_repo_checksums() -> None:
    sums = dict(
        reversed(line.split(maxsplit=1)) for line in (DATA / "SHA256SUMS").read_text().splitlines()
    )
    import hashlib
    import zipfile

    for info in xlrate.list_releases():
        archive = info.provenance.get("archive") or {}
        if archive.get("saved_as"):  # built from CMS's zip as it is (RVU25A)
            [(name, digest)] = [
                (n, d) for n, d in sums.items() if n.endswith("/" + archive["saved_as"])
            ]
            assert digest == archive["sha256"]
            with zipfile.ZipFile(DATA / name) as z:
                for f in info.provenance["files"]:
                    assert hashlib.sha256(z.read(f["name"])).hexdigest() == f["sha256"]
            continue
        for f in info.provenance["files"]:
            match = [digest for name, digest in sums.items() if name.endswith("/" + f["name"])]
            assert match == [f["sha256"]], f["name"]


def test_2026_qp_uses_the_final_rule_cf_without_a_qpp_file() -> None:
    # CY2026 final rule: $33.5675 for qualifying APM participants, $33.4009 otherwise.
    rows = {(r[0], r[1]): r for r in _pprrvu_rows(DATA / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv")}
    total = Decimal(rows[("99214", "")][11])
    assert xlrate.medicare_amount("99214", year=2026).amount == _cents(total * Decimal("33.4009"))
    assert xlrate.medicare_amount("99214", year=2026, qp=True).amount == _cents(
        total * Decimal("33.5675")
    )
    # 2025 had a single conversion factor: the option changes nothing.
    assert xlrate.medicare_amount("99214", qp=True).amount == xlrate.medicare_amount("99214").amount


def test_installing_a_release_replaces_cached_answers(tmp_path: Path) -> None:
    before = xlrate.medicare_amount("99213", locality="01112-05")
    for f in (DATA / "rvu25d").iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    gpci = (tmp_path / "GPCI2025.csv").read_text(encoding="latin-1")
    line = next(x for x in gpci.splitlines() if x.startswith("01112,CA,05,"))
    (tmp_path / "GPCI2025.csv").write_text(
        gpci.replace(line, line.replace(",1.419,", ",1.519,")), encoding="latin-1"
    )
    from xlrate.medicare import store

    store.install_bundle(cms_files.read_bundle(tmp_path))
    after = xlrate.medicare_amount("99213", locality="01112-05")
    assert store.resolve_release().source == "installed"
    assert after.amount is not None and before.amount is not None
    # PE RVU 1.35 x 0.100 more PE GPCI x $32.3465 = about $4.37 more.
    assert after.amount - before.amount == Decimal("4.37")


def test_reader_finds_the_previous_release_while_an_install_swaps_it(tmp_path: Path) -> None:
    from xlrate.medicare import store

    info = store.install_bundle(cms_files.read_bundle(DATA / "rvu25d"))
    aside = info.path.with_name(f".{info.path.name}.old-99")
    info.path.rename(aside)  # the moment between the store's two renames
    store.clear_cache()
    again = store.resolve_release(2025, "D")
    assert again.source == "installed" and again.path == aside


def test_qp_option_says_which_conversion_factor_it_used() -> None:
    assert "33.5675" in xlrate.medicare_amount("99213", year=2026, qp=True).note
    assert "one conversion factor" in xlrate.medicare_amount("99213", qp=True).note
