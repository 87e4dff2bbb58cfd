"""Percent of Medicare: each payer's rate per code against the Medicare amount.

DataFrames in, DataFrames out. The steps, in the order :func:`xlrate.analysis.analyze`
runs them:

1. :func:`payer_rates` puts one payer's fee schedule rows and 835 lines side by side: one
   row per (code, modifier, setting) with the contract rate, the allowed amount per unit
   from the 835s, the annual volume and where each came from.
2. :func:`medicare_table` prices the distinct (code, modifier, setting) keys once, with
   RVUs and GPCIs, through the Medicare engine.
3. :func:`compare_rates` joins the two and adds percent of Medicare, the target rate, the
   variance to target per unit and per year, and annual revenue.
4. :func:`payer_summary`, :func:`lowest_payer`, :func:`lesser_of_charges` and
   :func:`year_over_year` answer the negotiator's questions (DOMAIN.md section 4).

A row is *compared* when it has both a numeric payer rate and a Medicare amount; the other
rows keep a plain-words note saying why not (no PFS amount, "Not a benefit", ...). The
workbook's formulas compute the same quantities from the same cells, and the tests hold
the two to a relative difference under 1e-9.

Dates of service: this comparison does not use them. :func:`era_rows_for_payer` sums each
payer's 835 lines over all dates to one allowed amount per unit per (code, modifier), and
:func:`medicare_table` prices every key with one release, the profile's ``year``/``release``
(else the release in force today; shown on the Medicare and Sources sheets), so ``era_pct``
is an average over the 835s' dates against that one release. The date of service is used
by the underpayment audit (:mod:`xlrate.analysis.audit`, the Underpayments sheet): each
line's contract fee schedule and, for percent-of-Medicare terms without a stated
``medicare_release``, its Medicare release are the ones in force on that line's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from xlrate.codes import MODIFIER_SEPARATOR, parse_modifiers
from xlrate.medicare.pricing import FACILITY_POS as ENGINE_FACILITY_POS

KEY = ["code", "modifier", "setting"]

# Modifiers that change the Medicare amount: the RVU row (26, TC, 53) and the payment-policy
# adjustments (50 bilateral, 51 multiple procedure, 62 co-surgeon, 80/81/82/AS assistant).
# A line paid at 50% as a second procedure is compared with Medicare's 50%, not with the
# full amount. DMEPOS fees differ by NU (new), RR (rental), UE (used) and KU/KE/KF (CMS's
# DMEPOS read-me), so those stay too. Others on an 835 line (25, 59, QW...) do not change
# the amount.
PRICING_MODIFIERS = (
    *("26", "TC", "53", "50", "51", "62", "80", "81", "82", "AS"),
    *("NU", "RR", "UE", "KU", "KE", "KF"),
)
# Facility places of service: the engine's list, as the two-character text a file holds.
FACILITY_POS = frozenset(f"{pos:02d}" for pos in ENGINE_FACILITY_POS)

RATE_COLUMNS = [
    "payer",
    "code",
    "modifier",
    "setting",
    "description",
    "volume",
    "volume_source",
    "fee_rate",
    "era_allowed",
    "era_units",
    "rate",
    "rate_source",
    "charge",
    "note",
]

MEDICARE_COLUMNS = [
    "code",
    "modifier",
    "setting",
    "amount",
    "status",
    "note",
    "work_rvu",
    "pe_rvu",
    "mp_rvu",
    "work_gpci",
    "pe_gpci",
    "mp_gpci",
    "conversion_factor",
    "schedule",
]


class Pricer(Protocol):
    def __call__(self, frame: pd.DataFrame, **kwargs: Any) -> pd.DataFrame: ...


def pricing_modifier(modifiers: object) -> str:
    """The modifiers that decide the Medicare amount (``26``, ``TC-51``...) or ``""``."""
    return MODIFIER_SEPARATOR.join(
        m for m in parse_modifiers(modifiers).codes if m in PRICING_MODIFIERS
    )


def _text(series: pd.Series) -> pd.Series:
    return series.astype("string").fillna("").astype(str).str.strip()


def fee_rows_for_payer(rows: pd.DataFrame, payer: str, setting: str) -> pd.DataFrame:
    """Normalise a fee schedule's ``.rows`` to one row per (code, modifier, setting)."""
    frame = pd.DataFrame(
        {
            "code": _text(rows["code"]),
            "modifier": _text(rows["modifier"]) if "modifier" in rows else "",
            "setting": _text(rows["setting"]).str.lower().str.replace("-", "", regex=False)
            if "setting" in rows
            else "",
            "fee_rate": pd.to_numeric(rows["amount"], errors="coerce"),
            "fee_note": _text(rows["note"]) if "note" in rows else "",
            "description": _text(rows["description"]) if "description" in rows else "",
            "fee_volume": pd.to_numeric(rows["volume"], errors="coerce")
            if "volume" in rows
            else np.nan,
        }
    )
    if "pos" in rows:
        pos = _text(rows["pos"]).str.replace(r"\.0$", "", regex=True).str.zfill(2)
        blank = ~frame["setting"].isin(["nonfacility", "facility"])
        frame.loc[blank & pos.isin(FACILITY_POS), "setting"] = "facility"
        frame.loc[blank & (pos != "00") & ~pos.isin(FACILITY_POS), "setting"] = "nonfacility"
    frame.loc[~frame["setting"].isin(["nonfacility", "facility"]), "setting"] = setting
    frame = frame[frame["code"] != ""]
    # A schedule may repeat a code (one row per benefit limit); keep the first, and keep a
    # numeric rate over a text one.
    frame = frame.assign(_text_rate=frame["fee_rate"].isna()).sort_values(
        "_text_rate", kind="stable"
    )
    frame = frame.drop_duplicates(KEY, keep="first").drop(columns="_text_rate").sort_index()
    frame.insert(0, "payer", payer)
    return frame.reset_index(drop=True)


