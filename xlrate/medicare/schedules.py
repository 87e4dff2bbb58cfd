"""One entry point for every Medicare schedule: pick the schedule by code.

The physician fee schedule engine (``pricing.py``) prices every request first. A code it
does not price (status ``unknown_code`` or ``not_priced``: CLFS lab codes are status X in
the PFS, drugs status E, anesthesia status J, DMEPOS codes are absent) and that another
schedule lists is priced here, by the first schedule that has it, in this order:

    CLFS    lab: national limit per code/modifier                      (clfs.py)
    ASP     Part B drugs: payment limit per billing unit x units       (asp.py)
    DMEPOS  equipment and supplies: state fee, rural or not by ZIP     (dmepos.py)
    PEN     parenteral/enteral nutrition: same                         (dmepos.py)
    ANES    anesthesia: (base + time units) x the locality's CF        (anesthesia.py)

Codes the PFS prices stay PFS. Every row gets a ``schedule`` column (PFS, CLFS, ASP,
DMEPOS, PEN, ANES) and a ``units`` column; amounts are for the units given (a ``units``
column or argument, default 1; anesthesia time comes from ``minutes`` instead).

The release of each schedule is the one in force for the PFS release's quarter: the
newest one not after it (PFS 2025D uses CLFS 2025A when that is the newest CLFS we have);
the ``release`` and ``year`` columns of a routed row name the schedule's release.

Like the engine, work is done per distinct (code, modifier) pair and per distinct place in
plain Python, then on whole columns with numpy; no loop runs over request rows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from xlrate.codes import clean_code, is_valid_code, parse_modifiers
from xlrate.errors import InputError
from xlrate.medicare import anesthesia, asp, clfs, dmepos, schedule_store
from xlrate.medicare.store import NATIONAL, MedicareRelease, load_zip_table

if TYPE_CHECKING:
    import pandas as pd

SCHEDULES = ("PFS", "CLFS", "ASP", "DMEPOS", "PEN", "ANES")
PFS, CLFS, ASP, DMEPOS, PEN, ANES = range(6)
_STORE_DIR = {CLFS: "clfs", ASP: "asp", DMEPOS: "dmepos", PEN: "pen"}
ROUTED_STATUSES = frozenset({"unknown_code", "not_priced"})
OPTION_NAMES = ("units", "state", "minutes", "base_units")


@dataclass(frozen=True)
class ScheduleOptions:
    """Request options of the other schedules (the PFS engine does not take them)."""

    units: object = None  # for rows without a units column; default 1
    state: object = None  # DMEPOS/PEN state for rows without a ZIP or state column
    minutes: object = None  # anesthesia time for rows without a minutes column
    base_units: anesthesia.BaseUnitsSource = None  # CMS's anesthesia base units file


def pop_options(options: dict[str, Any]) -> ScheduleOptions:
    """Take this module's options out of ``options`` (the rest go to the PFS engine)."""
    return ScheduleOptions(**{k: options.pop(k) for k in OPTION_NAMES if k in options})


# --------------------------------------------------------------------------- schedules


class _Context:
    """The schedule releases and tables in force for one PFS release (built once per call)."""

    def __init__(self, rel: MedicareRelease, opts: ScheduleOptions):
        self.rel = rel
        self.opts = opts
        self.releases: dict[int, schedule_store.ScheduleRelease | None] = {
            s: schedule_store.load_for(d, rel.year, rel.quarter) for s, d in _STORE_DIR.items()
        }
        self._base_units: dict[str, int] | None | bool = False
        self._anes_codes: frozenset[str] | None = None

    @property
    def base_units(self) -> dict[str, int] | None:
        if self._base_units is False:
            self._base_units = anesthesia.base_units(self.opts.base_units)
        return self._base_units  # type: ignore[return-value]

    def anesthesia_codes(self) -> frozenset[str]:
        """Anesthesia codes: PFS status J (the file CMS ships), plus any in the base units file."""
        if self._anes_codes is None:
            found: frozenset[str] | None = self.rel.__dict__.get("_anes_codes")
            if found is None:
                a = self.rel.arrays
                found = frozenset(a["pprrvu.code"][a["pprrvu.status_code"] == "J"].tolist())
                self.rel.__dict__["_anes_codes"] = found
            table = self.base_units
            self._anes_codes = found | frozenset(table) if table else found
        return self._anes_codes

    def schedule_of(self, code: str) -> int:
        for s in (CLFS, ASP, DMEPOS, PEN):
            release = self.releases[s]
            if release is not None and code in release.codes:
                return s
        if code in self.anesthesia_codes():
            return ANES
        return PFS


