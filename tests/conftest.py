"""Self-tests of pytest-dso."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs are not influenced by the caller's DSO_*, PYTEST_ADDOPTS or the
    pytest-xdist worker variables of the outer run.

    Its runs have pytest-dso switched on with ``DSO_SUITES=none``: active, as with any
    ``DSO_*`` setting, and collecting only the test files the test writes, not the packaged
    suites. A test about activation or the packaged suites removes the variable itself.
    """
    import os

    for name in list(os.environ):
        if name.startswith(("DSO_", "PYTEST_XDIST_")) or name == "PYTEST_ADDOPTS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("DSO_SUITES", "none")
    return pytester
