"""Aansluitproces status: one test per step of the PRE process (4 parts) and PROD (7 steps).

The steps about one bevoegd gezag that a run proves (indienen, triggerbericht, ophalen, VTH)
are judged per tenant by the end-to-end tests of ``suites/test_e2e.py``, which carry those
steps as their ``dso_step`` markers: a second test per step and tenant would repeat their
verdict. The ticket bundle judges every step from the tests labelled with it. A per-tenant
step without an automated proof (PRE 3.1, logging in) is listed here once, for the run's own
process.

An automated step passes when this run proves it, from the same results the suites judge (CPA
lint and certificate checks, whitelist and TLS findings, the Ping/Pong; computed once per
process, whichever test asks first), and fails when they show a problem. Otherwise it is
skipped with a clear reason: a **manual** step says who must do what and which evidence
DSO-beheer expects (mail subject included); a step the harness cannot prove says which suite to
look at. The status never depends on which other tests ran in the same process. In local mode
the PRE steps are rehearsed against the simulator: a pass there is not evidence for DSO-beheer.
The steps come from the one model, :mod:`pytest_dso.e2e.steps`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.e2e.steps import PRE_STEPS, PROD_STEPS, Step, process_of
from pytest_dso.fixtures.proofs import PROOFS, StepProof
from pytest_dso.plugin import settings_of
from pytest_dso.settings import DsoSettings
from pytest_dso.tenants import Tenant

StepStatus = Callable[[Step, Tenant | None], StepProof | None]


def _manual_text(step: Step, ticket: str | None) -> str:
    text = f"{step.label} {step.title} ({step.actor}): {step.action} Evidence: {step.evidence}."
    if step.mail_subject:
        text += f" Mail dso-beheer@rws.nl, subject '{step.subject(ticket)}'."
    return text


def _known_skip(step: Step, settings: DsoSettings) -> tuple[str, dict[str, str]] | None:
    """Why ``step`` is skipped whatever this run finds, and the properties that say so: a
    step of the other process, or a manual one. ``None`` when the run decides."""
    env = settings.env
    if step.env == "prod" and env != "prod":
        return (f"{step.label} is a PROD step; this run is {env.upper()} (run with "
                "--dso-env=prod once PRE is done)", {})
    if step.env == "pre" and env == "prod":
        return (f"{step.label} belongs to PRE, which must be complete before PROD; its "
                "evidence comes from the PRE run", {})
    if not step.automated:
        return f"MANUAL: {_manual_text(step, settings.ticket)}", {"dso_step_status": "manual"}
    return None


def _listed(item: Step, process: str) -> bool:
    """Whether ``test_stap`` lists ``item``: every shared step (the whole road), and a
    per-tenant step only when it is of the run's own process and no end-to-end test proves
    it."""
    return not item.per_tenant or (item.env == process and not item.proof)


def _params(settings: DsoSettings) -> list[object]:
    """The steps as parameters; a step whose skip is known before the run is marked skipped
    with its properties, so it needs no fixtures."""
    process = process_of(settings.env)
    params: list[object] = []
    for item in (*PRE_STEPS, *PROD_STEPS):
        if not _listed(item, process):
            continue
        marks = [pytest.mark.dso_step(item.label)]
        known = _known_skip(item, settings)
        if known is not None:
            reason, properties = known
            marks += [pytest.mark.dso_property(name, value)
                      for name, value in {"dso_step": item.label, **properties}.items()]
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(item, id=item.label.replace(" ", "-"), marks=marks))
    return params


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The steps, each once (see :func:`_listed`)."""
    if metafunc.definition.originalname == "test_stap":
        metafunc.parametrize("step", _params(settings_of(metafunc.config)))


def _judge(step: Step, settings: DsoSettings, status: StepStatus,
           dso_property: Callable[[str, object], None]) -> None:
    env = settings.env
    dso_property("dso_step", step.label)
    known = _known_skip(step, settings)
    if known is not None:  # a parameter without its skip marker
        for name, value in known[1].items():
            dso_property(name, value)
        pytest.skip(known[0])
    found = status(step, None)
    if found is None:
        dso_property("dso_step_status", "open")
        suite = PROOFS[step.proof].suite if step.proof in PROOFS else "the suites"
        pytest.skip(f"NOT PROVEN in this run (the harness has no automated proof of "
                    f"{step.label!r}; see {suite}). " + _manual_text(step, settings.ticket))
    rehearsal = " (rehearsed against the simulator)" if env == "local" else ""
    if found.failed:
        unchecked = "".join(f"\nnot checked: {reason}" for reason in found.skipped)
        pytest.fail(f"{step.label} {step.title} is NOT proven{rehearsal}: failed: "
                    + "\n".join(found.failed) + unchecked, pytrace=False)
    if found.passed:
        dso_property("dso_step_proof", "; ".join(found.passed))
        dso_property("dso_step_status", "proven" + rehearsal)
        if step.mail_subject and env != "local":
            print(f"next: mail dso-beheer@rws.nl, subject '{step.subject(settings.ticket)}'")
        return
    reasons = next((r for r in found.skipped if r), "skipped")
    if len(found.skipped) > 1:
        reasons += f" (and {len(found.skipped) - 1} more like it)"
    dso_property("dso_step_status", "manual")
    pytest.skip(f"MANUAL: {_manual_text(step, settings.ticket)} Run said: {reasons}")


def test_stap(
    step: Step,
    dso_settings: DsoSettings,
    dso_step_status: StepStatus,
    dso_property: Callable[[str, object], None],
) -> None:
    """The status of one aansluitproces step (CPA, whitelist, Ping/Pong, ...) in this run."""
    _judge(step, dso_settings, dso_step_status, dso_property)

