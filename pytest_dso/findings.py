"""One verdict vocabulary for every check: a check returns findings, the suites assert on them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """How bad a finding is. Only ``ERROR`` fails a check."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """A single verdict: what is wrong, where, and how to fix it.

    ``check`` is a stable dotted identifier (``pkio.chain.incomplete``) that tests and
    evidence can match on; ``message`` and ``hint`` are for people.
    """

    check: str
    severity: Severity
    message: str
    hint: str = ""
    where: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        text = f"[{self.severity}] {self.check}: {self.message}"
        if self.where:
            text += f" (at {self.where})"
        if self.hint:
            text += f"\n    how to fix: {self.hint}"
        return text


def error(check: str, message: str, hint: str = "", where: str = "", **evidence: str) -> Finding:
    """Build an ``ERROR`` finding."""
    return Finding(check, Severity.ERROR, message, hint, where, evidence)


def warning(check: str, message: str, hint: str = "", where: str = "", **evidence: str) -> Finding:
    """Build a ``WARNING`` finding."""
    return Finding(check, Severity.WARNING, message, hint, where, evidence)


def info(check: str, message: str, hint: str = "", where: str = "", **evidence: str) -> Finding:
    """Build an ``INFO`` finding."""
    return Finding(check, Severity.INFO, message, hint, where, evidence)


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail a check."""
    return [f for f in findings if f.severity >= Severity.ERROR]


def warnings_of(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that warn but do not fail."""
    return [f for f in findings if f.severity == Severity.WARNING]


def with_check(findings: Iterable[Finding], check: str) -> list[Finding]:
    """The findings whose check id equals ``check`` or starts with ``check + '.'``."""
    return [f for f in findings if f.check == check or f.check.startswith(check + ".")]


def render(findings: Iterable[Finding]) -> str:
    """Human-readable text for a list of findings, worst first."""
    ordered = sorted(findings, key=lambda f: -int(f.severity))
    return "\n".join(str(f) for f in ordered) if ordered else "no findings"
