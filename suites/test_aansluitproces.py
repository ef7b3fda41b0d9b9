"""Aansluitproces status: one test per step of the PRE process (4 parts) and PROD (7 steps);
steps about one bevoegd gezag (triggerbericht, ophalen, schermafdruk) once per tenant, for the
process the run gives evidence for (PRE for a local or PRE run, PROD for a PROD run).

An automated step passes when this run proves it, from the same results the suites judge (CPA
lint and certificate checks, whitelist and TLS findings, the Ping/Pong, the end-to-end flow of
the tenant; computed once per process, whichever test asks first), and fails when they show a
problem. Otherwise it is skipped with a clear reason: a **manual** step says who must do what
and which evidence DSO-beheer expects (mail subject included); a step the harness cannot prove
says which suite to look at. The status never depends on which other tests ran in the same
process. In local mode the PRE steps are rehearsed against the simulator: a pass there is not
evidence for DSO-beheer. The steps come from the one model, :mod:`pytest_dso.e2e.steps`.
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


def _params(per_tenant: bool, process: str | None = None) -> list[object]:
    return [pytest.param(s, id=s.label.replace(" ", "-"), marks=pytest.mark.dso_step(s.label))
            for s in (*PRE_STEPS, *PROD_STEPS)
            if s.per_tenant == per_tenant and process in (None, s.env)]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Per tenant, only the steps of the run's own process: the other process's steps would
    skip for every tenant (the shared steps list the whole road once)."""
    if metafunc.definition.originalname == "test_stap_per_tenant":
        process = process_of(settings_of(metafunc.config).env)
        metafunc.parametrize("step", _params(per_tenant=True, process=process))


def _manual_text(step: Step, ticket: str | None) -> str:
    text = f"{step.label} {step.title} ({step.actor}): {step.action} Evidence: {step.evidence}."
    if step.mail_subject:
        text += f" Mail dso-beheer@rws.nl, subject '{step.subject(ticket)}'."
    return text


def _judge(step: Step, tenant: Tenant | None, settings: DsoSettings, status: StepStatus,
           dso_property: Callable[[str, object], None]) -> None:
    env = settings.env
    dso_property("dso_step", step.label)
    if step.env == "prod" and env != "prod":
        pytest.skip(f"{step.label} is a PROD step; this run is {env.upper()} "
                    "(run with --dso-env=prod once PRE is done)")
    if step.env == "pre" and env == "prod":
        pytest.skip(f"{step.label} belongs to PRE, which must be complete before PROD; its "
                    "evidence comes from the PRE run")
    if not step.automated:
        dso_property("dso_step_status", "manual")
        pytest.skip(f"MANUAL: {_manual_text(step, settings.ticket)}")
    found = status(step, tenant)
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


@pytest.mark.parametrize("step", _params(per_tenant=False))
def test_stap(
    step: Step,
    dso_settings: DsoSettings,
    dso_step_status: StepStatus,
    dso_property: Callable[[str, object], None],
) -> None:
    """The status of one shared aansluitproces step (CPA, whitelist, Ping/Pong) in this run."""
    _judge(step, None, dso_settings, dso_step_status, dso_property)


def test_stap_per_tenant(
    step: Step,
    dso_e2e_tenant: Tenant,
    dso_settings: DsoSettings,
    dso_step_status: StepStatus,
    dso_property: Callable[[str, object], None],
) -> None:
    """The status of one aansluitproces step for one bevoegd gezag or behandeldienst."""
    _judge(step, dso_e2e_tenant, dso_settings, dso_step_status, dso_property)
