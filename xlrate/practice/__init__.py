"""The practice's own data in: payer fee schedules (CSV / XLSX) and 835 remittances.

- :func:`read_fee_schedule` / :func:`read_fee_schedules` -> normalized rate rows
  (``payer, code, modifier, setting, amount, note``) and a read report.
- :func:`read_era` -> what payers actually paid, aggregated by payer and by
  payer + code + modifiers. Patient names, member ids and claim numbers never leave it.

Submodules are imported on first use, so ``import xlrate.practice`` does not load pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from xlrate.practice.era835 import EraResult, read_era
    from xlrate.practice.fee_schedules import (
        FeeReadReport,
        FeeSchedule,
        FeeSchedules,
        read_fee_schedule,
        read_fee_schedules,
    )

_EXPORTS = {
    "read_fee_schedule": "xlrate.practice.fee_schedules",
    "read_fee_schedules": "xlrate.practice.fee_schedules",
    "FeeSchedule": "xlrate.practice.fee_schedules",
    "FeeSchedules": "xlrate.practice.fee_schedules",
    "FeeReadReport": "xlrate.practice.fee_schedules",
    "read_era": "xlrate.practice.era835",
    "EraResult": "xlrate.practice.era835",
}

__all__ = [
    "EraResult",
    "FeeReadReport",
    "FeeSchedule",
    "FeeSchedules",
    "read_era",
    "read_fee_schedule",
    "read_fee_schedules",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlrate.practice' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
