"""A tiny, separate reader of TiC files with the standard library's json (whole file in
memory: fine for the small test files). The tests compare xlrate's streaming reader and
benchmark with what this counts; it shares no code with xlrate."""

from __future__ import annotations

import functools
import gzip
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

# CMS PFS facility places of service (DOMAIN.md section 6), POS 10 until 2023.
FACILITY = {
    "02",
    "19",
    "21",
    "22",
    "23",
    "24",
    "26",
    "31",
    "34",
    "41",
    "42",
    "51",
    "52",
    "53",
    "56",
    "61",
}
DOLLARS = {"negotiated", "fee schedule", "derived"}


@functools.lru_cache(maxsize=4)
def load(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def setting(places: list[str], year: int) -> str:
    facility = FACILITY | ({"10"} if year < 2024 else set())
    places = [p.zfill(2) if p.isdigit() else p for p in places]
    if not places or "CSTM-00" in places:
        return "mixed"
    inside = [p in facility for p in places]
    return "facility" if all(inside) else "nonfacility" if not any(inside) else "mixed"


def tin(value: str) -> str:
    return value.replace("-", "").strip()


def groups_of(data: dict[str, Any], negotiated: dict[str, Any]) -> list[tuple[str, list[int]]]:
    out = [(tin(g["tin"]["value"]), g["npi"]) for g in negotiated.get("provider_groups", [])]
    refs = {r["provider_group_id"]: r for r in data.get("provider_references", [])}
    for ref in negotiated.get("provider_references", []):
        for g in refs.get(ref, {}).get("provider_groups", []):
            out.append((tin(g["tin"]["value"]), g["npi"]))
    return out


def counts(path: Path) -> dict[str, Any]:
    """items, prices, and the TINs that have at least one rate."""
    data = load(path)
    prices = 0
    tins: set[str] = set()
    for item in data["in_network"]:
        for negotiated in item["negotiated_rates"]:
            n = len(negotiated["negotiated_prices"])
            prices += n
            if n:
                tins |= {t for t, _ in groups_of(data, negotiated)}
    return {"items": len(data["in_network"]), "prices": prices, "tins": tins}


def per_setting_stats(
    path: Path, code: str
) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    """(modifier, setting) -> (TINs, min, median, max) of per-TIN medians of dollar rates."""
    data = load(path)
    year = int(data["last_updated_on"][:4])
    rates: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for item in data["in_network"]:
        if item["billing_code"] != code:
            continue
        for negotiated in item["negotiated_rates"]:
            for price in negotiated["negotiated_prices"]:
                if price["negotiated_type"] not in DOLLARS:
                    continue
                key = (
                    "-".join(price.get("billing_code_modifier") or []),
                    setting(price.get("service_code", []), year),
                )
                for t, _ in groups_of(data, negotiated):
                    rates[key][t].append(price["negotiated_rate"])
    out = {}
    for key, by_tin in rates.items():
        medians = sorted(statistics.median(v) for v in by_tin.values())
        out[key] = (len(medians), medians[0], statistics.median(medians), medians[-1])
    return out
