"""The sample practice shipped with xlrate: ``xlrate demo`` builds its workbook.

One payer is a real published fee schedule (Alabama Medicaid, trimmed; see README.txt);
the others are synthetic and labelled so on the Summary and Sources sheets.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def demo_dir() -> Path:
    """The folder holding the demo profile and its input files."""
    return Path(str(resources.files("xlrate.demo")))


def demo_profile_path() -> Path:
    return demo_dir() / "practice.toml"
