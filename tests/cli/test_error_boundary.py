"""Issue 10 item 6: every failure is one line (a traceback only with --debug)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import run_main


def test_unexpected_exception_is_one_line_and_debug_shows_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlrate.cli import prices

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(prices, "render", broken)
    code, out, err = run_main(capsys, "price", "99213", "--national")
    assert code == 1 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "--debug" in err and "ZeroDivisionError" in err
    code, out, err = run_main(capsys, "price", "99213", "--national", "--debug")
    assert code == 1 and "Traceback" in err and "boom" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # the store's own release parser may word it differently: it shows the right form
        (["price", "99213", "--national", "--release", "x9999"], "2025D"),
        (["price", "99213", "--national", "--release", "2025Z"], "2025D"),
        (["medicare", "update", "--timeout", "0"], "--timeout"),
    ],
)
def test_bad_options_are_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], expected: str
) -> None:
    code, out, err = run_main(capsys, *args)
    assert code in (1, 2) and "Traceback" not in err and expected in err, err
    assert "--release Z" not in err


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xlrate.analysis import analyze, load_profile
    from xlrate.demo import demo_profile_path
    from xlrate.report import build_workbook

    out = tmp_path_factory.mktemp("wb") / "analysis.xlsx"
    build_workbook(analyze(load_profile(demo_profile_path())), out)
    return out


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--to", "a@b.com\r\nBcc: spy@evil.com"),
        ("--cc", "a@b.com\nBcc: spy@evil.com"),
        ("--subject", "Rates\r\nBcc: spy@evil.com"),
        ("XLRATE_SMTP_FROM", "me@b.com\nBcc: spy@evil.com"),
    ],
)
def test_line_breaks_in_headers_are_one_line(
    workbook: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    value: str,
) -> None:
    args = ["email", str(workbook), "--eml", str(tmp_path / "m.eml")]
    if option.startswith("--"):
        args += [option, value] + (["--to", "a@b.com"] if option != "--to" else [])
    else:
        monkeypatch.setenv(option, value)
        args += ["--to", "a@b.com"]
    code, out, err = run_main(capsys, *args)
    assert code == 1 and "Traceback" not in err and option in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m.eml").exists()


def test_no_zipfile_del_noise_after_a_one_line_error(tmp_path: Path) -> None:
    """openpyxl leaves its ZipFile open when a workbook part is broken."""
    import zipfile

    from xlrate.demo import demo_dir

    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook><broken")
    fees = demo_dir() / "summit_health_hmo_fee_schedule_SYNTHETIC.csv"
    runs = [
        ["share", str(bad)],
        ["demo", "--template", str(bad), "--output", str(tmp_path / "d.xlsx")],
        ["build", "--locality", "01112-05", "--fees", str(fees), "--payer", "S",
         "--template", str(bad), "--output", str(tmp_path / "b.xlsx")],
        ["fees", str(bad)],
    ]  # fmt: skip
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-X", "dev", "-m", "xlrate", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, (
            args,
            done.stderr,
        )
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


_FULL_DISK = """
import builtins, errno, io, os, sys

real_open = io.open


class Full(io.FileIO):
    written = 0

    def write(self, b):
        Full.written += len(b)
        if Full.written > 20000:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(b)


def fake_open(file, mode="r", *a, **k):
    if isinstance(file, (str, os.PathLike)) and str(file).endswith(".tmp") and "w" in mode:
        return io.BufferedWriter(Full(file, "w"))
    return real_open(file, mode, *a, **k)


builtins.open = io.open = fake_open
from xlrate.cli import main

main(sys.argv[1:])
"""


def test_full_disk_is_one_line_without_zipfile_noise(workbook: Path, tmp_path: Path) -> None:
    """The cause: openpyxl's save left its ZipFile open; at exit it wrote again and failed."""
    script = tmp_path / "full_disk.py"
    script.write_text(_FULL_DISK)
    for args in (
        ["demo", "--output", str(tmp_path / "d.xlsx")],
        ["share", str(workbook), "-o", str(tmp_path / "s.xlsx")],
        ["email", str(workbook), "--to", "a@b.com", "--eml", str(tmp_path / "m.eml"), "--force"],
    ):
        done = subprocess.run(
            [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 1, done.stderr
        assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, (
            args,
            done.stderr,
        )
        assert "disk is full" in done.stderr and "Excel" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*tmp"))


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.csv", b"", "is empty"),
        ("binary.csv", bytes(range(256)) * 4, "binary"),
        ("book.csv", b"PK\x03\x04" + b"\x00" * 60, "zip or Excel"),
        ("utf16.csv", "code,locality\n99213,01112-05\n".encode("utf-16"), "priced"),
        ("cp1252.csv", "code,locality,note\n99213,01112-05,caf\xe9\n".encode("cp1252"), "priced"),
        ("named.zip", b"code,locality\n99213,01112-05\n", "priced"),
    ],
)
def test_price_input_in_any_encoding_or_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    code, out, err = run_main(capsys, "price", "--input", str(path))
    assert "Traceback" not in err and "unexpected" not in err, err
    assert expected in out + err
    assert code == (0 if expected == "priced" else 1)


def test_build_with_no_comparable_rows_is_not_a_crash(
    workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fee file whose rows belong to other payers (a workbook's Summary) left the
    scenario table with an empty string column multiplied by floats: TypeError."""
    code, out, err = run_main(
        capsys, "build", "--locality", "01112-05", "--fees", str(workbook), "--payer", "A",
        "--output", str(tmp_path / "o.xlsx"),
    )  # fmt: skip
    assert code == 0, err


def test_no_arguments_shows_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys)
    assert code in (0, 2) and "Commands:" in out + err and "Usage:" in out + err
    assert (out + err).count("\n") > 10


def test_usage_errors_keep_clicks_layout_and_are_safe_to_print(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(capsys, "price", "--\x1b[2Jbogus")
    assert code == 2 and "Usage: xlrate price" in err and "--help" in err
    assert "\x1b" not in err and "No such option" in err
