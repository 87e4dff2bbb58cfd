"""Place of service -> Medicare setting, by CMS's PFS facility list in force at a date.

A Transparency-in-Coverage price lists the places of service (``service_code``) where it
applies. Medicare pays the facility amount at the places on CMS's PFS facility list and the
non-facility amount everywhere else, so a price is ``facility`` when all its places are on
that list, ``nonfacility`` when none is, and ``mixed`` otherwise. An empty list and the
schema's ``CSTM-00`` ("all places of service") count as ``mixed``: the price applies in both.

The list changed once: POS 10 (telehealth in the patient's home) was a facility place until
the end of 2023 and is a non-facility place from 1 January 2024 (CY2024 PFS final rule).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

FACILITY_POS = frozenset(
    {"02", "19", "21", "22", "23", "24", "26", "31", "34", "41", "42", "51", "52", "53", "56", "61"}
)
# POS 10 moved to the non-facility list on this date.
POS10_NONFACILITY_FROM = dt.date(2024, 1, 1)
ALL_PLACES = "CSTM-00"

SETTINGS = ("nonfacility", "facility", "mixed")


def normalize_pos(value: object) -> str:
    """``"1"`` / ``1`` / ``" 11 "`` -> two digits; other text (``CSTM-00``) upper-cased."""
    text = str(value).strip().upper()
    if text.isdigit() and len(text) < 2:
        return text.zfill(2)
    return text


def facility_places(on: dt.date | None) -> frozenset[str]:
    """CMS's facility places of service in force on ``on`` (today's list when None)."""
    if on is not None and on < POS10_NONFACILITY_FROM:
        return FACILITY_POS | {"10"}
    return FACILITY_POS


def setting_for(places: Iterable[str], on: dt.date | None) -> str:
    """``nonfacility``, ``facility`` or ``mixed`` for normalised places of service."""
    facility = facility_places(on)
    seen_facility = seen_other = False
    for place in places:
        if place == ALL_PLACES:
            return "mixed"
        if place in facility:
            seen_facility = True
        else:
            seen_other = True
    if seen_facility and not seen_other:
        return "facility"
    if seen_other and not seen_facility:
        return "nonfacility"
    return "mixed"
