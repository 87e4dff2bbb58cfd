"""The practice profile TOML (xlrate.profile)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xlrate.errors import InputError, XlrateError
from xlrate.profile import (
    SmtpSpec,
    build_profile,
    load_profile,
    load_smtp,
    parse_profile,
    profile_template,
)


def test_percents_paths_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[practice]\nname = "X"\nzip = 35203\nvolumes = "v.csv"\n'
        '[scenarios]\nuser_target = "127.5%"\n'
        '[[payers]]\nname = "A"\nfees = "a.csv"\ntarget = 130\nsetting = "Facility"\n',
        "utf-8",
    )
    profile = load_profile(tmp_path / "p.toml")
    assert profile.zip == "35203" and profile.volumes == tmp_path / "v.csv"
    assert profile.payers[0].target == pytest.approx(1.3)
    assert profile.payers[0].setting == "facility"
    assert profile.payers[0].fees == (tmp_path / "a.csv",)
    assert profile.scenarios.user_target == pytest.approx(1.275)
    assert profile.scenarios.targets == pytest.approx((1.1, 1.2, 1.3, 1.4))
    assert profile.output == tmp_path / "analysis.xlsx"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[practice]\n", "needs a name"),
        ('[practice]\nname="X"\n[[payers]]\nname="A"\n', "needs fees"),
        (
            '[practice]\nname="X"\n[[payers]]\nname="A"\nfees="a"\n[[payers]]\nname="A"\nfees="b"\n',
            "unique",
        ),
        ('[practice]\nname="X"\n[[payers]]\nname="A"\nfees="a"\ntarget="lots"\n', "not a percent"),
    ],
)
def test_errors_name_the_problem(text: str, message: str) -> None:
    import tomllib

    with pytest.raises(InputError, match=message):
        parse_profile(tomllib.loads(text))


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="xlrate init"):
        load_profile(tmp_path / "nope.toml")
    (tmp_path / "bad.toml").write_text("[practice\n", "utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_profile(tmp_path / "bad.toml")


def test_the_init_template_loads(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_text(profile_template(path.name), "utf-8")
    profile = load_profile(path)
    assert profile.locality == "10112-00" and profile.payers[0].name == "Example PPO"
    assert "xlrate build --profile practice.toml" in path.read_text("utf-8")


GOOD_PAYER = '[[payers]]\nname = "A"\nfees = "a.csv"\n'


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('practice = "x"\n', ["practice", "must be a table"]),
        ('payers = "abc"\n[practice]\nname = "X"\n', ["payers", "[[payers]]"]),
        ('[practice]\nname = "X"\nyear = "abc"\n', ["year", "year = 2025"]),
        ('scenarios = 5\n[practice]\nname = "X"\n', ["scenarios", "must be a table"]),
        ('[practice]\nname = "X"\n[[payers]]\nname = "A"\nfees = 5\n', ["fees", "file name"]),
        ('smtp = 5\n[practice]\nname = "X"\n', ["[smtp]", "must be a table"]),
        ('[practice]\nname = "X"\n[smtp]\nport = "abc"\n', ["port", "587"]),
        ('[practice]\nname = "X"\n[smtp]\nstarttls = "yes"\n', ["starttls", "true or false"]),
        ('[practice]\nname = "X"\n[scenarios]\ntargets = 5\n' + GOOD_PAYER, ["targets"]),
        ('payers = ["a"]\n[practice]\nname = "X"\n', ["payer 1", "must be a table"]),
        ("[practice]\nname = 5.5\n", ["name", "text"]),
        ('[practice]\nname = "X"\n[[payers]]\nname = "A"\nfees = "a"\nmapping = 3\n', ["mapping"]),
    ],
)
def test_wrong_types_name_the_file_the_key_and_the_fix(
    tmp_path: Path, text: str, names: list[str]
) -> None:
    path = tmp_path / "practice.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(XlrateError) as err:
        load_profile(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for name in names:
        assert name in message


def test_non_utf8_profile_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_bytes('[practice]\nname = "Cl\u00ednica"\n'.encode("cp1252"))
    with pytest.raises(XlrateError, match=r"not UTF-8 text.*save it as UTF-8"):
        load_profile(path)


def test_smtp_table_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_text(
        '[practice]\nname = "X"\n[smtp]\nhost = "mail.example"\nport = 465\nfrom = "a@b.c"\n',
        "utf-8",
    )
    smtp = load_profile(path).smtp
    assert smtp == SmtpSpec(host="mail.example", port=465, sender="a@b.c")
    # A mail-only profile needs no [practice].
    path.write_text('[smtp]\nhost = "mail.example"\n', "utf-8")
    assert load_smtp(path) == SmtpSpec(host="mail.example")


def test_loading_a_profile_does_not_import_pandas(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_text(profile_template(path.name), "utf-8")
    code = (
        "import sys; from xlrate.profile import load_profile; "
        f"load_profile({str(path)!r}); print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_build_profile_merges_command_line_payers(tmp_path: Path) -> None:
    path = tmp_path / "practice.toml"
    path.write_text('[practice]\nname = "X"\nlocality = "10112-00"\n' + GOOD_PAYER, "utf-8")
    extra = tmp_path / "b.csv"
    profile = build_profile(path, fees=[extra], payers=["B"], target=115, year=2025)
    assert [p.name for p in profile.payers] == ["A", "B"]
    assert profile.payers[1].target == pytest.approx(1.15) and profile.year == 2025
    assert profile.output == tmp_path / "analysis.xlsx"
    assert profile.input_files() == [path, tmp_path / "a.csv", extra]
    # An 835 without --payer belongs to the payer the 835 names (left to the analysis).
    era = build_profile(path, era=[tmp_path / "r.835"]).payers[-1]
    assert era.name == "" and era.era == (tmp_path / "r.835",)
    with pytest.raises(XlrateError, match="one --payer per --fees"):
        build_profile(path, fees=[extra])
    with pytest.raises(XlrateError, match="no Medicare locality"):
        build_profile(None, fees=[extra], payers=["B"])


def test_market_keys_tic_toc_plan_tin_npi(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text(
        '[practice]\nname = "X"\nzip = "10001"\ntin = ["11-3026610", "113026610", "987654321"]\n'
        "npi = 1234567893\n"
        '[[payers]]\nname = "UHC"\nfees = "a.csv"\n'
        'tic = ["https://payer.example/in-network.json.gz", "files/uhc.json.gz"]\n'
        '[[payers]]\nname = "Aetna"\nfees = "b.csv"\ntic = "aetna.json"\n'
        'toc = "https://payer.example/toc.json"\nplan = "Choice Plus"\n'
        '[[payers]]\nname = "Plain"\nfees = "c.csv"\n',
        "utf-8",
    )
    profile = load_profile(tmp_path / "p.toml")
    assert profile.tin == ("113026610", "987654321")  # digits only, once each
    assert profile.npi == (1234567893,)
    uhc, aetna, plain = profile.payers
    assert uhc.tic == (
        "https://payer.example/in-network.json.gz",
        str(tmp_path / "files" / "uhc.json.gz"),
    )
    assert uhc.has_market and uhc.toc is None and uhc.plan is None
    assert aetna.tic == (str(tmp_path / "aetna.json"),)
    assert (aetna.toc, aetna.plan) == ("https://payer.example/toc.json", "Choice Plus")
    assert not plain.has_market and plain.tic == ()
    assert tmp_path / "files" / "uhc.json.gz" in profile.input_files()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('[practice]\nname = "X"\ntin = "12-34"\n', ["tin", "9 digits"]),
        ('[practice]\nname = "X"\ntin = ["123456789", true]\n', ["tin", "True"]),
        ('[practice]\nname = "X"\ntin = "12-345678X"\n', ["tin", "not a TIN"]),
        ('[practice]\nname = "X"\nnpi = "123"\n', ["npi", "10 digits"]),
        ('[practice]\nname = "X"\nnpi = [1234567893, 1.5]\n', ["npi", "1.5"]),
        ('[practice]\nname = "X"\n' + GOOD_PAYER + "tic = 5\n", ["tic", "URL or file name"]),
        ('[practice]\nname = "X"\n' + GOOD_PAYER + "tic = []\n", ["tic", "URL or file name"]),
        ('[practice]\nname = "X"\n' + GOOD_PAYER + 'tic = ["a", 3]\n', ["tic"]),
        ('[practice]\nname = "X"\n' + GOOD_PAYER + "toc = [1]\n", ["toc", "one URL"]),
        ('[practice]\nname = "X"\n' + GOOD_PAYER + 'plan = "Choice"\n', ["plan", "needs toc"]),
    ],
)
def test_market_keys_wrong_values_are_one_line(tmp_path: Path, text: str, names: list[str]) -> None:
    path = tmp_path / "practice.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(XlrateError) as err:
        load_profile(path)
    message = str(err.value)
    assert str(path) in message and "\n" not in message
    for name in names:
        assert name in message