def era_rows_for_payer(by_code: pd.DataFrame, payer: str, setting: str) -> pd.DataFrame:
    """Aggregate an 835 ``.by_code`` table to (code, pricing modifier) for one payer.

    Every line in the files given for a payer counts for that payer, whatever name the
    payer used in its N1*PR segment.
    """
    if by_code is None or by_code.empty:
        return pd.DataFrame(columns=["payer", *KEY, "era_allowed", "era_units", "era_billed"])
    frame = pd.DataFrame(
        {
            "code": _text(by_code["code"]),
            "modifier": [
                pricing_modifier(m)
                for m in by_code.get("modifiers", pd.Series([""] * len(by_code)))
            ],
            "units": pd.to_numeric(by_code["units"], errors="coerce").fillna(0.0),
            "allowed": pd.to_numeric(by_code["allowed"], errors="coerce").fillna(0.0),
            "billed": pd.to_numeric(by_code["billed"], errors="coerce").fillna(0.0),
        }
    )
    grouped = frame.groupby(["code", "modifier"], as_index=False, sort=True)[
        ["units", "allowed", "billed"]
    ].sum()
    positive = grouped["units"] > 0
    out = pd.DataFrame(
        {
            "payer": payer,
            "code": grouped["code"],
            "modifier": grouped["modifier"],
            "setting": setting,
            "era_allowed": np.where(
                positive,
                (grouped["allowed"] / grouped["units"].where(positive, 1.0)).round(2),
                np.nan,
            ),
            "era_units": grouped["units"],
            "era_billed": np.where(
                positive,
                (grouped["billed"] / grouped["units"].where(positive, 1.0)).round(2),
                np.nan,
            ),
        }
    )
    return out[positive.to_numpy()].reset_index(drop=True)


