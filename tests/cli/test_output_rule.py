"""Issue 10 item 2: one rule for every output path (xlrate.files.prepare_output).

Never the same file as an input; an existing file replaced only with --force and then
kept as a numbered backup; folders never moved; ``init`` atomic and creating its folder.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from tests.cli.helpers import run_main
from xlrate.errors import OutputError
from xlrate.files import backups_of, prepare_output, write_text_atomic


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from xlrate.analysis import analyze, load_profile
    from xlrate.demo import demo_profile_path
    from xlrate.report import build_workbook

    folder = tmp_path_factory.mktemp("wb")
    out = folder / "analysis.xlsx"
    build_workbook(analyze(load_profile(demo_profile_path())), out)
    return out


def _copy(workbook: Path, folder: Path, name: str = "keep.xlsx") -> Path:
    target = folder / name
    shutil.copy(workbook, target)
    return target


def test_prepare_output_rules(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x")
    with pytest.raises(OutputError, match="also an input"):
        prepare_output(tmp_path / "." / "in.csv", inputs=[source], force=True)
    with pytest.raises(OutputError, match="folder"):
        prepare_output(tmp_path, force=True)
    out = tmp_path / "out.xlsx"
    assert prepare_output(out) is None
    out.write_text("first")
    with pytest.raises(OutputError, match="--force"):
        prepare_output(out)
    first = prepare_output(out, force=True)
    assert first is not None and first.read_text() == "first"
    assert prepare_output(out, force=True) == first  # the same file is kept once
    write_text_atomic(out, "second")
    second = prepare_output(out, force=True)
    assert second is not None and second != first
    assert [p.read_text() for p in backups_of(out)] == ["first", "second"]


def test_email_eml_cannot_replace_the_workbook(
    workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keep = _copy(workbook, tmp_path)
    before = keep.read_bytes()
    for force in ([], ["--force"]):
        code, _, err = run_main(
            capsys, "email", str(keep), "--to", "a@b.com", "--eml", str(keep), *force
        )
        assert code == 1 and "input" in err and "Traceback" not in err
        assert keep.read_bytes() == before


def test_share_refuses_an_existing_file_and_backs_it_up_with_force(
    workbook: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wb = _copy(workbook, tmp_path, "wb.xlsx")
    important = tmp_path / "important.xlsx"
    important.write_bytes(b"precious")
    code, _, err = run_main(capsys, "share", str(wb), "-o", str(important))
    assert code == 1 and "--force" in err
    assert important.read_bytes() == b"precious"
    code, out, err = run_main(capsys, "share", str(wb), "-o", str(important), "--force")
    assert code == 0, err
    assert [p.read_bytes() for p in backups_of(important)] == [b"precious"]
    # the default "(shared)" copy: made once, then refused, then backed up
    assert run_main(capsys, "share", str(wb))[0] == 0
    assert run_main(capsys, "share", str(wb))[0] == 1
    assert run_main(capsys, "share", str(wb), "--force")[0] == 0
    assert len(backups_of(tmp_path / "wb (shared).xlsx")) == 1


def test_two_forced_builds_keep_both_originals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlrate.demo import demo_dir

    fees = tmp_path / "fees.csv"
    shutil.copy(demo_dir() / "summit_health_hmo_fee_schedule_SYNTHETIC.csv", fees)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"original")
    args = ["build", "--locality", "01112-05", "--fees", str(fees), "--payer", "S"]
    args += ["--output", str(out)]
    assert run_main(capsys, *args)[0] == 1
    assert out.read_bytes() == b"original"
    code, stdout, err = run_main(capsys, *args, "--force")
    assert code == 0, err
    second = out.read_bytes()
    assert run_main(capsys, *args, "--force")[0] == 0
    assert [p.read_bytes() for p in backups_of(out)] == [b"original", second]
    # the fee file itself is never the output
    code, _, err = run_main(capsys, *args[:-1], str(fees), "--force")
    assert code == 1 and "input" in err


def test_profile_output_that_is_a_folder_is_never_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xlrate.demo import demo_dir

    for path in demo_dir().iterdir():
        if path.suffix in (".csv", ".835", ".toml"):
            shutil.copy(path, tmp_path / path.name)
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "inside.txt").write_text("mine")
    profile = tmp_path / "practice.toml"
    text = profile.read_text()
    import re

    profile.write_text(re.sub(r"(?m)^output\s*=.*$", 'output = "reports"', text))
    code, _, err = run_main(capsys, "build", "--profile", str(profile), "--force")
    assert code == 1 and "folder" in err, err
    assert (folder / "inside.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("reports")) == ["reports"]


def test_init_creates_its_folder_and_is_atomic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "new" / "deeper" / "practice.toml"
    code, _, err = run_main(capsys, "init", str(target))
    assert code == 0, err
    assert "[practice]" in target.read_text() or target.read_text().strip()

    # A full disk: one line, no 0-byte profile left behind to block the next init.
    other = tmp_path / "full" / "practice.toml"
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run_main(capsys, "init", str(other))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert code == 1 and "disk is full" in err and "Excel" not in err, err
    assert len(err.strip().splitlines()) == 1
    assert not other.exists()
    assert run_main(capsys, "init", str(other))[0] == 0


def test_read_only_folder_is_one_line(
    workbook: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tempfile

    # Tests may run as root, who writes anywhere: refuse the temporary file as a read-only
    # folder (EROFS) and a folder without permission (EACCES) do.
    for error in (errno.EROFS, errno.EACCES):

        def refuse(*args: object, error: int = error, **kwargs: object) -> tuple[int, str]:
            raise OSError(error, os.strerror(error))

        monkeypatch.setattr(tempfile, "mkstemp", refuse)
        for args in (
            ["init", str(tmp_path / "p.toml")],
            [
                "email",
                str(workbook),
                "--to",
                "a@b.com",
                "--eml",
                str(tmp_path / "m.eml"),
                "--force",
            ],
            ["addin", "build", "--output", str(tmp_path / "x.xlsm")],
        ):
            code, _, err = run_main(capsys, *args)
            assert code == 1 and "Traceback" not in err, err
            assert len(err.strip().splitlines()) == 1, err
            assert "Excel" not in err and "cannot write" in err, err
        monkeypatch.undo()


def test_addin_build_keeps_each_original(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.xlsm"
    out.write_bytes(b"mine")
    assert run_main(capsys, "addin", "build", "-o", str(out))[0] == 1
    assert out.read_bytes() == b"mine"
    assert run_main(capsys, "addin", "build", "-o", str(out), "--force")[0] == 0
    first_build = out.read_bytes()
    assert run_main(capsys, "addin", "build", "-o", str(out), "--force")[0] == 0
    assert [p.read_bytes() for p in backups_of(out)] == [b"mine", first_build]


def test_library_callers_get_backups_too(workbook: Path, tmp_path: Path) -> None:
    """The Prepare to share button calls the library directly (force=True): an existing
    shared copy is still kept, once per replacement."""
    from xlrate.excel.functions import FUNCTIONS
    from xlrate.report.shared import prepare_shared_copy

    wb = _copy(workbook, tmp_path, "wb.xlsx")
    target = tmp_path / "copy.xlsx"
    target.write_bytes(b"old copy")
    prepare_shared_copy(wb, target, force=True, functions=FUNCTIONS)
    prepare_shared_copy(wb, target, force=True, functions=FUNCTIONS)
    kept = backups_of(target)
    assert len(kept) == 2 and kept[0].read_bytes() == b"old copy"
