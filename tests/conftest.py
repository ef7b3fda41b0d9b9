"""Self-tests of pytest-dso."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs are not influenced by the caller's DSO_*, PYTEST_ADDOPTS or the
    pytest-xdist worker variables of the outer run."""
    import os

    for name in list(os.environ):
        if name.startswith(("DSO_", "PYTEST_XDIST_")) or name == "PYTEST_ADDOPTS":
            monkeypatch.delenv(name)
    return pytester
