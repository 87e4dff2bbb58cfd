"""A generator of 835 remittances with known contract misapplications (for the audit tests
and scripts/benches/audit.py).

The contract: a fee schedule for 2024 and one for 2025 (from 2025-01-01), 125% of 2025
Medicare (locality 01112-05) for codes the schedules lack, lesser of billed charge, and the
multiple-procedure reduction. Every line's correct allowed amount is worked out here, on
its own, from the fee schedules below, CMS's indicators and Medicare amounts (the engine is
checked against CMS's published amounts elsewhere); then a seeded share of lines is paid
wrongly in one of the ways payers get it wrong. ``Truth`` records, per claim and line, how
much each seeded line is short by.

Patients have made-up names and member ids, and every claim a control number: the tests
check that none of them reaches an aggregate output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from xlrate.medicare.pricing import medicare_amount

LOCALITY = "01112-05"
PAYER = "ACME HEALTH PLAN"
CENT = Decimal("0.01")
D = Decimal

# Per-unit fees; 71046 and 93306 are listed as globals only (26/TC split by Medicare's ratio).
FEES_2025 = {
    "99213": D("118.00"),
    "99214": D("165.00"),
    "27447": D("1800.00"),
    "27130": D("1850.00"),
    "28296": D("1300.03"),
    "63047": D("1500.00"),
    "22633": D("2400.00"),
    "11042": D("190.00"),
    "17000": D("95.00"),
    "20610": D("90.00"),
    "71046": D("52.00"),
    "93306": D("300.00"),
    "97110": D("42.00"),
}
FEES_2024 = {
    code: (fee * D("0.96")).quantize(CENT, ROUND_HALF_UP) for code, fee in FEES_2025.items()
}
# MULT PROC / BILAT SURG / ASST SURG / CO-SURG of these codes in the 2025 PPRRVU.
MULT_PROC = {"27447": "2", "27130": "2", "28296": "2", "63047": "2", "22633": "2"}
MULT_PROC |= {"11042": "2", "17000": "2", "20610": "2"}
BILATERAL = {"27447", "27130", "28296", "20610"}  # BILAT SURG 1
SURGERY_FACILITY = ["27447", "27130", "28296", "63047"]
SURGERY_OFFICE = ["11042", "17000", "20610"]
FALLBACK = ["99203", "12002"]  # not in the schedules: 125% of Medicare
NO_TERM = "A0230"  # in neither the schedules nor the physician fee schedule
ERRORS = (
    "wrong_year",
    "mppr_exempt",
    "bilateral_ignored",
    "assistant_pct",
    "lesser_of",
    "component",
    "units",
    "cosurgery_pct",
)


def rnd(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def medicare(code: str, component: str, setting: str) -> Decimal:
    amount = medicare_amount(
        code, component or None, locality=LOCALITY, setting=setting, year=2025
    ).amount
    assert amount is not None, (code, component, setting)
    return amount


@dataclass
class Line:
    code: str
    mods: str = ""
    units: int = 1
    billed: Decimal = D(0)
    allowed: Decimal = D(0)
    paid: Decimal = D(0)
    expected: Decimal = D(0)  # the correct allowed amount
    rate: Decimal = D(0)  # per-unit contract rate
    factor: Decimal = D(1)
    reduced_units: int = 0
    b6: bool = True
    kind: str = "correct"
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)


@dataclass
class Claim:
    claim_id: str
    day: date
    pos: str
    lines: list[Line]
    status: str = "1"
    patient: tuple[str, str] = ("", "")
    member: str = ""


@dataclass
class Truth:
    """Seeded shortfalls by (claim, line), and what else was generated."""

    underpaid: dict[tuple[str, int], Decimal] = field(default_factory=dict)
    kinds: dict[tuple[str, int], str] = field(default_factory=dict)
    denied: set[tuple[str, int]] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    claims: set[str] = field(default_factory=set)
    lines: int = 0


class Generator:
    def __init__(self, seed: int = 14, error_rate: float = 0.12) -> None:
        self.rng = random.Random(seed)
        self.error_rate = error_rate
        self.truth = Truth()
        self.claims: list[Claim] = []
        self.count = 0

    # -- contract --------------------------------------------------------------------
    def rate(self, code: str, component: str, setting: str, day: date) -> Decimal:
        fees = FEES_2025 if day >= date(2025, 1, 1) else FEES_2024
        if code in fees:
            if not component:
                return fees[code]
            share = medicare(code, component, setting) / medicare(code, "", setting)
            return rnd(fees[code] * share)
        return rnd(medicare(code, component, setting) * D(125) / D(100))

    def price(self, claim: Claim) -> None:
        setting = "facility" if claim.pos == "22" else "nonfacility"
        for line in claim.lines:
            mods = line.mods.split("-")
            component = next((m for m in mods if m in ("26", "TC")), "")
            line.rate = self.rate(line.code, component, setting, claim.day)
            if "50" in mods:
                line.factor = D("1.5")
            if "80" in mods:
                line.factor = D("0.16")
            if "AS" in mods:
                line.factor = D("0.136")
            if "62" in mods:
                line.factor = D("0.625")
        ranked = sorted(
            (ln for ln in claim.lines if MULT_PROC.get(ln.code) == "2"),
            key=lambda ln: -(ln.rate * ln.factor),
        )
        if len(ranked) > 1 or (ranked and ranked[0].units > 1):
            for rank, line in enumerate(ranked):
                line.reduced_units = line.units - 1 if rank == 0 else line.units
        for line in claim.lines:
            full = line.units - line.reduced_units
            line.expected = rnd(line.rate * line.factor * (full + D("0.5") * line.reduced_units))
            if not line.billed:
                line.billed = rnd(line.expected * D("1.6")) + D(7)
            line.expected = min(line.expected, line.billed)  # lesser of billed charge

    # -- seeding ---------------------------------------------------------------------
    def seed_error(self, claim: Claim, line: Line, kind: str) -> bool:
        """Pay ``line`` wrongly; False when ``kind`` does not apply to it."""
        full = line.units - line.reduced_units
        share = full + D("0.5") * line.reduced_units
        mods = line.mods.split("-")
        wrong: Decimal | None = None
        if kind == "wrong_year" and claim.day.year == 2025 and line.code in FEES_2024:
            if "26" in mods or "TC" in mods:
                return False
            wrong = rnd(FEES_2024[line.code] * line.factor * share)
        elif kind == "mppr_exempt" and line.code in ("99213", "99214"):
            wrong = rnd(line.rate * line.factor * line.units * D("0.5"))
        elif kind == "bilateral_ignored" and "50" in mods:
            wrong = rnd(line.rate * share)
        elif kind == "assistant_pct" and "80" in mods:
            wrong = rnd(line.rate * D("0.10") * share)
        elif kind == "lesser_of" and line.code == "97110" and line.units > 1:
            line.billed = rnd(line.rate * line.units * D("0.9"))  # below the fee
            line.expected = line.billed
            wrong = rnd(line.billed / line.units)
        elif kind == "component" and "TC" in mods:
            setting = "facility" if claim.pos == "22" else "nonfacility"
            wrong = rnd(self.rate(line.code, "26", setting, claim.day) * line.units)
        elif kind == "cosurgery_pct" and "62" in mods:
            wrong = rnd(line.rate * D("0.5") * share)
        elif kind == "units" and line.code == "97110" and line.units > 1:
            wrong = rnd(line.rate)
        if wrong is None or wrong >= line.expected:
            return False
        line.allowed = wrong
        line.kind = kind
        return True

    def settle(self, claim: Claim, seed: bool = True) -> None:
        """Decide what the payer allowed and paid on each line (and the CAS)."""
        for line in claim.lines:
            if line.kind == "denied":
                continue
            line.allowed = line.expected
            if seed and self.rng.random() < self.error_rate:
                # The rule-specific errors first (they apply to few lines), then the broad.
                kinds = [k for k in ERRORS if k not in ("wrong_year", "mppr_exempt")]
                self.rng.shuffle(kinds)
                kinds += ["mppr_exempt", "wrong_year"]
                for kind in kinds:
                    if self.seed_error(claim, line, kind):
                        break
            if line.kind == "correct" and line.code == "28296" and line.units == 2:
                # This payer rounds per unit: a cent under the per-line rounding, not an
                # underpayment.
                unit = line.rate * line.factor
                full = line.units - line.reduced_units
                line.allowed = rnd(unit) * full + rnd(unit * D("0.5")) * line.reduced_units
                line.kind = "per_unit_rounding"
        for line in claim.lines:
            coins = rnd(line.allowed * D("0.2")) if self.rng.random() < 0.5 else D(0)
            line.paid = line.allowed - coins
            line.cas = []
            if line.kind == "denied":
                line.cas.append(("CO", "29", line.billed))
                continue
            if line.billed > line.allowed:
                reason = "59" if line.reduced_units or line.kind == "mppr_exempt" else "45"
                line.cas.append(("CO", reason, line.billed - line.allowed))
            if coins:
                line.cas.append(("PR", "2", coins))
            line.b6 = self.rng.random() < 0.8

    # -- claims ----------------------------------------------------------------------
    def new_claim(self, lines: list[Line], pos: str, day: date) -> Claim:
        self.count += 1
        claim = Claim(
            claim_id=f"CLM{self.count:07d}",
            day=day,
            pos=pos,
            lines=lines,
            patient=(f"ZZLAST{self.count}", f"ZZFIRST{self.count}"),
            member=f"MBR{self.count:09d}",
        )
        return claim

    def day(self) -> date:
        if self.rng.random() < 0.2:
            return date(2024, 1, 1) + timedelta(days=self.rng.randrange(366))
        return date(2025, 1, 1) + timedelta(days=self.rng.randrange(365))

    def make(self) -> Claim:
        r = self.rng.random()
        pick = self.rng.choice
        if r < 0.30:  # office visit, maybe therapy units, maybe a fallback code
            lines = [Line(pick(["99213", "99214", "99203"]))]
            if self.rng.random() < 0.5:
                lines.append(Line("97110", units=self.rng.randint(1, 4)))
            if self.rng.random() < 0.2:
                lines.append(Line("12002"))
            pos = "11"
        elif r < 0.45:  # radiology / echo: global or a component
            code = pick(["71046", "93306"])
            lines = [Line(code, mods=pick(["", "26", "TC", "TC"]))]
            pos = "11"
        elif r < 0.75:  # surgery: several procedures, maybe bilateral, maybe an E/M (25)
            pool = SURGERY_FACILITY if self.rng.random() < 0.6 else SURGERY_OFFICE
            codes = self.rng.sample(pool, self.rng.randint(1, 3))
            lines = []
            for code in codes:
                mods = "50" if code in BILATERAL and self.rng.random() < 0.3 else ""
                units = self.rng.randint(2, 3) if code == "17000" else 1
                lines.append(Line(code, mods=mods, units=units))
            if self.rng.random() < 0.4:
                lines.insert(0, Line("99213", mods="25"))
            pos = "22" if pool is SURGERY_FACILITY else "11"
        elif r < 0.85:  # assistant at surgery / co-surgeon
            kind = pick(["80", "AS", "62"])
            if kind == "80":
                lines = [Line(pick(["27130", "27447"]), mods="80")]
            elif kind == "AS":
                lines = [Line("28296", mods="AS", units=self.rng.randint(1, 2))]
            else:
                lines = [Line("22633", mods="62")]
            pos = "22"
        elif r < 0.92:  # a denial, and a code the contract does not price
            lines = [Line(pick(["99213", "71046"]))]
            lines[0].kind = "denied"
            if self.rng.random() < 0.5:
                lines.append(Line(NO_TERM))
            pos = "11"
        else:
            lines = [Line(pick(["99213", "99214"]))]
            pos = "11"
        claim = self.new_claim(lines, pos, self.day())
        for line in claim.lines:
            if line.code == NO_TERM:
                line.billed = D("250.00")
        self.price_no_term(claim)
        return claim

    def price_no_term(self, claim: Claim) -> None:
        priced = [ln for ln in claim.lines if ln.code != NO_TERM]
        other = [ln for ln in claim.lines if ln.code == NO_TERM]
        claim.lines = priced
        self.price(claim)
        for line in other:
            line.expected = line.allowed = D("180.00")
            line.kind = "no_term"
        claim.lines = priced + other

    def generate(self, claims: int) -> list[Claim]:
        out: list[Claim] = []
        while len(out) < claims:
            claim = self.make()
            self.settle(claim)
            if claim.lines[0].kind == "denied":
                claim.status = "4" if len(claim.lines) == 1 else "1"
            if self.rng.random() < 0.04:
                # Paid, reversed, paid again: the first payment may have been wrong; only
                # the correction counts.
                first = Claim(claim.claim_id, claim.day, claim.pos, [], "1")
                first.patient, first.member = claim.patient, claim.member
                first.lines = [
                    Line(ln.code, ln.mods, ln.units, ln.billed, rnd(ln.allowed * D("0.7")))
                    for ln in claim.lines
                ]
                for ln in first.lines:
                    ln.paid = ln.allowed
                    ln.cas = [("CO", "45", ln.billed - ln.allowed)]
                reversal = Claim(claim.claim_id, claim.day, claim.pos, [], "22")
                reversal.patient, reversal.member = claim.patient, claim.member
                reversal.lines = [
                    Line(
                        ln.code,
                        ln.mods,
                        ln.units,
                        -ln.billed,
                        -ln.allowed,
                        -ln.paid,
                        cas=[(g, r, -a) for g, r, a in ln.cas],
                    )
                    for ln in first.lines
                ]
                out.extend([first, reversal])
            out.append(claim)
            self.record(claim)
        self.claims = out
        return out

    def record(self, claim: Claim) -> None:
        t = self.truth
        t.names.update(claim.patient)
        t.members.add(claim.member)
        t.claims.add(claim.claim_id)
        for number, line in enumerate(claim.lines, start=1):
            t.lines += 1
            key = (claim.claim_id, number)
            if line.kind == "denied":
                t.denied.add(key)
            elif line.kind in ERRORS:
                t.underpaid[key] = line.expected - line.allowed
                t.kinds[key] = line.kind

    # -- fee schedule files ----------------------------------------------------------
    @staticmethod
    def write_fees(folder: Path) -> tuple[Path, Path]:
        paths = []
        for year, fees in ((2024, FEES_2024), (2025, FEES_2025)):
            path = folder / f"acme_fees_{year}.csv"
            rows = ["ACME Health Plan professional fee schedule", f"Effective {year}", ""]
            rows.append("CPT/HCPCS,Modifier,Allowed Amount")
            rows += [f'{code},,"${fee:,.2f}"' for code, fee in fees.items()]
            path.write_text("\n".join(rows) + "\n", encoding="utf-8")
            paths.append(path)
        return paths[0], paths[1]

    @staticmethod
    def contract(fees_2024: Path, fees_2025: Path) -> dict[str, object]:
        return {
            "fees": [
                {"file": str(fees_2024), "from": date(2024, 1, 1), "to": date(2024, 12, 31)},
                {"file": str(fees_2025), "from": date(2025, 1, 1)},
            ],
            "pct_of_medicare": 125,
            "medicare_year": 2025,
            "locality": LOCALITY,
            "lesser_of_charges": True,
            "mppr": True,
        }


def render(claims: list[Claim], payer: str = PAYER) -> str:
    """The claims as one 835 interchange (``*`` elements, ``:`` components, ``~`` + newline)."""
    seg: list[str] = []
    add = seg.append
    add(
        "ISA*00*          *00*          *ZZ*ACMEPAYER      *ZZ*RIVERBEND      *250301*1200*^*00501*000000001*0*P*:"
    )
    add("GS*HP*ACMEPAYER*RIVERBEND*20250301*1200*1*X*005010X221A1")
    start = len(seg)
    add("ST*835*0001")
    total = sum((ln.paid for c in claims for ln in c.lines), D(0))
    add(
        f"BPR*I*{total:.2f}*C*ACH*CCP*01*999999999*DA*123456*1512345678**01*999999999*DA*654321*20250301"
    )
    add("TRN*1*12345*1512345678")
    add("DTM*405*20250301")
    add(f"N1*PR*{payer}")
    add("N3*1 PAYER WAY")
    add("N4*ANYTOWN*CA*94110")
    add("N1*PE*RIVERBEND FAMILY MEDICINE*XX*1234567893")
    add("LX*1")
    for claim in claims:
        billed = sum((ln.billed for ln in claim.lines), D(0))
        paid = sum((ln.paid for ln in claim.lines), D(0))
        resp = sum((a for ln in claim.lines for g, _, a in ln.cas if g == "PR"), D(0))
        add(
            f"CLP*{claim.claim_id}*{claim.status}*{billed:.2f}*{paid:.2f}*{resp:.2f}*12*PCN{claim.claim_id}*{claim.pos}*1"
        )
        add(f"NM1*QC*1*{claim.patient[0]}*{claim.patient[1]}****MI*{claim.member}")
        add(f"NM1*IL*1*{claim.patient[0]}*{claim.patient[1]}****MI*{claim.member}")
        add(f"DTM*232*{claim.day:%Y%m%d}")
        for number, line in enumerate(claim.lines, start=1):
            composite = "HC:" + ":".join([line.code, *[m for m in line.mods.split("-") if m]])
            add(f"SVC*{composite}*{line.billed:.2f}*{line.paid:.2f}**{line.units}")
            add(f"DTM*472*{claim.day:%Y%m%d}")
            for group in ("CO", "PR"):
                triplets = [(r, a) for g, r, a in line.cas if g == group]
                if triplets:
                    add(f"CAS*{group}*" + "**".join(f"{r}*{a:.2f}" for r, a in triplets))
            add(f"REF*6R*{claim.claim_id}-{number}")
            if line.b6:
                add(f"AMT*B6*{line.allowed:.2f}")
    add(f"SE*{len(seg) - start + 1}*0001")
    add("GE*1*1")
    add("IEA*1*000000001")
    return "~\n".join(seg) + "~\n"
