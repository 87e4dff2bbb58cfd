"""Where xlrate keeps things: one place resolves every path.

- ``XLRATE_HOME`` (environment) overrides the per-user data directory that platformdirs
  gives (``~/.local/share/xlrate`` on Linux, ``%LOCALAPPDATA%\\xlrate`` on Windows,
  ``~/Library/Application Support/xlrate`` on macOS).
- Installed CMS releases live under ``<home>/medicare/``.
- ``XLRATE_CMS_BASE_URL`` points the updater at another server (tests use 127.0.0.1).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CMS_BASE_URL = "https://www.cms.gov"


def data_home() -> Path:
    """The per-user data directory (not created here)."""
    env = os.environ.get("XLRATE_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("xlrate", appauthor=False))


def medicare_home() -> Path:
    """Where installed Medicare releases are stored."""
    return data_home() / "medicare"


def cms_base_url() -> str:
    return os.environ.get("XLRATE_CMS_BASE_URL", CMS_BASE_URL).rstrip("/")
