"""CMS file layouts, code meanings and payment policy as CSV data, one file per table (each
file's header names its columns). Read them with :func:`rows`."""

from __future__ import annotations

import csv
import io
from importlib import resources


def rows(name: str) -> list[dict[str, str]]:
    """The rows of the CSV ``name`` in this folder, as dicts keyed by its header."""
    text = resources.files(__name__).joinpath(name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))
