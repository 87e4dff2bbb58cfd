"""`xlrate price CODES` without loading click (xlrate.cli.quick) prints what the click command prints.

The click command is the reference: each command line runs twice through the real entry point,
once as users run it and once with the quick path switched off, and the two must agree on the
exit code, stdout and stderr, byte for byte.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from tests.cli.helpers import run_main
from xlrate.cli import quick

# Command lines the quick path answers: each prices cleanly.
ANSWERED = [
    ["price", "99213", "--national"],
    ["price", "99213", "99214-25", "76145-26", "--locality", "01112-05", "--format", "csv"],
    ["price", "99213", "--zip", "94110", "--setting", "nonfacility", "--format", "json"],
    ["price", "85025", "J3301", "E0260-RR", "--zip", "10001", "--units", "2", "--format", "csv"],
    ["price", "--national", "99213", "--year", "2026", "--non-participating", "--limiting-charge"],
    ["price", "99213", "G0008", "--national", "--npp", "--sequestration", "--setting", "facility"],
    ["price", "99213", "--national", "--qp", "--year", "2026", "--release", "C"],
    ["price", "E0260", "B4150", "--locality", "01112-05", "--state", "CA"],
    ["price", "00100", "99999", "27447-50", "--national", "--minutes", "60"],
    ["price", "99213-26", "71046-TC", "--locality", "01112-05", "--release", "2025D"],
    ["price", "99213", "--national", "--format", "csv", "--units", "3"],
]

# Command lines it leaves to the click command: other forms, and failures.
LEFT = [
    ["price", "99213"],  # no place: the click command says where to give one
    ["price", "99213", "--zip", "94110", "--national"],
    ["price", "99213", "--national", "--year", "1999"],
    ["price", "99213", "--locality", "99999-99"],
    ["price", "99213", "--zip", "00000"],
    ["price", "9921x-", "--national"],
    ["price", "99213", "--national", "--units", "two"],
    ["price", "99213", "--national", "--release", "2025Z"],
    ["price", "99213", "--locality=01112-05"],
    ["price", "99213", "--national", "--national"],
    ["price", "99213", "--national", "--format", "xml"],
    ["price", "99213", "--national", "--year", "+2025"],
    ["price", "99213", "--national", "--date", "2025-02-14"],
    ["price", "99213", "--national", "--", "99214"],
    ["price", "--help"],
    ["price"],
    ["localities", "--zip", "94110"],
]


def _both(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> Any:
    quick_run = run_main(capsys, *args)
    with monkeypatch.context() as patch:
        patch.setattr(quick, "answer", lambda args: None)
        click_run = run_main(capsys, *args)
    return quick_run, click_run


@pytest.mark.parametrize("args", ANSWERED, ids=" ".join)
def test_the_quick_path_prints_what_the_click_command_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    assert quick.answer(args) is not None  # this line is the quick path's to answer
    quick_run, click_run = _both(capsys, monkeypatch, args)
    assert quick_run == click_run
    code, out, err = quick_run
    assert code == 0 and out.count("\n") >= 2, err


@pytest.mark.parametrize("args", LEFT, ids=" ".join)
def test_other_command_lines_and_failures_are_the_click_commands(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    assert quick.answer(args) is None
    quick_run, click_run = _both(capsys, monkeypatch, args)
    assert quick_run == click_run
    assert "Traceback" not in quick_run[2]


def test_every_option_of_the_click_command_is_known_here() -> None:
    """The options table agrees with click's declaration of `xlrate price`.

    A new option of the click command must be added to the quick path or to the click-only
    list here, so that a command line the quick path reads never misses one.
    """
    import click

    from xlrate.cli.medicare import price_cmd

    click_only = {"--input", "--date", "--base-units"}
    options = {o: p for p in price_cmd.params for o in p.opts}  # --help is not among them
    assert set(options) == set(quick.FLAGS) | set(quick.VALUES) | click_only | {"codes"}
    for option, name in quick.FLAGS.items():
        param = options[option]
        assert isinstance(param, click.Option) and param.is_flag and param.name == name
    for option, name in quick.VALUES.items():
        param = options[option]
        assert isinstance(param, click.Option) and not param.is_flag and param.name == name
        choices = getattr(param.type, "choices", None)
        assert (tuple(choices) if choices else None) == quick.CHOICES.get(name), option


@pytest.mark.parametrize("args", ANSWERED, ids=" ".join)
def test_the_quick_path_reads_a_command_line_as_click_does(args: list[str]) -> None:
    """Each parameter the price command would get from click, the quick path gets too."""
    from xlrate.cli.medicare import price_cmd

    clicks = price_cmd.make_context("price", list(args[1:])).params
    read = quick.parse(args)
    assert read is not None
    absent = {name: False for name in quick.FLAGS.values()} | dict.fromkeys(quick.VALUES.values())
    read = {**absent, **read, "codes": tuple(read["codes"])}
    assert {k: v for k, v in clicks.items() if k in read} == read
    assert all(clicks[k] is None for k in clicks if k not in read)


def test_a_closed_output_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    args = ["price", "99213", "--national"]
    assert quick.answer(args) is not None
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", Closed())
    try:
        from xlrate.cli import main

        main(args)
        code = 0
    except SystemExit as stop:
        code = int(stop.code or 0)
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Broken pipe" in err and "Traceback" not in err
