"""A payer's table-of-contents file: which in-network files belong to which plans.

Every payer publishes one (CMS schema ``table-of-contents``): ``reporting_structure[]``,
each with ``reporting_plans[]`` (plan name, id, market type) and ``in_network_files[]``
(description, location URL). Big payers' tables run to hundreds of MB, so they are
streamed like the rate files. A plan is chosen by a case-insensitive part of its name or
its exact plan id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xlrate.errors import MarketFileError
from xlrate.market.reader import file_chunks
from xlrate.market.sources import local_copy


@dataclass(frozen=True)
class TocFile:
    location: str
    description: str = ""
    plans: tuple[str, ...] = field(default_factory=tuple)


def _plan_matches(plan: dict[str, object], wanted: str) -> bool:
    name = str(plan.get("plan_name") or "")
    return wanted.casefold() in name.casefold() or wanted == str(plan.get("plan_id") or "")


def read_toc(location: str, plan: str | None = None) -> list[TocFile]:
    """The in-network files listed in a table of contents (only ``plan``'s when given)."""
    import ijson  # lazy: optional extra "market"; `import xlrate` stays light

    backend = ijson.get_backend("yajl2_c")
    found: dict[str, TocFile] = {}
    structures = 0
    with local_copy(location) as fetched:
        assert fetched.path is not None  # no validators sent: never "not modified"
        chunks, _ = file_chunks(fetched.path)
        sink = ijson.sendable_list()
        coro = backend.items_coro(sink, "reporting_structure.item", use_float=True)
        try:
            for chunk in chunks:
                coro.send(chunk)
                for structure in sink:
                    structures += 1
                    plans = [
                        p for p in structure.get("reporting_plans") or () if isinstance(p, dict)
                    ]
                    if plan and not any(_plan_matches(p, plan) for p in plans):
                        continue
                    names = tuple(str(p.get("plan_name") or "") for p in plans)
                    for entry in structure.get("in_network_files") or ():
                        url = str(entry.get("location") or "") if isinstance(entry, dict) else ""
                        url = resolve_location(location, url) if url else url
                        if url and url not in found:
                            found[url] = TocFile(url, str(entry.get("description") or ""), names)
                del sink[:]
            coro.close()
        except ijson.IncompleteJSONError as exc:
            raise MarketFileError(
                f"{location} is not a complete table-of-contents JSON file "
                f"({str(exc).splitlines()[0]}). Download it again"
            ) from exc
    if not structures:
        raise MarketFileError(
            f"{location} has no reporting_structure: it is not a table-of-contents file "
            "(give in-network files as FILE arguments instead)"
        )
    if not found:
        which = f" for plan {plan!r}" if plan else ""
        raise MarketFileError(
            f"{location} lists no in-network files{which}. Check the plan name "
            "(a part of it is enough) or leave out --plan"
        )
    return list(found.values())


def resolve_location(base: str, location: str) -> str:
    """A relative location in a local table of contents is relative to the table's folder."""
    if "://" in location or Path(location).is_absolute() or "://" in base:
        return location
    return str(Path(base).expanduser().parent / location)
