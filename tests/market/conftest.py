"""Fixtures for the market tests: the real TiC files, a store, and a real HTTP server.

The server is the one the update tests use (``tests/update/cms_fake.py``: a threaded
``http.server`` on 127.0.0.1 with ETags, 304s, failures and stalls on demand), loaded by
path so both areas share one implementation.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

TIC = Path(__file__).parents[1] / "data" / "tic"
UHC = TIC / "dolthub__uhc_ny_2022-09__TEST_FILE.json.gz"
CAREFIRST = TIC / "dolthub__carefirst_v1_remote_refs__examplefile.json.gz"
REFS_AFTER = TIC / "dolthub__test_file_2.json"
UHS = TIC / "dolthub__test_file_3.json.gz"
REMOTE_REF = TIC / "dolthub__remote_ref.json"
TOC = TIC / "cms__table-of-contents-sample.json"
ALL_TYPES = TIC / "cms__in-network-rates-all-negotiated-types-sample.json"
CMS_EXAMPLES = sorted(TIC.glob("cms__*in-network-rates*.json"))


def _load_cms_fake() -> Any:
    name = "_market_cms_fake"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).parents[1] / "update" / "cms_fake.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server() -> Iterator[Any]:
    """A FakeCMS-style server: ``server.file(path, body)``, ``server.url``, ``server.log``."""
    import threading

    fake_module = _load_cms_fake()
    fake = fake_module.FakeCMS()
    httpd = fake_module._Server(("127.0.0.1", 0), fake_module._handler(fake))
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"
