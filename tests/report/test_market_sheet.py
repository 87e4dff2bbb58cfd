"""The Market sheet, the Summary's market columns and the market scenario, from a profile
whose payer has a real Transparency in Coverage file (UnitedHealthcare of NY, DoltHub's
test excerpt) and the practice TIN 113026610 (a TIN in that file).

The market figures are counted independently here with the standard library's ``json``
(``tests/market/independent.py``, loaded by path: it shares no code with xlrate), and the
formula cells are recalculated in headless LibreOffice and held to Python's values.
"""

from __future__ import annotations

import importlib.util
import math
import os
import re
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from report_helpers import recalculate

from xlrate.analysis import Analysis, analyze
from xlrate.report import layout as L
from xlrate.report.workbook import ALLOWED_FUNCTIONS, BuildResult, build_workbook

ROOT = Path(__file__).resolve().parents[2]
UHC = ROOT / "tests" / "data" / "tic" / "dolthub__uhc_ny_2022-09__TEST_FILE.json.gz"
OWN_TIN = "113026610"
# A payer name that would be a formula if it were ever written as one.
PAYER = '=UHC NY "Choice"'
FEES = {  # code, modifier -> (rate, annual volume or None)
    ("99213", ""): (80.00, 100),
    ("99214", ""): (200.00, 40),
    ("99203", ""): (70.00, None),
    ("71046", "26"): (9.00, 4),
}


