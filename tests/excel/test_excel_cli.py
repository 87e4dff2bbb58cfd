"""The addin/share/email commands: documented, thin, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from xlrate.cli import cli


@pytest.mark.parametrize(
    "args", [["addin"], ["addin", "build"], ["addin", "install"], ["share"], ["email"]]
)
def test_every_command_has_help_with_an_example(args: list[str]) -> None:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "xlrate " in result.output


def test_addin_install_points_xlwings_at_the_functions(tmp_path: Path) -> None:
    conf = tmp_path / "xlwings.conf"
    result = CliRunner().invoke(cli, ["addin", "install", "--config", str(conf)])
    assert result.exit_code == 0, result.output
    assert '"UDF MODULES","xlrate.excel.functions"' in conf.read_text(encoding="utf-8")
    assert "Import Functions" in result.output


def test_build_refusal_is_one_line(tmp_path: Path) -> None:
    from xlrate.cli import main

    out = tmp_path / "x.xlsx"
    with pytest.raises(SystemExit) as info:
        main(["addin", "build", "--output", str(out)])
    assert info.value.code == 1
