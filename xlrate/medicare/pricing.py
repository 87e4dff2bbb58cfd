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
DataFrame; ``medicare_amount`` feeds it one row. No Python loop runs over request rows.
"""

from __future__ import annotations

import builtins
import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from xlrate.codes import clean_code, is_blank, is_valid_code, parse_modifiers
from xlrate.errors import InputError
from xlrate.medicare import store
from xlrate.medicare.localities import normalize_locality, resolve_zip
from xlrate.medicare.store import NATIONAL, MedicareRelease, load_release

if TYPE_CHECKING:
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
    text = (
        resources.files("xlrate.medicare.layouts").joinpath("status_codes.csv").read_text("utf-8")
    )
    return {r["status"]: (r["priced"] == "1", r["note"]) for r in csv.DictReader(io.StringIO(text))}


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
    text = (
        resources.files("xlrate.medicare.layouts")
        .joinpath("modifier_policy.csv")
        .read_text("utf-8")
    )
    return tuple(
        _PolicyRule(
            modifiers=frozenset(r["modifier"].split()),
            indicator=r["indicator"],
            values=frozenset() if r["values"] == "*" else frozenset(r["values"].split()),
            factor=Fraction(r["percent"] or "100") / 100,
            status=r["status"],
            note=r["note"],
        )
        for r in csv.DictReader(io.StringIO(text))
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
            value = str(rel.arrays[f"pprrvu.{rule.indicator}"][row])
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
    key = (type(code_value), code_value, type(mod_value), mod_value)
    found = memo.get(key)
    if found is None:
        found = _resolve_pair_uncached(rel, code_value, mod_value)
        if len(memo) < 200_000:
            memo[key] = found
    return found


def _resolve_pair_uncached(rel: MedicareRelease, code_value: object, mod_value: object) -> _Pair:
    code = clean_code(code_value)
    if not is_valid_code(code):
        shown = "" if code_value is None else str(code_value)
        return _Pair(status="invalid_code", note=f"not a HCPCS/CPT code: {shown!r}")
    mods = parse_modifiers(mod_value)
    if mods.note:
        return _Pair(status="invalid_code", note=f"not a modifier: {mods.note!r}")
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
        pctc = str(rel.arrays["pprrvu.pctc"][base]) if base >= 0 else "?"
        meaning = PCTC_MEANING.get(pctc, "")
        return _Pair(
            status="no_component",
            note=f"{code} has no {component} component in the fee schedule (PCTC {pctc}: {meaning})",
        )
    a = rel.arrays
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


# --------------------------------------------------------------------------- the engine


def _round_cents(value: np.ndarray, num: np.ndarray | int, den: int) -> np.ndarray:
    """Half-up cents of ``value x num / den`` where ``value`` is in 1e-9 dollars; exact."""
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
    row: np.ndarray,
    place: np.ndarray,
    policy: np.ndarray,
    options: Options,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exact cents for every request row: (nonfacility, facility, capped nf, capped f).

    ``row`` is the PPRRVU row, ``place`` the GPCI position, ``policy`` the payment-policy
    factor in millionths; rows with row < 0 or place < 0 get -1.
    """
    ok = (row >= 0) & (place >= 0)
    r = np.where(ok, row, 0)
    p = np.where(ok, place, 0)
    a = rel.arrays
    work_g, pe_g, mp_g = rel.gpci
    gw, gpe, gmp = work_g[p], pe_g[p], mp_g[p]
    work_part = a["pprrvu.work_rvu"][r] * gw
    mp_part = a["pprrvu.mp_rvu"][r] * gmp
    cf = (
        rel.qp_conversion_factor
        if (options.qp and rel.qp_conversion_factor)
        else rel.conversion_factor
    )
    nonfac = (work_part + a["pprrvu.pe_rvu_nonfacility"][r] * gpe + mp_part) * cf
    fac = (work_part + a["pprrvu.pe_rvu_facility"][r] * gpe + mp_part) * cf
    # OPPS imaging cap: the lower of the PFS amount and the OPPS-based price of the locality.
    keys, cap_nf, cap_f = rel.opps_caps
    capped_nf = np.zeros(len(r), dtype=bool)
    capped_f = np.zeros(len(r), dtype=bool)
    if len(keys):
        key = r * (len(rel.localities) + 1) + p
        pos = np.searchsorted(keys, key)
        pos_c = np.minimum(pos, len(keys) - 1)
        hit = ok & (keys[pos_c] == key)
        if hit.any():
            cap_nf_v = cap_nf[pos_c] * 10_000_000
            cap_f_v = cap_f[pos_c] * 10_000_000
            capped_nf = hit & (cap_nf_v < nonfac)
            capped_f = hit & (cap_f_v < fac)
            nonfac = np.where(capped_nf, cap_nf_v, nonfac)
            fac = np.where(capped_f, cap_f_v, fac)
    opt_num, opt_den = options.factor()
    if opt_num == opt_den and not np.any(policy != POLICY_SCALE):
        nf_cents = (nonfac + 5_000_000) // 10_000_000
        f_cents = (fac + 5_000_000) // 10_000_000
    else:
        num = policy.astype(np.int64) * opt_num
        den = POLICY_SCALE * opt_den
        nf_cents = _round_cents(nonfac, num, den)
        f_cents = _round_cents(fac, num, den)
    nf_cents = np.where(ok, nf_cents, -1)
    f_cents = np.where(ok, f_cents, -1)
    return nf_cents, f_cents, capped_nf, capped_f


