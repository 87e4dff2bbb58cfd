"""The Medicare physician fee schedule engine: what Medicare pays, exactly as CMS computes it.

    amount = [(work RVU x work GPCI) + (PE RVU x PE GPCI) + (MP RVU x MP GPCI)] x CF

RVUs (2 decimals), GPCIs (3 decimals) and the conversion factor (4 decimals) are held as
exact integers, so the sum above is an exact integer in units of 1e-9 dollars. Every
adjustment (OPPS imaging cap, payment-policy modifiers, non-participating, limiting
charge, non-physician practitioner, sequestration) is applied to that exact value and the
result is rounded half-up to cents once, at the end. This reproduces CMS's own published
amounts to the cent (tests/medicare/test_pfrev.py checks all 109 localities of PFREV25C).

One engine serves every caller. Requests are reduced to their distinct (code, modifier)
pairs, localities and settings (a few thousand at most, resolved in plain Python), then
all rows are priced together with numpy arithmetic on whole columns. ``price`` feeds it a
DataFrame. No Python loop runs over request rows; long tables are priced in chunks of
rows so the temporaries stay in cache and time grows linearly with the rows.

One set of rules, two executors. Resolving a request (code, modifiers, payment policy,
status, locality), combining statuses and wording notes are plain Python over the
release's columns (:func:`_resolve_pair`, :func:`_resolve_place`, :func:`_row_status`,
:func:`_note_text`); the arithmetic runs either on numpy columns (:func:`_engine`, for
``price``) or on Python ints for one request (:func:`_cents_one`, for
``medicare_amount``). The scalar executor needs only the standard library, so a single
price works where numpy and pandas are not installed (Pyodide in Excel on the web);
tests/medicare/test_executors.py checks the two agree to the cent.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from xlrate.codes import (
    Modifiers,
    clean_code,
    code_cell,
    is_blank,
    parse_modifiers,
    request_key,
)
from xlrate.errors import CodeError, InputError, RowError
from xlrate.medicare import layouts, store
from xlrate.medicare.localities import normalize_locality, resolve_zip
from xlrate.medicare.store import NATIONAL, MedicareRelease, load_release

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Facility places of service (DOMAIN.md section 1): hospitals, SNFs, ASCs, psychiatric and
# rehabilitation facilities. Every other POS, office (11) included, is non-facility.
FACILITY_POS = frozenset({19, 21, 22, 23, 24, 26, 31, 34, 41, 42, 51, 52, 53, 56, 61})
SETTINGS = ("nonfacility", "facility", "both")
NONFAC, FAC, BOTH = 0, 1, 2
COMPONENT_MODIFIERS = ("26", "TC", "53")
POLICY_SCALE = 1_000_000  # payment-policy factors are integers in millionths

STATUSES = (
    "priced",
    "not_priced",
    "carrier_priced",
    "na_setting",
    "no_component",
    "unknown_code",
    "invalid_code",
    "unknown_locality",
    "split_zip",
    "gpci_missing",
)
_STATUS_INDEX = {s: i for i, s in enumerate(STATUSES)}

#: Statuses another Medicare schedule may price (xlrate.medicare.schedules.ROUTED_STATUSES).
ROUTED_STATUSES = frozenset({"unknown_code", "not_priced"})
#: Row statuses of a place that cannot be priced: no other schedule is tried for them.
PLACE_ERRORS = ("unknown_locality", "split_zip", "gpci_missing")
#: Options the other schedules take (the fields of xlrate.medicare.schedules.ScheduleOptions;
#: named here so that a single price need not load that module), not the PFS.
SCHEDULE_OPTIONS = frozenset({"units", "state", "minutes", "base_units"})

PCTC_MEANING = {
    "0": "physician service: the professional/technical split does not apply",
    "1": "diagnostic test with professional and technical components",
    "2": "professional-component-only code",
    "3": "technical-component-only code",
    "4": "global-only test (separate codes exist for the components)",
    "5": "incident-to code",
    "6": "laboratory physician interpretation code",
    "7": "physical therapy service",
    "8": "physician interpretation code",
    "9": "the professional/technical concept does not apply",
}


@dataclass(frozen=True)
class Options:
    """Payment options; each is a factor on the fee schedule amount."""

    participating: bool = True  # False: non-participating fee, 95%
    limiting_charge: bool = False  # 115% of the non-par fee = 109.25% of the fee schedule
    npp: bool = False  # nurse practitioner / physician assistant, 85%
    sequestration: bool = False  # 2% cut on Medicare's 80%: 98.4% of the allowed amount
    qp: bool = False  # 2026+: qualifying APM participant conversion factor
    include_na: bool = False  # price settings with the NA indicator too (the note stays)

    def factor(self) -> tuple[int, int]:
        """The options' combined factor as an exact fraction (numerator, denominator)."""
        num, den = 1, 1
        if self.limiting_charge:
            num, den = num * 10925, den * 10000
        elif not self.participating:
            num, den = num * 95, den * 100
        if self.npp:
            num, den = num * 85, den * 100
        if self.sequestration:
            num, den = num * 984, den * 1000
        return num, den

    def describe(self, rel: MedicareRelease | None = None) -> str:
        """The options in words, for the note (with the QP conversion factor's source)."""
        parts = []
        if self.limiting_charge:
            parts.append("limiting charge (109.25%)")
        elif not self.participating:
            parts.append("non-participating (95%)")
        if self.npp:
            parts.append("NP/PA (85%)")
        if self.sequestration:
            parts.append("after 2% sequestration (98.4%)")
        if self.qp and rel is not None:
            if rel.qp_conversion_factor:
                cf = rel.qp_conversion_factor
                parts.append(
                    f"qualifying APM participant conversion factor {cf // 10000}.{cf % 10000:04d} "
                    f"(from {rel.qp_conversion_factor_source})"
                )
            else:
                parts.append(f"CY{rel.year} has one conversion factor for all clinicians")
        return ", ".join(parts)


def make_options(**options: Any) -> Options:
    known = set(Options.__dataclass_fields__)
    unknown = set(options) - known
    if unknown:
        raise InputError(
            f"unknown pricing option {', '.join(sorted(unknown))}: valid options are {', '.join(sorted(known))}"
        )
    return Options(**{k: bool(v) for k, v in options.items()})


