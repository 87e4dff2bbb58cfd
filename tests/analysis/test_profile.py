"""The practice profile TOML."""

from __future__ import annotations

from pathlib import Path

import pytest

from xlrate.analysis.profile import load_profile, parse_profile, profile_template
from xlrate.errors import InputError


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
