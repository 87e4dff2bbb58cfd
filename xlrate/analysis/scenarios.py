"""What a change in a payer's rates is worth per year.

Each function takes compared rows (:func:`xlrate.analysis.compare.compare_rates`) and returns
one row per payer with the annual revenue change. Only compared rows count (a numeric rate
and a Medicare amount); volume is annual units. The Scenarios sheet computes the same with
SUMPRODUCT over the payer sheets, so a user can change the percents and see the result.

- :func:`target_change`: every code paid at ``pct`` of Medicare (rates above it come down).
- :func:`floor_change`: every code below ``pct`` of Medicare raised to it, others unchanged.
- :func:`uniform_change`: every rate raised by ``pct`` (0.03 = 3%).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def _compared(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["compared"]]


def _per_payer(values: pd.Series, rows: pd.DataFrame, payers: Sequence[str] | None) -> pd.Series:
    totals = values.groupby(rows["payer"]).sum()
    order = list(payers) if payers is not None else sorted(rows["payer"].unique())
    return totals.reindex(order, fill_value=0.0).astype(float)


def target_change(rows: pd.DataFrame, pct: float, payers: Sequence[str] | None = None) -> pd.Series:
    """Annual revenue change per payer if every code were paid at ``pct`` of Medicare."""
    r = _compared(rows)
    change = (r["medicare"] * pct - r["rate"]) * r["volume"]
    return _per_payer(change, r, payers)


def floor_change(rows: pd.DataFrame, pct: float, payers: Sequence[str] | None = None) -> pd.Series:
    """Annual revenue change per payer if every code below ``pct`` of Medicare were raised to it."""
    r = _compared(rows)
    below = r["pct"] < pct
    change = ((r["medicare"] * pct - r["rate"]) * r["volume"]).where(below, 0.0)
    return _per_payer(change, r, payers)


def uniform_change(
    rows: pd.DataFrame, pct: float, payers: Sequence[str] | None = None
) -> pd.Series:
    """Annual revenue change per payer if every rate went up by ``pct`` (0.03 = 3%)."""
    r = _compared(rows)
    return _per_payer(r["revenue"] * pct, r, payers)


def target_change_per_payer(
    rows: pd.DataFrame, targets: dict[str, float], payers: Sequence[str]
) -> pd.Series:
    """Annual revenue change per payer at that payer's own target percent."""
    r = _compared(rows)
    # astype: with no compared rows, map() of an empty string column stays a string column
    target = r["payer"].map(targets).astype(float)
    change = (r["medicare"] * target - r["rate"]) * r["volume"]
    return _per_payer(change, r, payers)


def scenario_table(
    rows: pd.DataFrame,
    payers: Sequence[str],
    targets: dict[str, float],
    *,
    target_pcts: Sequence[float] = (1.10, 1.20, 1.30, 1.40),
    user_target: float = 1.25,
    floor: float = 1.00,
    uniform: float = 0.03,
) -> pd.DataFrame:
    """All scenarios side by side, one row per payer (the Scenarios sheet's table)."""
    r = _compared(rows)
    table = pd.DataFrame(index=pd.Index(list(payers), name="payer"))
    table["revenue"] = _per_payer(r["revenue"], r, payers)
    medicare_at_volume = _per_payer(r["medicare"] * r["volume"], r, payers)
    table["weighted_pct"] = (table["revenue"] / medicare_at_volume.replace(0.0, np.nan)).to_numpy()
    table["target"] = [targets[p] for p in payers]
    table["at_payer_target"] = target_change_per_payer(rows, targets, payers)
    for i, pct in enumerate(target_pcts, start=1):
        table[f"at_target_{i}"] = target_change(rows, pct, payers)
    table["at_user_target"] = target_change(rows, user_target, payers)
    table["floor"] = floor_change(rows, floor, payers)
    table["uniform"] = uniform_change(rows, uniform, payers)
    return table.reset_index()
