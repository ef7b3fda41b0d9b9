"""Validity: not yet valid, expired, expiring soon; days left in the evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.findings import Severity
from pytest_dso.pkio.testpki import Issued
from pytest_dso.pkio.validity import check_validity

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def may_2026(issue: Callable[..., Issued]) -> Issued:
    """Valid 2026-05-01 12:00 UTC to 2026-07-01 12:00 UTC."""
    start = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    return issue(not_before=start, not_after=start + dt.timedelta(days=61))


def test_valid_with_days_left(may_2026: Issued) -> None:
    [finding] = check_validity(may_2026.certificate, NOW, expiry_warning_days=10)
    assert finding.check == "pkio.validity.ok"
    assert finding.severity == Severity.INFO
    assert finding.evidence["days_left"] == "30"


def test_expiring_within_warning_period(may_2026: Issued) -> None:
    [finding] = check_validity(may_2026.certificate, NOW, expiry_warning_days=31)
    assert finding.check == "pkio.validity.expiring"
    assert finding.severity == Severity.WARNING
    assert "in 30 days" in finding.message
    assert "new key pair" in finding.hint


def test_expired(may_2026: Issued) -> None:
    later = dt.datetime(2026, 7, 11, 12, 0, tzinfo=dt.UTC)
    [finding] = check_validity(may_2026.certificate, later)
    assert finding.check == "pkio.validity.expired"
    assert finding.severity == Severity.ERROR
    assert "2026-07-01" in finding.message
    assert "10 days ago" in finding.message
    assert finding.evidence["days_left"] == "-10"


def test_not_yet_valid(may_2026: Issued) -> None:
    earlier = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    [finding] = check_validity(may_2026.certificate, earlier)
    assert finding.check == "pkio.validity.not_yet_valid"
    assert finding.severity == Severity.ERROR
    assert "2026-05-01" in finding.message


def test_naive_clock_is_refused(may_2026: Issued) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check_validity(may_2026.certificate, dt.datetime(2026, 6, 1))