def payer_rates(
    payer: str,
    *,
    setting: str = "nonfacility",
    fees: pd.DataFrame | None = None,
    era: pd.DataFrame | None = None,
    volumes: pd.DataFrame | None = None,
    charges: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One payer's rates, fee schedule and 835 side by side (columns :data:`RATE_COLUMNS`).

    ``rate`` is the contract rate from the fee schedule when there is one, else the allowed
    amount per unit from the 835s. Volume comes from the ``volumes`` table (this payer's
    rows, then rows without a payer), else a volume column in the fee schedule, else 835
    units, else 0. ``charge`` is the practice's own charge (``charges`` table, else billed
    per unit on the 835s).
    """
    fee = fee_rows_for_payer(fees, payer, setting) if fees is not None and not fees.empty else None
    era_rows = era_rows_for_payer(era, payer, setting) if era is not None else None
    if fee is not None and era_rows is not None and not era_rows.empty:
        # 835 lines carry no setting: they meet every fee row of the same code and modifier.
        merged = fee.merge(
            era_rows.drop(columns=["payer", "setting"]), on=["code", "modifier"], how="outer"
        )
        merged["payer"] = payer
        merged["setting"] = merged["setting"].fillna(setting)
    elif fee is not None:
        merged = fee.assign(era_allowed=np.nan, era_units=np.nan, era_billed=np.nan)
    elif era_rows is not None:
        merged = era_rows.assign(fee_rate=np.nan, fee_note="", description="", fee_volume=np.nan)
    else:
        return pd.DataFrame(columns=RATE_COLUMNS)
    merged["description"] = merged["description"].fillna("")
    merged["fee_note"] = merged["fee_note"].fillna("")

    has_fee = merged["fee_rate"].notna()
    merged["rate"] = merged["fee_rate"].where(has_fee, merged["era_allowed"])
    merged["rate_source"] = np.where(
        has_fee, "fee schedule", np.where(merged["era_allowed"].notna(), "835", "")
    )

    volume = pd.Series(np.nan, index=merged.index)
    source = pd.Series("", index=merged.index, dtype=object)
    if volumes is not None and not volumes.empty:
        vol = volumes.copy()
        vol["code"] = _text(vol["code"])
        vol["modifier"] = _text(vol["modifier"]) if "modifier" in vol else ""
        vol["volume"] = pd.to_numeric(vol["volume"], errors="coerce")
        vol_payer = _text(vol["payer"]) if "payer" in vol else pd.Series("", index=vol.index)
        for mask, label in (
            (vol_payer == payer, "volume file"),
            (vol_payer == "", "volume file (all payers)"),
        ):
            table = vol[mask.to_numpy()].groupby(["code", "modifier"])["volume"].sum()
            found = pd.Series(
                table.reindex(pd.MultiIndex.from_frame(merged[["code", "modifier"]])).to_numpy(),
                index=merged.index,
            )
            take = volume.isna() & found.notna()
            volume[take] = found[take]
            source[take] = label
    for column, label in (("fee_volume", "fee schedule"), ("era_units", "835 units")):
        take = volume.isna() & merged[column].notna()
        volume[take] = merged.loc[take, column]
        source[take] = label
    merged["volume"] = volume.fillna(0.0).astype(float)
    merged["volume_source"] = source

    merged["charge"] = merged["era_billed"]
    if charges is not None and not charges.empty:
        ch = charges.copy()
        ch["code"] = _text(ch["code"])
        ch["modifier"] = _text(ch["modifier"]) if "modifier" in ch else ""
        table = ch.groupby(["code", "modifier"])["charge"].first()
        found = pd.Series(
            pd.to_numeric(
                table.reindex(pd.MultiIndex.from_frame(merged[["code", "modifier"]])).to_numpy(),
                errors="coerce",
            ),
            index=merged.index,
        )
        merged["charge"] = found.where(found.notna(), merged["charge"])
    merged["note"] = merged["fee_note"]
    return merged[RATE_COLUMNS].sort_values(KEY, kind="stable").reset_index(drop=True)


def medicare_table(
    keys: pd.DataFrame,
    pricer: Pricer,
    *,
    locality: str | None,
    zip: str | None,
    year: int | None,
    release: str | None,
) -> pd.DataFrame:
    """Price the distinct (code, modifier, setting) ``keys``: amount, status, note, RVUs, GPCIs,
    and the ``schedule`` that priced it (PFS, CLFS, ASP, DMEPOS, PEN, ANES: the engine picks
    it by code); ``release`` is that schedule's release (a lab code's CLFS quarter)."""
    distinct = keys[KEY].drop_duplicates().sort_values(KEY, kind="stable").reset_index(drop=True)
    if distinct.empty:
        return pd.DataFrame(columns=[*MEDICARE_COLUMNS, "locality", "year", "release"])
    kwargs: dict[str, Any] = {"year": year, "release": release, "detail": True}
    if locality:
        kwargs["locality"] = locality
    elif zip:
        kwargs["zip"] = zip
    else:
        kwargs["national"] = True
    priced = pricer(distinct.copy(), **kwargs)
    out = distinct.copy()
    out["amount"] = pd.to_numeric(priced["amount"], errors="coerce").to_numpy()
    out["status"] = _text(priced["status"]).to_numpy()
    out["note"] = _text(priced["note"]).to_numpy()
    facility = (out["setting"] == "facility").to_numpy()
    nan = pd.Series(np.nan, index=priced.index)
    pe_nf = pd.to_numeric(priced.get("pe_rvu_nonfacility", nan), errors="coerce")
    pe_f = pd.to_numeric(priced.get("pe_rvu_facility", nan), errors="coerce")
    out["pe_rvu"] = np.where(
        facility, np.asarray(pe_f, dtype=float), np.asarray(pe_nf, dtype=float)
    )
    for column in ("work_rvu", "mp_rvu", "work_gpci", "pe_gpci", "mp_gpci", "conversion_factor"):
        out[column] = (
            pd.to_numeric(priced[column], errors="coerce").to_numpy()
            if column in priced
            else np.nan
        )
    for column in ("locality", "year", "release"):
        out[column] = priced[column].to_numpy() if column in priced else None
    out["schedule"] = _text(priced["schedule"]).to_numpy() if "schedule" in priced else "PFS"
    return out


COMPARED_COLUMNS = [
    *RATE_COLUMNS,
    "medicare",
    "status",
    "medicare_note",
    "compared",
    "pct",
    "target",
    "target_rate",
    "variance",
    "impact",
    "revenue",
    "era_pct",
    "at_or_above_charge",
]


def compare_rates(
    rates: pd.DataFrame, medicare: pd.DataFrame, targets: dict[str, float]
) -> pd.DataFrame:
    """Join rates to Medicare amounts and add the per-row figures.

    - ``pct`` = rate / Medicare; ``target_rate`` = Medicare x the payer's target;
    - ``variance`` = rate - target rate (negative: paid below target), per unit;
    - ``impact`` = variance x annual volume; ``revenue`` = rate x annual volume;
    - ``era_pct`` = 835 allowed per unit / Medicare;
    - ``at_or_above_charge``: the rate reaches the practice's own charge (a lesser-of-charges
      clause then caps payment at the charge).
    """
    table = medicare[["code", "modifier", "setting", "amount", "status", "note"]].rename(
        columns={"amount": "medicare", "note": "medicare_note"}
    )
    out = rates.merge(table, on=KEY, how="left")
    out["status"] = out["status"].fillna("unknown_code")
    out["medicare_note"] = out["medicare_note"].fillna("")
    rate = pd.to_numeric(out["rate"], errors="coerce")
    medicare_amount = pd.to_numeric(out["medicare"], errors="coerce")
    out["compared"] = rate.notna() & medicare_amount.notna() & (medicare_amount > 0)
    ok = out["compared"]
    out["pct"] = (rate / medicare_amount).where(ok)
    out["target"] = out["payer"].map(targets).astype(float)
    out["target_rate"] = (medicare_amount * out["target"]).where(ok)
    out["variance"] = (rate - out["target_rate"]).where(ok)
    out["impact"] = (out["variance"] * out["volume"]).where(ok)
    out["revenue"] = (rate * out["volume"]).where(ok)
    era = pd.to_numeric(out["era_allowed"], errors="coerce")
    out["era_pct"] = (era / medicare_amount).where(ok & era.notna())
    charge = pd.to_numeric(out["charge"], errors="coerce")
    out["at_or_above_charge"] = ok & charge.notna() & (rate >= charge)
    out["note"] = [
        _row_note(r)
        for r in out[["compared", "rate", "note", "medicare_note", "status"]].itertuples()
    ]
    return out[COMPARED_COLUMNS].reset_index(drop=True)


def _row_note(row: Any) -> str:
    notes = [row.note] if row.note else []
    if not row.compared:
        if pd.isna(row.rate):
            if not notes:
                notes.append("no numeric rate from this payer")
        elif row.medicare_note:
            notes.append(row.medicare_note)
        else:
            notes.append(f"no Medicare amount ({row.status.replace('_', ' ')})")
    return "; ".join(dict.fromkeys(notes))


def order_for_sheet(compared: pd.DataFrame) -> pd.DataFrame:
    """Compared rows first, by annual revenue (largest first), then code; then the others."""
    order = compared.assign(_c=~compared["compared"], _r=-compared["revenue"].fillna(0.0))
    return (
        order.sort_values(["payer", "_c", "_r", "code", "modifier", "setting"], kind="stable")
        .drop(columns=["_c", "_r"])
        .reset_index(drop=True)
    )


def lowest_payer(compared: pd.DataFrame, payer_order: Sequence[str]) -> pd.DataFrame:
    """Per (code, modifier, setting) paid by two or more payers: the one paying the least.

    The lowest percent of Medicare wins; on a tie the payer listed first wins (as MATCH does
    in the workbook's Matrix sheet).
    """
    rows = compared[compared["compared"]]
    if rows.empty:
        return pd.DataFrame(columns=[*KEY, "payers", "lowest_payer", "lowest_pct"])
    rank = {name: i for i, name in enumerate(payer_order)}
    rows = rows.assign(_rank=rows["payer"].map(rank)).sort_values(
        [*KEY, "pct", "_rank"], kind="stable"
    )
    first = rows.groupby(KEY, sort=True).agg(
        payers=("payer", "size"), lowest_payer=("payer", "first"), lowest_pct=("pct", "first")
    )
    return first[first["payers"] >= 2].reset_index()


def payer_summary(
    compared: pd.DataFrame, payer_order: Sequence[str], targets: dict[str, float]
) -> pd.DataFrame:
    """Per payer: weighted and median percent of Medicare, revenue, codes below target..."""
    lowest = lowest_payer(compared, payer_order)
    lowest_counts = lowest["lowest_payer"].value_counts()
    records = []
    for payer in payer_order:
        rows = compared[(compared["payer"] == payer) & compared["compared"]]
        medicare_at_volume = float((rows["medicare"] * rows["volume"]).sum())
        revenue = float(rows["revenue"].sum())
        impact = rows["impact"]
        records.append(
            {
                "payer": payer,
                "codes": int((compared["payer"] == payer).sum()),
                "codes_compared": len(rows),
                "volume": float(rows["volume"].sum()),
                "revenue": revenue,
                "medicare_at_volume": medicare_at_volume,
                "weighted_pct": revenue / medicare_at_volume if medicare_at_volume else np.nan,
                "median_pct": float(rows["pct"].median()) if len(rows) else np.nan,
                "target": targets[payer],
                "codes_below_target": int((rows["pct"] < targets[payer]).sum()),
                "lowest_codes": int(lowest_counts.get(payer, 0)),
                "shortfall": 0.0 - float(impact[impact < 0].sum()),
                "codes_at_or_above_charge": int(rows["at_or_above_charge"].sum()),
            }
        )
    return pd.DataFrame.from_records(records)


def top_codes(
    compared: pd.DataFrame, payer: str, share: float = 0.8, limit: int = 10
) -> pd.DataFrame:
    """The codes that carry most of a payer's revenue (up to ``share`` of it, at most ``limit``)."""
    rows = compared[(compared["payer"] == payer) & compared["compared"]].sort_values(
        "revenue", ascending=False, kind="stable"
    )
    total = rows["revenue"].sum()
    if total <= 0:
        return rows.head(0)
    cumulative = rows["revenue"].cumsum() / total
    keep = (cumulative.shift(fill_value=0.0) < share).to_numpy()
    return rows[keep].head(limit).assign(share=rows["revenue"] / total)


def lesser_of_charges(compared: pd.DataFrame) -> pd.DataFrame:
    """Rows where a payer's rate is at or above the practice's own charge."""
    return compared[compared["at_or_above_charge"]][
        ["payer", "code", "modifier", "setting", "rate", "charge"]
    ]


def year_over_year(
    keys: pd.DataFrame,
    pricer: Pricer,
    years: Sequence[tuple[int, str]],
    *,
    locality: str | None,
    zip: str | None,
) -> tuple[pd.DataFrame, str]:
    """Medicare amounts for ``keys`` in the two given (year, release) pairs, and a label.

    Priced at the practice's locality when both years have its GPCIs; otherwise both years
    are priced nationally (all GPCIs 1) and the label says so.
    """
    distinct = keys[KEY].drop_duplicates().sort_values(KEY, kind="stable").reset_index(drop=True)
    (old_year, old_release), (new_year, new_release) = years
    where: dict[str, Any] = (
        {"locality": locality} if locality else ({"zip": zip} if zip else {"national": True})
    )
    national = "national" in where
    results: list[pd.DataFrame] = []
    if not national:
        try:
            for year, release in years:
                results.append(pricer(distinct.copy(), year=year, release=release, **where))
            if any((r["status"] == "gpci_missing").any() for r in results):
                results = []
        except Exception as exc:  # a year without this locality's GPCIs
            if type(exc).__name__ not in ("DataError", "LocalityError"):
                raise
            results = []
    label = f"locality {locality or zip}"
    if not results:
        missing = "" if national else " (locality GPCIs are not available for both years)"
        label = f"national, all GPCIs 1{missing}"
        results = [pricer(distinct.copy(), year=y, release=r, national=True) for y, r in years]
    out = distinct.copy()
    out["old"] = pd.to_numeric(results[0]["amount"], errors="coerce").to_numpy()
    out["new"] = pd.to_numeric(results[1]["amount"], errors="coerce").to_numpy()
    ok = out["old"].notna() & out["new"].notna() & (out["old"] > 0)
    out["change"] = (out["new"] / out["old"] - 1.0).where(ok)
    out.attrs.update(old=f"{old_year}{old_release}", new=f"{new_year}{new_release}", label=label)
    return out, label
