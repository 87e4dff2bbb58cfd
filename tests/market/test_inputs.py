"""URLs, remote references, tables of contents, unchanged files, and broken inputs."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import CAREFIRST, REFS_AFTER, REMOTE_REF, TOC, UHC, UHS

from xlrate.market.ingest import ingest
from xlrate.market.store import Store, source_key
from xlrate.market.toc import read_toc

CODES = ["99213", "99214"]


def _store_files(store_dir: Path) -> list[str]:
    if not store_dir.exists():
        return []
    return sorted(str(p.relative_to(store_dir)) for p in store_dir.rglob("*") if p.is_file())


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xlrate", "market", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


# --- URLs and remote references ----------------------------------------------------------


def test_url_is_read_and_an_unchanged_one_skipped_by_etag(server: Any, store_dir: Path) -> None:
    server.file("/mrf/uhc.json.gz", UHC)
    url = server.url + "/mrf/uhc.json.gz"
    first = ingest([url], codes=CODES, store=Store(store_dir))
    assert [f.status for f in first.files] == ["read"]
    assert first.files[0].entry["etag"]
    second = ingest([url], codes=CODES, store=Store(store_dir))
    assert [f.status for f in second.files] == ["unchanged"]
    assert server.statuses("/mrf/uhc.json.gz") == [200, 304]


def test_remote_reference_is_fetched_once_and_tins_normalised(server: Any, store_dir: Path) -> None:
    data = json.loads(REFS_AFTER.read_bytes())
    data["provider_references"][0]["location"] = server.url + "/refs/1.json"
    # The same reference used twice more: still one request.
    data["in_network"][1]["negotiated_rates"][0]["provider_references"] = [1, 1]
    path = store_dir.parent / "dean.json"
    path.write_text(json.dumps(data))
    server.file("/refs/1.json", REMOTE_REF, content_type="application/json")
    store = Store(store_dir)
    result = ingest([str(path)], codes=None, store=store)
    assert result.errors == []
    assert server.statuses("/refs/1.json") == [200]
    tins = set(store.read(result.keys).column("tin").to_pylist())
    assert tins == {"222222222"}  # written 22-2222222 in the reference file


def test_remote_reference_404_is_one_clear_note(server: Any, store_dir: Path) -> None:
    data = json.loads(REFS_AFTER.read_bytes())
    data["provider_references"][0]["location"] = server.url + "/refs/gone.json"
    path = store_dir.parent / "dean.json"
    path.write_text(json.dumps(data))
    result = ingest([str(path)], codes=None, store=Store(store_dir))
    assert result.errors == []
    notes = result.files[0].notes
    assert len(notes) == 1
    assert "404" in notes[0] and "/refs/gone.json" in notes[0] and "without a TIN" in notes[0]


def test_unreachable_reference_host_costs_one_try(store_dir: Path) -> None:
    # CareFirst's 370 references all live on one host that is not reachable from here.
    result = ingest([str(CAREFIRST)], codes=["30560"], store=Store(store_dir))
    assert result.errors == []
    entry = result.files[0].entry
    assert entry["items"] == 1773 and entry["references"] == 370
    assert len(entry["notes"]) == 1 and "remote provider references not read" in entry["notes"][0]


def test_table_of_contents_expands_to_in_network_files(server: Any, tmp_path: Path) -> None:
    toc = json.loads(TOC.read_bytes())
    toc["reporting_structure"][0]["in_network_files"][0]["location"] = server.url + "/a.json.gz"
    server.file("/toc.json", json.dumps(toc).encode(), content_type="application/json")
    files = read_toc(server.url + "/toc.json", plan="medicaid")
    assert [f.location for f in files] == [
        server.url + "/a.json.gz",
        "https://www.some_site.com/files/behavioral-health-0000.json",
    ]
    assert len(read_toc(str(TOC))) == 3
    assert [f.location for f in read_toc(str(TOC), plan="chip")] == [
        "https://www.some_site.com/files/chip-in-network-file.json"
    ]


# --- unchanged files ----------------------------------------------------------------------


def test_unchanged_local_file_is_skipped_unless_new_codes(tmp_path: Path, store_dir: Path) -> None:
    path = tmp_path / "uhs.json.gz"
    path.write_bytes(UHS.read_bytes())
    store = Store(store_dir)
    assert ingest([str(path)], codes=CODES, store=store).files[0].status == "read"
    assert ingest([str(path)], codes=CODES, store=store).files[0].status == "unchanged"
    os.utime(path, ns=(1, 1))  # touched, same bytes: the sha256 decides
    assert ingest([str(path)], codes=["99213"], store=store).files[0].status == "unchanged"
    assert ingest([str(path)], codes=["99215"], store=store).files[0].status == "read"
    assert ingest([str(path)], codes=["99215"], store=store, force=True).files[0].status == "read"


# --- broken inputs ------------------------------------------------------------------------


def _broken(tmp_path: Path) -> dict[str, Path]:
    raw = gzip.decompress(UHC.read_bytes())
    out = {}
    out["truncated gzip"] = tmp_path / "cut.json.gz"
    out["truncated gzip"].write_bytes(UHC.read_bytes()[:400_000])
    out["truncated JSON"] = tmp_path / "cut.json"
    out["truncated JSON"].write_bytes(raw[: len(raw) // 2])
    data = json.loads(raw)
    del data["provider_references"]
    data["in_network"] = data["in_network"][:300]
    out["references never appear"] = tmp_path / "norefs.json"
    out["references never appear"].write_text(json.dumps(data))
    out["not JSON"] = tmp_path / "page.json"
    out["not JSON"].write_text("<html><body>Access denied</body></html>")
    return out


EXPECTED = {
    "truncated gzip": "the gzip data ends early",
    "truncated JSON": "ends in the middle of the JSON",
    "references never appear": "has no provider_references",
    "not JSON": "is not a JSON in-network rate file",
}


def test_broken_files_fail_with_one_line_and_leave_the_store_as_it_was(
    tmp_path: Path, store_dir: Path
) -> None:
    store = Store(store_dir)
    good = ingest([str(UHS)], codes=CODES, store=store)
    before = _store_files(store_dir)
    manifest = store.manifest()
    for what, path in _broken(tmp_path).items():
        result = ingest([str(path)], codes=None, store=store)
        assert [f.status for f in result.files] == ["failed"], what
        error = result.errors[0]
        assert EXPECTED[what] in error and str(path) in error and "\n" not in error, what
        assert _store_files(store_dir) == before, what
        assert store.manifest() == manifest
        assert not store.exists(source_key(str(path)))
    assert good.files[0].status == "read"


def test_cli_prints_one_line_per_broken_file_and_the_benchmark_of_the_rest(
    tmp_path: Path, store_dir: Path
) -> None:
    broken = _broken(tmp_path)
    done = run_cli(str(UHC), *map(str, broken.values()), "--codes", "99213",
                   "--store", str(store_dir), "--format", "csv")  # fmt: skip
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 4
    assert "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "payer,code,modifier,setting,billing_class,tins,min,p25,median,p75,max,own_rate,"
        "own_rank,medicare,median_pct_of_medicare"
    )
    assert lines[1].startswith("UnitedHealthcare Insurance Company of New York,99213,,nonfacility")


def test_cli_toc_and_plan(server: Any, tmp_path: Path) -> None:
    toc = json.loads(TOC.read_bytes())
    structures = toc["reporting_structure"]
    structures[0]["in_network_files"] = [
        {"description": "uhc", "location": server.url + "/uhc.json.gz"}
    ]
    structures[1]["in_network_files"] = [
        {"description": "gone", "location": server.url + "/gone.json"}
    ]
    server.file("/uhc.json.gz", UHC)
    server.file("/toc.json", json.dumps(toc).encode(), content_type="application/json")
    store = str(tmp_path / "store")
    done = run_cli("--toc", server.url + "/toc.json", "--plan", "MEDICAID", "--codes", "99213",
                   "--store", store, "--format", "csv")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].startswith("UnitedHealthcare Insurance Company of New York")
    assert server.statuses("/gone.json") == []  # the other plan's file was not fetched
    done = run_cli("--toc", server.url + "/toc.json", "--codes", "99213", "--store", store)
    assert done.returncode == 1
    assert "Error: " in done.stderr and "/gone.json was not found (HTTP 404)" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli("--toc", server.url + "/toc.json", "--plan", "nothing", "--codes", "99213")
    assert done.returncode == 1 and "lists no in-network files for plan 'nothing'" in done.stderr
