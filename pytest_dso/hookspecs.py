"""Extension points of pytest-dso. Implement them in a conftest.py or a plugin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pytest_dso.e2e.vth import VerzoekForVth, VthOutcome
    from pytest_dso.settings import DsoSettings


def pytest_dso_redact(text: str) -> str | None:
    """Return ``text`` with site-specific secrets removed, or ``None`` to leave it as is.

    Called for every text that goes into evidence, logs or JUnit XML, after the built-in
    redaction (keys, passphrases, API keys, BSN). Every implementation runs, each on the
    previous one's output.
    """


@pytest.hookspec(firstresult=True)
def pytest_dso_trigger_source(name: str, settings: DsoSettings) -> Any:
    """Return a trigger source object for ``[triggers] source = name``, or ``None``.

    Lets another package add a trigger source (for example its own ESB) without changing
    pytest-dso.
    """


def pytest_dso_settings_resolved(settings: DsoSettings) -> None:
    """Called once the settings are resolved, before collection."""


@pytest.hookspec(firstresult=True)
def pytest_dso_vth_check(verzoek: VerzoekForVth) -> VthOutcome | None:
    """Check that the fetched ``verzoek`` is visible in your VTH- or zaaksysteem.

    Return a :class:`~pytest_dso.e2e.vth.VthOutcome`, or ``None`` to leave it to the next
    implementation; without any, the step is recorded as manual. The ``dso_vth_check`` fixture
    is the alternative for a conftest.py.
    """