def _note_text(
    pair: _Pair, show_nf: bool, show_f: bool, capped_nf: bool, capped_f: bool, described: str
) -> str:
    """The note of a priced row: the code's note, NA notes shown, cap applied, options."""
    parts = [pair.note] if pair.note else []
    if show_nf:
        parts.append(pair.na_note_nonfac)
    if show_f:
        parts.append(pair.na_note_fac)
    if capped_nf or capped_f:
        which = " and ".join(
            s for s, c in (("non-facility", capped_nf), ("facility", capped_f)) if c
        )
        parts.append(f"OPPS imaging cap applied ({which})")
    if described:
        parts.append(described)
    return "; ".join(parts)


def _finish(
    rel: MedicareRelease,
    pairs: list[_Pair],
    pair_idx: np.ndarray,
    places: list[_Place],
    place_idx: np.ndarray,
    mode: np.ndarray,
    options: Options,
) -> dict[str, Any]:
    """Price resolved rows and build amounts (cents), status and note columns."""
    row_of = np.array([p.row for p in pairs], dtype=np.int64)
    policy_of = np.array([p.policy for p in pairs], dtype=np.int64)
    place_of = np.array([p.index for p in places], dtype=np.int64)
    pair_status = np.array([_STATUS_INDEX.get(p.status, 0) for p in pairs], dtype=np.int64)
    place_status = np.array([_STATUS_INDEX.get(p.status, 0) for p in places], dtype=np.int64)
    na_nf_of = np.array([bool(p.na_note_nonfac) for p in pairs], dtype=bool)
    na_f_of = np.array([bool(p.na_note_fac) for p in pairs], dtype=bool)

    row = row_of[pair_idx]
    place = place_of[place_idx]
    stop = pair_status[pair_idx]
    loc_stop = place_status[place_idx]
    # A locality problem only matters for a code that could otherwise be priced.
    pair_blocks = (stop != 0) & (
        np.isin(
            stop,
            [
                _STATUS_INDEX["invalid_code"],
                _STATUS_INDEX["unknown_code"],
                _STATUS_INDEX["no_component"],
            ],
        )
        | (loc_stop == 0)
    )
    status = np.where(pair_blocks, stop, loc_stop)
    priceable = status == 0
    nf, f, capped_nf, capped_f = _engine(
        rel,
        np.where(priceable, row, -1),
        np.where(priceable, place, -1),
        policy_of[pair_idx],
        options,
    )
    na_nf = na_nf_of[pair_idx] & priceable
    na_f = na_f_of[pair_idx] & priceable
    if not options.include_na:
        nf = np.where(na_nf, -1, nf)
        f = np.where(na_f, -1, f)
    # NA makes the row's status na_setting when every setting asked for is NA.
    all_na = np.where(mode == NONFAC, na_nf, np.where(mode == FAC, na_f, na_nf & na_f))
    status = np.where(priceable & all_na, _STATUS_INDEX["na_setting"], status)

    # Notes: the pair's (or place's) note, plus setting and cap notes where they apply.
    # Extra parts depend only on (pair, NA notes shown, cap flags): built once per distinct key.
    pair_note = np.array([p.note for p in pairs], dtype=object)
    place_note = np.array([p.note for p in places], dtype=object)
    place_has_note = np.array([bool(p.note) for p in places], dtype=bool)
    all_notes = np.concatenate([pair_note, place_note])
    note = all_notes[np.where(pair_blocks | priceable, pair_idx, len(pairs) + place_idx)]
    show_nf = na_nf & (mode != FAC)
    show_f = na_f & (mode != NONFAC)
    described = options.describe(rel)
    extra = priceable & (show_nf | show_f | capped_nf | capped_f)
    if described:
        extra = extra | priceable
    rows = np.flatnonzero(extra)
    if len(rows):
        # Group the rows by what their note says: (pair, NA notes shown, caps applied).
        # ravel_multi_index/unravel_index map those columns to one sortable key and back.
        dims = (len(pairs), 2, 2, 2, 2)
        columns = (pair_idx[rows], show_nf[rows], show_f[rows], capped_nf[rows], capped_f[rows])
        key = np.ravel_multi_index(tuple(c.astype(np.intp) for c in columns), dims)
        uniq, inverse = np.unique(key, return_inverse=True)
        texts = [
            _note_text(pairs[pair_i], bool(sh_nf), bool(sh_f), bool(cap_nf), bool(cap_f), described)
            for pair_i, sh_nf, sh_f, cap_nf, cap_f in zip(
                *(c.tolist() for c in np.unravel_index(uniq, dims)), strict=True
            )
        ]
        note[rows] = np.array(texts, dtype=object)[inverse.ravel()]
    # A ZIP note (split ZIP resolved by its neighbours) goes after the code's note.
    with_place = np.flatnonzero(priceable & place_has_note[place_idx])
    if len(with_place):
        left = note[with_place].astype(str)
        right = place_note[place_idx[with_place]].astype(str)
        joined = np.where(left == "", right, np.char.add(np.char.add(left, "; "), right))
        note[with_place] = joined.astype(object)
    return {
        "nonfacility_cents": nf,
        "facility_cents": f,
        "status": np.array(STATUSES, dtype=object)[status],
        "note": note,
        "locality": np.array([p.locality for p in places], dtype=object)[place_idx],
    }


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
    opts = make_options(**dict(options))
    rel = load_release(year, release)
    mode = _setting_mode(setting, NONFAC)
    pair = _resolve_pair(rel, code, modifier)
    place = _resolve_place(rel, locality, zip_code, national=False)
    zero = np.zeros(1, dtype=np.int64)
    out = _finish(rel, [pair], zero, [place], zero, np.array([mode]), opts)
    nf = _cents_to_decimal(int(out["nonfacility_cents"][0]))
    f = _cents_to_decimal(int(out["facility_cents"][0]))
    amount = f if mode == FAC else nf
    return PriceResult(
        code=clean_code(code),
        modifier=parse_modifiers(modifier).text,
        locality=str(out["locality"][0]),
        year=rel.year,
        release=rel.release_id,
        setting=SETTINGS[mode],
        amount=amount if mode != BOTH else (nf if nf is not None else f),
        nonfacility=nf,
        facility=f,
        status=str(out["status"][0]),
        note=str(out["note"][0]),
    )


