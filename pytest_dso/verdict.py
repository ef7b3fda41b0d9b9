"""Turning findings into a test outcome: the only place suites assert."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import pytest

from pytest_dso.findings import Finding, Severity, errors, render


class DsoWarning(UserWarning):
    """A finding that does not fail the check but needs attention (e.g. expiry ahead)."""


def expect_clean(findings: Iterable[Finding], what: str = "") -> list[Finding]:
    """Fail the test, without a traceback, when any finding is an ERROR; warn for WARNINGs.

    Returns the findings so a test can inspect them further.
    """
    found = list(findings)
    for finding in found:
        if finding.severity == Severity.WARNING:
            warnings.warn(DsoWarning(str(finding)), stacklevel=2)
    bad = errors(found)
    if bad:
        title = f"{what}: " if what else ""
        pytest.fail(f"{title}{len(bad)} problem(s)\n{render(found)}", pytrace=False)
    return found
