"""Issue 10 item 6: generated garbage (files and arguments) thrown at every command.

Whatever comes in, a command ends with exit status 0, 1 or 2, prints no traceback, and
changes no file outside its temporary folder. Bounded to about a minute in all: the fast
commands get more examples than the ones that build a workbook.
"""

from __future__ import annotations

import contextlib
import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlrate.cli import COMMANDS, main

REPO = Path(__file__).parents[2]
DEMO_FEES = REPO / "xlrate" / "demo" / "summit_health_hmo_fee_schedule_SYNTHETIC.csv"
ERA = REPO / "tests" / "data" / "practice" / "era835" / "linuxforhealth__managed-care.835"


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _mutate(data: bytes, cuts: list[int]) -> bytes:
    out = bytearray(data)
    for cut in cuts:
        if out:
            out[cut % len(out)] ^= 0x5A
    return bytes(out)


junk_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60
) | st.sampled_from(
    ["", "=cmd|' /C calc'!A0", "\x1b[31mred", "99213", "9921", "99 213", "01112-05",
     "2025Z", "x9999", "-", "--", "\r\n", "a@b.com\nBcc: x@y", "NaN", "1e309", "../../etc"]
)  # fmt: skip

file_bytes = st.one_of(
    st.binary(max_size=2000),
    st.text(max_size=500).map(lambda t: t.encode("utf-8")),
    st.text(max_size=300).map(lambda t: t.encode("utf-16")),
    st.builds(
        lambda rows: ("Code,Fee,Mod\n" + "\n".join(",".join(r) for r in rows)).encode(),
        st.lists(st.lists(junk_text.map(lambda t: t.replace(",", " ")), max_size=4), max_size=8),
    ),
    st.builds(_mutate, st.just(DEMO_FEES.read_bytes()), st.lists(st.integers(0, 10**6), max_size=4)),
    st.builds(_mutate, st.just(ERA.read_bytes()), st.lists(st.integers(0, 10**6), max_size=6)),
    st.builds(lambda n: ERA.read_bytes()[:n], st.integers(0, 2000)),
    st.builds(
        _zip_bytes,
        st.dictionaries(
            st.sampled_from(["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml",
                             "PPRRVU2025_Oct.csv", "GPCI2025.csv", "x"]),
            st.binary(max_size=200),
            max_size=4,
        ),
    ),
    st.just(b"PK\x03\x04" + b"\x00" * 40),
    st.sampled_from([b"[practice]\nname = 5\n", b'practice = "x"\npayers = "abc"\n', b"\xff\xfe",
                     b'[practice]\nname="a"\nlocality="01112-05"\n[[payers]]\nname="p"\nfees=5\n']),
)  # fmt: skip

suffixes = st.sampled_from([".csv", ".xlsx", ".835", ".toml", ".xlsm", ".zip", ".txt"])

# command -> (argument template builder, examples). F = the garbage file, T = junk text,
# O = an output path inside the temporary folder.
Builder = Callable[[str, str, str], list[str]]
CASES: dict[str, tuple[list[Builder], int]] = {
    "fees": ([lambda f, t, o: ["fees", f], lambda f, t, o: ["fees", f, "--format", "csv"],
              lambda f, t, o: ["fees", f, "--map", t]], 60),
    "era": ([lambda f, t, o: ["era", f], lambda f, t, o: ["era", f, "--by", "code",
                                                       "--format", "csv"]], 60),
    "price": ([lambda f, t, o: ["price", "--input", f, "--national"],
               lambda f, t, o: ["price", "--input", f],
               lambda f, t, o: ["price", t, "--national"],
               lambda f, t, o: ["price", "99213", "--locality", t],
               lambda f, t, o: ["price", "99213", "--zip", t],
               lambda f, t, o: ["price", "99213", "--national", "--release", t],
               lambda f, t, o: ["price", "99213", "--national", "--year", t]], 60),
    "localities": ([lambda f, t, o: ["localities", "--search", t],
                    lambda f, t, o: ["localities", "--zip", t],
                    lambda f, t, o: ["localities", t]], 30),
    "releases": ([lambda f, t, o: ["releases"]], 2),
    "medicare": ([lambda f, t, o: ["medicare", "install", f],
                  lambda f, t, o: ["medicare", "install", f, "--release", t]], 25),
    "init": ([lambda f, t, o: ["init", o], lambda f, t, o: ["init", f],
              lambda f, t, o: ["init", f, "--force"]], 15),
    "build": ([lambda f, t, o: ["build", "--profile", f, "--output", o],
               lambda f, t, o: ["build", "--locality", "01112-05", "--fees", f, "--payer", t,
                                "--output", o],
               lambda f, t, o: ["build", "--locality", t, "--fees", f, "--payer", "P",
                                "--output", o]], 10),
    "demo": ([lambda f, t, o: ["demo", "--template", f, "--output", o]], 4),
    "share": ([lambda f, t, o: ["share", f], lambda f, t, o: ["share", f, "-o", o]], 20),
    "email": ([lambda f, t, o: ["email", f, "--to", t, "--eml", o],
               lambda f, t, o: ["email", f, "--to", "a@b.com", "--subject", t, "--eml", o]], 20),
    "addin": ([lambda f, t, o: ["addin", "build", "--template", f, "--output", o + ".xlsm"],
               lambda f, t, o: ["addin", "build", "--profile", f, "--output", o]], 6),
}  # fmt: skip


# A command added without its own cases still gets garbage: a file and a text argument.
GENERIC: tuple[list[Builder], int] = (
    [lambda f, t, o: [COMMAND_NAME[0], f], lambda f, t, o: [COMMAND_NAME[0], t]],
    15,
)
COMMAND_NAME = [""]


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    skip = {".git", "__pycache__", ".pytest_cache", ".hypothesis", ".mypy_cache", ".ruff_cache"}
    found: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip and not d.startswith(".venv")]
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                info = os.stat(path)
                found[path] = (info.st_mtime_ns, info.st_size)
    return found


@pytest.fixture(scope="module")
def repo_before() -> dict[str, tuple[int, int]]:
    return _snapshot(REPO)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_garbage_never_ends_in_a_traceback(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    repo_before: dict[str, tuple[int, int]],
) -> None:
    COMMAND_NAME[0] = command
    builders, examples = CASES.get(command, GENERIC)
    monkeypatch.chdir(tmp_path)
    for name in ("XLRATE_SMTP_HOST", "XLRATE_SMTP_FROM", "XLRATE_PROFILE", "XLRATE_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XLRATE_CMS_BASE_URL", "http://127.0.0.1:9/")  # never the internet
    counter = iter(range(10**9))

    @settings(
        max_examples=examples * 2,  # about 20 s in all
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        build=st.sampled_from(builders),
        data=file_bytes,
        suffix=suffixes,
        text=junk_text,
    )
    def check(build: Builder, data: bytes, suffix: str, text: str) -> None:
        n = next(counter)
        work = tmp_path / f"case{n}"
        work.mkdir()
        garbage = work / f"input{suffix}"
        garbage.write_bytes(data)
        args = build(str(garbage), text, str(work / "out.xlsx"))
        out, err = io.StringIO(), io.StringIO()
        code: object = 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
            except SystemExit as stop:
                code = stop.code if stop.code is not None else 0
        text_out = out.getvalue() + err.getvalue()
        assert code in (0, 1, 2), (args, code, text_out[-2000:])
        assert "Traceback" not in text_out, (args, text_out[-3000:])
        assert "Exception ignored" not in text_out, (args, text_out[-3000:])

    check()
    assert _snapshot(REPO) == repo_before