def other_schedule_codes(rel: MedicareRelease) -> frozenset[str]:
    """Every code another schedule of ``rel``'s quarter prices (for coverage figures)."""
    ctx = _Context(rel, ScheduleOptions())
    codes: set[str] = set(ctx.anesthesia_codes())
    for release in ctx.releases.values():
        if release is not None:
            codes |= release.codes
    return frozenset(codes)


@dataclass
class _PairQuote:
    schedule: int
    code: str
    value: int = -1  # CLFS/ASP per-unit value; DMEPOS/PEN file row; ANES base units x 10
    places: int = 2
    percent: int = 100
    time_units: bool = True
    status: str = ""
    note: str = ""
    release: str = ""


def _quote_pair(ctx: _Context, schedule: int, code: str, mods: tuple[str, ...]) -> _PairQuote:
    release = ctx.releases.get(schedule)
    rid = release.info.release_id if release is not None else ctx.rel.release_id
    if schedule in (CLFS, ASP):
        assert release is not None
        q = (clfs.quote if schedule == CLFS else asp.quote)(release, code, mods)
        return _PairQuote(
            schedule, code, q.value, q.places, status=q.status, note=q.note, release=rid
        )
    if schedule in (DMEPOS, PEN):
        assert release is not None
        q = dmepos.quote(release, code, mods)
        return _PairQuote(schedule, code, q.row, status=q.status, note=q.note, release=rid)
    a = anesthesia.quote(ctx.base_units, code, mods)
    return _PairQuote(
        ANES, code, a.tenths, 1, a.percent, a.time_units, status=a.status, note=a.note, release=rid
    )


@dataclass
class _Place:
    state: str = ""
    state_note: str = ""
    rural: bool = False
    zip: str = ""
    anes_cf: int = -1
    anes_note: str = ""


def _zip_states() -> dict[str, str]:
    table = load_zip_table()
    found: dict[str, str] | None = table.__dict__.get("_states")
    if found is None:
        found = dict(zip(table.arrays["zip"].tolist(), table.arrays["state"].tolist(), strict=True))
        table.__dict__["_states"] = found
    return found


def _resolve_place(ctx: _Context, locality: object, zip_code: object, state: object) -> _Place:
    place = _Place()
    z = "" if _blank(zip_code) else str(zip_code).strip()[:5]
    if z.isdigit() and len(z) < 5:
        z = z.zfill(5)
    loc = "" if _blank(locality) else str(locality)
    if not _blank(state):
        place.state = str(state).strip().upper()
        place.state_note = f"state {place.state}"
    elif z:
        place.state = _zip_states().get(z, "")
        place.state_note = f"ZIP {z} ({place.state})" if place.state else ""
    elif loc and loc != NATIONAL and ctx.rel.has_gpci:
        i = ctx.rel.locality_index.get(loc)
        if i is not None and i < len(ctx.rel.localities):
            place.state = str(ctx.rel.arrays["gpci.state"][i])
            place.state_note = (
                f"state {place.state} of locality {loc}; give a ZIP for the rural fee"
            )
    place.zip = z
    dme = ctx.releases.get(DMEPOS) or ctx.releases.get(PEN)
    place.rural = bool(z) and dme is not None and z in dmepos.rural_zips(dme)
    # Anesthesia CF: the locality's (ANES file) or the national one.
    if not loc or loc == NATIONAL:
        cf = anesthesia.national_cf().get(ctx.rel.year)
        if cf is not None:
            place.anes_cf = cf
            place.anes_note = f"national anesthesia CF {anesthesia.fmt_cf(cf)}"
        else:
            place.anes_note = f"no national anesthesia CF for CY{ctx.rel.year} in xlrate's data"
    else:
        cf = ctx.rel.anesthesia_cf.get(loc)
        if cf is not None:
            place.anes_cf = int(cf)
            place.anes_note = f"anesthesia CF {anesthesia.fmt_cf(int(cf))} ({loc}, ANES file)"
        else:
            place.anes_note = (
                f"no anesthesia CF for {loc} in release {ctx.rel.release_id} (its ANES file is "
                "not installed)"
            )
    return place


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    return str(value).strip() == ""


def _units_milli(values: Any, what: str) -> np.ndarray:
    """Units as exact thousandths; blank -> 1; refuse negatives and text."""
    out = np.empty(len(values), dtype=np.int64)
    for i, v in enumerate(values):
        if _blank(v):
            out[i] = 1000
            continue
        try:
            d = Decimal(str(v).strip())
        except Exception:
            d = Decimal("NaN")
        if not d.is_finite() or d < 0:
            raise InputError(f"{what}: {v!r} is not a number of units (write 1, 2, 0.5...)")
        out[i] = int((d * 1000).to_integral_value())
    return out


