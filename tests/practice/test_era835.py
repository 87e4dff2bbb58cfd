"""835 remittances: golden totals counted by hand from the real sample files.

Every expected number below was added up by reading the file (the segments are quoted in
the comments), not taken from the parser's output. Conventions being tested (see
xlrate/practice/era835.py): by_code uses the service lines (SVC02 billed, SVC03 paid,
allowed = AMT*B6 or paid + PR adjustments, units SVC05 default 1); by_payer uses the
claims (CLP03 billed, CLP04 paid); a reversal (CLP02 = 22) counts -1 claim / -1 line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from xlrate.errors import ImportFileError, XlrateError
from xlrate.practice import EraResult, read_era

ERA = Path(__file__).parents[1] / "data" / "practice" / "era835"


def by_code(
    result: EraResult,
) -> dict[tuple[str, str, str], tuple[int, float, float, float, float]]:
    return {
        (r.payer, r.code, r.modifiers): (r.lines, r.units, r.billed, r.allowed, r.paid)
        for r in result.by_code.itertuples(index=False)
    }


def by_payer(result: EraResult) -> dict[str, tuple[int, int, float, float, float]]:
    return {
        r.payer: (r.claims, r.lines, r.billed, r.allowed, r.paid)
        for r in result.by_payer.itertuples(index=False)
    }


def test_managed_care() -> None:
    result = read_era(ERA / "linuxforhealth__managed-care.835")
    # CLP*5554555444*1*800.00*450.00 / SVC*HC:99211*800.00*500.00 (no units: 1) / CAS*PR*1*300
    #   -> allowed 500 + 300 = 800. The claim-level CAS*CO*A2*50 explains CLP04 450 < 500.
    # CLP*8765432112*1*1200.00*495.00 / SVC*HC:93555*1200.00*550.00 / CAS*PR*1*600 CAS*CO*45*50
    #   -> allowed 550 + 600 = 1150.
    assert by_code(result) == {
        ("RUSHMORE LIFE", "93555", ""): (1, 1.0, 1200.00, 1150.00, 550.00),
        ("RUSHMORE LIFE", "99211", ""): (1, 1.0, 800.00, 800.00, 500.00),
    }
    # Claims: 800 + 1200 billed, 450 + 495 paid (= BPR02 945.00).
    assert by_payer(result) == {"RUSHMORE LIFE": (2, 2, 2000.00, 1950.00, 945.00)}
    assert result.skipped_segments == 0
    assert result.warnings == []


def test_secondary_payment_gt_component_and_multi_triplet_cas() -> None:
    result = read_era(ERA / "linuxforhealth__secondary-payment.835")
    # ISA16 is ':' but the lines say SVC*HC>12345>26: the '>' must still split them.
    # SVC*HC>12345>26*166.50*30.00**1.00 ... AMT*B6*150.00
    # SVC*HC>66543>26*585.00*280.00*220*1.00 / CAS*PR*1*150.00**2*70.00 / AMT*B6*500.00
    assert by_code(result) == {
        ("YOUR TAX DOLLARS AT WORK", "12345", "26"): (1, 1.0, 166.50, 150.00, 30.00),
        ("YOUR TAX DOLLARS AT WORK", "66543", "26"): (1, 1.0, 585.00, 500.00, 280.00),
    }
    # Claim 1: CLP*L0004828311*2*10323.64*912.00, no SVC lines, CAS*OA only -> allowed = 912.
    # Claim 2: CLP*0001000053*2*751.50*310.00 -> allowed 150 + 500.
    # billed 10323.64 + 751.50 = 11075.14; paid 912 + 310 = 1222 (= BPR02).
    assert by_payer(result) == {"YOUR TAX DOLLARS AT WORK": (2, 2, 11075.14, 1562.00, 1222.00)}


def test_cob_negative_adjustment() -> None:
    result = read_era(ERA / "linuxforhealth__cob-contractural-adjustment.835")
    # SVC*HC>55669*541.00*34.00**1.00 / CAS*OA*23*516.00 / CAS*OA*94*-9.00 / AMT*B6*550.00
    assert by_code(result) == {
        ("YOUR TAX DOLLARS AT WORK", "55669", ""): (1, 1.0, 541.00, 550.00, 34.00)
    }
    assert by_payer(result) == {"YOUR TAX DOLLARS AT WORK": (1, 1, 541.00, 550.00, 34.00)}


def test_medicare_part_a_has_claims_but_no_lines() -> None:
    result = read_era(ERA / "linuxforhealth__medicare-part-a.835")
    # CLP*666123*1*211366.97*138018.40 and CLP*777777*1*15000.00*11980.33; no SVC at all;
    # only CAS*CO at claim level, so allowed = paid.
    assert result.by_code.empty
    assert list(result.by_code.columns) == [
        "payer", "code", "modifiers", "lines", "units", "billed", "allowed", "paid",
    ]  # fmt: skip
    assert by_payer(result) == {
        "INSURANCE COMPANY OF TIMBUCKTU": (2, 0, 226366.97, 149998.73, 149998.73)
    }
    # PLB*...*CV:CP*-1.27 is not per code: said, not added.
    assert any("PLB" in w and "-1.27" in w for w in result.warnings)


def test_tigershark_pipe_caret_and_leading_tilde() -> None:
    result = read_era(ERA / "tigershark__835-example.txt")
    # '|' elements, '^' components, each segment *starts* with '~' after a newline.
    # SVC|HC^88888|200.02|200.02||1 (AMT B6 200.02) and SVC|HC^88888|23276.56|12145.65||1
    # (AMT B6 12145.65): billed 23476.58, allowed = paid = 12345.67.
    assert by_code(result) == {
        ("UNITED HEALTHCARE INSURANCE COMPANY", "88888", ""): (
            2, 2.0, 23476.58, 12345.67, 12345.67,
        )
    }  # fmt: skip
    # Claims: CLP 200.02/200.02 and 23276.56/12000.65 (claim-level CAS|PR|1|145.00).
    assert by_payer(result) == {
        "UNITED HEALTHCARE INSURANCE COMPANY": (2, 2, 23476.58, 12345.67, 12200.67)
    }
    # SE|43 is wrong (ST..SE spans 47 segments): read, with a warning.
    assert any("SE01" in w and "47" in w for w in result.warnings)
    assert result.skipped_segments == 0


def test_emedny_one_line_denied_lines_and_zero_units() -> None:
    result = read_era(ERA / "keironstoddart__emedny_sample.txt")
    payer = "NYSDOH"
    # Claim 1 (paid 34.25): V2020:RB 6/6 u1, V2700:RB 2.75/2.75 u1, V2103:RB 5.5/5.5 u1,
    #   S0580 20/20 u2, each with AMT*B6 = paid.
    # Claim 2 (paid 0): V2020 12/0 u0 CO-29, V2103 22/0 u0 CO-29 -> allowed 0.
    # Claim 3 (paid 11.5): V2020:RB 6/6 u1, V2103:RB 5.5/5.5 u1, V2700:RB 2.75/0 u0 CO-251,
    #   S0580 20/0 u0 CO-251.
    assert by_code(result) == {
        (payer, "S0580", ""): (2, 2.0, 40.00, 20.00, 20.00),
        (payer, "V2020", ""): (1, 0.0, 12.00, 0.00, 0.00),
        (payer, "V2020", "RB"): (2, 2.0, 12.00, 12.00, 12.00),
        (payer, "V2103", ""): (1, 0.0, 22.00, 0.00, 0.00),
        (payer, "V2103", "RB"): (2, 2.0, 11.00, 11.00, 11.00),
        (payer, "V2700", "RB"): (2, 1.0, 5.50, 2.75, 2.75),
    }
    # billed 34.25 + 34 + 34.25; paid 34.25 + 0 + 11.5 (= BPR02 45.75).
    assert by_payer(result) == {payer: (3, 10, 102.50, 45.75, 45.75)}


def test_united_legacy_dme_units_and_two_triplet_cas() -> None:
    result = read_era(ERA / "keironstoddart__united_healthcare_legacy_sample.txt")
    payer = "UNITED HEALTHCARE INSURANCE COMPANY"
    # B4152: 156.42/88.92 u234 (B6 88.92) + 184.86/0 u277 (B6 105.26)
    # B4154: 459.9/204.18 u249 (B6 204.18) + 328.5/29.05 u178 (CAS*PR*2*5.13**1*110, B6 144.18)
    # B4034: 27.84/27.84 u12 (B6 27.84)
    assert by_code(result) == {
        (payer, "B4034", ""): (1, 12.0, 27.84, 27.84, 27.84),
        (payer, "B4152", ""): (2, 511.0, 341.28, 194.18, 88.92),
        (payer, "B4154", ""): (2, 427.0, 788.40, 348.36, 233.23),
    }
    # CLP 341.28/88.92 and 816.24/261.07: paid 349.99 = BPR02.
    assert by_payer(result) == {payer: (2, 5, 1157.52, 570.38, 349.99)}


GRIP_BY_CODE = {
    # 444444 (56.70/56.52 u6), 111111 (56.52/18.88 u6), 121212 (56.52/0 u6); no B6, no PR
    ("ASHTABULA COUNTY ADAMH BD", "H0005", "HF-H9"): (3, 18.0, 169.74, 75.40, 75.40),
    # 999999: SVC*ZZ:M2200:HE*25.95*0**1 (the ZZ qualifier keeps its code as given)
    ("ASHTABULA COUNTY ADAMH BD", "M2200", "HE"): (1, 1.0, 25.95, 0.00, 0.00),
    # 888888: SVC*ZZ:M151000:F0*162.13*0**1.9
    ("ASHTABULA COUNTY ADAMH BD", "M151000", "F0"): (1, 1.9, 162.13, 0.00, 0.00),
    # 333333: SVC*ZZ:A0230:HF*74.61*59.69**1 / CAS*PR*2*14.92 -> allowed 59.69 + 14.92
    ("ASHTABULA COUNTY ADAMH BD", "A0230", "HF"): (1, 1.0, 74.61, 74.61, 59.69),
    # 777777: four modifiers HC:H0015:HF:99:H9, paid 0
    ("ASHTABULA COUNTY ADAMH BD", "H0015", "HF-99-H9"): (1, 1.0, 136.90, 0.00, 0.00),
    # reversals (CLP02 = 22): -1 line each, amounts and units negative as in the file
    ("ASHTABULA COUNTY ADAMH BD", "H0036", "GT-UK"): (-1, -2.0, -42.58, -42.58, -42.58),
    ("ASHTABULA COUNTY ADAMH BD", "H0004", "HF-H9"): (-1, -4.0, -86.76, -86.76, -86.76),
}
# 9 CLPs, 2 of them reversals: 7 - 2 = 5 claims and 5 lines.
# CLP03: 56.70 + 25.95 + 162.13 + 56.52 + 56.52 + 74.61 + 136.9 - 42.58 - 86.76 = 439.99
# CLP04: 56.52 + 0 + 0 + 18.88 + 0 + 59.69 + 0 - 42.58 - 86.76 = 5.75 (= BPR02 5.75)
# allowed: 56.52 + 18.88 + 74.61 - 42.58 - 86.76 = 20.67
GRIP_BY_PAYER = {"ASHTABULA COUNTY ADAMH BD": (5, 5, 439.99, 20.67, 5.75)}


def test_oopfactory_bom_crlf_indented_reversals() -> None:
    result = read_era(ERA / "oopfactory__Example1_GripElements_4010.txt")
    assert by_code(result) == GRIP_BY_CODE
    assert by_payer(result) == GRIP_BY_PAYER
    assert result.skipped_segments == 0


def test_pyx12_denied_claim() -> None:
    result = read_era(ERA / "pyx12__835_mult_loops.txt")
    # CLP*2005555A*4*915.39*0; SVC*HC:T1005 500.04 u68, 127.8 u16, 287.55 u36, all paid 0.
    assert by_code(result) == {("PAYER", "T1005", ""): (3, 120.0, 915.39, 0.00, 0.00)}
    assert by_payer(result) == {"PAYER": (1, 3, 915.39, 0.00, 0.00)}


def test_several_files_add_up() -> None:
    result = read_era(
        [
            ERA / "linuxforhealth__secondary-payment.835",
            ERA / "linuxforhealth__cob-contractural-adjustment.835",
        ]
    )
    # Same payer in both: 2 + 1 claims; 11075.14 + 541; allowed 1562 + 550; paid 1222 + 34.
    assert by_payer(result) == {"YOUR TAX DOLLARS AT WORK": (3, 3, 11616.14, 2112.00, 1256.00)}


# -- malformed files -------------------------------------------------------------------


def test_malformed_bad_isa_is_refused_with_segment_number() -> None:
    with pytest.raises(ImportFileError) as info:
        read_era(ERA / "MALFORMED__affect__nevada_medicaid_bad_isa.txt")
    message = str(info.value)
    assert "MALFORMED__affect__nevada_medicaid_bad_isa.txt" in message
    assert "segment 1 (ISA)" in message
    assert "not padded" in message and "ISA02" in message


def test_malformed_perl_garbage_is_refused() -> None:
    with pytest.raises(ImportFileError) as info:
        read_era(ERA / "MALFORMED__perl-x12__sample_835.txt")
    message = str(info.value)
    assert "MALFORMED__perl-x12__sample_835.txt" in message
    # ISA, then 'GS*TEST*TEST': the group header is cut short.
    assert "segment 2 (GS)" in message and "truncated" in message


def test_malformed_split_svc01_skips_the_line() -> None:
    name = "MALFORMED__linuxforhealth__tertiary-payment_svc01_split.835"
    result = read_era(ERA / name)
    # SVC*HC*24599.00*1766.50*187.50**1 is segment 20 (ISA=1 ... CLP=16, NM1, NM1, DTM, SVC).
    assert result.skipped_segments == 1
    assert any(f"{name}: segment 20 (SVC) skipped" in w for w in result.warnings)
    assert result.by_code.empty
    # The claim itself is fine: CLP*...*3*1766.50*187.50, no PR -> allowed = paid.
    assert by_payer(result) == {"YOUR TAX DOLLARS AT WORK": (1, 0, 1766.50, 187.50, 187.50)}


def test_malformed_truncated_clp_is_skipped_and_counted() -> None:
    name = "MALFORMED__oopfactory__Example1_5010_truncated_clp.txt"
    result = read_era(ERA / name)
    # The extra 'CLP*090909*22' (segment 98: ST is 3 and SE*98 closes at 100, PLB at 99) has
    # no amounts; everything else is the 4010 file, so the totals are the same.
    assert result.skipped_segments == 1
    assert any(f"{name}: segment 98 (CLP) skipped" in w for w in result.warnings)
    assert any("1 broken segment(s) skipped" in w for w in result.warnings)
    assert by_code(result) == GRIP_BY_CODE
    assert by_payer(result) == GRIP_BY_PAYER


# -- quirks built from the real files ----------------------------------------------------


def _read_text(name: str) -> str:
    return (ERA / name).read_bytes().decode("latin-1")


def test_no_isa_envelope(tmp_path: Path) -> None:
    text = _read_text("linuxforhealth__managed-care.835")
    body = text[text.index("ST*835") : text.index("GE*")]
    path = tmp_path / "no_isa.835"
    path.write_text(body, encoding="latin-1")
    assert by_payer(read_era(path)) == {"RUSHMORE LIFE": (2, 2, 2000.00, 1950.00, 945.00)}


def test_several_interchanges_with_different_delimiters(tmp_path: Path) -> None:
    one = _read_text("linuxforhealth__managed-care.835")
    two = _read_text("tigershark__835-example.txt")
    three = _read_text("keironstoddart__united_healthcare_legacy_sample.txt")
    path = tmp_path / "three.835"
    path.write_text(one + "\n" + two + "\n" + three, encoding="latin-1")
    result = read_era(path)
    payers = by_payer(result)
    assert payers["RUSHMORE LIFE"] == (2, 2, 2000.00, 1950.00, 945.00)
    # tigershark + united legacy: both UNITED HEALTHCARE INSURANCE COMPANY
    # 23476.58 + 1157.52 billed, 12345.67 + 570.38 allowed, 12200.67 + 349.99 paid
    assert payers["UNITED HEALTHCARE INSURANCE COMPANY"] == (4, 7, 24634.10, 12916.05, 12550.66)


def test_crlf_newline_terminated_file(tmp_path: Path) -> None:
    text = _read_text("linuxforhealth__managed-care.835").replace("~\n", "\r\n").rstrip("~")
    path = tmp_path / "crlf.835"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("latin-1"))
    assert by_payer(read_era(path)) == {"RUSHMORE LIFE": (2, 2, 2000.00, 1950.00, 945.00)}


def test_svc06_changed_code_counts_under_paid_code(tmp_path: Path) -> None:
    text = _read_text("linuxforhealth__managed-care.835").replace(
        "SVC*HC:99211*800.00*500.00~", "SVC*HC:99211*800.00*500.00**1*HC:99212~"
    )
    path = tmp_path / "svc06.835"
    path.write_text(text, encoding="latin-1")
    result = read_era(path)
    assert ("RUSHMORE LIFE", "99211", "") in by_code(result)
    assert any("99212" in w and "99211" in w and "SVC06" in w for w in result.warnings)


def test_reversal_nets_out_original(tmp_path: Path) -> None:
    text = _read_text("linuxforhealth__managed-care.835")
    claim = text[text.index("CLP*5554555444") : text.index("CLP*8765432112")]
    reversal = (
        claim.replace("*1*800.00*450.00*300.00", "*22*-800.00*-450.00*-300.00")
        .replace("*800.00*500.00~", "*-800.00*-500.00~")
        .replace("CAS*PR*1*300.00", "CAS*PR*1*-300.00")
    )
    body = text.replace(claim, claim + reversal)
    count = body[body.index("ST*") : body.index("SE*")].count("~") + 1
    body = body.replace("SE*26*", f"SE*{count}*")
    path = tmp_path / "reversal.835"
    path.write_text(body, encoding="latin-1")
    result = read_era(path)
    codes = by_code(result)
    assert codes[("RUSHMORE LIFE", "99211", "")] == (0, 0.0, 0.0, 0.0, 0.0)
    # The 99211 claim and its reversal cancel: only CLP*8765432112 (1200 / 495) is left.
    assert by_payer(result)["RUSHMORE LIFE"] == (1, 1, 1200.00, 1150.00, 495.00)
    assert result.warnings == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 remittance", "not an X12 835"),
        (b"ISA*00*short~", "cut short"),
        (b"ST*837*0001~BHT*0019~SE*2*0001~", "837 transaction"),
    ],
)
def test_not_an_835_is_refused(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "x.835"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=expected):
        read_era(path)


def test_truncated_download_is_refused(tmp_path: Path) -> None:
    text = _read_text("keironstoddart__emedny_sample.txt")
    path = tmp_path / "cut.835"
    path.write_text(text[: len(text) // 2], encoding="latin-1")
    with pytest.raises(ImportFileError, match="truncated"):
        read_era(path)


def test_missing_file_is_an_import_error(tmp_path: Path) -> None:
    with pytest.raises(XlrateError, match="cannot open"):
        read_era(tmp_path / "nope.835")


# -- privacy ---------------------------------------------------------------------------


def _phi(text: str) -> set[str]:
    """Claim ids (CLP01), patient names and member ids (NM1*QC/IL) in a file."""
    element = text[3] if text.lstrip("\ufeffï»¿ \r\n").startswith("ISA") else "*"
    element = "|" if "ISA|" in text else ("*" if "ISA*" in text else element)
    found: set[str] = set()
    for raw in text.replace("\n", "~").split("~"):
        e = raw.strip().split(element)
        if e[0] == "CLP" and len(e) > 1:
            found.add(e[1])
        if e[0] == "NM1" and len(e) > 1 and e[1] in ("QC", "IL"):
            found.update(v for v in e[3:5] + e[9:10] if len(v) > 2)
    return found


@pytest.mark.parametrize(
    "name", sorted(p.name for p in ERA.iterdir() if not p.name.startswith("MALFORMED__nev"))
)
def test_no_phi_in_any_output(name: str) -> None:
    text = _read_text(name)
    try:
        result = read_era(ERA / name)
    except ImportFileError as exc:
        outputs = str(exc)
    else:
        outputs = "\n".join([result.by_code.to_csv(), result.by_payer.to_csv(), *result.warnings])
    phi = _phi(text)
    assert phi or "perl" in name
    leaked = {value for value in phi if value in outputs}
    assert not leaked, f"PHI in output: {leaked}"


def test_folder_of_remits(tmp_path: Path) -> None:
    for name in (
        "linuxforhealth__secondary-payment.835",
        "linuxforhealth__cob-contractural-adjustment.835",
    ):
        (tmp_path / name).write_bytes((ERA / name).read_bytes())
    assert by_payer(read_era(tmp_path)) == {
        "YOUR TAX DOLLARS AT WORK": (3, 3, 11616.14, 2112.00, 1256.00)
    }


def test_no_terminator_for_megabytes_is_refused_not_buffered(tmp_path: Path) -> None:
    head = _read_text("linuxforhealth__managed-care.835")[:107]  # the ISA and its '~'
    path = tmp_path / "endless.835"
    path.write_text(head + "GS*HP" + "*X" * (1_600_000), encoding="latin-1")
    with pytest.raises(ImportFileError, match="no segment terminator"):
        read_era(path)


def test_a_bad_file_in_a_folder_is_left_out_whole_and_named(tmp_path: Path) -> None:
    import shutil

    good = ["linuxforhealth__managed-care.835", "keironstoddart__emedny_sample.txt"]
    bad = "MALFORMED__perl-x12__sample_835.txt"
    for name in [*good, bad]:
        shutil.copy(ERA / name, tmp_path / name)
    with pytest.raises(ImportFileError, match="segment 2 \\(GS\\)"):
        read_era(tmp_path)
    mixed = read_era(tmp_path, skip_bad_files=True)
    alone = read_era([ERA / n for n in good])
    assert len(mixed.refused) == 1 and bad in mixed.refused[0]
    pd.testing.assert_frame_equal(mixed.by_payer, alone.by_payer)
    pd.testing.assert_frame_equal(mixed.by_code, alone.by_code)
    # Only bad files: still an error, not an empty result.
    with pytest.raises(ImportFileError):
        read_era([tmp_path / bad], skip_bad_files=True)


def test_era_cli_totals_the_good_files_and_exits_1_for_a_bad_one(tmp_path: Path) -> None:
    import shutil

    from click.testing import CliRunner

    from xlrate.cli import cli

    for name in ["linuxforhealth__managed-care.835", "MALFORMED__perl-x12__sample_835.txt"]:
        shutil.copy(ERA / name, tmp_path / name)
    result = CliRunner().invoke(cli, ["era", str(tmp_path), "--format", "csv"])
    assert result.exit_code == 1
    assert "RUSHMORE LIFE" in result.stdout
    assert "MALFORMED__perl-x12__sample_835.txt: segment 2 (GS)" in result.stderr