def _independent() -> Any:
    path = ROOT / "tests" / "market" / "independent.py"
    spec = importlib.util.spec_from_file_location("_report_tic_independent", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default, DuckDB's quantile_cont)."""
    ordered = sorted(values)
    at = (len(ordered) - 1) * q
    low = math.floor(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def market_counted(path: Path, own_tin: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(code, modifier, setting) -> tins, p25, median, p75, own rate, rank; json alone.

    Professional dollar rates not expired at the file's date; a TIN counts once at the
    median of its own rates; the own TIN is not among its peers.
    """
    ind = _independent()
    data = ind.load(path)
    year = int(data["last_updated_on"][:4])
    by_key: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for item in data["in_network"]:
        for negotiated in item["negotiated_rates"]:
            for price in negotiated["negotiated_prices"]:
                if price["negotiated_type"] not in ind.DOLLARS:
                    continue
                if price.get("billing_class") != "professional":
                    continue
                if price.get("expiration_date", "9999-12-31") < data["last_updated_on"]:
                    continue
                key = (
                    item["billing_code"],
                    "-".join(price.get("billing_code_modifier") or []),
                    ind.setting(price.get("service_code", []), year),
                )
                for tin, _ in ind.groups_of(data, negotiated):
                    by_key[key][tin].append(price["negotiated_rate"])
    out = {}
    for key, by_tin in by_key.items():
        peers = [statistics.median(v) for t, v in by_tin.items() if t != own_tin]
        own = statistics.median(by_tin[own_tin]) if own_tin in by_tin else None
        out[key] = {
            "tins": len(peers),
            "p25": _quantile(peers, 0.25) if peers else None,
            "median": statistics.median(peers) if peers else None,
            "p75": _quantile(peers, 0.75) if peers else None,
            "own": own,
            "rank": f"{1 + sum(p < own for p in peers)} of {len(peers) + 1}" if own else "",
        }
    return out


@dataclass
class Built:
    analysis: Analysis
    result: BuildResult
    recalculated: Path
    profile: Path


def _write_profile(root: Path, tic: bool) -> Path:
    lines = ["Code,Mod,Fee,Volume"]
    lines += [f"{c},{m},{r:.2f},{'' if v is None else v}" for (c, m), (r, v) in FEES.items()]
    (root / "uhc.csv").write_text("\n".join(lines) + "\n", "utf-8")
    (root / "other.csv").write_text("Code,Fee,Volume\n99213,95.00,30\n99214,130.00,10\n", "utf-8")
    tic_line = f"tic = [{str(UHC)!r}]\n" if tic else ""
    text = (
        '[practice]\nname = "Market test practice"\nzip = "10001"\nyear = 2025\n'
        'release = "2025D"\n'
        + ('tin = ["11-3026610"]\n' if tic else "")
        + "\n[[payers]]\n"
        + f"name = {PAYER!r}\n"  # a TOML literal string (no ' in it)
        + 'fees = "uhc.csv"\ntarget = 120\n'
        + tic_line
        + '\n[[payers]]\nname = "Other PPO"\nfees = "other.csv"\ntarget = 130\n'
    )
    path = root / ("market.toml" if tic else "plain.toml")
    path.write_text(text, "utf-8")
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("market_sheet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLRATE_HOME", str(root / "home"))
        from xlrate.medicare import store

        store.clear_cache()
        profile = _write_profile(root, tic=True)
        analysis = analyze(profile)
        result = build_workbook(analysis, root / "market.xlsx")
        (out,) = recalculate([result.path], root / "recalculated", root / "lo-profile")
        store.clear_cache()
    return Built(analysis, result, out, profile)


def _table(path: Path, sheet: str, header_row: int, width: int) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path, data_only=True)[sheet]
    headers = [ws.cell(header_row, c).value for c in range(1, width + 1)]
    rows = []
    for r in range(header_row + 1, ws.max_row + 1):
        values = [ws.cell(r, c).value for c in range(1, width + 1)]
        if values[1] is None:  # the notes below the table
            break
        rows.append(dict(zip(headers, values, strict=True)))
    return rows


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, str) or expected is None:
        return (actual or "") == (expected or "")
    if not isinstance(actual, (int, float)):
        return False
    return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-9)  # type: ignore[arg-type]


def test_market_sheet_matches_the_file_counted_with_json(built: Built) -> None:
    counted = market_counted(UHC, OWN_TIN)
    h = {c.key: c.header for c in L.MARKET_COLUMNS}
    rows = _table(built.recalculated, L.MARKET_SHEET, L.MARKET_HEADER_ROW, len(L.MARKET_COLUMNS))
    assert {(r[h["code"]], r[h["modifier"]] or "") for r in rows} == set(FEES)
    medicare = built.analysis.medicare.set_index(["code", "modifier", "setting"])["amount"]
    for row in rows:
        code, modifier = row[h["code"]], row[h["modifier"]] or ""
        want = counted[(code, modifier, "nonfacility")]
        assert row[h["payer"]] == PAYER
        assert row[h["tins"]] == want["tins"] and want["tins"] >= 2
        for key in ("p25", "median", "p75"):
            assert row[h[key]] == pytest.approx(want[key], abs=1e-9), (code, key)
        assert row[h["own_file_rate"]] == pytest.approx(want["own"], abs=1e-9)
        assert row[h["rank"]] == want["rank"]
        rate, volume = FEES[(code, modifier)]
        amount = float(medicare[(code, modifier, "nonfacility")])
        # The formula cells, as LibreOffice computed them, against figures made here.
        assert row[h["rate"]] == pytest.approx(rate)
        assert row[h["medicare"]] == pytest.approx(amount)
        assert row[h["rate_pct"]] == pytest.approx(rate / amount)
        for key in ("p25", "median", "p75"):
            assert row[h[f"{key}_pct"]] == pytest.approx(want[key] / amount), (code, key)
        assert row[h["own_file_pct"]] == pytest.approx(want["own"] / amount)
        below = rate < want["median"]
        assert (row[h["below"]] or "") == ("yes" if below else "")
        gap = (want["median"] - rate) * (volume or 0) if below else 0
        assert row[h["to_median"]] == pytest.approx(gap)


def test_summary_and_scenarios_add_up_the_market(built: Built) -> None:
    counted = market_counted(UHC, OWN_TIN)
    medicare = built.analysis.medicare.set_index(["code", "modifier", "setting"])["amount"]
    median_units = medicare_units = 0.0
    below = 0
    change = 0.0
    for (code, modifier), (rate, volume) in FEES.items():
        median = counted[(code, modifier, "nonfacility")]["median"]
        median_units += median * (volume or 0)
        medicare_units += float(medicare[(code, modifier, "nonfacility")]) * (volume or 0)
        below += rate < median
        change += (median - rate) * (volume or 0) if rate < median else 0.0
    wb = openpyxl.load_workbook(built.recalculated, data_only=True)
    summary, scen = wb["Summary"], wb["Scenarios"]
    n = len(L.SUMMARY_COLUMNS)
    row = L.SUMMARY_HEADER_ROW
    assert [summary.cell(row, n + i).value for i in (1, 2)] == [
        c.header for c in L.SUMMARY_MARKET_COLUMNS
    ]
    assert summary.cell(row + 1, 1).value == PAYER
    assert summary.cell(row + 1, n + 1).value == pytest.approx(median_units / medicare_units)
    assert summary.cell(row + 1, n + 2).value == below
    assert summary.cell(row + 2, 1).value == "Other PPO"  # no TiC files: nothing
    assert summary.cell(row + 2, n + 1).value is None and summary.cell(row + 2, n + 2).value is None
    assert summary.cell(row + 3, n + 2).value == below  # All payers
    m = len(L.SCENARIO_COLUMNS) + 1
    hrow = L.SCENARIO_HEADER_ROW
    assert scen.cell(hrow, m).value == L.SCENARIO_MARKET_COLUMNS[0].header
    assert scen.cell(hrow + 1, m).value == pytest.approx(change)
    assert scen.cell(hrow + 2, m).value is None
    assert scen.cell(hrow + 3, m).value == pytest.approx(change)


def test_every_formula_cell_agrees_with_libreoffice(built: Built) -> None:
    formulas = {
        (ws.title, cell.coordinate): cell.value
        for ws in openpyxl.load_workbook(built.result.path).worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    assert set(formulas) == set(built.result.expected)
    market = [f for (sheet, _), f in formulas.items() if sheet == L.MARKET_SHEET]
    assert sum("MATCH(" in f and "Medicare!" in f for f in market) == len(FEES)
    used = {name for f in formulas.values() for name in re.findall(r"([A-Z]+)\(", f)}
    assert used <= ALLOWED_FUNCTIONS
    got = openpyxl.load_workbook(built.recalculated, data_only=True)
    bad = {
        key: (got[key[0]][key[1]].value, want)
        for key, want in built.result.expected.items()
        if not _same(got[key[0]][key[1]].value, want)
    }
    assert not bad


def test_payer_text_is_never_a_formula(built: Built) -> None:
    ws = openpyxl.load_workbook(built.result.path)[L.MARKET_SHEET]
    first = L.MARKET_HEADER_ROW + 1
    assert ws.cell(first, 1).value == PAYER and ws.cell(first, 1).data_type == "s"
    assert ws.cell(first, 2).data_type == "s"  # codes are text


def test_sources_lists_the_tic_file(built: Built) -> None:
    tic = [i for i in built.analysis.inputs if i.role == "TiC file"]
    assert [(i.payer, i.name) for i in tic] == [(PAYER, UHC.name)]
    import hashlib

    assert tic[0].sha256 == hashlib.sha256(UHC.read_bytes()).hexdigest()


def test_without_tic_files_no_market_sheet_and_no_market_imports(tmp_path: Path) -> None:
    profile = _write_profile(tmp_path, tic=False)
    code = (
        "import sys\n"
        "from xlrate.analysis import analyze\n"
        "from xlrate.report.workbook import build_workbook\n"
        f"a = analyze({str(profile)!r})\n"
        f"build_workbook(a, {str(tmp_path / 'plain.xlsx')!r})\n"
        "print(a.market is None, sorted(m for m in sys.modules if m in "
        "('duckdb', 'ijson', 'xlrate.market.ingest', 'xlrate.analysis.market')))\n"
    )
    env = {**os.environ, "XLRATE_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "[]"]
    wb = openpyxl.load_workbook(tmp_path / "plain.xlsx")
    assert L.MARKET_SHEET not in wb.sheetnames
    summary = wb["Summary"]
    assert summary.cell(L.SUMMARY_HEADER_ROW, len(L.SUMMARY_COLUMNS) + 1).value is None


def test_a_second_build_skips_the_unchanged_file_and_an_npi_finds_the_same_tin(
    built: Built,
) -> None:
    from dataclasses import replace

    from xlrate.settings import data_home

    # The market store is under the user's data home (this test's own, empty one).
    first = analyze(built.profile)
    assert [
        i.notes.endswith(f"read now into {data_home() / 'market'}")
        for i in first.inputs
        if i.role == "TiC file"
    ] == [True]
    assert (data_home() / "market" / "manifest.json").is_file()
    by_npi = analyze(replace(first.profile, tin=(), npi=(1730666900,)))
    assert (
        [i.notes for i in by_npi.inputs if i.role == "TiC file"][0]
        .split("; ")[1]
        .startswith("unchanged since the last read")
    )
    assert by_npi.market is not None and built.analysis.market is not None
    columns = ["code", "modifier", "market_own_rate", "market_rank", "market_median"]
    assert by_npi.market.rows[columns].equals(built.analysis.market.rows[columns])


def test_an_unreadable_tic_file_is_a_note_and_the_workbook_has_no_market(tmp_path: Path) -> None:
    profile = _write_profile(tmp_path, tic=True)
    text = profile.read_text("utf-8").replace(repr(str(UHC)), "'missing.json.gz'")
    profile.write_text(text, "utf-8")
    analysis = analyze(profile)
    assert analysis.market is not None and analysis.market.rows.empty
    assert [w for w in analysis.warnings if "missing.json.gz" in w] == analysis.warnings
    assert len(analysis.warnings) == 1 and "\n" not in analysis.warnings[0]
    result = build_workbook(analysis, tmp_path / "out.xlsx")
    wb = openpyxl.load_workbook(result.path)
    assert L.MARKET_SHEET not in wb.sheetnames
    assert wb["Summary"].cell(L.SUMMARY_HEADER_ROW, len(L.SUMMARY_COLUMNS) + 1).value is None


def test_a_payer_whose_files_lack_its_setting_is_named(tmp_path: Path) -> None:
    profile = _write_profile(tmp_path, tic=True)
    # The file's rates are all for POS 11 (office): nothing to set facility rows against.
    text = profile.read_text("utf-8").replace(
        "target = 120\n", 'target = 120\nsetting = "facility"\n'
    )
    profile.write_text(text, "utf-8")
    analysis = analyze(profile)
    assert analysis.market is not None and analysis.market.rows.empty
    assert len(analysis.warnings) == 1 and analysis.warnings[0].startswith(
        PAYER + ": its files have no"
    )


def test_one_payers_market_has_a_chart_of_rate_and_median(built: Built) -> None:
    import zipfile

    with zipfile.ZipFile(built.result.path) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    market = [c for c in charts if "your rate and the market median" in c]
    assert len(charts) == 2 and len(market) == 1  # the Summary's and the Market sheet's
    col = L.letters(L.MARKET_COLUMNS)
    assert f"'Market'!${col['median_pct']}$" in market[0]
    assert f"'Market'!${col['code']}$" in market[0]


def test_market_columns_are_named_for_the_readback(built: Built) -> None:
    from openpyxl.utils import get_column_letter

    wb = openpyxl.load_workbook(built.result.path)
    first = L.SUMMARY_HEADER_ROW + 1
    pct, below = (get_column_letter(len(L.SUMMARY_COLUMNS) + i) for i in (1, 2))
    names = wb.defined_names
    assert (
        names["Summary_MarketMedianPct"].attr_text == f"Summary!${pct}${first}:${pct}${first + 1}"
    )
    assert names["Summary_CodesBelowMarketMedian"].attr_text.endswith(f"${below}${first + 1}")
    assert names["Summary_Total_MarketMedianPct"].attr_text == f"Summary!${pct}${first + 2}"