def _minutes(values: Any, what: str) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if _blank(v):
            continue
        try:
            out[i] = float(str(v).strip())
        except ValueError:
            raise InputError(f"{what}: {v!r} is not a number of minutes") from None
        if out[i] < 0:
            raise InputError(f"{what}: {v!r} minutes cannot be negative")
    return out


def _money(value: int) -> str:
    return f"{value // 100}.{value % 100:02d}"


def _price_routed(
    ctx: _Context,
    quotes: list[_PairQuote],
    pair: np.ndarray,
    places: list[_Place],
    place: np.ndarray,
    units_milli: np.ndarray,
    minutes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cents or -1, status, note) for routed rows (``pair``/``place``: indexes per row)."""
    sched_of = np.array([q.schedule for q in quotes], dtype=np.int64)
    value_of = np.array([q.value for q in quotes], dtype=np.int64)
    places_of = np.array([q.places for q in quotes], dtype=np.int64)
    ok_of = np.array([q.status == "priced" for q in quotes], dtype=bool)
    sched = sched_of[pair]
    value = value_of[pair]
    ok = ok_of[pair]
    n = len(pair)
    cents = np.full(n, -1, dtype=np.int64)
    # Extra status / note per row: 0 none, else an index into `extra`.
    extra_code = np.zeros(n, dtype=np.int64)

    # CLFS, ASP: per-unit value (10**-places dollars) x units (thousandths), half-up to cents.
    flat = ok & ((sched == CLFS) | (sched == ASP))
    if flat.any():
        div = 10 ** (places_of[pair][flat] + 1)
        exact = value[flat] * units_milli[flat]
        cents[flat] = (exact + div // 2) // div

    # DMEPOS, PEN: the state's fee, rural where the ZIP is rural and a rural fee exists.
    state_col = np.array([p.state for p in places], dtype=object)
    rural_of = np.array([p.rural for p in places], dtype=bool)
    for s in (DMEPOS, PEN):
        rows = np.flatnonzero(ok & (sched == s))
        if not len(rows):
            continue
        release = ctx.releases[s]
        assert release is not None
        index = dmepos.state_index(release)
        state_of_place = np.array([index.get(str(st), -1) for st in state_col], dtype=np.int64)
        st = state_of_place[place[rows]]
        fee, used_rural, only_rural = dmepos.amounts(
            release, value[rows], st, rural_of[place[rows]]
        )
        priced = fee >= 0
        cents[rows[priced]] = (fee[priced] * units_milli[rows[priced]] + 500) // 1000
        # 1 rural fee used, 2 non-rural, 3 no state, 4 no fee in that state, 5 rural-only fee
        code = np.where(used_rural, 1, 2)
        code = np.where(st < 0, 3, np.where(priced, code, np.where(only_rural, 5, 4)))
        extra_code[rows] = code

    # ANES: (base + time units) x CF x percent.
    rows = np.flatnonzero(ok & (sched == ANES))
    if len(rows):
        cf_of = np.array([p.anes_cf for p in places], dtype=np.int64)
        cf = cf_of[place[rows]]
        time_ok = np.array([q.time_units for q in quotes], dtype=bool)[pair[rows]]
        mins = minutes[rows]
        has_time = time_ok & ~np.isnan(mins)
        tenths = anesthesia.time_tenths(np.where(has_time, mins, 0.0))
        total = value[rows] + tenths
        pct = np.array([q.percent for q in quotes], dtype=np.int64)[pair[rows]]
        got = cf > 0
        cents[rows[got]] = anesthesia.amount_cents(total[got], cf[got], pct[got])
        extra_code[rows] = np.where(got, np.where(has_time, 6, 7), 8)

    # Status per row.
    status_of = np.array([q.status for q in quotes], dtype=object)
    status = status_of[pair]
    status = np.where(extra_code == 3, "needs_state", status)
    status = np.where((extra_code == 4) | (extra_code == 5), "not_priced", status)
    status = np.where(extra_code == 8, "gpci_missing", status)

    # Notes: built once per distinct (pair, place, extra, units, minutes) key.
    note = np.empty(n, dtype=object)
    mins_key = np.where(np.isnan(minutes), -1, np.rint(minutes * 1000)).astype(np.int64)
    keys = np.stack([pair, place, extra_code, units_milli, mins_key], axis=1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    texts = []
    for k_pair, k_place, k_extra, k_units, k_min in uniq.tolist():
        q = quotes[k_pair]
        p = places[k_place]
        parts = [q.note] if q.note else []
        if k_extra in (1, 2):
            kind = "rural" if k_extra == 1 else "non-rural"
            where = p.state_note or f"state {p.state}"
            if k_extra == 1:
                parts.append(f"{p.state} rural fee (ZIP {p.zip} is in CMS's DMEPOS rural ZIP file)")
            elif p.zip:
                parts.append(f"{p.state} non-rural fee ({where})")
            else:
                parts.append(f"{p.state} {kind} fee ({where})")
        elif k_extra == 3:
            parts.append(
                f"{SCHEDULES[q.schedule]} fees are per state: give a ZIP (--zip) or a state"
                + (f" ({p.state!r} is not a state of the file)" if p.state else "")
            )
        elif k_extra == 4:
            parts.append(f"no {p.state} fee for this code in the file")
        elif k_extra == 5:
            parts.append(
                f"the file has only a rural {p.state} fee for this code; ZIP {p.zip or '(none)'} "
                "is not in CMS's DMEPOS rural ZIP file"
            )
        elif k_extra in (6, 7, 8):
            if k_extra == 8:
                parts.append(p.anes_note)
            else:
                base = q.value
                time = (
                    int(anesthesia.time_tenths(np.array([k_min / 1000]))[0]) if k_extra == 6 else 0
                )
                pieces = [f"{anesthesia.fmt_units(base)} base units"]
                if k_extra == 6:
                    pieces.append(
                        f"{anesthesia.fmt_units(time)} time units ({k_min / 1000:g} min / 15)"
                    )
                parts.append(f"ANES: ({' + '.join(pieces)}) x {p.anes_note}")
                if k_extra == 7 and q.time_units:
                    parts.append("no anesthesia minutes given: base units only (give minutes)")
        if (
            k_units != 1000
            and q.schedule != ANES
            and q.status == "priced"
            and k_extra not in (3, 4, 5)
        ):
            parts.append(f"x {Decimal(k_units) / 1000:g} units")
        texts.append("; ".join(x for x in parts if x))
    note[:] = np.array(texts, dtype=object)[inverse.ravel()]
    return cents, status, note


# --------------------------------------------------------------------------- entry points


def route(
    out: pd.DataFrame,
    frame: pd.DataFrame,
    rel: MedicareRelease,
    pair_requests: list[tuple[object, object]],
    pair_statuses: list[str],
    pair_idx: np.ndarray,
    opts: ScheduleOptions,
    zip_default: object = None,
) -> None:
    """Add ``schedule`` and ``units`` to the PFS engine's result ``out`` (in place), price
    the rows whose code the PFS does not price with the schedule that does, and scale
    every amount to the row's units."""
    import pandas as pd

    n = len(out)
    if "units" in frame.columns:
        u_idx, u_vals = pd.factorize(frame["units"], use_na_sentinel=False)
        default = _units_milli([opts.units], "units")[0] if not _blank(opts.units) else 1000
        units_milli = _units_milli(list(u_vals), "the units column")[u_idx]
        if default != 1000:
            blank = np.array([_blank(v) for v in u_vals], dtype=bool)[u_idx]
            units_milli = np.where(blank, default, units_milli)
    else:
        units_milli = np.full(n, _units_milli([opts.units], "units")[0], dtype=np.int64)

    ctx = _Context(rel, opts)
    schedule_of_pair = np.zeros(len(pair_requests), dtype=np.int64)
    quotes_by_pair: dict[int, _PairQuote] = {}
    for i, ((code_value, mod_value), pfs_status) in enumerate(
        zip(pair_requests, pair_statuses, strict=True)
    ):
        if pfs_status not in ROUTED_STATUSES:
            continue
        code = clean_code(code_value)
        if not is_valid_code(code):
            continue
        s = ctx.schedule_of(code)
        if s != PFS:
            schedule_of_pair[i] = s
            quotes_by_pair[i] = _quote_pair(ctx, s, code, parse_modifiers(mod_value).codes)
    sched = schedule_of_pair[pair_idx]
    out["schedule"] = np.array(SCHEDULES, dtype=object)[sched]
    out["units"] = units_milli / 1000.0

    # PFS rows: the engine's amount is for one unit.
    scale = units_milli != 1000
    if scale.any():
        pfs_rows = scale & (sched == PFS)
        for col in ("nonfacility_amount", "facility_amount", "amount"):
            values = out[col].to_numpy(dtype=np.float64)
            cents = np.rint(np.nan_to_num(values[pfs_rows], nan=-1) * 100).astype(np.int64)
            scaled = (cents * units_milli[pfs_rows] + 500) // 1000
            values = values.copy()
            values[pfs_rows] = np.where(cents >= 0, scaled / 100.0, np.nan)
            out[col] = values
    if not quotes_by_pair:
        return

    rows = np.flatnonzero(sched != PFS)
    order = sorted(quotes_by_pair)
    local = np.full(len(pair_requests), -1, dtype=np.int64)
    local[order] = np.arange(len(order))
    quotes = [quotes_by_pair[i] for i in order]
    pair = local[pair_idx[rows]]

    # Distinct places of the routed rows: (locality as resolved by the engine, zip, state).
    loc = out["locality"].to_numpy(dtype=object)[rows]
    zips = (
        frame["zip"].to_numpy(dtype=object)[rows]
        if "zip" in frame.columns
        else np.full(len(rows), None, dtype=object)
    )
    if zip_default is not None:
        zips = np.array([zip_default if _blank(z) else z for z in zips], dtype=object)
    states = (
        frame["state"].to_numpy(dtype=object)[rows]
        if "state" in frame.columns
        else np.full(len(rows), None, dtype=object)
    )
    if opts.state is not None:
        states = np.array([opts.state if _blank(s) else s for s in states], dtype=object)
    keys = pd.MultiIndex.from_arrays(
        [pd.Series(loc).fillna(""), pd.Series(zips).fillna(""), pd.Series(states).fillna("")]
    )
    place, uniq = pd.factorize(keys)
    places = [_resolve_place(ctx, lo, z, st) for lo, z, st in uniq]
    if "minutes" in frame.columns:
        m_idx, m_vals = pd.factorize(
            frame["minutes"].to_numpy(dtype=object)[rows], use_na_sentinel=False
        )
        minutes = _minutes(list(m_vals), "the minutes column")[m_idx]
        if opts.minutes is not None:
            minutes = np.where(np.isnan(minutes), _minutes([opts.minutes], "minutes")[0], minutes)
    else:
        minutes = np.full(len(rows), _minutes([opts.minutes], "minutes")[0])

    cents, status, note = _price_routed(
        ctx, quotes, pair, places, np.asarray(place, dtype=np.int64), units_milli[rows], minutes
    )
    amount = np.where(cents >= 0, cents / 100.0, np.nan)
    for col in ("nonfacility_amount", "facility_amount", "amount"):
        values = out[col].to_numpy(dtype=np.float64).copy()
        values[rows] = amount
        out[col] = values
    for col, new in (("status", status), ("note", note)):
        values = out[col].to_numpy(dtype=object).copy()
        values[rows] = new
        out[col] = values
    release_of = np.array([q.release for q in quotes], dtype=object)[pair]
    values = out["release"].to_numpy(dtype=object).copy()
    values[rows] = release_of
    out["release"] = values
    years = out["year"].to_numpy().copy()
    years[rows] = (
        np.array([int(r[:4]) for r in release_of.tolist()], dtype=years.dtype)
        if len(rows)
        else years[rows]
    )
    out["year"] = years


