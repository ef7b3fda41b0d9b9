"""Extension points of pytest-dso. Implement them in a conftest.py or a plugin.

Every hook is called through pytest's hook caller (``config.hook``), so implementations from
conftest.py files and installed plugins are all seen, in pluggy's order (``tryfirst`` and
``trylast`` respected; otherwise the latest registered first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pytest

if TYPE_CHECKING:
    from pytest_dso.e2e.vth import VerzoekForVth, VthOutcome
    from pytest_dso.settings import DsoSettings
    from pytest_dso.triggers.base import TriggerSource


class Redaction(Protocol):
    """A site-specific redaction: ``text`` without your secrets, or ``None`` for unchanged."""

    def __call__(self, text: str, /) -> str | None: ...


def pytest_dso_redactor(config: pytest.Config) -> Redaction | None:
    """Return a callable that removes site-specific secrets from a text, or ``None``.

    Collected through the hook caller: every implementation's callable is kept, in hook order.
    pytest-dso calls each of them on every text that goes into evidence, logs or JUnit XML,
    after the built-in redaction (keys, passphrases, API keys, BSN), each on the previous one's
    output; a callable that returns ``None`` leaves the text as it is. Collected again when a
    plugin or conftest.py with an implementation is registered later in the run.
    """


@pytest.hookspec(
    warn_on_impl=DeprecationWarning(
        "pytest_dso_redact(text) is deprecated: implement pytest_dso_redactor(config) and "
        "return a callable that takes the text (pytest_dso/docs/evidence.md, 'Your own "
        "redaction')"
    )
)
def pytest_dso_redact(text: str) -> str | None:
    """Deprecated: use :func:`pytest_dso_redactor`. Still called, each implementation on the
    previous one's output, after the ``pytest_dso_redactor`` callables."""


@pytest.hookspec(firstresult=True)
def pytest_dso_trigger_source(name: str, settings: DsoSettings) -> TriggerSource | None:
    """Return a trigger source for ``[triggers] source = name``, or ``None`` for the next one.

    The first implementation that returns a source wins; the built-in sources (receiver,
    folder, http-forward, ebms-core, manual) come after every implementation. The object must
    follow :class:`~pytest_dso.triggers.base.TriggerSource` (``start``, ``stop``, ``wait_for``,
    ``all``, ``name``). Lets another package add a trigger source (for example its own ESB)
    without changing pytest-dso.
    """


def pytest_dso_settings_resolved(settings: DsoSettings) -> None:
    """Called once the settings are resolved, before collection (every implementation).

    Use it to check or record the settings of the run; raise ``pytest.UsageError`` to stop
    the run with your own message. The settings are frozen.
    """


@pytest.hookspec(firstresult=True)
def pytest_dso_vth_check(verzoek: VerzoekForVth) -> VthOutcome | None:
    """Check that the fetched ``verzoek`` is visible in your VTH- or zaaksysteem.

    Return a :class:`~pytest_dso.e2e.vth.VthOutcome`, or ``None`` to leave it to the next
    implementation; without any, the step is recorded as manual. The ``dso_vth_check`` fixture
    is the alternative for a conftest.py.
    """