@cache
def _status_notes() -> dict[str, tuple[bool, str]]:
    return {r["status"]: (r["priced"] == "1", r["note"]) for r in layouts.rows("status_codes.csv")}


# --------------------------------------------------------------------------- resolution


@dataclass
class _Pair:
    """What one distinct (code, modifier) request resolves to."""

    row: int = -1
    status: str = ""  # an error status that stops pricing, or ""
    note: str = ""  # note shown when priced (or the error note)
    policy: int = POLICY_SCALE
    na_note_nonfac: str = ""
    na_note_fac: str = ""
    #: Notes of priced rows already worded, by (NA shown and capped flags, options text):
    #: the pair lives as long as its release, so a bulk call words each note once.
    worded: dict[tuple[int, str], str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class _PolicyRule:
    """One row of layouts/modifier_policy.csv (see modifier_policy.md there)."""

    modifiers: frozenset[str]
    indicator: str  # PPRRVU column: bilat_surg, mult_proc, co_surg, asst_surg
    values: frozenset[str]  # indicator values the rule is for; empty = any other value
    factor: Fraction  # payment as a fraction of the fee schedule amount
    status: str  # "" or the status that stops pricing
    note: str  # with {modifier} and {value} placeholders


@cache
def _policy_rules() -> tuple[_PolicyRule, ...]:
    return tuple(
        _PolicyRule(
            modifiers=frozenset(r["modifier"].split()),
            indicator=r["indicator"],
            values=frozenset() if r["values"] == "*" else frozenset(r["values"].split()),
            factor=Fraction(r["percent"] or "100") / 100,
            status=r["status"],
            note=r["note"],
        )
        for r in layouts.rows("modifier_policy.csv")
    )


@cache
def _policy_modifiers() -> frozenset[str]:
    return frozenset().union(*(rule.modifiers for rule in _policy_rules()))


def _policy(rel: MedicareRelease, row: int, mods: tuple[str, ...]) -> tuple[int, str, str]:
    """Payment-policy modifiers: (factor in millionths, error status or "", note).

    The rules are data (layouts/modifier_policy.csv); the first rule for the modifier whose
    values hold the code's PPRRVU indicator applies.
    """
    factor = POLICY_SCALE
    notes: list[str] = []
    for mod in mods:
        for rule in _policy_rules():
            if mod not in rule.modifiers:
                continue
            value = str(rel.columns[f"pprrvu.{rule.indicator}"][row])
            if rule.values and value not in rule.values:
                continue
            note = rule.note.format(modifier=mod, value=value)
            if rule.status:
                return factor, rule.status, note
            factor = factor * rule.factor.numerator // rule.factor.denominator
            notes.append(note)
            break
    return factor, "", "; ".join(notes)


def _resolve_pair(rel: MedicareRelease, code_value: object, mod_value: object) -> _Pair:
    """Resolve one distinct request (memoised per release: the data never changes)."""
    memo: dict[tuple[object, ...], _Pair] = rel.__dict__.setdefault("_pair_memo", {})
    key = request_key(code_value, mod_value)
    found = memo.get(key)
    if found is None:
        found = _resolve_pair_uncached(rel, code_value, mod_value)
        if len(memo) < 200_000:
            memo[key] = found
    return found


def _resolve_pairs(rel: MedicareRelease, requests: list[tuple[object, object]]) -> list[_Pair]:
    """:func:`_resolve_pair` for many requests. Text requests are their own memo keys (see
    there), so those already met are found in one pass at C speed."""
    memo: dict[tuple[object, ...], _Pair] = rel.__dict__.setdefault("_pair_memo", {})
    found: list[_Pair | None] = list(map(memo.get, requests))
    if None in found:
        for i in [i for i, pair in enumerate(found) if pair is None]:
            found[i] = _resolve_pair(rel, *requests[i])
    return found  # type: ignore[return-value]  # no None is left


@lru_cache(maxsize=65536, typed=True)
def _clean_code(value: object) -> str:
    """clean_code, remembered: the scalar path needs it twice (resolution and the result)."""
    return clean_code(value)


@lru_cache(maxsize=4096, typed=True)
def _modifier_text(value: object) -> str:
    return parse_modifiers(value).text


def _resolve_pair_uncached(rel: MedicareRelease, code_value: object, mod_value: object) -> _Pair:
    try:
        # The rule of every input: a code, or one with modifiers attached (99214-25).
        code, attached = code_cell(code_value)
    except CodeError as exc:
        return _Pair(status="invalid_code", note=str(exc))
    mods = parse_modifiers(mod_value)
    if mods.note:
        return _Pair(status="invalid_code", note=f"not a modifier: {mods.note!r}")
    if attached:
        mods = Modifiers(attached + mods.codes)
    if code not in rel.codes:
        return _Pair(
            status="unknown_code",
            note=f"{code} is not in the {rel.release_id} physician fee schedule (PPRRVU)",
        )
    components = [m for m in mods.codes if m in COMPONENT_MODIFIERS]
    if len(components) > 1:
        return _Pair(
            status="invalid_code", note=f"modifiers {' and '.join(components)} cannot be combined"
        )
    component = components[0] if components else ""
    row = rel.rvu_index.get((code, component), -1)
    if row < 0:
        base = rel.rvu_index.get((code, ""), -1)
        pctc = str(rel.columns["pprrvu.pctc"][base]) if base >= 0 else "?"
        meaning = PCTC_MEANING.get(pctc, "")
        return _Pair(
            status="no_component",
            note=f"{code} has no {component} component in the fee schedule (PCTC {pctc}: {meaning})",
        )
    a = rel.columns
    status_code = str(a["pprrvu.status_code"][row])
    priced, status_note = _status_notes().get(
        status_code, (False, f"not priced: status {status_code}")
    )
    pair = _Pair(row=row)
    if not priced:
        pair.status = "carrier_priced" if status_code == "C" else "not_priced"
        pair.note = status_note
        return pair
    policy_mods = tuple(m for m in mods.codes if m in _policy_modifiers())
    notes = [status_note] if status_note else []
    if policy_mods:
        pair.policy, error, policy_note = _policy(rel, row, policy_mods)
        if error:
            pair.status, pair.note = error, policy_note
            return pair
        if policy_note:
            notes.append(policy_note)
    pair.note = "; ".join(notes)
    if bool(a["pprrvu.na_nonfacility"][row]):
        pair.na_note_nonfac = "NA: not normally paid in the non-facility setting (office)"
    if bool(a["pprrvu.na_facility"][row]):
        pair.na_note_fac = "NA: not normally paid in the facility setting"
    return pair


@dataclass
class _Place:
    index: int = -1  # position in the release's GPCI arrays; -1 when not priceable
    locality: str = ""
    status: str = ""
    note: str = ""


def _resolve_place(
    rel: MedicareRelease, locality: object, zip_code: object, national: bool
) -> _Place:
    """Resolve one distinct place (memoised per release, like the pairs)."""
    memo: dict[tuple[object, ...], _Place] = rel.__dict__.setdefault("_place_memo", {})
    key = (type(locality), locality, type(zip_code), zip_code, national)
    try:
        found = memo.get(key)
    except TypeError:  # a value that cannot be hashed: not kept
        return _resolve_place_uncached(rel, locality, zip_code, national)
    if found is None:
        found = _resolve_place_uncached(rel, locality, zip_code, national)
        if len(memo) < 100_000:
            memo[key] = found
    return found


def _resolve_place_uncached(
    rel: MedicareRelease, locality: object, zip_code: object, national: bool
) -> _Place:
    if national or (is_blank(locality) and is_blank(zip_code)):
        return _Place(index=rel.locality_index[NATIONAL], locality=NATIONAL)
    note = ""
    if not is_blank(locality):
        loc = normalize_locality(locality)
        if loc is None:
            return _Place(
                locality=str(locality),
                status="unknown_locality",
                note=f"{locality!r} is not a locality id: write MAC-LOC, such as 01112-05",
            )
        if loc == NATIONAL:
            return _Place(index=rel.locality_index[NATIONAL], locality=NATIONAL)
    else:
        try:
            match = resolve_zip(zip_code)
        except InputError as exc:
            return _Place(locality="", status="unknown_locality", note=str(exc))
        if match.locality is None:
            return _Place(locality="", status="split_zip", note=match.note)
        loc, note = match.locality, match.note
    if not rel.has_gpci:
        return _Place(
            locality=loc,
            status="gpci_missing",
            note=(
                f"CY{rel.year} locality GPCIs are not installed (release {rel.release_id} has the RVU "
                f"file only): run `xlrate medicare update --year {rel.year}` to get them, or price "
                "nationally"
            ),
        )
    index = rel.locality_index.get(loc)
    if index is None:
        return _Place(
            locality=loc,
            status="unknown_locality",
            note=f"{loc} is not a Medicare locality in {rel.release_id}: `xlrate localities --search NAME` lists them",
        )
    return _Place(index=index, locality=loc, note=note)


def _setting_mode(value: object, default: int) -> int:
    key = (type(value), value, default)
    try:
        return _SETTING_MEMO[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable value: answered, not remembered
        return _setting_mode_uncached(value, default)
    mode = _setting_mode_uncached(value, default)
    if len(_SETTING_MEMO) < 4096:
        _SETTING_MEMO[key] = mode
    return mode


_SETTING_MEMO: dict[tuple[type, object, int], int] = {}


def _setting_mode_uncached(value: object, default: int) -> int:
    if is_blank(value):
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return FAC if int(value) in FACILITY_POS else NONFAC
    text = str(value).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if text in ("nonfacility", "nf", "nonfac", "office", "non", "n"):
        return NONFAC
    if text in ("facility", "f", "fac", "hospital"):
        return FAC
    if text == "both":
        return BOTH
    if text.replace(".0", "").isdigit():
        return FAC if int(text.replace(".0", "")) in FACILITY_POS else NONFAC
    raise InputError(
        f"{value!r} is not a setting: use nonfacility, facility, both or a place-of-service code such as 11 or 22"
    )


def setting_name(value: object, default: str = "nonfacility") -> str:
    """``facility`` or ``nonfacility`` from a word or a place-of-service code (11, 22.0, "21")."""
    mode = _setting_mode(value, SETTINGS.index(default))
    if mode == BOTH:
        raise InputError(f"{value!r}: give one setting here, facility or nonfacility")
    return SETTINGS[mode]


# --------------------------------------------------------------------------- the rules


_BLOCKING = frozenset({"invalid_code", "unknown_code", "no_component"})


def _row_status(pair_status: str, place_status: str) -> tuple[str, bool]:
    """(status of a request row, whether the code decided it); "" means priceable.

    A locality problem only matters for a code that could otherwise be priced.
    """
    if pair_status and (pair_status in _BLOCKING or not place_status):
        return pair_status, True
    return place_status, False


def _note_text(
    pair: _Pair, show_nf: bool, show_f: bool, cap_nf: bool, cap_f: bool, described: str
) -> str:
    """The note of a priced row: the code's note, NA and OPPS cap notes, the options."""
    parts = [pair.note] if pair.note else []
    if show_nf:
        parts.append(pair.na_note_nonfac)
    if show_f:
        parts.append(pair.na_note_fac)
    if cap_nf or cap_f:
        which = " and ".join(s for s, c in (("non-facility", cap_nf), ("facility", cap_f)) if c)
        parts.append(f"OPPS imaging cap applied ({which})")
    if described:
        parts.append(described)
    return "; ".join(parts)


def _join_notes(left: str, right: str) -> str:
    """A ZIP note (split ZIP resolved by its neighbours) goes after the code's note."""
    return right if left == "" else f"{left}; {right}"


def _conversion_factor(rel: MedicareRelease, options: Options) -> int:
    if options.qp and rel.qp_conversion_factor:
        return rel.qp_conversion_factor
    return rel.conversion_factor


# --------------------------------------------------------------------------- scalar executor


def _cents_one(
    rel: MedicareRelease, row: int, place: int, policy: int, options: Options
) -> tuple[int, int, bool, bool]:
    """Exact cents for one request, with Python ints: (nonfacility, facility, capped nf, capped f).

    The same arithmetic as :func:`_engine`, which does it on numpy columns.
    """
    c = rel.columns
    work_g, pe_g, mp_g = rel.gpci_values
    work_part = c["pprrvu.work_rvu"][row] * work_g[place]
    mp_part = c["pprrvu.mp_rvu"][row] * mp_g[place]
    cf = _conversion_factor(rel, options)
    nonfac = (work_part + c["pprrvu.pe_rvu_nonfacility"][row] * pe_g[place] + mp_part) * cf
    fac = (work_part + c["pprrvu.pe_rvu_facility"][row] * pe_g[place] + mp_part) * cf
    capped_nf = capped_f = False
    caps = rel.opps_cap_map
    cap = (
        caps.get((c["pprrvu.code"][row], c["pprrvu.modifier"][row], rel.localities[place]))
        if caps and place < len(rel.localities)
        else None
    )
    if cap is not None:  # OPPS imaging cap: the lower of the PFS and OPPS-based amounts
        cap_nf, cap_f = cap[0] * 10_000_000, cap[1] * 10_000_000
        if cap_nf < nonfac:
            nonfac, capped_nf = cap_nf, True
        if cap_f < fac:
            fac, capped_f = cap_f, True
    opt_num, opt_den = options.factor()
    num = policy * opt_num
    total_den = POLICY_SCALE * opt_den * 10_000_000
    half = total_den // 2
    return (
        (nonfac * num + half) // total_den,
        (fac * num + half) // total_den,
        capped_nf,
        capped_f,
    )


def _price_one(
    rel: MedicareRelease, pair: _Pair, place: _Place, mode: int, options: Options
) -> tuple[int, int, str, str]:
    """(nonfacility cents, facility cents, status, note) of one request; -1 = no amount."""
    status, by_code = _row_status(pair.status, place.status)
    if status:
        return -1, -1, status, pair.note if by_code else place.note
    nf, f, capped_nf, capped_f = _cents_one(rel, pair.row, place.index, pair.policy, options)
    na_nf, na_f = bool(pair.na_note_nonfac), bool(pair.na_note_fac)
    if not options.include_na:
        nf = -1 if na_nf else nf
        f = -1 if na_f else f
    all_na = na_nf if mode == NONFAC else na_f if mode == FAC else (na_nf and na_f)
    note = _note_text(
        pair,
        na_nf and mode != FAC,
        na_f and mode != NONFAC,
        capped_nf,
        capped_f,
        options.describe(rel),
    )
    if place.note:
        note = _join_notes(note, place.note)
    return nf, f, "na_setting" if all_na else "priced", note


# --------------------------------------------------------------------------- vectorised executor


def _round_cents(value: np.ndarray, num: np.ndarray | int, den: int) -> np.ndarray:
    """Half-up cents of ``value x num / den`` where ``value`` is in 1e-9 dollars; exact."""
    import numpy as np  # lazy: the vectorised executor's; the scalar core runs without numpy

    total_den = den * 10_000_000
    num_max = int(np.max(num)) if np.ndim(num) else int(num)
    if len(value) == 0:
        return value.astype(np.int64)
    if int(np.max(value)) * num_max < 2**62 and total_den < 2**62:
        return (value * num + total_den // 2) // total_den
    big = value.astype(object) * (num.astype(object) if isinstance(num, np.ndarray) else num)
    return np.array((big + total_den // 2) // total_den, dtype=np.int64)


def _engine(
    rel: MedicareRelease,
    plan: _Plan,
    pair_idx: np.ndarray,
    place_idx: np.ndarray,
    ok: np.ndarray,
    options: Options,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact cents for every request row: (nonfacility, facility, capped nf, capped f).

    The same arithmetic as :func:`_cents_one`, on whole columns: RVUs gathered per row from
    the distinct pairs, GPCIs from the distinct places. Rows where ``ok`` is False get a
    meaningless number: the caller masks them (with the NA rows, in one pass).
    """
    import numpy as np  # lazy: the vectorised executor's; the scalar core runs without numpy

    gpe = plan.pe_gpci_of[place_idx]
    common = plan.work_rvu_of[pair_idx] * plan.work_gpci_of[place_idx]
    common += plan.mp_rvu_of[pair_idx] * plan.mp_gpci_of[place_idx]
    cf = _conversion_factor(rel, options)
    nonfac = plan.pe_nf_rvu_of[pair_idx] * gpe
    nonfac += common
    nonfac *= cf
    fac = plan.pe_f_rvu_of[pair_idx] * gpe
    fac += common
    fac *= cf
    # OPPS imaging cap: the lower of the PFS amount and the OPPS-based price of the locality.
    # Only rows whose code has caps at all are looked up (a dense table: no search).
    capped_nf = np.zeros(len(pair_idx), dtype=bool)
    capped_f = np.zeros(len(pair_idx), dtype=bool)
    maybe = np.flatnonzero(plan.has_cap_of[pair_idx] & ok)
    if len(maybe):
        lookup, cap_nf, cap_f = rel.opps_cap_table
        width = len(rel.localities) + 1
        key = plan.row_of[pair_idx[maybe]] * width + plan.place_of[place_idx[maybe]]
        pos = lookup[key]
        hit = pos >= 0
        rows, pos = maybe[hit], pos[hit]
        cap_nf_v = cap_nf[pos] * 10_000_000
        cap_f_v = cap_f[pos] * 10_000_000
        lower_nf = cap_nf_v < nonfac[rows]
        lower_f = cap_f_v < fac[rows]
        capped_nf[rows[lower_nf]] = True
        capped_f[rows[lower_f]] = True
        nonfac[rows[lower_nf]] = cap_nf_v[lower_nf]
        fac[rows[lower_f]] = cap_f_v[lower_f]
    opt_num, opt_den = options.factor()
    policy = plan.policy_of[pair_idx] if plan.any_policy else None
    if opt_num == opt_den and (policy is None or not np.any(policy != POLICY_SCALE)):
        nonfac += 5_000_000
        nonfac //= 10_000_000
        fac += 5_000_000
        fac //= 10_000_000
        nf_cents, f_cents = nonfac, fac
    else:
        num = POLICY_SCALE * opt_num if policy is None else policy * opt_num
        den = POLICY_SCALE * opt_den
        nf_cents = _round_cents(nonfac, num, den)
        f_cents = _round_cents(fac, num, den)
    return nf_cents, f_cents, capped_nf, capped_f


class _Notes:
    """Note texts as category codes: each distinct text once, each extra key worded once."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._ids: dict[str, int] = {}
        self.keyed: dict[tuple[int, int], int] = {}  # (kind, key) -> id, across chunks

    def id(self, text: str) -> int:
        found = self._ids.get(text)
        if found is None:
            found = self._ids[text] = len(self.texts)
            self.texts.append(text)
        return found


@dataclass
class _Plan:
    """What the distinct pairs and places resolved to, as arrays (built once per call)."""

    pairs: list[_Pair]
    places: list[_Place]
    row_of: np.ndarray
    policy_of: np.ndarray
    place_of: np.ndarray
    pair_status: np.ndarray
    place_status: np.ndarray
    blocking: np.ndarray
    na_nf_of: np.ndarray
    na_f_of: np.ndarray
    pair_note_id: np.ndarray
    place_note_id: np.ndarray
    place_has_note: np.ndarray
    work_rvu_of: np.ndarray
    pe_nf_rvu_of: np.ndarray
    pe_f_rvu_of: np.ndarray
    mp_rvu_of: np.ndarray
    has_cap_of: np.ndarray
    work_gpci_of: np.ndarray
    pe_gpci_of: np.ndarray
    mp_gpci_of: np.ndarray
    #: Note id per extra-note key (pair, mode, NA shown, capped; see ``_finish``), -1 until
    #: the key is first met: each key is worded once per call, whatever the chunks.
    extra_note_of: np.ndarray
    any_policy: bool  # some pair's modifier changes the payment (a factor other than 1)


def _plan(rel: MedicareRelease, pairs: list[_Pair], places: list[_Place], notes: _Notes) -> _Plan:
    import numpy as np  # lazy: the vectorised executor's; the scalar core runs without numpy

    blocking = np.zeros(len(STATUSES), dtype=bool)
    blocking[[_STATUS_INDEX[s] for s in _BLOCKING]] = True
    # One pass over the pairs: row, policy, status, NA flags and note, per pair.
    numbers = np.array(
        [
            (
                p.row,
                p.policy,
                _STATUS_INDEX.get(p.status, 0),
                p.na_note_nonfac != "",
                p.na_note_fac != "",
                notes.id(p.note),
            )
            for p in pairs
        ],
        dtype=np.int64,
    ).reshape(-1, 6)
    row_of = numbers[:, 0].copy()
    place_of = np.array([p.index for p in places], dtype=np.int64)
    r = np.maximum(row_of, 0)  # a pair without a row prices nothing: its values are masked
    p = np.maximum(place_of, 0)
    a = rel.arrays
    work_g, pe_g, mp_g = rel.gpci
    return _Plan(
        pairs=pairs,
        places=places,
        row_of=row_of,
        policy_of=numbers[:, 1].copy(),
        place_of=place_of,
        pair_status=numbers[:, 2].astype(np.int8),
        place_status=np.array([_STATUS_INDEX.get(p.status, 0) for p in places], dtype=np.int8),
        blocking=blocking,
        na_nf_of=numbers[:, 3].astype(bool),
        na_f_of=numbers[:, 4].astype(bool),
        pair_note_id=numbers[:, 5].copy(),
        place_note_id=np.array([notes.id(p.note) for p in places], dtype=np.int64),
        place_has_note=np.array([bool(p.note) for p in places], dtype=bool),
        work_rvu_of=a["pprrvu.work_rvu"][r].astype(np.int64),
        pe_nf_rvu_of=a["pprrvu.pe_rvu_nonfacility"][r].astype(np.int64),
        pe_f_rvu_of=a["pprrvu.pe_rvu_facility"][r].astype(np.int64),
        mp_rvu_of=a["pprrvu.mp_rvu"][r].astype(np.int64),
        has_cap_of=rel.rows_with_caps[r] & (row_of >= 0),
        work_gpci_of=work_g[p],
        pe_gpci_of=pe_g[p],
        mp_gpci_of=mp_g[p],
        extra_note_of=np.full(len(pairs) * 48, -1, dtype=np.int64),
        any_policy=bool((numbers[:, 1] != POLICY_SCALE).any()),
    )


def _finish(
    rel: MedicareRelease,
    plan: _Plan,
    pair_idx: np.ndarray,
    place_idx: np.ndarray,
    mode: np.ndarray,
    options: Options,
    notes: _Notes,
    described: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Price resolved rows: (nonfacility cents, facility cents, status index, note id).

    The rules of :func:`_price_one` (``_row_status``, NA, ``_note_text``) on columns; Python
    runs once per distinct note, never per row.
    """
    import numpy as np  # lazy: the vectorised executor's; the scalar core runs without numpy

    status = plan.pair_status[pair_idx]
    if plan.place_status.any():  # some place has no locality: its status unless the code's blocks
        loc_stop = plan.place_status[place_idx]
        by_code = (status != 0) & (plan.blocking[status] | (loc_stop == 0))
        status = np.where(by_code, status, loc_stop)
        by_place = ~by_code & (loc_stop != 0)
    else:
        by_place = None
    priceable = status == 0
    nf, f, capped_nf, capped_f = _engine(rel, plan, pair_idx, place_idx, priceable, options)
    na_nf = plan.na_nf_of[pair_idx] & priceable
    na_f = plan.na_f_of[pair_idx] & priceable
    # No amount (-1) where the row cannot be priced, and where the setting is NA (unless the
    # options ask for NA amounts): one pass per column.
    unpriced = ~priceable
    np.putmask(nf, unpriced if options.include_na else unpriced | na_nf, -1)
    np.putmask(f, unpriced if options.include_na else unpriced | na_f, -1)
    all_na = np.where(mode == NONFAC, na_nf, np.where(mode == FAC, na_f, na_nf & na_f))
    np.putmask(status, all_na, _STATUS_INDEX["na_setting"])  # all_na rows are priceable

    note = plan.pair_note_id[pair_idx]
    if by_place is not None and by_place.any():
        note[by_place] = plan.place_note_id[place_idx[by_place]]
    show_nf = na_nf & (mode != FAC)
    show_f = na_f & (mode != NONFAC)
    extra = priceable & (show_nf | show_f | capped_nf | capped_f)
    if described:
        extra = priceable
    rows = np.flatnonzero(extra)
    if len(rows):
        # The extra parts depend only on (pair, mode, NA shown, capped): word each key once.
        key = (
            (((pair_idx[rows] * 3 + mode[rows]) * 2 + show_nf[rows]) * 2 + show_f[rows]) * 4
            + capped_nf[rows] * 2
            + capped_f[rows]
        )
        ids = plan.extra_note_of[key]
        new = key[ids < 0]
        if len(new):
            for k in np.unique(new).tolist():
                pair, flags = plan.pairs[(k >> 4) // 3], k & 15
                text = pair.worded.get((flags, described))
                if text is None:
                    cap_f, cap_nf, sh_f, sh_nf = (bool(flags & bit) for bit in (1, 2, 4, 8))
                    text = _note_text(pair, sh_nf, sh_f, cap_nf, cap_f, described)
                    pair.worded[(flags, described)] = text
                plan.extra_note_of[k] = notes.id(text)
            ids = plan.extra_note_of[key]
        note[rows] = ids
    with_place = np.flatnonzero(priceable & plan.place_has_note[place_idx])
    if len(with_place):
        n_places = len(plan.places)
        key = note[with_place] * n_places + place_idx[with_place]
        inverse, uniq = _factorize_keys(key, len(notes.texts) * n_places)
        ids = []
        for k in uniq:
            found = notes.keyed.get((1, k))
            if found is None:
                text = _join_notes(notes.texts[k // n_places], plan.places[k % n_places].note)
                found = notes.keyed[(1, k)] = notes.id(text)
            ids.append(found)
        note[with_place] = np.array(ids, dtype=np.int64)[inverse]
    return nf, f, status, note


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class PriceResult:
    """Medicare's amount for one code, or why there is none."""

    code: str
    modifier: str
    locality: str
    year: int
    release: str
    setting: str
    amount: Decimal | None
    nonfacility: Decimal | None
    facility: Decimal | None
    status: str
    note: str
    schedule: str = "PFS"  # which Medicare schedule priced it (xlrate.medicare.schedules)
    units: Decimal = Decimal(1)  # amounts are for these units

    @property
    def priced(self) -> bool:
        return self.amount is not None


def _cents_to_decimal(cents: int) -> Decimal | None:
    return None if cents < 0 else Decimal(cents).scaleb(-2)


def medicare_amount(
    code: object,
    modifier: object = None,
    *,
    locality: object = None,
    zip: object = None,  # noqa: A002 - the public name users know
    setting: object = "nonfacility",
    year: int | str | None = None,
    release: str | None = None,
    **options: Any,
) -> PriceResult:
    """What Medicare pays for one code (with modifiers) in one locality and setting.

    Plain Python (no numpy, no pandas): the scalar executor of the same rules as ``price``.

    >>> medicare_amount("99213", locality="01112-05", release="2025D").amount
    Decimal('109.15')
    """
    return _medicare_amount_cached(
        code, modifier, locality, zip, setting, year, release, tuple(sorted(options.items()))
    )


@lru_cache(maxsize=65536)
def _medicare_amount_cached(
    code: object,
    modifier: object,
    locality: object,
    zip_code: object,
    setting: object,
    year: int | str | None,
    release: str | None,
    options: tuple[tuple[str, Any], ...],
) -> PriceResult:
    engine_options = tuple(o for o in options if o[0] not in SCHEDULE_OPTIONS)
    schedule_options = {k: v for k, v in options if k in SCHEDULE_OPTIONS}
    opts = _options_of(engine_options)
    rel = load_release(year, release)
    mode = _setting_mode(setting, NONFAC)
    pair = _resolve_pair(rel, code, modifier)
    # A column of cells shares its locality: resolve each (locality, ZIP) once per release.
    places: dict[tuple[object, ...], _Place] = rel.__dict__.setdefault("_place_memo", {})
    place_key = (type(locality), locality, type(zip_code), zip_code)
    place = places.get(place_key)
    if place is None:
        place = _resolve_place(rel, locality, zip_code, national=False)
        if len(places) < 4096:
            places[place_key] = place
    nf_cents, f_cents, status, note = _price_one(rel, pair, place, mode, opts)
    nf = _cents_to_decimal(nf_cents)
    f = _cents_to_decimal(f_cents)
    amount = f if mode == FAC else nf
    result = PriceResult(
        code=_clean_code(code),
        modifier=_modifier_text(modifier),
        locality=place.locality,
        year=rel.year,
        release=rel.release_id,
        setting=SETTINGS[mode],
        amount=amount if mode != BOTH else (nf if nf is not None else f),
        nonfacility=nf,
        facility=f,
        status=status,
        note=note,
    )
    if not schedule_options and status not in ROUTED_STATUSES:
        return result  # the common case stays in plain Python
    # A code the PFS does not price goes to the schedule that does; units scale amounts.
    try:
        from xlrate.medicare import schedules  # lazy: numpy, for the other schedules only
    except ImportError:  # Pyodide without numpy: the physician fee schedule only
        return result
    routed = schedules.route_one(
        result, rel, schedules.ScheduleOptions(**schedule_options), zip_code
    )
    assert isinstance(routed, PriceResult)
    return routed


@lru_cache(maxsize=256)
def _options_of(options: tuple[tuple[str, Any], ...]) -> Options:
    return make_options(**dict(options))


def zip_pairs(a: Any, b: Any) -> Any:
    """builtins.zip, for functions whose ``zip`` argument (a ZIP code) shadows it."""
    return builtins.zip(a, b, strict=True)


store.on_clear(_medicare_amount_cached.cache_clear)

#: Rows priced together: big enough that numpy's per-call cost vanishes, small enough
#: that the temporaries stay in cache (5M rows cost 5x 1M rows, not more).
CHUNK_ROWS = 1 << 17


def _factorize(values: Any) -> tuple[np.ndarray, list[Any]]:
    import numpy as np  # lazy: bulk pricing only
    import pandas as pd  # lazy: pandas loads on use

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object).tolist()


def _factorize_keys(keys: np.ndarray, size: int) -> tuple[np.ndarray, list[int]]:
    """Distinct values of non-negative int ``keys`` below ``size``: (index per row, values)."""
    import numpy as np  # lazy: bulk pricing only

    if size <= 4 * len(keys) + 1024:  # dense: a lookup table beats hashing
        present = np.zeros(size, dtype=bool)
        present[keys] = True
        values = np.flatnonzero(present)
        remap = np.zeros(size, dtype=np.int64)
        remap[values] = np.arange(len(values), dtype=np.int64)
        return remap[keys], values.tolist()
    index, uniques = _factorize(keys)
    return index, [int(u) for u in uniques]


#: Rows whose distinct values are found together (see ``price``).
SLICE_ROWS = 1 << 20


def _distinct(
    part: pd.DataFrame, names: tuple[str, str]
) -> tuple[np.ndarray, list[tuple[object, object]]]:
    """Distinct (first, second) column values of ``part``: (index per row, the values).

    A column that is absent counts as None in every row and costs nothing.
    """
    import numpy as np  # lazy: bulk pricing only

    n = len(part)
    has_a, has_b = names[0] in part.columns, names[1] in part.columns
    if not has_b:
        a_idx, a_u = _factorize(part[names[0]]) if has_a else (np.zeros(n, np.int64), [None])
        return a_idx, [(a, None) for a in a_u]
    b_idx, b_u = _factorize(part[names[1]])
    if not has_a:
        return b_idx, [(None, b) for b in b_u]
    a_idx, a_u = _factorize(part[names[0]])
    n_b = len(b_u)
    if n_b == 1:
        return a_idx, [(a, b_u[0]) for a in a_u]
    idx, keys = _factorize_keys(a_idx * n_b + b_idx, len(a_u) * n_b)
    at = np.asarray(keys, dtype=np.int64)
    a_arr, b_arr = np.empty(len(a_u), dtype=object), np.empty(n_b, dtype=object)
    a_arr[:], b_arr[:] = a_u, b_u
    return idx, list(zip_pairs(a_arr[at // n_b].tolist(), b_arr[at % n_b].tolist()))


def _renumber(ids: dict[Any, int], local: np.ndarray, values: list[Any]) -> np.ndarray:
    """A slice's distinct ``values`` (``local``: index per row) numbered across the table in
    ``ids`` (value -> number, in order of first appearance): the numbers per row."""
    import numpy as np  # lazy: bulk pricing only

    if not ids:  # the first slice: all its values are new, in order
        ids.update(zip_pairs(values, range(len(values))))
        return local
    numbers = [ids.setdefault(v, len(ids)) for v in values]
    picked: np.ndarray = np.array(numbers, dtype=np.int64)[local] if numbers else local
    return picked


def _modes(part: pd.DataFrame, default_mode: int, start: int = 0) -> np.ndarray:
    """Setting per row (nonfacility, facility, both) from a setting or pos column (``part``
    starts at row ``start`` of the table: a bad value is a RowError there)."""
    import numpy as np  # lazy: bulk pricing only

    name = "setting" if "setting" in part.columns else "pos" if "pos" in part.columns else None
    if name is None:
        return np.full(len(part), default_mode, dtype=np.int8)
    index, values = _factorize(part[name])
    modes = []
    for j, value in enumerate(values):
        try:
            modes.append(_setting_mode(value, default_mode))
        except InputError as exc:
            raise RowError(start + int(np.flatnonzero(index == j)[0]), name, str(exc)) from None
    picked: np.ndarray = np.array(modes, dtype=np.int8)[index]
    return picked


def price(
    frame: pd.DataFrame,
    *,
    year: int | str | None = None,
    release: str | None = None,
    locality: object = None,
    zip: object = None,  # noqa: A002
    national: bool = False,
    setting: str | None = None,
    detail: bool = False,
    **options: Any,
) -> pd.DataFrame:
    """Price a table of requests; returns a copy with amounts, status and note added.

    Input columns: ``code``; optional ``modifier``, ``locality`` or ``zip``, ``setting`` or
    ``pos``. ``locality`` / ``zip`` / ``national`` / ``setting`` arguments apply to rows that
    do not say. Added: ``locality, year, release, nonfacility_amount, facility_amount,
    amount, status, note`` (and RVU/GPCI detail columns with ``detail=True``);
    ``locality``, ``release``, ``status`` and ``note`` are Categoricals (few distinct values).
    """
    import numpy as np  # lazy: bulk pricing only: ``import xlrate`` and single prices stay light
    import pandas as pd  # lazy: pandas loads on use

    if "code" not in frame.columns:
        raise InputError(
            f"the request table needs a 'code' column (it has: {', '.join(map(str, frame.columns))})"
        )
    schedule_options = {k: options.pop(k) for k in list(options) if k in SCHEDULE_OPTIONS}
    opts = make_options(**options)
    rel = load_release(year, release)
    n = len(frame)
    out = frame.copy(deep=False)  # new columns only: the caller's frame is not touched

    # Distinct (code, modifier) pairs, places and settings, found a slice of rows at a
    # time (the hashing stays in cache), each slice's values numbered across the table.
    default_mode = _setting_mode(setting, NONFAC if setting is None else BOTH)
    pair_ids: dict[tuple[object, object], int] = {}
    place_ids: dict[tuple[object, object], int] = {}
    pair_idx = np.empty(n, dtype=np.int32)  # narrow: fewer pages to touch at 5M rows
    place_idx = np.empty(n, dtype=np.int32)
    mode = np.empty(n, dtype=np.int8)
    for start in range(0, max(n, 1), SLICE_ROWS):
        part = frame.iloc[start : start + SLICE_ROWS] if n > SLICE_ROWS else frame
        rows = slice(start, start + len(part))
        pair_idx[rows] = _renumber(pair_ids, *_distinct(part, ("code", "modifier")))
        place_idx[rows] = _renumber(place_ids, *_distinct(part, ("locality", "zip")))
        mode[rows] = _modes(part, default_mode, start)
    pairs = _resolve_pairs(rel, list(pair_ids))
    places = []
    for loc_value, zip_value in place_ids:
        # A row with neither a locality nor a ZIP takes the call's locality / ZIP / national.
        if is_blank(loc_value) and is_blank(zip_value):
            if national:
                loc_value = NATIONAL
            elif locality is not None:
                loc_value = locality
            else:
                zip_value = zip
        places.append(_resolve_place(rel, loc_value, zip_value, national=False))

    notes = _Notes()
    plan = _plan(rel, pairs, places, notes)
    described = opts.describe(rel)
    nf_cents = np.empty(n, dtype=np.int64)
    f_cents = np.empty(n, dtype=np.int64)
    status = np.empty(n, dtype=np.int8)
    note = np.empty(n, dtype=np.int32)
    for start in range(0, n, CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        nf_cents[rows], f_cents[rows], status[rows], note[rows] = _finish(
            rel, plan, pair_idx[rows], place_idx[rows], mode[rows], opts, notes, described
        )
    # Here every row has exact cents (-1: none), a status (index into STATUSES) and a note
    # (index into notes.texts). Rows whose code the PFS does not price (unknown_code /
    # not_priced) and another schedule does get that schedule's amount; units scale every
    # amount (xlrate.medicare.schedules, issue 12).
    routed = None
    status_words = list(STATUSES)  # the status column's categories: the other schedules
    status_index = dict(_STATUS_INDEX)  # may add theirs (needs_state, ...)
    routable = any(p.status in ROUTED_STATUSES for p in pairs)
    if routable or schedule_options or "units" in frame.columns:
        from xlrate.medicare import schedules  # lazy: only when another schedule is needed

        res = {"nonfacility_cents": nf_cents, "facility_cents": f_cents}
        # As for one price: a row whose place has no locality (unknown, split ZIP, no
        # GPCIs) keeps that status rather than going to another schedule. Such rows point
        # at a stand-in pair that no schedule takes.
        route_pair_idx = pair_idx
        place_errors = [_STATUS_INDEX[s] for s in PLACE_ERRORS]
        stuck = np.isin(status, place_errors)
        if stuck.any():
            route_pair_idx = np.where(stuck, len(pairs), pair_idx)
        routed = schedules.route(
            res,
            frame,
            rel,
            [*pair_ids, (None, None)],
            [*(p.status for p in pairs), "place_error"],
            route_pair_idx,
            [p.locality for p in places],
            [zip_value for _loc, zip_value in place_ids],
            place_idx,
            schedules.ScheduleOptions(**schedule_options),
            zip_default=zip,
        )
        nf_cents, f_cents = res["nonfacility_cents"], res["facility_cents"]
        if routed.pair_notes:  # codes on no schedule: the note names every file looked in
            pair_note = np.full(len(pairs) + 1, -1, dtype=np.int64)
            for i, text in routed.pair_notes.items():
                pair_note[i] = notes.id(text)
            row_note = pair_note[route_pair_idx]
            noted = row_note >= 0
            note[noted] = row_note[noted]
        if routed.rows is not None and routed.status is not None and routed.note is not None:
            # The routed rows' status and note, in this call's codes.
            words, word_list = routed.status
            for word in word_list:
                if word not in status_index:
                    status_index[word] = len(status_words)
                    status_words.append(word)
            status[routed.rows] = np.array([status_index[w] for w in word_list], np.int8)[words]
            text_index, texts = schedules.distinct_texts(routed.note)
            text_ids = np.array([notes.id(t) for t in texts], dtype=np.int32)
            note[routed.rows] = text_ids[text_index]
    # Dollars are written over the cents they come from (same size; each chunk is read
    # before it is written): no two more arrays as long as the table.
    nf_amount = nf_cents.view(np.float64)
    f_amount = f_cents.view(np.float64)
    amount = np.empty(n, dtype=np.float64)
    for start in range(0, n, CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        nf, f = nf_cents[rows], f_cents[rows]
        nf_part = np.where(nf >= 0, nf / 100.0, np.nan)
        f_part = np.where(f >= 0, f / 100.0, np.nan)
        nf_amount[rows] = nf_part
        f_amount[rows] = f_part
        amount[rows] = np.where(mode[rows] == FAC, f_part, nf_part)

    loc_ids: dict[str, int] = {}
    place_loc = np.array(
        [loc_ids.setdefault(p.locality, len(loc_ids)) for p in places], dtype=np.int64
    )
    out["locality"] = pd.Categorical.from_codes(
        place_loc[place_idx], categories=pd.Index(list(loc_ids))
    )
    out["year"] = rel.year
    out["release"] = pd.Categorical.from_codes(
        np.zeros(n, dtype=np.int8), categories=pd.Index([rel.release_id])
    )
    # Series over our own arrays: assigning a bare ndarray makes pandas copy it.
    out["nonfacility_amount"] = pd.Series(nf_amount, index=out.index, copy=False)
    out["facility_amount"] = pd.Series(f_amount, index=out.index, copy=False)
    out["amount"] = pd.Series(amount, index=out.index, copy=False)
    out["status"] = pd.Categorical.from_codes(
        status, dtype=pd.CategoricalDtype(status_words), validate=False
    )
    # Notes can be tens of thousands of distinct texts (a DMEPOS note per code and state):
    # held as Python strings, the categories cost a third of Arrow strings to build.
    out["note"] = pd.Categorical.from_codes(
        note, dtype=pd.CategoricalDtype(pd.Index(notes.texts, dtype=object)), validate=False
    )
    if detail:
        row = plan.row_of[pair_idx]
        ok = row >= 0
        r = np.where(ok, row, 0)
        a = rel.arrays
        for name, col in (
            ("work_rvu", "work_rvu"),
            ("pe_rvu_nonfacility", "pe_rvu_nonfacility"),
            ("pe_rvu_facility", "pe_rvu_facility"),
            ("mp_rvu", "mp_rvu"),
        ):
            out[name] = np.where(ok, a[f"pprrvu.{col}"][r] / 100.0, np.nan)
        out["status_code"] = np.where(ok, a["pprrvu.status_code"][r], "")
        out["pctc"] = np.where(ok, a["pprrvu.pctc"][r], "")
        place = plan.place_of[place_idx]
        pok = place >= 0
        p = np.where(pok, place, 0)
        gpcis = dict(zip_pairs(("work_gpci", "pe_gpci", "mp_gpci"), rel.gpci))
        for name, arr in gpcis.items():
            out[name] = np.where(pok, arr[p] / 1000.0, np.nan)
        out["conversion_factor"] = _conversion_factor(rel, opts) / 10000.0
    if routed is not None:
        schedules.add_columns(out, routed)
    else:
        out["schedule"] = pd.Categorical.from_codes(
            np.zeros(n, dtype=np.int8), categories=pd.Index(["PFS"])
        )
        out["units"] = 1.0
    return out
