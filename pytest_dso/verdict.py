"""Turning findings into a test outcome: the only place suites assert."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pytest

from pytest_dso.findings import Finding, Severity, errors, render


class DsoWarning(UserWarning):
    """A finding that does not fail the check but needs attention (e.g. expiry ahead)."""


_NOTED = pytest.StashKey[list[str]]()
_RUNNING: list[pytest.Item] = []


@contextmanager
def noting_warnings_for(item: pytest.Item) -> Iterator[None]:
    """While the test ``item`` runs, :func:`expect_clean` notes its warnings on it (the pytest
    layer writes them to JUnit XML; see :mod:`pytest_dso.fixtures.health`)."""
    _RUNNING.append(item)
    try:
        yield
    finally:
        _RUNNING.remove(item)


def noted_warnings(item: pytest.Item) -> list[str]:
    """The warnings :func:`expect_clean` noted while ``item`` ran."""
    noted: list[str] = item.stash.get(_NOTED, [])
    return list(noted)


def _note(text: str) -> None:
    if _RUNNING:
        _RUNNING[-1].stash.setdefault(_NOTED, []).append(text)
    from pytest_dso.evidence.allure import label

    label("dso_warning", text)
    label("tag", "dso-warning")


def expect_clean(findings: Iterable[Finding], what: str = "") -> list[Finding]:
    """Fail the test, without a traceback, when any finding is an ERROR; warn for WARNINGs.

    Returns the findings so a test can inspect them further.
    """
    found = list(findings)
    for finding in found:
        if finding.severity == Severity.WARNING:
            _note(str(finding))
            warnings.warn(DsoWarning(str(finding)), stacklevel=2)
    bad = errors(found)
    if bad:
        title = f"{what}: " if what else ""
        pytest.fail(f"{title}{len(bad)} problem(s)\n{render(found)}", pytrace=False)
    return found