def zip_pairs(a: Any, b: Any) -> Any:
    """builtins.zip, for functions whose ``zip`` argument (a ZIP code) shadows it."""
    return builtins.zip(a, b, strict=True)


store.on_clear(_medicare_amount_cached.cache_clear)


def _factorize(values: Any) -> tuple[np.ndarray, list[Any]]:
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), list(uniques)


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
    amount, status, note`` (and RVU/GPCI detail columns with ``detail=True``).
    """
    import pandas as pd

    if "code" not in frame.columns:
        raise InputError(
            f"the request table needs a 'code' column (it has: {', '.join(map(str, frame.columns))})"
        )
    opts = make_options(**options)
    rel = load_release(year, release)
    n = len(frame)
    out = frame.copy()

    # Distinct (code, modifier) pairs.
    code_idx, code_uniques = _factorize(frame["code"])
    if "modifier" in frame.columns:
        mod_idx, mod_uniques = _factorize(frame["modifier"])
    else:
        mod_idx, mod_uniques = np.zeros(n, dtype=np.int64), [None]
    combined = code_idx * len(mod_uniques) + mod_idx
    pair_idx, pair_keys = _factorize(combined)
    pairs = [
        _resolve_pair(rel, code_uniques[k // len(mod_uniques)], mod_uniques[k % len(mod_uniques)])
        for k in pair_keys
    ]

    # Distinct places (a column that is absent costs nothing).
    absent = pd.Series(np.full(1, None, dtype=object))
    loc_col = frame["locality"] if "locality" in frame.columns else None
    zip_col = frame["zip"] if "zip" in frame.columns else None
    if locality is not None or zip is not None or national:
        fill_loc = pd.Series(loc_col if loc_col is not None else np.full(n, None), dtype=object)
        fill_zip = pd.Series(zip_col if zip_col is not None else np.full(n, None), dtype=object)
        missing = fill_loc.map(is_blank) & fill_zip.map(is_blank)
        if national:
            fill_loc[missing] = NATIONAL
        elif locality is not None:
            fill_loc[missing] = locality
        else:
            fill_zip[missing] = zip
        loc_col, zip_col = fill_loc, fill_zip
    zeros = np.zeros(n, dtype=np.int64)
    loc_i, loc_u = _factorize(loc_col) if loc_col is not None else (zeros, list(absent))
    zip_i, zip_u = _factorize(zip_col) if zip_col is not None else (zeros, list(absent))
    if zip_col is None:
        place_idx, place_keys = loc_i, [k * len(zip_u) for k in range(len(loc_u))]
    else:
        place_idx, place_keys = _factorize(loc_i * len(zip_u) + zip_i)
    places = [
        _resolve_place(rel, loc_u[k // len(zip_u)], zip_u[k % len(zip_u)], national=False)
        for k in place_keys
    ]

    # Setting per row.
    default_mode = _setting_mode(setting, NONFAC if setting is None else BOTH)
    set_col = (
        frame["setting"]
        if "setting" in frame.columns
        else frame["pos"]
        if "pos" in frame.columns
        else None
    )
    if set_col is None:
        mode = np.full(n, default_mode, dtype=np.int64)
    else:
        s_idx, s_u = _factorize(set_col)
        mode = np.array([_setting_mode(v, default_mode) for v in s_u], dtype=np.int64)[s_idx]

    res = _finish(rel, pairs, pair_idx, places, place_idx, mode, opts)
    nf = res["nonfacility_cents"]
    f = res["facility_cents"]
    nf_amount = np.where(nf >= 0, nf / 100.0, np.nan)
    f_amount = np.where(f >= 0, f / 100.0, np.nan)
    out["locality"] = res["locality"]
    out["year"] = rel.year
    out["release"] = rel.release_id
    out["nonfacility_amount"] = nf_amount
    out["facility_amount"] = f_amount
    out["amount"] = np.where(mode == FAC, f_amount, nf_amount)
    out["status"] = res["status"]
    out["note"] = res["note"]
    if detail:
        row = np.array([p.row for p in pairs], dtype=np.int64)[pair_idx]
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
        place = np.array([p.index for p in places], dtype=np.int64)[place_idx]
        pok = place >= 0
        p = np.where(pok, place, 0)
        gpcis = dict(zip_pairs(("work_gpci", "pe_gpci", "mp_gpci"), rel.gpci))
        for name, arr in gpcis.items():
            out[name] = np.where(pok, arr[p] / 1000.0, np.nan)
        cf = (
            rel.qp_conversion_factor
            if (opts.qp and rel.qp_conversion_factor)
            else rel.conversion_factor
        )
        out["conversion_factor"] = cf / 10000.0
    return out
