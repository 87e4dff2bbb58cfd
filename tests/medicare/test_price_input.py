"""`xlrate price --input`: streamed in chunks, any encoding the fee reader takes, one-line errors.

Issue 10 items 6, 7 and 9: an empty, binary, UTF-16 or cp1252 CSV gave a traceback; a
blank locality in a bulk CSV was priced NATIONAL with no note; the bulk path built a list
of dicts and wrote rows one by one. Issue 15: `xlrate price CODES` does not load pandas.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import xlrate
from xlrate.errors import InputError, RowError
from xlrate.medicare.bulk import price_csv


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlrate", *args], capture_output=True, text=True, timeout=120
    )


ROWS = "code,modifier,locality\n99213,,01112-05\n99214,25,01112-05\n27447,,01112-05\n"


@pytest.mark.parametrize(
    ("encoding", "extra"),
    [("utf-8", ""), ("utf-8-sig", ""), ("utf-16", ""), ("cp1252", "café"), ("utf-8", "café")],
)
def test_input_in_any_encoding_the_fee_reader_takes(
    tmp_path: Path, encoding: str, extra: str
) -> None:
    text = ROWS.replace("code,modifier,locality", f"code,modifier,locality,label{extra}")
    text = "\n".join(line + ("," if i else "") for i, line in enumerate(text.splitlines())) + "\n"
    path = tmp_path / "requests.csv"
    path.write_bytes(text.encode(encoding))
    out = run("price", "--input", str(path), "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["code"] for r in rows] == ["99213", "99214", "27447"]
    assert rows[0]["nonfacility_amount"] == str(
        xlrate.medicare_amount("99213", locality="01112-05").amount
    )


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (b"\x00\x01\x02PK\x03\x04" + bytes(range(256)) * 8, "not a text"),
        (b"modifier,locality\n25,01112-05\n", "no 'code' column"),
        (b'code,modifier\n"99213,\n', "is not a CSV file"),
    ],
    ids=["empty", "blank lines", "binary", "no code column", "broken quote"],
)
def test_bad_input_files_are_one_line(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "requests.csv"
    path.write_bytes(content)
    out = run("price", "--input", str(path), "--national")
    assert out.returncode == 1, out.stdout
    assert needle in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_blank_locality_is_not_priced_national_silently(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text("code,locality,zip\n99213,01112-05,\n99214,,\n", "utf-8")
    out = run("price", "--input", str(path))
    assert out.returncode == 1
    assert f"{path}, line 3: no locality or ZIP" in out.stderr
    assert "--national" in out.stderr and out.stderr.count("\n") == 1
    # Saying where for such rows prices them; rows that say where keep theirs.
    out = run("price", "--input", str(path), "--national", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["locality"] for r in rows] == ["01112-05", "NATIONAL"]
    # A file without locality or zip columns needs it too.
    bare = tmp_path / "bare.csv"
    bare.write_text("code\n99213\n", "utf-8")
    assert "line 2: no locality or ZIP" in run("price", "--input", str(bare)).stderr


@pytest.mark.parametrize(
    ("column", "good", "bad", "needle"),
    [
        ("units", "2", "two", "'two' is not a number of units"),
        ("units", "1", "-3", "'-3' is not a number of units"),
        ("setting", "facility", "ward", "'ward' is not a setting"),
        ("minutes", "30", "an hour", "'an hour' is not a number of minutes"),
    ],
)
def test_a_bad_value_names_its_line_and_column(
    tmp_path: Path, column: str, good: str, bad: str, needle: str
) -> None:
    # Anesthesia codes, so that minutes are read; the bad value is on the file's line 4 of
    # 5, after good ones, and again on line 5.
    path = tmp_path / "requests.csv"
    path.write_text(
        f"code,{column}\n00100,{good}\n00102,{good}\n00100,{bad}\n00102,{bad}\n", "utf-8"
    )
    out = run("price", "--input", str(path), "--national", "--format", "csv")
    assert out.returncode == 1
    assert out.stderr.startswith(f"Error: {path}, line 4, column {column}: {needle}")
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    # The library says the row of the table (the third) and keeps the parts apart.
    frame = pd.read_csv(path, dtype=str)
    with pytest.raises(RowError) as caught:
        xlrate.price(frame, national=True)
    assert (caught.value.row, caught.value.column) == (2, column)
    assert str(caught.value).startswith(f"row 3, column {column}: {needle}")


def test_streamed_output_equals_the_library_in_chunks(tmp_path: Path) -> None:
    rel = xlrate.load_release()
    codes = list(rel.columns["pprrvu.code"][:2500])
    mods = ["", "26", "TC", "50", "51"]
    locs = [*rel.localities[:7], "NATIONAL"]
    frame = pd.DataFrame(
        {
            "code": codes,
            "modifier": [mods[i % 5] for i in range(len(codes))],
            "locality": [locs[i % len(locs)] for i in range(len(codes))],
        }
    )
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    out = io.StringIO()
    columns = ["code", "modifier", "locality", "nonfacility_amount", "facility_amount", "status"]
    n = price_csv(path, out, columns=columns, chunk_rows=333, setting="both")
    assert n == len(frame)
    got = pd.read_csv(io.StringIO(out.getvalue()), dtype=str, keep_default_na=False)
    want = xlrate.price(frame.fillna(""), setting="both")
    assert list(got["code"]) == list(frame["code"])
    for column in ("nonfacility_amount", "facility_amount"):
        expected = [f"{v:.2f}" if v == v else "" for v in want[column]]
        assert list(got[column]) == expected
    assert list(got["status"]) == list(want["status"].astype(str))


def test_formula_text_is_not_written_live(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text('code,modifier,locality\n"=HYPERLINK(""x"")",,01112-05\n', "utf-8")
    out = io.StringIO()
    price_csv(path, out, columns=["code", "status", "note"])
    row = list(csv.reader(io.StringIO(out.getvalue())))[1]
    assert row[0] == '\'=HYPERLINK("x")' and row[1] == "invalid_code"


def test_empty_json_and_csv(tmp_path: Path) -> None:
    path = tmp_path / "requests.csv"
    path.write_text("code,locality\n", "utf-8")
    out = io.StringIO()
    assert price_csv(path, out, columns=["code"], fmt="json") == 0
    assert out.getvalue().strip() == "[]"
    with pytest.raises(InputError, match="is empty"):
        price_csv(_empty(tmp_path), io.StringIO(), columns=[])


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def test_json_input_output_is_valid_json(tmp_path: Path) -> None:
    import json

    path = tmp_path / "requests.csv"
    path.write_text(ROWS, "utf-8")
    out = run("price", "--input", str(path), "--format", "json")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert [r["code"] for r in records] == ["99213", "99214", "27447"]


def test_price_codes_does_not_load_pandas() -> None:
    """Typed codes go through the scalar engine, and the quick path skips click too."""
    code = (
        "import sys\n"
        "from xlrate.cli import main\n"
        "try:\n"
        "    main(['price', '99213', '99214-25', '--national'])\n"
        "finally:\n"
        "    print(sorted(m for m in ('pandas', 'numpy', 'click') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "99214" in out.stdout


def test_arrow_csv_lines_equal_pandas_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast writer (Arrow compute) writes exactly what pandas' CSV writer writes."""
    pytest.importorskip("pyarrow")
    from xlrate.medicare import bulk

    frame = pd.DataFrame(
        {
            "code": ["99213", '=HYPERLINK("x")', 'a,"b', "27447", "-1", "@x", "76145", ""],
            "modifier": ["", "", "x\ny", "50", "", "", "26", ""],
            "locality": ["01112-05"] * 4 + ["NATIONAL", "", "01112-05", "+1"],
        }
    )
    priced = xlrate.price(frame, setting="both", national=True)
    columns = [
        "code",
        "modifier",
        "locality",
        "year",
        "release",
        "nonfacility_amount",
        "facility_amount",
        "status",
        "note",
        "absent",
    ]
    fast = io.StringIO()
    bulk._write(priced, fast, columns, "csv", first=True)
    monkeypatch.setattr(bulk, "_csv_lines_arrow", lambda *args: None)
    slow = io.StringIO()
    bulk._write(priced, slow, columns, "csv", first=True)
    assert fast.getvalue() == slow.getvalue()
    rows = list(csv.reader(io.StringIO(fast.getvalue())))
    assert rows[2][0] == '\'=HYPERLINK("x")' and rows[3][:2] == ['a,"b', "x\ny"]
    assert rows[1][5] == str(xlrate.medicare_amount("99213", locality="01112-05").amount)
