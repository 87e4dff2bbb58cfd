"""The underpayment audit: every 835 service line against what the contract says it pays.

Contract terms (:class:`Contract`, from a profile's ``contract = {...}`` table through
:func:`parse_contract`, or built directly):

- a fee schedule per payer (read with :func:`xlrate.practice.read_fee_schedule`), one file
  per period when the contract changes (``fees = [{file = "a_2024.csv", from = 2024-01-01},
  {file = "a_2025.csv", from = 2025-01-01}]``): the file in force on the date of service
  prices the line;
- or N% of Medicare for a stated year (and release) and locality (``pct_of_medicare = 125,
  medicare_year = 2025``), through the Medicare engine. Without a stated release, each
  line uses the Medicare release in force on its date of service (January's 2025A for a
  February line, 2025D for a November one; with ``medicare_year``, for dates in that year
  only, other dates use that year's release as before);
- or both: the fee schedule, with percent-of-Medicare for codes it does not list.

Rules applied to the per-unit rate (the Medicare indicators come from the PPRRVU table of
the release named by the contract, else the one in force on the date of service, else the
newest installed one):

- 26 / TC: the fee schedule's row for the component; when it lists only the global fee,
  the global split by Medicare's ratio (component amount / global amount, same locality
  and setting).
- bilateral (modifier 50): 150% when BILAT SURG = 1 (200% when 3; no change otherwise).
- co-surgery (62): 62.5% when CO-SURG is 1 or 2; nothing is due when it is 0 or 9.
- assistant at surgery (80/81/82: 16%; AS: 13.6% = 85% of 16%) when ASST SURG is 0 or 2;
  nothing is due when it is 1 or 9. The percentages are contract terms.
- multiple procedures (``mppr = true``): within one claim and date of service, the
  procedures with MULT PROC 2 or 3 are ranked by their expected amount; the first unit of
  the highest is paid at 100% and every other unit at 50% (``mppr_pct``). Codes with other
  indicators are exempt. (MULT PROC 3's endoscopy family rule and the 4/5 imaging and
  therapy reductions are not modelled: 3 is treated as 2, 4 and 5 as exempt.)
- units: the rate times SVC05 units.
- lesser of billed charge (``lesser_of_charges = true``): the expected amount is at most
  the line's charge.

Rounding: a per-unit rate is a cent amount (percent-of-Medicare rates and 26/TC splits are
rounded half-up to cents, as a payer loads them into its own schedule); the line amount is
rate x units x the rule factors, rounded half-up to cents once. A payer that rounds per
unit (or per rule) can differ by a cent or two: when the allowed amount equals the
per-unit rounding, the line is not an underpayment and its reason says so. Otherwise a
shortfall of at least the tolerance (default $0.01 per line, after rounding) is one.

Line-level outcome (:class:`AuditLine`): expected, actual allowed (AMT*B6, else paid + the
patient's share), ``variance = allowed - expected`` (negative: paid less than the
contract), a status (``ok``, ``underpaid``, ``overpaid``, ``denied``, ``no_term``,
``reversal``) and a plain-words reason: the rules applied, what the payer's amount matches
when it matches a known misapplication (an earlier fee schedule, a reduction on an exempt
code, the bilateral or unit adjustment left out, another assistant percentage, the other
component's share), and the line's CARC group/reason codes in words.

Reversals (CLP02 = 22) and corrections net out: the lines of one claim control number with
the same code, modifiers, date and occurrence are summed over all versions; a pair that
nets to zero disappears, a correction stands as its new amounts. Denied lines (zero
allowed) are reported apart as denials, never as underpayments.

Only :func:`write_worklist` (and :attr:`AuditResult.lines`) carries claim control numbers;
the tables by code and by payer hold no claim, patient or member identifier.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from xlrate.codes import clean_code
from xlrate.errors import InputError, XlrateError
from xlrate.files import atomic_path
from xlrate.medicare.pricing import FACILITY_POS, medicare_amount
from xlrate.medicare.store import MedicareRelease, load_release, resolve_release
from xlrate.practice.era835 import ServiceLine, read_era
from xlrate.practice.fee_schedules import read_fee_schedule

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BY_CODE_COLUMNS",
    "BY_PAYER_COLUMNS",
    "WORKLIST_COLUMNS",
    "AuditLine",
    "AuditResult",
    "AuditSheet",
    "Contract",
    "FeePeriod",
    "audit_lines",
    "audit_profile",
    "carc_text",
    "parse_contract",
    "safe_cell",
    "write_worklist",
]

CENT = Decimal("0.01")
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)

BY_CODE_COLUMNS = [
    "payer",
    "code",
    "modifier",
    "lines",
    "units",
    "expected",
    "allowed",
    "variance",
    "underpaid_lines",
    "underpaid_amount",
    "denied_lines",
]
#: The by-code table of a payer's Underpayments sheet (:meth:`AuditResult.sheet`).
SHEET_COLUMNS = [*BY_CODE_COLUMNS[1:], "note"]
BY_PAYER_COLUMNS = [
    "payer",
    "lines",
    "expected",
    "allowed",
    "variance",
    "underpaid_lines",
    "underpaid_amount",
    "overpaid_lines",
    "denied_lines",
    "no_term_lines",
    "reversal_lines",
    "netted_lines",
]
WORKLIST_COLUMNS = [
    "claim",
    "service_date",
    "line",
    "code",
    "modifiers",
    "units",
    "billed",
    "expected",
    "allowed",
    "paid",
    "variance",
    "carc",
]

# Claim adjustment reason codes seen on professional remits, in plain words (X12 CARC list).
_CARC = {
    "1": "deductible",
    "2": "coinsurance",
    "3": "copay",
    "4": "the modifier is inconsistent with the procedure or missing",
    "16": "the claim lacks information needed to adjudicate it",
    "18": "duplicate claim or service",
    "22": "another payer may cover this (coordination of benefits)",
    "23": "the prior payer's adjudication",
    "27": "expenses incurred after coverage ended",
    "29": "the time limit for filing has expired",
    "42": "charges exceed the fee schedule or maximum allowable (older code)",
    "45": "charge exceeds the fee schedule / maximum allowable or contracted amount",
    "50": "not deemed a medical necessity",
    "59": "processed under multiple or concurrent procedure rules",
    "96": "non-covered charge",
    "97": "the benefit is included in another service already adjudicated (bundled)",
    "119": "benefit maximum reached",
    "131": "claim-specific negotiated discount",
    "144": "incentive adjustment",
    "151": "the payer deems the information does not support this many services",
    "197": "precertification or authorization absent",
    "204": "not covered under the patient's current benefit plan",
    "236": "not payable with another procedure on the same day (NCCI edit)",
    "253": "sequestration (reduction of federal payment)",
    "A1": "claim or service denied",
    "B7": "the provider was not certified for this procedure on this date",
}
_GROUPS = {
    "CO": "contractual",
    "PR": "patient responsibility",
    "OA": "other",
    "PI": "payer initiated",
    "CR": "correction/reversal",
}

_CONTRACT_KEYS = {
    "fees",
    "pct_of_medicare",
    "medicare_year",
    "medicare_release",
    "locality",
    "zip",
    "lesser_of_charges",
    "mppr",
    "mppr_pct",
    "bilateral_pct",
    "cosurgery_pct",
    "assistant_pct",
    "assistant_npp_pct",
    "tolerance",
}


def carc_text(group: str, reason: str) -> str:
    """``CO-45: contractual, charge exceeds the fee schedule ...`` (the code alone if unknown)."""
    words = _CARC.get(reason)
    group_words = _GROUPS.get(group, group)
    return f"{group}-{reason}: {group_words}" + (f", {words}" if words else "")


def safe_cell(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# ----------------------------------------------------------------------------- the contract


@dataclass(frozen=True)
class FeePeriod:
    """One fee schedule file and the dates it is in force (either end may be open)."""

    path: Path
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class Contract:
    """What the contract (and the payer's stated policy) says a line is worth."""

    fees: tuple[FeePeriod, ...] = ()
    pct_of_medicare: Decimal | None = None
    medicare_year: int | None = None
    medicare_release: str | None = None
    locality: str | None = None
    zip: str | None = None
    lesser_of_charges: bool = False
    mppr: bool = False
    mppr_pct: Decimal = Decimal(50)
    bilateral_pct: Decimal = Decimal(150)
    cosurgery_pct: Decimal = Decimal("62.5")
    assistant_pct: Decimal = Decimal(16)
    assistant_npp_pct: Decimal = Decimal("13.6")
    tolerance: Decimal = CENT

    def describe(self) -> str:
        parts = []
        if self.fees:
            parts.append("fee schedule " + ", ".join(_period_name(p) for p in self.fees))
        if self.pct_of_medicare is not None:
            year = f"CY{self.medicare_year} " if self.medicare_year else ""
            if self.medicare_release:
                year = f"{self.medicare_release} "
            where = self.locality or (f"ZIP {self.zip}" if self.zip else "national")
            parts.append(
                f"{'else ' if self.fees else ''}{_pct(self.pct_of_medicare)} of {year}"
                f"Medicare ({where})"
            )
        if self.lesser_of_charges:
            parts.append("lesser of billed charge")
        if self.mppr:
            parts.append(f"multiple procedures 100/{_pct(self.mppr_pct)}")
        return "; ".join(parts)


def _pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


def _period_name(period: FeePeriod) -> str:
    name = period.path.name
    if period.start and period.end:
        return f"{name} ({period.start} to {period.end})"
    if period.start:
        return f"{name} (from {period.start})"
    if period.end:
        return f"{name} (to {period.end})"
    return name


def _decimal(value: Any, where: str, key: str) -> Decimal:
    if isinstance(value, bool):
        raise InputError(f"{where}: {key} = {value!r} is not a number")
    try:
        number = Decimal(str(value).strip().rstrip("%").strip())
    except InvalidOperation:
        raise InputError(f"{where}: {key} = {value!r} is not a number") from None
    if not number.is_finite() or number < 0:
        raise InputError(f"{where}: {key} = {value!r} must be a number of zero or more")
    return number


def _date(value: Any, where: str, key: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(
            f"{where}: {key} = {value!r} is not a date; write it as 2025-01-01"
        ) from None


def _bool(value: Any, where: str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1"):
        return True
    if text in ("false", "no", "0", ""):
        return False
    raise InputError(f"{where}: {key} = {value!r} must be true or false")


def _fee_periods(value: Any, base: Path, where: str) -> tuple[FeePeriod, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    periods = []
    for item in items:
        if isinstance(item, (str, os.PathLike)):
            periods.append(FeePeriod(path=(base / item).expanduser()))
        elif isinstance(item, Mapping):
            unknown = set(item) - {"file", "from", "to"}
            if unknown or "file" not in item:
                raise InputError(
                    f'{where}: a fee schedule period is written {{ file = "fees_2025.csv", '
                    f"from = 2025-01-01, to = 2025-12-31 }} (got {dict(item)!r})"
                )
            periods.append(
                FeePeriod(
                    path=(base / str(item["file"])).expanduser(),
                    start=_date(item.get("from"), where, "from"),
                    end=_date(item.get("to"), where, "to"),
                )
            )
        else:
            raise InputError(f"{where}: fees = {item!r} is not a file name or a period table")
    for period in periods:
        if period.start and period.end and period.end < period.start:
            raise InputError(f"{where}: {period.path.name} ends ({period.end}) before it starts")
    return tuple(periods)


def parse_contract(
    data: Mapping[str, Any], *, base: Path | str = ".", where: str = "contract"
) -> Contract:
    """A :class:`Contract` from a profile's ``contract = {...}`` table (or any dict).

    Keys: ``fees`` (a file, a list of files, or periods ``{file, from, to}``),
    ``pct_of_medicare`` (125 = 125%), ``medicare_year``, ``medicare_release`` (``2025D``),
    ``locality`` / ``zip``, ``lesser_of_charges``, ``mppr``, and the rule percentages
    ``mppr_pct`` (50), ``bilateral_pct`` (150), ``cosurgery_pct`` (62.5), ``assistant_pct``
    (16), ``assistant_npp_pct`` (13.6), plus ``tolerance`` (dollars per line, 0.01).
    Relative fee schedule paths are read from ``base``.
    """
    if not isinstance(data, Mapping):
        raise InputError(
            f"{where}: write the contract as a table, e.g. contract = {{ fees = "
            '"fees.csv", pct_of_medicare = 125, medicare_year = 2025 }'
        )
    unknown = sorted(set(data) - _CONTRACT_KEYS)
    if unknown:
        raise InputError(
            f"{where}: unknown contract key(s) {', '.join(unknown)}; the keys are "
            f"{', '.join(sorted(_CONTRACT_KEYS))}"
        )
    fees = _fee_periods(data.get("fees"), Path(base), where)
    pct = data.get("pct_of_medicare")
    if not fees and pct is None:
        raise InputError(
            f'{where}: a contract needs fees = "file" or pct_of_medicare = N (or both)'
        )
    year = data.get("medicare_year")
    release = data.get("medicare_release")
    kwargs: dict[str, Any] = {}
    for key in ("mppr_pct", "bilateral_pct", "cosurgery_pct", "assistant_pct", "tolerance"):
        if data.get(key) is not None:
            kwargs[key] = _decimal(data[key], where, key)
    if data.get("assistant_npp_pct") is not None:
        kwargs["assistant_npp_pct"] = _decimal(
            data["assistant_npp_pct"], where, "assistant_npp_pct"
        )
    elif "assistant_pct" in kwargs:
        kwargs["assistant_npp_pct"] = kwargs["assistant_pct"] * Decimal("0.85")
    try:
        year_int = int(year) if year is not None else None
    except (TypeError, ValueError):
        raise InputError(f"{where}: medicare_year = {year!r} is not a year") from None
    return Contract(
        fees=fees,
        pct_of_medicare=_decimal(pct, where, "pct_of_medicare") if pct is not None else None,
        medicare_year=year_int,
        medicare_release=str(release).strip().upper() if release else None,
        locality=str(data["locality"]).strip() if data.get("locality") else None,
        zip=str(data["zip"]).strip().zfill(5) if data.get("zip") else None,
        lesser_of_charges=_bool(data.get("lesser_of_charges", False), where, "lesser_of_charges"),
        mppr=_bool(data.get("mppr", False), where, "mppr"),
        **kwargs,
    )


# ----------------------------------------------------------------------------- terms


@dataclass
class _Schedule:
    period: FeePeriod
    # (code, component modifier, setting) -> per-unit fee, or None ("Not a benefit")
    fees: dict[tuple[str, str, str], Decimal | None]
    notes: dict[tuple[str, str, str], str]

    def in_force(self, day: dt.date | None) -> bool:
        if day is None:
            return self.period.start is None and self.period.end is None
        return (self.period.start is None or self.period.start <= day) and (
            self.period.end is None or day <= self.period.end
        )


def _load_schedule(period: FeePeriod, warnings: list[str]) -> _Schedule:
    schedule = read_fee_schedule(period.path)
    fees: dict[tuple[str, str, str], Decimal | None] = {}
    notes: dict[tuple[str, str, str], str] = {}
    conflicts = 0
    frame = schedule.rows
    for code, modifier, setting, amount, note in zip(
        frame["code"],
        frame["modifier"],
        frame["setting"],
        frame["amount"],
        frame["note"],
        strict=True,
    ):
        mods = [m for m in str(modifier).split("-") if m]
        component = next((m for m in mods if m in ("26", "TC")), "")
        if any(m not in ("26", "TC") for m in mods):
            continue  # rows for other modifiers (a payer's own 50/80 rows) are not used
        key = (str(code), component, str(setting))
        value = None if amount != amount else Decimal(repr(float(amount)))  # NaN: no amount
        if key in fees:
            if fees[key] != value:
                conflicts += 1
            continue
        fees[key] = value
        notes[key] = str(note)
    if conflicts:
        warnings.append(
            f"{period.path.name}: {conflicts} code(s) listed twice with different amounts; "
            "the first listed is used"
        )
    return _Schedule(period=period, fees=fees, notes=notes)


@dataclass(frozen=True)
class _Indicators:
    mult_proc: str = ""
    bilat_surg: str = ""
    asst_surg: str = ""
    co_surg: str = ""


@dataclass
class _Rate:
    """The per-unit rate of one (code, component, setting, date) and where it came from."""

    amount: Decimal | None
    source: str
    status: str = "ok"  # or "no_term"
    schedule: int = -1  # index of the fee schedule used, -1 for Medicare or none
    split_of: Decimal | None = None  # the global fee a 26/TC rate was split from


class _Terms:
    """Looks up per-unit rates and Medicare indicators, memoised (few distinct keys)."""

    def __init__(self, contract: Contract, warnings: list[str]) -> None:
        self.contract = contract
        self.warnings = warnings
        self.schedules = [_load_schedule(p, warnings) for p in contract.fees]
        self._rates: dict[tuple[str, str, str, int, str], _Rate] = {}
        self._indicators: dict[tuple[str, str, str], _Indicators] = {}
        self._medicare: dict[tuple[str, str, str, str], tuple[Decimal | None, str]] = {}
        self._release: MedicareRelease | None = None
        self._in_force: dict[dt.date | None, int] = {}
        self._by_date: dict[dt.date, str] = {}
        self.dated_releases: set[str] = set()  # releases picked by a date of service
        self.undated_days: set[dt.date] = set()  # dates no release here was in force on
        self.medicare_where = ""
        self.priced: dict[tuple[str, str, str, int, str], tuple[Any, ...]] = {}
        # A release is needed only for percent-of-Medicare, 26/TC splits and indicators.
        self.year = contract.medicare_year
        self.release_name = contract.medicare_release
        self.medicare_note = ""
        if contract.pct_of_medicare is not None or self.year or self.release_name:
            self.check_medicare()

    def check_medicare(self) -> None:
        """Fail early (one clear error) on a Medicare year or place the data cannot answer."""
        self.release()  # DataError naming the installed years and the update command
        c = self.contract
        probe = medicare_amount(
            "99213",
            locality=c.locality,
            zip=c.zip if not c.locality else None,
            year=self.year,
            release=self.release_name,
        )
        if probe.status in ("unknown_locality", "split_zip", "gpci_missing"):
            raise InputError(f"contract: {probe.note}")
        where = "national" if probe.locality == "NATIONAL" else f"locality {probe.locality}"
        self.medicare_where = where + (f" (ZIP {c.zip})" if c.zip and not c.locality else "")
        self.medicare_note = f"Medicare {probe.release}, {self.medicare_where}"

    def dated_note(self) -> None:
        """Say which releases the dates of service picked (after the lines are priced), and
        once, which dates had none in force (they use the default release)."""
        if not self.dated_releases or not self.medicare_where:
            return
        used = ", ".join(sorted(self.dated_releases))
        self.medicare_note = (
            f"Medicare release in force on each date of service ({used}), {self.medicare_where}"
        )
        if self.undated_days and self.contract.pct_of_medicare is not None:
            first, last = min(self.undated_days), max(self.undated_days)
            default = self.release().release_id
            years = " ".join(str(y) for y in sorted({d.year for d in self.undated_days}))
            self.medicare_note += f"; {default} for dates before any release here"
            self.warnings.append(
                f"no Medicare release here was in force on {len(self.undated_days)} date(s) "
                f"of service ({first.isoformat()} to {last.isoformat()}): those lines use "
                f"{default}; run `xlrate medicare update --year YEAR` for {years} to price "
                "them with their own year"
            )

    def release(self, dated: str = "") -> MedicareRelease:
        if dated:
            return load_release(release=dated)
        if self._release is None:
            self._release = load_release(self.year, self.release_name)
        return self._release

    def release_for(self, day: dt.date | None) -> str:
        """The Medicare release in force on ``day`` (``2025A``) when the contract states no
        release (and ``day`` is in its ``medicare_year``, if it states one); "" otherwise:
        the stated or default release."""
        if day is None or self.release_name or (self.year and day.year != int(self.year)):
            return ""
        found = self._by_date.get(day)
        if found is None:
            try:
                found = resolve_release(date=day).release_id
            except XlrateError:  # no release in force then: the default, said once at the end
                found = ""
                self.undated_days.add(day)
            self._by_date[day] = found
        if found:
            self.dated_releases.add(found)
        return found

    def indicators(self, code: str, component: str, dated: str = "") -> _Indicators:
        key = (code, component, dated)
        found = self._indicators.get(key)
        if found is None:
            rel = self.release(dated)
            row = rel.rvu_index.get((code, component), rel.rvu_index.get((code, ""), -1))
            if row < 0:
                found = _Indicators()
            else:
                a = rel.arrays
                found = _Indicators(
                    mult_proc=str(a["pprrvu.mult_proc"][row]),
                    bilat_surg=str(a["pprrvu.bilat_surg"][row]),
                    asst_surg=str(a["pprrvu.asst_surg"][row]),
                    co_surg=str(a["pprrvu.co_surg"][row]),
                )
            self._indicators[key] = found
        return found

    def medicare(
        self, code: str, component: str, setting: str, dated: str = ""
    ) -> tuple[Decimal | None, str]:
        """Medicare's amount and a label; ``dated``: the release in force on the date of
        service (:meth:`release_for`), else the contract's (or the default) release."""
        key = (code, component, setting, dated)
        found = self._medicare.get(key)
        if found is None:
            c = self.contract
            try:
                result = medicare_amount(
                    code,
                    component or None,
                    locality=c.locality,
                    zip=c.zip if not c.locality else None,
                    setting=setting,
                    year=None if dated else self.year,
                    release=dated or self.release_name,
                )
            except XlrateError as exc:
                found = (None, str(exc))
            else:
                where = result.locality
                label = f"{result.release} Medicare {where} {setting}"
                found = (result.amount, label if result.amount is not None else result.note)
            self._medicare[key] = found
        return found

    def schedule_for(self, day: dt.date | None) -> int:
        """Index of the fee schedule in force on ``day`` (the latest-starting one), or -1."""
        found = self._in_force.get(day)
        if found is None:
            found = self._in_force[day] = self._schedule_for(day)
        return found

    def _schedule_for(self, day: dt.date | None) -> int:
        best = -1
        for index, schedule in enumerate(self.schedules):
            if schedule.in_force(day) or (day is None and len(self.schedules) == 1):
                start = schedule.period.start or dt.date.min
                if best < 0 or start >= (self.schedules[best].period.start or dt.date.min):
                    best = index
        return best

    def rate(self, code: str, component: str, setting: str, day: dt.date | None) -> _Rate:
        index = self.schedule_for(day)
        dated = self.release_for(day)
        key = (code, component, setting, index, dated)
        found = self._rates.get(key)
        if found is None:
            found = self._rate(code, component, setting, index, dated)
            self._rates[key] = found
        return found

    def fee(
        self, index: int, code: str, component: str, setting: str, dated: str = ""
    ) -> _Rate | None:
        """The fee schedule's own rate (a component split from the global when needed)."""
        schedule = self.schedules[index]
        name = _period_name(schedule.period)
        for key in ((code, component, setting), (code, component, "")):
            if key in schedule.fees:
                amount = schedule.fees[key]
                if amount is None:
                    note = schedule.notes.get(key) or "no amount"
                    return _Rate(None, f"{name}: {note}", status="no_term", schedule=index)
                return _Rate(amount, f"fee schedule {name}", schedule=index)
        if component:
            for key in ((code, "", setting), (code, "", "")):
                global_fee = schedule.fees.get(key)
                if global_fee is not None:
                    part, _ = self.medicare(code, component, setting, dated)
                    whole, label = self.medicare(code, "", setting, dated)
                    if part is None or not whole:
                        return _Rate(
                            None,
                            f"{name} lists only the global fee and Medicare has no {component} "
                            f"ratio for {code}",
                            status="no_term",
                            schedule=index,
                        )
                    amount = _round(global_fee * part / whole)
                    return _Rate(
                        amount,
                        f"fee schedule {name}: global {global_fee:.2f} x {component} share "
                        f"{part:.2f}/{whole:.2f} ({label})",
                        schedule=index,
                        split_of=global_fee,
                    )
        return None

    def _rate(self, code: str, component: str, setting: str, index: int, dated: str) -> _Rate:
        if index >= 0:
            found = self.fee(index, code, component, setting, dated)
            if found is not None:
                return found
        c = self.contract
        if c.pct_of_medicare is not None:
            amount, label = self.medicare(code, component, setting, dated)
            if amount is None:
                return _Rate(None, f"no Medicare amount: {label}", status="no_term")
            rate = _round(amount * c.pct_of_medicare / _HUNDRED)
            return _Rate(rate, f"{_pct(c.pct_of_medicare)} of {label} {amount:.2f}")
        if not self.schedules:
            return _Rate(None, "no contract term", status="no_term")
        if index < 0:
            return _Rate(None, "no fee schedule in force on the date of service", status="no_term")
        name = _period_name(self.schedules[index].period)
        return _Rate(None, f"{code} is not in {name}", status="no_term")


# ----------------------------------------------------------------------------- lines


@dataclass(slots=True)
class AuditLine:
    """One (net) 835 service line with its expected amount. Carries the claim number:
    for the worklist only."""

    payer: str
    claim: str
    service_date: dt.date | None
    line: int
    code: str
    modifiers: str
    units: Decimal
    billed: Decimal
    allowed: Decimal
    paid: Decimal
    carc: str  # "CO-45;PR-2"
    place_of_service: str = ""
    expected: Decimal | None = None
    status: str = ""
    reason: str = ""
    finding: str = ""  # underpaid / denied: what explains it, in words (no identifiers)
    rules: list[str] = field(default_factory=list)
    # working values
    rate: _Rate | None = None
    factor: Decimal = _ONE
    mppr_units: Decimal = _ZERO  # units paid at the reduced multiple-procedure rate
    mult_proc: str = ""
    adjustments: tuple[tuple[str, str, Decimal], ...] = ()

    @property
    def variance(self) -> Decimal | None:
        return None if self.expected is None else self.allowed - self.expected

    @property
    def audited(self) -> bool:
        return self.expected is not None and self.status in ("ok", "underpaid", "overpaid")


def _net(lines: Iterable[ServiceLine]) -> tuple[list[AuditLine], dict[str, int]]:
    """Reversals and corrections netted per claim + code + modifiers + date + occurrence."""
    items = lines if isinstance(lines, list) else list(lines)
    reversed_claims = {(i.payer, i.claim) for i in items if i.claim_status == "22"}
    groups: dict[tuple[Any, ...], list[ServiceLine]] = {}
    seen: dict[tuple[Any, ...], int] = {}
    previous: tuple[str, str, str] | None = None
    out: list[AuditLine] = []
    for item in items:
        if (item.payer, item.claim) not in reversed_claims:
            out.append(_audit_line(item, item.units, item.billed, item.allowed, item.paid))
            continue
        version = (item.file, item.payer, item.claim)
        if item.line == 1 or version != previous:
            seen = {}
        previous = version
        base = (item.payer, item.claim, item.code, item.modifiers, item.service_date)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        groups.setdefault((*base, occurrence), []).append(item)
    netted: dict[str, int] = {}
    for versions in groups.values():
        if len(versions) == 1 or all(v.claim_status != "22" for v in versions):
            # No reversal: each line stands alone (a claim number can repeat in test files).
            for one in versions:
                out.append(_audit_line(one, one.units, one.billed, one.allowed, one.paid))
            continue
        units = sum((v.units for v in versions), _ZERO)
        billed = sum((v.billed for v in versions), _ZERO)
        allowed = sum((v.allowed for v in versions), _ZERO)
        paid = sum((v.paid for v in versions), _ZERO)
        live = [v for v in versions if v.claim_status != "22"]
        if not live:
            for v in versions:
                out.append(_audit_line(v, v.units, v.billed, v.allowed, v.paid))
            continue
        payer = versions[0].payer
        gone = len(versions) - 1 if (units or billed or allowed or paid) else len(versions)
        netted[payer] = netted.get(payer, 0) + gone
        if gone == len(versions):
            continue
        # The latest version stands (its CAS and line number), with the net amounts.
        out.append(_audit_line(live[-1], units, billed, allowed, paid))
    return out, netted


def _audit_line(
    item: ServiceLine, units: Decimal, billed: Decimal, allowed: Decimal, paid: Decimal
) -> AuditLine:
    carc = ";".join(dict.fromkeys(f"{g}-{r}" for g, r, _ in item.adjustments))
    reversal = item.claim_status == "22"
    return AuditLine(
        payer=item.payer,
        claim=item.claim,
        service_date=item.service_date,
        line=item.line,
        code=item.code,
        modifiers=item.modifiers,
        units=units,
        billed=billed,
        allowed=allowed,
        paid=paid,
        carc=carc,
        place_of_service=item.place_of_service,
        adjustments=item.adjustments,
        status="reversal" if reversal else "",
    )


_FACILITY_POS_TEXT = frozenset(f"{p:02d}" for p in FACILITY_POS) | frozenset(map(str, FACILITY_POS))


def _setting(pos: str) -> str:
    return "facility" if pos.strip() in _FACILITY_POS_TEXT else "nonfacility"


def _price_line(line: AuditLine, terms: _Terms) -> None:
    """The per-unit rate and the modifier factors (multiple procedures come later).

    Memoised on what the result depends on: code, modifiers, setting and the fee schedule
    in force and the Medicare release in force (a remit repeats a few hundred such keys over
    its lines)."""
    setting = _setting(line.place_of_service)
    day = line.service_date
    key = (line.code, line.modifiers, setting, terms.schedule_for(day), terms.release_for(day))
    found = terms.priced.get(key)
    if found is None:
        _price_line_uncached(line, terms)
        terms.priced[key] = (line.rate, line.factor, tuple(line.rules), line.mult_proc, line.status)
        return
    line.rate, line.factor, rules, line.mult_proc, line.status = found
    line.rules = list(rules)


def _price_line_uncached(line: AuditLine, terms: _Terms) -> None:
    c = terms.contract
    mods = [m for m in line.modifiers.split("-") if m]
    component = next((m for m in mods if m in ("26", "TC")), "")
    code = clean_code(line.code)
    setting = _setting(line.place_of_service)
    rate = terms.rate(code, component, setting, line.service_date)
    line.rate = rate
    if rate.amount is None:
        line.status = "no_term"
        line.rules.append(rate.source)
        return
    line.rules.append(f"{rate.source}: {rate.amount:.2f} per unit")
    ind = terms.indicators(code, component, terms.release_for(line.service_date))
    line.mult_proc = ind.mult_proc
    factor = _ONE
    for mod in mods:
        if mod == "50":
            if ind.bilat_surg == "1":
                factor = factor * c.bilateral_pct / _HUNDRED
                line.rules.append(f"bilateral {_pct(c.bilateral_pct)} (BILAT SURG 1)")
            elif ind.bilat_surg == "3":
                factor *= 2
                line.rules.append("bilateral, 100% each side (BILAT SURG 3)")
        elif mod == "62":
            if ind.co_surg in ("1", "2"):
                factor = factor * c.cosurgery_pct / _HUNDRED
                line.rules.append(f"co-surgeon {_pct(c.cosurgery_pct)} (CO-SURG {ind.co_surg})")
            elif ind.co_surg in ("0", "9"):
                factor = _ZERO
                line.rules.append(f"co-surgeons are not paid for {code} (CO-SURG {ind.co_surg})")
        elif mod in ("80", "81", "82", "AS"):
            if ind.asst_surg in ("1", "9"):
                factor = _ZERO
                line.rules.append(
                    f"assistant at surgery is not paid for {code} (ASST SURG {ind.asst_surg})"
                )
            else:
                pct = c.assistant_npp_pct if mod == "AS" else c.assistant_pct
                factor = factor * pct / _HUNDRED
                line.rules.append(f"assistant at surgery ({mod}) {_pct(pct)}")
    line.factor = factor


def _units(line: AuditLine) -> Decimal:
    units = abs(line.units)
    return units if units else _ONE


def _unit_value(line: AuditLine) -> Decimal:
    """The expected amount of one unit before multiple-procedure reduction (for ranking)."""
    amount = line.rate.amount if line.rate is not None else None
    return _ZERO if amount is None else amount * line.factor


def _apply_mppr(lines: list[AuditLine], terms: _Terms) -> None:
    """100% for the first unit of the highest-valued procedure of a claim and date, the
    reduced percentage for every other unit of MULT PROC 2/3 procedures."""
    c = terms.contract
    groups: dict[tuple[str, str, dt.date | None], list[AuditLine]] = {}
    for line in lines:
        if (
            line.rate is not None
            and line.rate.amount is not None
            and line.mult_proc in ("2", "3")
            and line.status == ""
            and line.factor > 0
        ):
            groups.setdefault((line.payer, line.claim, line.service_date), []).append(line)
    for group in groups.values():
        if len(group) == 1 and _units(group[0]) <= 1:
            continue
        ranked = sorted(group, key=lambda item: -_unit_value(item))
        for rank, line in enumerate(ranked):
            units = _units(line)
            line.mppr_units = units - 1 if rank == 0 else units
            if line.mppr_units:
                place = "highest-valued procedure" if rank == 0 else f"procedure {rank + 1}"
                line.rules.append(
                    f"multiple procedures ({place}, MULT PROC {line.mult_proc}): "
                    f"{line.mppr_units.normalize():f} unit(s) at {_pct(c.mppr_pct)}"
                )


def _expected(line: AuditLine, c: Contract, per_unit: bool = False) -> Decimal:
    """Rate x units x factors (x the MPPR share), rounded once; or per unit first."""
    assert line.rate is not None and line.rate.amount is not None
    units = _units(line)
    full = units - line.mppr_units
    reduced = line.mppr_units * c.mppr_pct / _HUNDRED
    if per_unit:
        unit_full = _round(line.rate.amount * line.factor)
        unit_reduced = _round(line.rate.amount * line.factor * c.mppr_pct / _HUNDRED)
        amount = _round(unit_full * full + unit_reduced * line.mppr_units)
    else:
        amount = _round(line.rate.amount * line.factor * (full + reduced))
    if c.lesser_of_charges and line.billed > 0 and line.billed < amount:
        amount = line.billed
    return amount


def _diagnose(line: AuditLine, terms: _Terms) -> str:
    """What the payer's amount matches, when it matches a known misapplication."""
    c = terms.contract
    rate = line.rate
    assert rate is not None and rate.amount is not None and line.expected is not None
    allowed = line.allowed
    units = _units(line)

    def same(value: Decimal) -> bool:
        return abs(value - allowed) < max(c.tolerance, CENT)

    full = units - line.mppr_units
    reduced = line.mppr_units * c.mppr_pct / _HUNDRED
    if rate.schedule >= 0 and line.factor:
        code = clean_code(line.code)
        mods = line.modifiers.split("-")
        component = next((m for m in mods if m in ("26", "TC")), "")
        for index, schedule in enumerate(terms.schedules):
            if index == rate.schedule:
                continue
            other = terms.fee(index, code, component, _setting(line.place_of_service))
            if (
                other is not None
                and other.amount is not None
                and same(_round(other.amount * line.factor * (full + reduced)))
            ):
                return (
                    f"paid at the rates of {_period_name(schedule.period)}, not the fee "
                    "schedule in force on the date of service"
                )
    base = rate.amount * line.factor
    if units > 1 and (same(_round(base)) or same(_round(base * c.mppr_pct / _HUNDRED))):
        return f"paid for 1 unit of {units.normalize():f}"
    if line.mppr_units == 0 and same(_round(base * units * c.mppr_pct / _HUNDRED)):
        if line.mult_proc in ("2", "3"):
            return (
                "a multiple-procedure reduction was taken on the highest-valued procedure "
                "of the day"
            )
        return (
            "a multiple-procedure reduction was taken on a code exempt from it "
            f"(MULT PROC {line.mult_proc or 'not listed'})"
        )
    mods = line.modifiers.split("-")
    if (
        "50" in mods
        and line.factor != _ONE
        and same(
            _round(rate.amount * (line.factor / (c.bilateral_pct / _HUNDRED)) * (full + reduced))
        )
    ):
        return "the bilateral adjustment (modifier 50) was not applied: paid as one side"
    if "62" in mods and line.factor:
        whole = rate.amount * (full + reduced)
        if whole:
            pct = (allowed / whole * _HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            return f"co-surgeon paid at {pct.normalize():f}% instead of {_pct(c.cosurgery_pct)}"
    if any(m in ("80", "81", "82", "AS") for m in mods) and line.factor:
        whole = rate.amount * (full + reduced)
        if whole:
            pct = (allowed / whole * _HUNDRED).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            expected_pct = c.assistant_npp_pct if "AS" in mods else c.assistant_pct
            return (
                f"assistant at surgery paid at {pct.normalize():f}% instead of {_pct(expected_pct)}"
            )
    if rate.split_of is not None:
        code = clean_code(line.code)
        component = "TC" if "26" in mods else "26"
        setting = _setting(line.place_of_service)
        dated = terms.release_for(line.service_date)
        part, _ = terms.medicare(code, component, setting, dated)
        whole_m, _ = terms.medicare(code, "", setting, dated)
        if part is not None and whole_m:
            share = _round(rate.split_of * part / whole_m)
            if same(_round(share * line.factor * (full + reduced))):
                return (
                    f"paid at the {component} share of the global fee, not the "
                    f"{'26' if component == 'TC' else 'TC'} share"
                )
        if same(_round(rate.split_of / 2 * line.factor * (full + reduced))):
            return "the global fee was split half and half, not by the Medicare ratio"
    if line.billed > 0 and same(_round(line.billed / units)):
        return "the lesser-of-charges rule was applied against the charge of one unit"
    if not c.lesser_of_charges and line.billed > 0 and same(line.billed):
        return "paid the billed charge, which is below the contract rate (no lesser-of clause)"
    return ""


def _classify(line: AuditLine, terms: _Terms) -> None:
    c = terms.contract
    if line.status in ("reversal",):
        line.reason = "reversal of a payment not in these files"
        return
    if line.allowed == 0:
        line.status = "denied"
        words = "; ".join(carc_text(g, r) for g, r, _ in line.adjustments if g != "PR")
        line.reason = "denied" + (f": {words}" if words else "")
        line.finding = words.split("; ")[0] if words else "denied, no reason code"
        if line.rate is not None and line.rate.amount is not None:
            line.expected = _expected(line, c)
        return
    if line.status == "no_term":
        line.reason = "; ".join(line.rules)
        return
    line.expected = _expected(line, c)
    if c.lesser_of_charges and line.expected == line.billed and line.billed > 0:
        full = _expected_no_lesser(line, c)
        if full != line.expected:
            line.rules.append(f"lesser of billed charge {line.billed:.2f}")
    variance = line.allowed - line.expected
    reasons = ["expected: " + "; ".join(line.rules)]
    if variance > -c.tolerance and variance < c.tolerance:
        line.status = "ok"
    elif variance < 0:
        alternative = _expected(line, c, per_unit=True)
        if abs(line.allowed - alternative) < c.tolerance or line.allowed == alternative:
            line.status = "ok"
            reasons.append(
                f"the {abs(variance):.2f} difference is rounding: the payer rounds per unit "
                f"({alternative:.2f})"
            )
        else:
            line.status = "underpaid"
            found = _diagnose(line, terms)
            if found:
                reasons.append(found)
            codes = [carc_text(g, r) for g, r, amount in line.adjustments if g != "PR" and amount]
            line.finding = found or (
                f"no rule explains it ({codes[0]})"
                if codes
                else "no rule or reason code explains it"
            )
    else:
        line.status = "overpaid"
    if line.status != "ok":
        codes = [carc_text(g, r) for g, r, amount in line.adjustments if g != "PR" and amount]
        if codes:
            reasons.append("; ".join(codes))
    line.reason = "; ".join(reasons)


def _expected_no_lesser(line: AuditLine, c: Contract) -> Decimal:
    assert line.rate is not None and line.rate.amount is not None
    units = _units(line)
    full = units - line.mppr_units
    reduced = line.mppr_units * c.mppr_pct / _HUNDRED
    return _round(line.rate.amount * line.factor * (full + reduced))


# ----------------------------------------------------------------------------- result


@dataclass
class AuditResult:
    """The audited lines and the tables built from them."""

    contract: Contract
    lines: list[AuditLine]
    netted: dict[str, int] = field(default_factory=dict)  # payer -> 835 lines netted out
    warnings: list[str] = field(default_factory=list)
    medicare: str = ""  # the Medicare release and locality the terms used, e.g. for notes

    @property
    def netted_lines(self) -> int:
        return sum(self.netted.values())

    def by_code(self) -> list[dict[str, Any]]:
        """One row per payer, code, modifiers: no claim, patient or member identifier."""
        return _aggregate(self.lines, lambda line: (line.payer, line.code, line.modifiers))

    def by_payer(self) -> list[dict[str, Any]]:
        rows = _aggregate(self.lines, lambda line: (line.payer,))
        for row in rows:
            row["netted_lines"] = self.netted.get(row["payer"], 0)
        for payer in sorted(set(self.netted) - {row["payer"] for row in rows}):
            rows.append(_empty_row((payer,)) | {"netted_lines": self.netted[payer]})
        return rows

    def by_code_frame(self) -> pd.DataFrame:
        """:meth:`by_code` as a DataFrame (floats holding cents), e.g. for a workbook sheet."""
        return _frame(self.by_code(), BY_CODE_COLUMNS)

    def by_payer_frame(self) -> pd.DataFrame:
        return _frame(self.by_payer(), BY_PAYER_COLUMNS)

    def findings(self) -> list[dict[str, Any]]:
        """Underpaid and denied lines grouped by what explains them, largest dollars first:
        ``payer, status, finding, lines, amount`` (shortfall, or billed for denials)."""
        groups: dict[tuple[str, str, str], list[Any]] = {}
        for line in self.lines:
            if line.status not in ("underpaid", "denied"):
                continue
            amount = -(line.variance or _ZERO) if line.status == "underpaid" else line.billed
            row = groups.setdefault((line.payer, line.status, line.finding), [0, _ZERO])
            row[0] += 1
            row[1] += amount
        rows = [
            {"payer": p, "status": s, "finding": f, "lines": n, "amount": a}
            for (p, s, f), (n, a) in groups.items()
        ]
        return sorted(rows, key=lambda r: (r["payer"], r["status"] != "underpaid", -r["amount"]))

    def sheet_tables(self) -> dict[str, pd.DataFrame]:
        """Per payer, the by-code table an Underpayments sheet shows (no payer column, no
        identifiers): ``code, modifier, lines, units, expected, allowed, variance,
        underpaid_lines, underpaid_amount, denied_lines``; blank (NaN) money where no line
        of the row had a contract term."""
        frame = self.by_code_frame()
        return {
            str(payer): part.drop(columns="payer").reset_index(drop=True)
            for payer, part in frame.groupby("payer", sort=True)
        }

    def sheet(self) -> AuditSheet:
        """What a workbook's Underpayments sheet shows of this audit: the lines of every
        payer the 835s name, by code and modifiers, largest dollars underpaid first; no
        claim, patient or member identifier."""
        rows = _aggregate(self.lines, lambda line: ("", line.code, line.modifiers))
        for row in rows:
            notes = []
            if row["no_term_lines"]:
                notes.append(f"{row['no_term_lines']} line(s) without a contract term")
            if row["overpaid_lines"]:
                notes.append(f"{row['overpaid_lines']} line(s) paid above the contract")
            row["note"] = "; ".join(notes)
        rows.sort(key=lambda r: (-r["underpaid_amount"], r["code"], r["modifier"]))
        counts = {
            status: sum(1 for line in self.lines if line.status == status)
            for status in ("underpaid", "denied", "no_term")
        }
        return AuditSheet(
            table=_frame(rows, SHEET_COLUMNS),
            period=self.period,
            underpaid_amount=float(self.underpaid_amount),
            lines=len(self.lines),
            underpaid_lines=counts["underpaid"],
            denied_lines=counts["denied"],
            no_term_lines=counts["no_term"],
            netted_lines=self.netted_lines,
            contract=self.contract.describe(),
            medicare=self.medicare,
            fee_files=tuple(period.path for period in self.contract.fees),
            findings=self._sheet_findings(),
        )

    def _sheet_findings(self) -> tuple[tuple[str, str, int, float], ...]:
        """:meth:`findings` over every payer the 835s name (the sheet is the profile's payer)."""
        groups: dict[tuple[str, str], list[Any]] = {}
        for row in self.findings():
            group = groups.setdefault((row["status"], row["finding"]), [0, _ZERO])
            group[0] += row["lines"]
            group[1] += row["amount"]
        ordered = sorted(groups.items(), key=lambda item: (item[0][0] != "underpaid", -item[1][1]))
        return tuple((s, f, n, float(a)) for (s, f), (n, a) in ordered)

    @property
    def period(self) -> tuple[dt.date | None, dt.date | None]:
        """First and last date of service audited (for "underpaid in the period")."""
        days = [line.service_date for line in self.lines if line.service_date is not None]
        return (min(days), max(days)) if days else (None, None)

    @property
    def underpaid(self) -> list[AuditLine]:
        return [line for line in self.lines if line.status == "underpaid"]

    @property
    def denied(self) -> list[AuditLine]:
        return [line for line in self.lines if line.status == "denied"]

    @property
    def underpaid_amount(self) -> Decimal:
        return sum((-(line.variance or _ZERO) for line in self.underpaid), _ZERO)


@dataclass(frozen=True)
class AuditSheet:
    """One payer's audit as the workbook shows it (:meth:`AuditResult.sheet`): totals and
    a by-code table (:data:`SHEET_COLUMNS`; floats holding cents, NaN money where no line
    of the row had a contract term). No claim, patient or member identifier."""

    table: pd.DataFrame
    period: tuple[dt.date | None, dt.date | None]
    underpaid_amount: float
    lines: int
    underpaid_lines: int
    denied_lines: int
    no_term_lines: int
    netted_lines: int
    contract: str  # Contract.describe()
    medicare: str  # the Medicare release and locality the terms used ("" when none)
    fee_files: tuple[Path, ...] = ()  # the contract's fee schedules, for the Sources sheet
    #: what explains the underpaid and denied lines: (status, finding, lines, dollars short
    #: or, for denials, billed), largest first; words and codes only, no identifier
    findings: tuple[tuple[str, str, int, float], ...] = ()


def _empty_row(key: tuple[str, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {"payer": key[0]}
    if len(key) == 3:
        row.update(code=key[1], modifier=key[2])
    row.update(
        lines=0,
        units=_ZERO,
        expected=None,
        allowed=None,
        variance=None,
        underpaid_lines=0,
        underpaid_amount=_ZERO,
        overpaid_lines=0,
        denied_lines=0,
        no_term_lines=0,
        reversal_lines=0,
        netted_lines=0,
    )
    return row


def _aggregate(
    lines: Sequence[AuditLine], key: Callable[[AuditLine], tuple[str, ...]]
) -> list[dict[str, Any]]:
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for line in lines:
        k = key(line)
        row = rows.get(k)
        if row is None:
            row = rows[k] = _empty_row(k)
        row["lines"] += 1
        row["units"] += line.units
        if line.audited:
            assert line.expected is not None
            row["expected"] = (row["expected"] or _ZERO) + line.expected
            row["allowed"] = (row["allowed"] or _ZERO) + line.allowed
            row["variance"] = (row["variance"] or _ZERO) + line.allowed - line.expected
        if line.status == "underpaid":
            row["underpaid_lines"] += 1
            row["underpaid_amount"] += -(line.variance or _ZERO)
        elif line.status == "overpaid":
            row["overpaid_lines"] += 1
        elif line.status == "denied":
            row["denied_lines"] += 1
        elif line.status == "no_term":
            row["no_term_lines"] += 1
        elif line.status == "reversal":
            row["reversal_lines"] += 1
    return [rows[k] for k in sorted(rows)]


def _frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    import pandas as pd  # lazy: pandas only for callers that want a DataFrame

    def value(v: Any) -> Any:
        if isinstance(v, Decimal):
            return float(v)
        return float("nan") if v is None else v

    return pd.DataFrame.from_records(
        [{c: value(r.get(c)) for c in columns} for r in rows], columns=columns
    )


def audit_lines(
    lines: Iterable[ServiceLine],
    contract: Contract,
    *,
    payer: str | None = None,
) -> AuditResult:
    """Audit 835 service lines (``read_era(..., lines=True).lines``) against ``contract``.

    ``payer`` keeps the lines of payers whose N1*PR name contains it (any case).
    """
    warnings: list[str] = []
    terms = _Terms(contract, warnings)
    chosen = list(lines)
    if payer:
        wanted = payer.casefold()
        chosen = [line for line in chosen if wanted in line.payer.casefold()]
        if not chosen:
            warnings.append(f"no service line of a payer named like {payer!r}")
    net, netted = _net(chosen)
    for line in net:
        if line.status == "":  # denied lines too: their expected amount is shown
            _price_line(line, terms)
    if contract.mppr:
        _apply_mppr([line for line in net if line.allowed != 0], terms)
    for line in net:
        _classify(line, terms)
    missing = sorted({line.code for line in net if line.status == "no_term"})
    if missing:
        shown = ", ".join(missing[:12]) + (
            f" and {len(missing) - 12} more" if len(missing) > 12 else ""
        )
        warnings.append(f"no contract term for {len(missing)} code(s): {shown}")
    terms.dated_note()
    return AuditResult(
        contract=contract,
        lines=net,
        netted=netted,
        warnings=warnings,
        medicare=terms.medicare_note,
    )


class _PayerLike(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def era(self) -> tuple[Path, ...]: ...
    @property
    def contract(self) -> Mapping[str, Any] | None: ...


class _ProfileLike(Protocol):
    """What the audit reads of a profile (xlrate's Profile; not imported, so the profile
    module can move without touching the audit)."""

    @property
    def locality(self) -> str | None: ...
    @property
    def zip(self) -> str | None: ...
    @property
    def payers(self) -> Sequence[_PayerLike]: ...


def audit_profile(
    profile: _ProfileLike, remits: Mapping[str, Any] | None = None
) -> dict[str, AuditResult]:
    """Audit each payer of ``profile`` that has a ``contract`` against its ``era`` files.

    A contract without its own locality / ZIP takes the practice's. Keys are payer names.
    ``remits`` (payer name -> ``read_era(..., lines=True)``) saves reading 835s again.
    """
    results: dict[str, AuditResult] = {}
    for payer in profile.payers:
        if payer.contract is None:
            continue
        where = f"payer {payer.name!r} contract"
        if not payer.era:
            raise InputError(f'{where}: the audit needs the payer\'s 835s: era = ["remit.835"]')
        contract = parse_contract(payer.contract, where=where)
        if contract.locality is None and contract.zip is None:
            contract = replace(contract, locality=profile.locality, zip=profile.zip)
        read = (remits or {}).get(payer.name) or read_era(list(payer.era), lines=True)
        result = audit_lines(read.lines, contract)
        result.warnings[:0] = read.warnings
        results[payer.name] = result
    return results


# ----------------------------------------------------------------------------- worklist


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def worklist_rows(result: AuditResult) -> list[list[str]]:
    """The underpaid lines, largest shortfall first, as worklist cells (text made safe)."""
    rows = []
    for line in sorted(result.underpaid, key=lambda item: (item.variance, item.claim, item.line)):
        rows.append(
            [
                safe_cell(line.claim),
                line.service_date.isoformat() if line.service_date else "",
                str(line.line),
                safe_cell(line.code),
                safe_cell(line.modifiers),
                f"{line.units.normalize():f}",
                _money(line.billed),
                _money(line.expected),
                _money(line.allowed),
                _money(line.paid),
                _money(line.variance),
                safe_cell(line.carc),
            ]
        )
    return rows


def write_worklist(result: AuditResult, path: str | Path, *, force: bool = False) -> int:
    """Write the appeal worklist CSV (the only output with claim numbers); rows written.

    Atomic (temp file + rename); refuses to replace an existing file unless ``force``.
    """
    target = Path(path)
    if target.exists() and not force:
        raise InputError(f"{target} exists; choose another name or add --force to replace it")
    rows = worklist_rows(result)
    with atomic_path(target) as tmp, open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(WORKLIST_COLUMNS)
        writer.writerows(rows)
    return len(rows)
