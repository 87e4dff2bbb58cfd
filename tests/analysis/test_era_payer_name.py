"""`xlrate build --era FILE` without --payer: the payer is named from the 835, read once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlrate.analysis import analyze, build_profile
from xlrate.demo import demo_dir
from xlrate.practice.era835 import read_era


def test_unnamed_era_payer_takes_the_835s_name_and_is_read_once() -> None:
    remit = demo_dir() / "lakeside_medicare_advantage_SYNTHETIC.835"
    calls: list[Sequence[Path]] = []

    def counting_reader(paths: Sequence[Path]) -> Any:
        calls.append(paths)
        return read_era(list(paths))

    profile = build_profile(None, era=[remit], locality="10112-00", year=2025, release="2025D")
    analysis = analyze(profile, read_era=counting_reader)
    expected = str(read_era([remit]).by_payer["payer"].iloc[0]).title()
    assert analysis.payer_names == [expected]
    assert len(calls) == 1
