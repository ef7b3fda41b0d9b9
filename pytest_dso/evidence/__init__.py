"""Evidence: redaction, Allure helpers, the results folder, HTML rendering and the ticket
bundle. Framework-free; the pytest wiring is in ``pytest_dso.fixtures.evidence``."""

from __future__ import annotations

from pytest_dso.evidence.allure import Evidence
from pytest_dso.evidence.httpexchange import RecordedExchange, as_exchange
from pytest_dso.evidence.redaction import ALLURE_REDACTED, REDACTED, Redactor

__all__ = ["ALLURE_REDACTED", "REDACTED", "Evidence", "RecordedExchange", "Redactor", "as_exchange"]
