"""xlrate: what your payers pay you, compared with Medicare, to the cent.

The public API is re-exported here lazily so that ``import xlrate`` stays fast (pandas is
loaded only by the functions that need it)::

    import xlrate
    xlrate.medicare_amount("99213", locality="01112-05").amount   # Decimal('...')
    xlrate.price(requests_frame, zip="94110")                     # DataFrame
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "medicare_amount": "xlrate.medicare.pricing",
    "price": "xlrate.medicare.pricing",
    "PriceResult": "xlrate.medicare.pricing",
    "resolve_zip": "xlrate.medicare.localities",
    "search_localities": "xlrate.medicare.localities",
    "list_releases": "xlrate.medicare.store",
    "load_release": "xlrate.medicare.store",
    "read_fee_schedule": "xlrate.practice",
    "read_era": "xlrate.practice",
    "analyze": "xlrate.analysis",
    "build_workbook": "xlrate.report",
    "XlrateError": "xlrate.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlrate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