def route_one(result: Any, rel: MedicareRelease, opts: ScheduleOptions, zip_code: object) -> Any:
    """The scalar API's version of :func:`route`: ``result`` is a PriceResult (no pandas)."""
    units = _units_milli([opts.units], "units")[0]
    if result.status in ROUTED_STATUSES and is_valid_code(result.code):
        ctx = _Context(rel, opts)
        s = ctx.schedule_of(result.code)
        if s != PFS:
            q = _quote_pair(ctx, s, result.code, parse_modifiers(result.modifier).codes)
            place = _resolve_place(ctx, result.locality, zip_code, opts.state)
            minutes = _minutes([opts.minutes], "minutes")
            cents, status, note = _price_routed(
                ctx,
                [q],
                np.zeros(1, dtype=np.int64),
                [place],
                np.zeros(1, dtype=np.int64),
                np.array([units], dtype=np.int64),
                minutes,
            )
            amount = None if cents[0] < 0 else Decimal(int(cents[0])).scaleb(-2)
            return dataclasses.replace(
                result,
                amount=amount,
                nonfacility=amount,
                facility=amount,
                status=str(status[0]),
                note=str(note[0]),
                release=q.release,
                year=int(q.release[:4]),
                schedule=SCHEDULES[s],
                units=Decimal(int(units)) / 1000,
            )
    if units == 1000:
        return result

    def times(value: Decimal | None) -> Decimal | None:
        if value is None:
            return None
        cents = int(value.scaleb(2)) * int(units)
        return Decimal((cents + 500) // 1000).scaleb(-2)

    return dataclasses.replace(
        result,
        amount=times(result.amount),
        nonfacility=times(result.nonfacility),
        facility=times(result.facility),
        units=Decimal(int(units)) / 1000,
    )
