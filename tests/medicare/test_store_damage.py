"""A damaged data store is said in one line, served from the embedded copy, and repaired.

Issue 10 item 3: a truncated, bit-flipped or random ``tables.npz``, a broken
``provenance.json``, a stray folder under ``releases/`` and a truncated ZIP-locality store
each gave a traceback. Now each is reported (one line), the embedded copy of the same
release answers where there is one (with a warning saying so), and ``xlrate medicare
repair`` removes the damage.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import xlrate
from xlrate.errors import DataError
from xlrate.medicare import store

EMBEDDED = store.EMBEDDED_ROOT


def _home() -> Path:
    return Path(os.environ["XLRATE_HOME"]) / "medicare"


def _install_copy(release_id: str = "2025D", as_id: str | None = None) -> Path:
    """An installed release: the embedded one copied into the user's store (optionally renamed)."""
    target = _home() / "releases" / (as_id or release_id)
    shutil.copytree(EMBEDDED / "releases" / release_id, target)
    if as_id:
        prov = json.loads((target / "provenance.json").read_text("utf-8"))
        prov.update(release_id=as_id, quarter=as_id[4:])
        (target / "provenance.json").write_text(json.dumps(prov), "utf-8")
    store.clear_cache()
    return target


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10
    path.write_bytes(bytes(data))


def _random(path: Path) -> None:
    path.write_bytes(os.urandom(path.stat().st_size))


def _float_rvus(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["pprrvu.work_rvu"] = arrays["pprrvu.work_rvu"] / 100.0
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _drop_array(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "pprrvu.mp_rvu"}
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


def _short_array(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["pprrvu.pe_rvu_facility"] = arrays["pprrvu.pe_rvu_facility"][:-5]
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]


TABLE_DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated": _truncate,
    "bit-flipped": _flip_bit,
    "random": _random,
    "wrong dtype": _float_rvus,
    "missing array": _drop_array,
    "short array": _short_array,
}

PROVENANCE_DAMAGE: dict[str, str] = {
    "not JSON": '{"complete": true, "files": [',
    "not an object": "[1, 2, 3]",
    "wrong release": json.dumps({"release_id": "2024A", "complete": True, "files": []}),
    "bad files": json.dumps({"release_id": "2025D", "complete": True, "files": "abc"}),
    "binary": "\udcff",
}


def _expected() -> object:
    return xlrate.medicare_amount("99213", locality="01112-05", year=2025).amount


