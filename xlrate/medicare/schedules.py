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

from xlrate.codes import clean_code, is_blank, is_valid_code, parse_modifiers, request_key
from xlrate.errors import InputError, RowError
from xlrate.medicare import anesthesia, asp, clfs, dmepos, schedule_store, store
from xlrate.medicare.store import NATIONAL, MedicareRelease, load_zip_table

if TYPE_CHECKING:
    import pandas as pd

SCHEDULES = ("PFS", "CLFS", "ASP", "DMEPOS", "PEN", "ANES")
PFS, CLFS, ASP, DMEPOS, PEN, ANES = range(6)
_STORE_DIR = {CLFS: "clfs", ASP: "asp", DMEPOS: "dmepos", PEN: "pen"}
ROUTED_STATUSES = frozenset({"unknown_code", "not_priced"})


@dataclass(frozen=True)
class ScheduleOptions:
    """Request options of the other schedules (the PFS engine does not take them)."""

    units: object = None  # for rows without a units column; default 1
    state: object = None  # DMEPOS/PEN state for rows without a ZIP or state column
    minutes: object = None  # anesthesia time for rows without a minutes column
    base_units: anesthesia.BaseUnitsSource = None  # CMS's anesthesia base units file


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
        self.places: dict[tuple[object, ...], _Place] = {}  # see _resolve_place
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


_MISSING = object()


def _route_pair(ctx: _Context, code_value: object, mod_value: object) -> _PairQuote | None:
    """The other schedule's quote for a request the PFS does not price, or None (stays PFS).

    Memoised per PFS release on the request's raw values, like the engine's pairs, except
    for anesthesia (its base units come with the request)."""
    memo: dict[tuple[object, ...], _PairQuote | None] = ctx.rel.__dict__.setdefault(
        "_route_memo", {}
    )
    key = request_key(code_value, mod_value)
    known = memo.get(key, _MISSING)
    if known is not _MISSING:
        return known  # type: ignore[return-value]
    code = clean_code(code_value)
    if not is_valid_code(code):
        return None
    s = ctx.schedule_of(code)
    found = None if s == PFS else _quote_pair(ctx, s, code, parse_modifiers(mod_value).codes)
    if s != ANES and len(memo) < 200_000:
        memo[key] = found
    return found


def _nowhere_note(ctx: _Context, code: str) -> str:
    others = [f"{SCHEDULES[s]} {r.info.release_id}" for s, r in ctx.releases.items() if r]
    return f"{code} is not in the {ctx.rel.release_id} physician fee schedule (PPRRVU)" + (
        f" nor in {', '.join(others)}" if others else ""
    )


def _quote_pair(ctx: _Context, schedule: int, code: str, mods: tuple[str, ...]) -> _PairQuote:
    """The pair's quote; memoised on the schedule release (its data never changes)."""
    release = ctx.releases.get(schedule)
    if release is None:
        return _quote_pair_uncached(ctx, schedule, code, mods)
    memo: dict[tuple[int, str, tuple[str, ...]], _PairQuote] = release.__dict__.setdefault(
        "_quote_memo", {}
    )
    key = (ctx.rel.year, code, mods)
    found = memo.get(key)
    if found is None:
        found = _quote_pair_uncached(ctx, schedule, code, mods)
        if release.info.year < ctx.rel.year:
            found.note += (
                f" (no CY{ctx.rel.year} {SCHEDULES[schedule]} release is installed: "
                f"the newest earlier one, {release.info.release_id}, is used)"
            )
        if len(memo) < 200_000:
            memo[key] = found
    return found


def _quote_pair_uncached(
    ctx: _Context, schedule: int, code: str, mods: tuple[str, ...]
) -> _PairQuote:
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


_zip_state_cache: dict[str, dict[str, str]] = {}


def _zip_states() -> dict[str, str]:
    """ZIP -> state from CMS's ZIP-to-locality file (cached until store.clear_cache)."""
    found = _zip_state_cache.get("zip")
    if found is None:
        table = load_zip_table()
        found = dict(zip(table.arrays["zip"].tolist(), table.arrays["state"].tolist(), strict=True))
        _zip_state_cache["zip"] = found
    return found


