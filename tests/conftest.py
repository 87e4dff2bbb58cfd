from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests listed in tests/slow_tests.py ``slow`` (the fast lane leaves them out)."""
    from slow_tests import SLOW

    for item in items:
        test = item.nodeid.split("[")[0]
        if test in SLOW or test.split("::")[0] in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own empty user data store: the embedded data answers."""
    home = tmp_path_factory.mktemp("xlrate_home")
    monkeypatch.setenv("XLRATE_HOME", str(home))
    monkeypatch.delenv("XLRATE_CMS_BASE_URL", raising=False)
    from xlrate.medicare import store

    store.clear_cache()
    yield
    store.clear_cache()