def _fallback_answers(expected: object) -> None:
    """The embedded copy answers, and says it stands in for a damaged install."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rel = store.load_release(2025, "D")
        got = xlrate.medicare_amount("99213", locality="01112-05", year=2025).amount
    assert got == expected
    assert rel.info.source == "embedded"
    assert "damaged" in rel.info.note and "xlrate medicare repair" in rel.info.note
    notes = [str(w.message) for w in caught if issubclass(w.category, store.StoreWarning)]
    assert notes and "damaged" in notes[0] and "embedded" in notes[0]


@pytest.mark.parametrize("kind", sorted(TABLE_DAMAGE))
def test_damaged_tables_fall_back_to_the_embedded_copy(kind: str) -> None:
    expected = _expected()
    folder = _install_copy()
    assert store.load_release(2025, "D").info.source == "installed"
    TABLE_DAMAGE[kind](folder / "tables.npz")
    store.clear_cache()
    _fallback_answers(expected)


@pytest.mark.parametrize("kind", sorted(PROVENANCE_DAMAGE))
def test_damaged_provenance_falls_back_to_the_embedded_copy(kind: str) -> None:
    expected = _expected()
    folder = _install_copy()
    (folder / "provenance.json").write_text(
        PROVENANCE_DAMAGE[kind], "utf-8", errors="surrogateescape"
    )
    store.clear_cache()
    _fallback_answers(expected)
    assert [i.release_id for i in store.list_releases()] == ["2025A", "2025D", "2026C"]


@pytest.mark.parametrize("kind", ["truncated", "bit-flipped", "random"])
def test_damaged_release_without_embedded_copy_is_one_line(kind: str) -> None:
    folder = _install_copy(as_id="2025B")
    TABLE_DAMAGE[kind](folder / "tables.npz")
    store.clear_cache()
    with pytest.raises(DataError) as err:
        store.load_release(2025, "B")
    message = str(err.value)
    assert "\n" not in message
    assert "2025B is damaged" in message and "xlrate medicare repair" in message
    # Other releases are not affected.
    assert store.load_release(2025, "D").info.source == "embedded"


@pytest.mark.parametrize("name", ["junk", "2025", "2025DD", "tables.npz", "2025d"], ids=lambda n: n)
def test_stray_entries_under_releases_are_not_releases(name: str) -> None:
    base = _home() / "releases"
    base.mkdir(parents=True)
    if name == "tables.npz":
        (base / name).write_bytes(b"junk")
    else:
        shutil.copytree(EMBEDDED / "releases" / "2025D", base / name)
    store.clear_cache()
    assert [i.release_id for i in store.list_releases()] == ["2025A", "2025D", "2026C"]
    assert _expected() is not None
    problems = store.check_installed()
    assert [p.name for p, _ in problems] == [name]


@pytest.mark.parametrize("kind", ["truncated", "bit-flipped", "random"])
def test_damaged_zip_store_falls_back_to_the_embedded_copy(kind: str) -> None:
    expected = xlrate.medicare_amount("99213", zip="94110").amount
    quarter = sorted(p.name for p in (EMBEDDED / "zip5").iterdir())[-1]
    target = _home() / "zip5" / quarter
    shutil.copytree(EMBEDDED / "zip5" / quarter, target)
    TABLE_DAMAGE[kind](target / "tables.npz")
    store.clear_cache()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = xlrate.medicare_amount("99213", zip="94110").amount
    assert got == expected
    assert any("damaged" in str(w.message) for w in caught)


def test_repair_removes_damage_and_strays() -> None:
    damaged = _install_copy()
    _truncate(damaged / "tables.npz")
    other = _install_copy(as_id="2025B")
    (other / "provenance.json").write_text("{", "utf-8")
    good = _install_copy("2026C")
    stray = _home() / "releases" / "junk"
    stray.mkdir()
    store.clear_cache()
    done = store.repair()
    assert len(done) == 3
    assert not damaged.exists() and not other.exists() and not stray.exists()
    assert good.exists()
    assert any("embedded in xlrate serves 2025D" in line for line in done)
    assert any("xlrate medicare update --year 2025 --release B" in line for line in done)
    assert store.check_installed() == []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no more stand-in warnings
        assert store.load_release(2025, "D").info.note == ""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlrate", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_says_so_in_one_line_and_repair_fixes_it() -> None:
    folder = _install_copy()
    _flip_bit(folder / "tables.npz")
    other = _install_copy(as_id="2025B")
    _random(other / "tables.npz")

    done = _cli("price", "99213", "--locality", "01112-05", "--year", "2025", "--release", "D")
    assert done.returncode == 0, done.stderr
    assert "99213" in done.stdout
    assert "Traceback" not in done.stderr
    warning_lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(warning_lines) == 1 and "damaged" in warning_lines[0]
    assert "embedded" in warning_lines[0]

    done = _cli("price", "99213", "--national", "--year", "2025", "--release", "B")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "2025B is damaged" in done.stderr
    assert "Traceback" not in done.stderr

    done = _cli("medicare", "repair")
    assert done.returncode == 0, done.stderr
    assert "2025D" in done.stdout and "2025B" in done.stdout

    done = _cli("price", "99213", "--locality", "01112-05", "--year", "2025")
    assert done.returncode == 0 and done.stderr == ""
    done = _cli("medicare", "repair")
    assert done.returncode == 0 and "nothing to repair" in done.stdout


def test_correction_releases_are_releases_not_strays() -> None:
    _install_copy(as_id="2024AR")  # a CMS correction release id (RVU24AR)
    assert "2024AR" in [i.release_id for i in store.list_releases()]
    assert store.check_installed() == []


def test_a_good_store_is_not_reread_for_every_price(monkeypatch: pytest.MonkeyPatch) -> None:
    """list_releases and resolve_release answer from memory until clear_cache()."""
    store.list_releases()
    store.resolve_release(2025)

    def no_disk(*args: object, **kwargs: object) -> object:
        raise AssertionError("the store touched the disk")

    monkeypatch.setattr(Path, "iterdir", no_disk)
    monkeypatch.setattr(Path, "read_text", no_disk)
    monkeypatch.setattr(Path, "is_dir", no_disk)
    for _ in range(3):
        assert [i.release_id for i in store.list_releases()] == ["2025A", "2025D", "2026C"]
        assert store.resolve_release(2025).release_id == "2025D"
    assert zipfile is not None


def test_release_dir_is_in_the_users_store() -> None:
    assert store.release_dir("2025D") == _home() / "releases" / "2025D"
    with pytest.raises(DataError, match="not a release id"):
        store.release_dir("../2025D")