store.on_clear(_zip_state_cache.clear)

_contexts: dict[tuple[int, ScheduleOptions], _Context] = {}


def _context(rel: MedicareRelease, opts: ScheduleOptions) -> _Context:
    """The context of one release and options, kept for single prices (a column of cells
    asks the same one thousands of times); forgotten with the store's caches."""
    key = (id(rel), opts)
    try:
        found = _contexts.get(key)
    except TypeError:  # options that cannot be hashed (a base-units mapping): not kept
        return _Context(rel, opts)
    if found is None or found.rel is not rel:
        found = _contexts[key] = _Context(rel, opts)
        if len(_contexts) > 64:
            _contexts.clear()
            _contexts[key] = found
    return found


store.on_clear(_contexts.clear)


def _resolve_place(ctx: _Context, locality: object, zip_code: object, state: object) -> _Place:
    """The DMEPOS state, rural flag and anesthesia CF of a place (memoised on the context;
    the place is only read)."""
    key = tuple((type(v), v) for v in (locality, zip_code, state))
    try:
        found = ctx.places.get(key)
    except TypeError:  # a value that cannot be hashed: not kept
        return _resolve_place_uncached(ctx, locality, zip_code, state)
    if found is None:
        found = _resolve_place_uncached(ctx, locality, zip_code, state)
        if len(ctx.places) < 100_000:
            ctx.places[key] = found
    return found


def _resolve_place_uncached(
    ctx: _Context, locality: object, zip_code: object, state: object
) -> _Place:
    place = _Place()
    z = "" if is_blank(zip_code) else str(zip_code).strip()[:5]
    if z.isdigit() and len(z) < 5:
        z = z.zfill(5)
    loc = "" if is_blank(locality) else str(locality)
    if not is_blank(state):
        place.state = str(state).strip().upper()
        place.state_note = "the state given"
    elif z:
        place.state = _zip_states().get(z, "")
    elif loc and loc != NATIONAL and ctx.rel.has_gpci:
        i = ctx.rel.locality_index.get(loc)
        if i is not None and i < len(ctx.rel.localities):
            place.state = str(ctx.rel.arrays["gpci.state"][i])
            place.state_note = f"the state of locality {loc}"
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


def _unit_milli(value: object) -> int:
    """Units as exact thousandths; blank -> 1; refuse negatives and text."""
    if is_blank(value):
        return 1000
    try:
        d = Decimal(str(value).strip())
    except Exception:
        d = Decimal("NaN")
    if not d.is_finite() or d < 0:
        raise InputError(f"{value!r} is not a number of units (write 1, 2, 0.5...)")
    return int((d * 1000).to_integral_value())


def _minute(value: object) -> float:
    """Anesthesia minutes; blank -> NaN (none given); refuse negatives and text."""
    if is_blank(value):
        return float("nan")
    try:
        minutes = float(str(value).strip())
    except ValueError:
        raise InputError(f"{value!r} is not a number of minutes") from None
    if not minutes >= 0:
        raise InputError(f"{value!r} minutes cannot be negative")
    return minutes


def _units_milli(values: Any, what: str) -> np.ndarray:
    """:func:`_unit_milli` of each value (an option's: ``what`` names it in an error)."""
    try:
        return np.array([_unit_milli(v) for v in values], dtype=np.int64)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None


def _minutes(values: Any, what: str) -> np.ndarray:
    """:func:`_minute` of each value (an option's: ``what`` names it in an error)."""
    try:
        return np.array([_minute(v) for v in values], dtype=np.float64)
    except InputError as exc:
        raise InputError(f"{what}: {exc}") from None


def _column(
    convert: Any, values: list[object], index: np.ndarray, column: str, rows: Any = None
) -> list[Any]:
    """``convert`` of a column's distinct ``values`` (``index``: which one each row has). A
    bad value is a :class:`RowError` at the first row that has it (``rows``: the table
    position of each indexed row, when they are not all the table's)."""
    out = []
    for j, value in enumerate(values):
        try:
            out.append(convert(value))
        except InputError as exc:
            first = int(np.flatnonzero(index == j)[0])
            row = first if rows is None else int(rows[first])
            raise RowError(row, column, str(exc)) from None
    return out


