"""analyze() runs the underpayment audit for payers with a contract (profile TOML in)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

import pytest

from xlrate.analysis import analyze, load_profile
from xlrate.demo import demo_dir
from xlrate.errors import InputError

REMIT = "lakeside_medicare_advantage_SYNTHETIC.835"


def _profile(folder: Path, contract: str, era: bool = True) -> Path:
    shutil.copy(demo_dir() / REMIT, folder / REMIT)
    # 99213 and 99214 at a fee below what the 835 allowed; everything else 100% of Medicare.
    (folder / "lakeside_fees.csv").write_text("Code,Fee\n99213,80.00\n99214,100.00\n", "utf-8")
    (folder / "other.csv").write_text("Code,Fee\n99213,95.00\n", "utf-8")
    text = f"""
[practice]
name = "Test practice"
locality = "10112-00"
year = 2025
release = "2025D"

[[payers]]
name = "Other PPO"
fees = "other.csv"

[[payers]]
name = "Lakeside"
{'era = ["' + REMIT + '"]' if era else 'fees = "other.csv"'}
contract = {contract}
"""
    path = folder / "practice.toml"
    path.write_text(text, "utf-8")
    return path


def test_a_payer_with_a_contract_gets_its_audit(tmp_path: Path) -> None:
    contract = '{ fees = "lakeside_fees.csv", pct_of_medicare = 100, medicare_year = 2025 }'
    analysis = analyze(load_profile(_profile(tmp_path, contract)))
    assert list(analysis.audits) == ["Lakeside"]
    audit = analysis.audits["Lakeside"]
    table = audit.table.set_index("code")
    # Hand-worked from the demo 835: 99213 allowed 81.86 (1 unit), 99214 235.60 (2 units).
    assert table.loc["99213", "expected"] == 80.00 and table.loc["99213", "underpaid_lines"] == 0
    assert table.loc["99214", "expected"] == 200.00 and table.loc["99214", "variance"] == 35.60
    assert audit.underpaid_amount == pytest.approx(float(table["underpaid_amount"].sum()))
    assert audit.underpaid_lines == int(table["underpaid_lines"].sum())
    assert str(audit.period[0]) == "2026-01-05"
    assert "fee schedule lakeside_fees.csv" in audit.contract
    assert not {"payer", "claim"} & set(audit.table.columns)
    roles = [(i.role, i.payer, i.name) for i in analysis.inputs]
    assert ("contract fees", "Lakeside", "lakeside_fees.csv") in roles
    assert not math.isnan(table.loc["99213", "allowed"])


def test_no_contract_no_audit(tmp_path: Path) -> None:
    path = _profile(tmp_path, "{ pct_of_medicare = 100 }")
    path.write_text(path.read_text("utf-8").replace("contract = { pct_of_medicare = 100 }", ""))
    assert analyze(load_profile(path)).audits == {}


def test_a_contract_without_835s_says_what_to_add(tmp_path: Path) -> None:
    path = _profile(tmp_path, "{ pct_of_medicare = 100 }", era=False)
    with pytest.raises(InputError, match="era"):
        analyze(load_profile(path))


def test_the_835s_of_an_audited_payer_are_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xlrate.analysis import audit
    from xlrate.practice import era835

    calls: list[bool] = []
    real = era835.read_era

    def counting(paths: Any, **kwargs: Any) -> Any:
        calls.append(bool(kwargs.get("lines")))
        return real(paths, **kwargs)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the audit read the 835s again")

    monkeypatch.setattr(era835, "read_era", counting)
    monkeypatch.setattr(audit, "read_era", refuse)
    analysis = analyze(load_profile(_profile(tmp_path, "{ pct_of_medicare = 100 }")))
    assert calls == [True]
    assert analysis.audits["Lakeside"].lines == 16