def _price_routed(
    ctx: _Context,
    quotes: list[_PairQuote],
    pair: np.ndarray,
    places: list[_Place],
    place: np.ndarray,
    units_milli: np.ndarray,
    minutes: np.ndarray,
) -> tuple[np.ndarray, tuple[np.ndarray, list[str]], list[tuple[np.ndarray, list[str]]]]:
    """(cents or -1, status, note) for routed rows (``pair``/``place``: indexes per row).

    Status is (code per row, distinct words); the note is parts to join end to end, each
    (code per row, distinct texts), so no Python string is built per request row."""
    # The quotes' numbers in one pass: schedule, value, decimals, priced.
    numbers = np.array(
        [(q.schedule, q.value, q.places, q.status == "priced") for q in quotes], dtype=np.int64
    ).reshape(-1, 4)
    sched_of = numbers[:, 0].astype(np.int8)
    value_of = numbers[:, 1]
    places_of = numbers[:, 2]
    ok_of = numbers[:, 3].astype(bool)
    n = len(pair)
    # What the place did to a row (status and note): 0 nothing; DMEPOS/PEN 1 rural fee,
    # 2 non-rural fee, 3 no state, 4 no fee in the state, 5 only a rural fee; anesthesia
    # 6 with time units, 7 base units only, 8 no anesthesia CF for the locality.
    extra_code = np.zeros(n, dtype=np.int8)

    # CLFS, ASP: per-unit value (10**-places dollars) x units (thousandths), half-up to cents.
    flat_of = ok_of & ((sched_of == CLFS) | (sched_of == ASP))
    div_of = 10 ** (places_of + 1)  # per pair: its value has ``places`` decimals
    if _all_one(units_milli):  # one unit each: every row's cents are its pair's
        cents = np.where(flat_of, (value_of * 1000 + div_of // 2) // div_of, -1)[pair]
    else:
        cents = np.full(n, -1, dtype=np.int64)
        flat = flat_of[pair]
        div = div_of[pair[flat]]
        cents[flat] = (value_of[pair[flat]] * units_milli[flat] + div // 2) // div
    # Rows of the schedules priced by place, found from their pairs.
    by_place = np.flatnonzero(
        (ok_of & ((sched_of == DMEPOS) | (sched_of == PEN) | (sched_of == ANES)))[pair]
    )
    sched = sched_of[pair[by_place]]

    # DMEPOS, PEN: the state's fee, rural where the ZIP is rural and a rural fee exists.
    state_col = np.array([p.state for p in places], dtype=object)
    rural_of = np.array([p.rural for p in places], dtype=bool)
    for s in (DMEPOS, PEN):
        rows = by_place[sched == s]
        if not len(rows):
            continue
        release = ctx.releases[s]
        assert release is not None
        index = dmepos.state_index(release)
        state_of_place = np.array([index.get(str(st), -1) for st in state_col], dtype=np.int64)
        row_place = place[rows]
        st = state_of_place[row_place]
        fee, used_rural, only_rural = dmepos.amounts(
            release, value_of[pair[rows]], st, rural_of[row_place]
        )
        priced = fee >= 0
        if _all_one(units_milli):
            cents[rows] = fee  # -1 where there is none
        else:
            cents[rows[priced]] = (fee[priced] * units_milli[rows[priced]] + 500) // 1000
        code = np.where(used_rural, 1, 2)
        code = np.where(st < 0, 3, np.where(priced, code, np.where(only_rural, 5, 4)))
        extra_code[rows] = code

    # ANES: (base + time units) x CF x percent.
    rows = by_place[sched == ANES]
    if len(rows):
        cf_of = np.array([p.anes_cf for p in places], dtype=np.int64)
        cf = cf_of[place[rows]]
        time_ok = np.array([q.time_units for q in quotes], dtype=bool)[pair[rows]]
        mins = minutes[rows]
        has_time = time_ok & ~np.isnan(mins)
        tenths = anesthesia.time_tenths(np.where(has_time, mins, 0.0))
        total = value_of[pair[rows]] + tenths
        pct = np.array([q.percent for q in quotes], dtype=np.int64)[pair[rows]]
        got = cf > 0
        cents[rows[got]] = anesthesia.amount_cents(total[got], cf[got], pct[got])
        extra_code[rows] = np.where(got, np.where(has_time, 6, 7), 8)

    # Status per row, as codes into a short list of words.
    status_words = sorted(
        {q.status for q in quotes} | {"needs_state", "not_priced", "gpci_missing"}
    )
    word = {w: i for i, w in enumerate(status_words)}
    status = np.array([word[q.status] for q in quotes], dtype=np.int8)[pair]
    if len(by_place):  # what the place did, on the rows priced by place
        extra = extra_code[by_place]
        fixed = status[by_place]
        fixed = np.where(extra == 3, word["needs_state"], fixed)
        fixed = np.where((extra == 4) | (extra == 5), word["not_priced"], fixed)
        status[by_place] = np.where(extra == 8, word["gpci_missing"], fixed)

    # Notes: the pair's note, the place's part (per-state schedules), the units; every row's
    # note is a code into the distinct notes, each built once (pairs, places and units are
    # few; request rows are many).
    texts_b: list[str] = []
    extra = extra_code[by_place]
    dme = by_place[(extra >= 1) & (extra <= 5)]
    anes = by_place[extra >= 6]
    if len(dme):
        part_b = np.zeros(n, dtype=np.int64)  # 0: none, else 1 + index into texts_b
        keys_b, inv_b = _dense_factorize(place[dme] * 8 + extra_code[dme])
        for k in keys_b.tolist():
            p, extra = places[k // 8], k % 8
            if extra == 1:
                texts_b.append(f"; {p.state} rural fee (the ZIP is in CMS's rural ZIP file)")
            elif extra == 2:
                texts_b.append(
                    f"; {p.state} non-rural fee"
                    # No ZIP: the rural fee may be the one that applies.
                    + (f" ({p.state_note}: give a ZIP for the rural fee)" if not p.zip else "")
                )
            elif extra == 3:
                texts_b.append(
                    "; fees are per state: give a ZIP (--zip) or a state (--state)"
                    + (f" ({p.state!r} is not a state of the file)" if p.state else "")
                )
            elif extra == 4:
                texts_b.append(f"; no {p.state} fee for this code in the file")
            else:
                texts_b.append(
                    f"; the file has only a rural {p.state} fee for this code, and ZIP "
                    f"{p.zip or '(none given)'} is not in CMS's DMEPOS rural ZIP file"
                )
        part_b[dme] = inv_b + 1
    if n and (units_milli != 1000).any():  # "; x 2 units" after the amounts it scaled
        u_idx, u_vals = _small_factorize(units_milli)
        suffixes = [""] + [f"; x {Decimal(int(u)) / 1000:g} units" for u in u_vals.tolist()]
        scaled = (ok_of & (sched_of != ANES))[pair] & (cents >= 0) & (units_milli != 1000)
        part_u = np.where(scaled, u_idx + 1, 0)
    else:
        part_u, suffixes = np.zeros(0, dtype=np.int64), [""]
    part_a = pair
    # Anesthesia: base and time units and the CF, per distinct (pair, place, minutes).
    texts_c: list[str] = []
    if len(anes):
        part_a = pair.copy()
        m_idx, m_vals = _small_factorize(np.where(np.isnan(minutes), -1.0, minutes)[anes])
        keys_c, inv_c = np.unique(
            (pair[anes] * len(places) + place[anes]) * len(m_vals) * 9
            + m_idx * 9
            + extra_code[anes],
            return_inverse=True,
        )
        for k in keys_c.tolist():
            extra = k % 9
            rest = k // 9
            mins_given = float(m_vals[rest % len(m_vals)])
            rest //= len(m_vals)
            q, p = quotes[rest // len(places)], places[rest % len(places)]
            parts = [q.note] if q.note else []
            if extra == 8:
                parts.append(p.anes_note)
            else:
                pieces = [f"{anesthesia.fmt_units(q.value)} base units"]
                if extra == 6:
                    t = int(anesthesia.time_tenths(np.array([mins_given]))[0])
                    pieces.append(f"{anesthesia.fmt_units(t)} time units ({mins_given:g} min / 15)")
                parts.append(f"ANES: ({' + '.join(pieces)}) x {p.anes_note}")
                if extra == 7 and q.time_units:
                    parts.append("no anesthesia minutes given: base units only (give minutes)")
            texts_c.append("; ".join(parts))
        part_a[anes] = len(quotes) + inv_c.ravel()  # anesthesia notes follow the pairs'
    note_parts = [(part_a, [q.note for q in quotes] + texts_c)]
    if texts_b:
        note_parts.append((part_b, ["", *texts_b]))
    if part_u.any():
        note_parts.append((part_u, suffixes))
    return cents, (status, status_words), note_parts


def _one_value(units_milli: np.ndarray) -> int | None:
    """The units of every row when they are one broadcast value (no units column), else None."""
    if len(units_milli) and units_milli.strides == (0,):
        return int(units_milli[0])
    return None


def _all_one(units_milli: np.ndarray) -> bool:
    """Every row is for one unit (a broadcast is checked once)."""
    one = _one_value(units_milli)
    return one == 1000 if one is not None else not (units_milli != 1000).any()


def _dense_factorize(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys ascending, index per key) for small non-negative integer keys, in O(n)
    (np.unique sorts, which costs more than everything else for a million rows)."""
    if not len(keys):
        return keys[:0], keys[:0]
    present = np.zeros(int(keys.max()) + 1, dtype=bool)
    present[keys] = True
    ids = np.cumsum(present) - 1
    return np.flatnonzero(present), ids[keys].astype(np.int64)


def _small_factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index per value, distinct values) for a numeric column with few distinct values."""
    if len(values) and (values == values[0]).all():
        return np.zeros(len(values), dtype=np.int64), values[:1]
    uniq, inverse = np.unique(values, return_inverse=True)
    return inverse.ravel().astype(np.int64), uniq


# --------------------------------------------------------------------------- entry points


@dataclass
class Routed:
    """What :func:`route` adds to the engine's result: per-row schedule, units, release."""

    schedule: np.ndarray  # index into SCHEDULES (int8)
    units_milli: np.ndarray  # per row; a read-only broadcast of one value when all are alike
    #: Notes for pairs (by the engine's pair index) whose code no schedule lists: which
    #: files were looked in (the engine's note names the PFS file only).
    pair_notes: dict[int, str] = dataclasses.field(default_factory=dict)
    release: Any = None  # a Categorical of release ids per row, when some row was routed
    year: np.ndarray | None = None
    rows: np.ndarray | None = None  # the routed rows, with their status and note:
    status: tuple[np.ndarray, list[str]] | None = None  # (word per row, the words)
    note: list[tuple[np.ndarray, list[str]]] | None = None  # parts joined end to end


def route(
    res: dict[str, Any],
    frame: pd.DataFrame,
    rel: MedicareRelease,
    pair_requests: list[tuple[object, object]],
    pair_statuses: list[str],
    pair_idx: np.ndarray,
    place_localities: list[str],
    place_zips: list[object],
    place_idx: np.ndarray,
    opts: ScheduleOptions,
    zip_default: object = None,
) -> Routed:
    """Price, in the engine's cent arrays ``res`` (changed in place), the rows whose code the
    PFS does not price with the schedule that does, and scale every amount to the row's
    units. ``place_localities``/``place_zips``/``place_idx`` are the engine's distinct places
    (the locality each resolved to, the ZIP asked) and each row's place. The routed rows'
    status and note, and the notes of pairs no schedule lists, come back in the
    :class:`Routed`."""
    import pandas as pd  # lazy: pandas loads on use

    n = len(pair_idx)
    if "units" in frame.columns:
        u_idx, u_vals = pd.factorize(frame["units"], use_na_sentinel=False)
        units_milli = np.array(_column(_unit_milli, list(u_vals), u_idx, "units"), np.int64)[u_idx]
        if not is_blank(opts.units):
            blank = np.array([is_blank(v) for v in u_vals], dtype=bool)[u_idx]
            units_milli = np.where(blank, _units_milli([opts.units], "units")[0], units_milli)
    else:
        # One value for every row: a broadcast, no array of a million equal numbers.
        units_milli = np.broadcast_to(_units_milli([opts.units], "units")[:1], (n,))

    ctx = _context(rel, opts)
    schedule_of_pair = np.zeros(len(pair_requests), dtype=np.int8)
    quotes_by_pair: dict[int, _PairQuote] = {}
    routed = Routed(schedule_of_pair, units_milli)
    # Text requests are their own memo keys (see _route_pair): those met before are found
    # without a call.
    memo: dict[tuple[object, ...], _PairQuote | None] = rel.__dict__.get("_route_memo", {})
    for i, pfs_status in enumerate(pair_statuses):
        if pfs_status not in ROUTED_STATUSES:
            continue
        request = pair_requests[i]
        found = memo.get(request, _MISSING)
        if found is _MISSING:
            found = _route_pair(ctx, *request)
        if found is not None:
            assert isinstance(found, _PairQuote)
            schedule_of_pair[i] = found.schedule
            quotes_by_pair[i] = found
        elif pfs_status == "unknown_code":
            routed.pair_notes[i] = _nowhere_note(ctx, clean_code(request[0]))
    sched = routed.schedule = schedule_of_pair[pair_idx]

    # PFS rows: the engine's cents are for one unit.
    if not _all_one(units_milli):
        pfs = (sched == PFS) & (units_milli != 1000)
        for col in ("nonfacility_cents", "facility_cents"):
            cents = res[col]
            scaled = (cents * units_milli + 500) // 1000
            res[col] = np.where(pfs & (cents >= 0), scaled, cents)
    if not quotes_by_pair:
        return routed

    rows = np.flatnonzero(sched != PFS)
    order = sorted(quotes_by_pair)
    local = np.full(len(pair_requests), -1, dtype=np.int64)
    local[order] = np.arange(len(order))
    quotes = [quotes_by_pair[i] for i in order]
    pair = local[pair_idx[rows]]

    # Places of the routed rows: the engine's place (the locality it resolved to and the
    # ZIP asked) x the row's state, if the request says one.
    engine_place = place_idx[rows]

    def resolve(e: int, st: object) -> _Place:
        z = place_zips[e]
        return _resolve_place(
            ctx,
            place_localities[e],
            zip_default if is_blank(z) else z,
            opts.state if is_blank(st) else st,
        )

    if "state" in frame.columns:
        s_idx, s_vals = pd.factorize(
            frame["state"].to_numpy(dtype=object)[rows], use_na_sentinel=False
        )
        s_list = list(s_vals)
        place_keys, place = _dense_factorize(engine_place * len(s_list) + s_idx)
        places = [resolve(k // len(s_list), s_list[k % len(s_list)]) for k in place_keys.tolist()]
    else:  # the engine's places are few: each is resolved (memoised), none is renumbered
        place = engine_place
        places = [resolve(e, None) for e in range(len(place_localities))]
    if "minutes" in frame.columns:
        m_idx, m_vals = pd.factorize(
            frame["minutes"].to_numpy(dtype=object)[rows], use_na_sentinel=False
        )
        minutes = np.array(_column(_minute, list(m_vals), m_idx, "minutes", rows), np.float64)[
            m_idx
        ]
        if opts.minutes is not None:
            minutes = np.where(np.isnan(minutes), _minutes([opts.minutes], "minutes")[0], minutes)
    else:
        minutes = np.broadcast_to(_minutes([opts.minutes], "minutes")[:1], (len(rows),))
    if _one_value(units_milli) is not None:  # one value: still a broadcast
        row_units = np.broadcast_to(units_milli[:1], (len(rows),))
    else:
        row_units = units_milli[rows]

    cents, status, note = _price_routed(
        ctx, quotes, pair, places, place.ravel().astype(np.int64), row_units, minutes
    )
    for col in ("nonfacility_cents", "facility_cents"):
        res[col][rows] = cents
    # Status and note: the caller writes them into the engine's codes (distinct_texts).
    routed.rows, routed.status, routed.note = rows, status, note
    release_ids = sorted({q.release for q in quotes} | {rel.release_id})
    rid = np.full(n, release_ids.index(rel.release_id), dtype=np.int8)
    rid[rows] = np.array([release_ids.index(q.release) for q in quotes], dtype=np.int8)[pair]
    routed.release = pd.Categorical.from_codes(
        rid, dtype=pd.CategoricalDtype(release_ids), validate=False
    )
    years = np.array([int(r[:4]) for r in release_ids], dtype=np.int64)
    # Per row only when a schedule's release is of another year than the PFS's.
    routed.year = years[rid] if (years != rel.year).any() else None
    return routed


def join_parts(parts: list[tuple[np.ndarray, list[str]]]) -> np.ndarray:
    """Per-row texts from parts (code per row, distinct texts) joined end to end."""
    out = np.asarray(parts[0][1], dtype=object)[parts[0][0]]
    for codes, texts in parts[1:]:
        out = out + np.asarray(texts, dtype=object)[codes]
    return np.asarray(out, dtype=object)


def add_columns(out: pd.DataFrame, routed: Routed) -> None:
    """Write ``schedule`` and ``units`` (and, when some row was routed, each row's release
    and year) into ``out``. The routed rows' status and note go into the engine's own codes
    (see :func:`distinct_texts`) before its columns are built."""
    import pandas as pd  # lazy: pandas loads on use

    # Categorical: six words for a million rows cost nothing to build.
    out["schedule"] = pd.Categorical.from_codes(
        routed.schedule, dtype=pd.CategoricalDtype(list(SCHEDULES)), validate=False
    )
    one = _one_value(routed.units_milli)
    out["units"] = routed.units_milli / 1000.0 if one is None else one / 1000.0
    if routed.release is not None:
        out["release"] = routed.release
    if routed.year is not None:
        out["year"] = routed.year


def _dedupe(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """(codes, texts) with each text once."""
    position: dict[str, int] = {}
    ids = np.array([position.setdefault(t, len(position)) for t in texts], dtype=np.int64)
    if len(position) == len(texts):
        return codes, texts
    return ids[codes], list(position)


def distinct_texts(parts: list[tuple[np.ndarray, list[str]]]) -> tuple[np.ndarray, list[str]]:
    """The per-row texts that ``parts`` (code per row, distinct texts; joined end to end)
    spell, as (index per row, the texts of the distinct combinations).

    The parts' codes are combined into one number per row; each distinct combination is
    joined into text once (numpy's C loop over the few distinct values). No per-row string
    is built."""
    import pandas as pd  # lazy: pandas loads on use

    # Each part's texts once (many pairs share a note): then equal rows have equal keys.
    parts = [_dedupe(codes, texts) for codes, texts in parts]
    key = np.asarray(parts[0][0], dtype=np.int64)
    for codes, part_texts in parts[1:]:
        key = key * len(part_texts) + codes
    if len(key) and int(key.max()) < 4 * len(key) + 4096:
        distinct, index = _dense_factorize(key)
    else:
        index, distinct = pd.factorize(key)
    rest = np.asarray(distinct, dtype=np.int64)
    pieces = []
    for _codes, words in reversed(parts[1:]):
        rest, piece = np.divmod(rest, len(words))
        pieces.append(np.asarray(words, dtype=object)[piece])
    joined = np.asarray(parts[0][1], dtype=object)[rest]
    for piece_words in reversed(pieces):
        joined = joined + piece_words
    # Different combinations can spell the same text ("a" + "bc", "ab" + "c"): the caller
    # numbers texts, not combinations.
    return np.asarray(index, dtype=np.int64), joined.tolist()


def route_one(result: Any, rel: MedicareRelease, opts: ScheduleOptions, zip_code: object) -> Any:
    """The scalar API's version of :func:`route`: ``result`` is a PriceResult (no pandas)."""
    units = _units_milli([opts.units], "units")[0]
    if result.status in ROUTED_STATUSES and is_valid_code(result.code):
        ctx = _context(rel, opts)
        s = ctx.schedule_of(result.code)
        if s == PFS and result.status == "unknown_code":
            result = dataclasses.replace(result, note=_nowhere_note(ctx, result.code))
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
                status=status[1][int(status[0][0])],
                note=str(join_parts(note)[0]),
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
