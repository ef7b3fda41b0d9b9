"""Aansluitproces status: one test per step of the PRE process (4 parts) and PROD (7 steps).

A step passes when this run proved it (tests labelled with the step passed), fails when those
tests failed, and is skipped with a clear reason otherwise: a **manual** step says who must do
what and which evidence DSO-beheer expects (mail subject included); an automatable step that no
test proved says which suite to run. These tests run last. In local mode the PRE steps are
rehearsed against the simulator: a pass there is not evidence for DSO-beheer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.e2e.steps import PRE_STEPS, PROD_STEPS, Step
from pytest_dso.evidence.allure import Evidence
from pytest_dso.fixtures.e2e import StepEvidence
from pytest_dso.settings import DsoSettings

SUITE_FOR_PROOF = {
    "cpa": "suites/test_cpa.py",
    "cpa_aanbieden": "suites/test_cpa.py",
    "whitelist": "suites/test_whitelist.py",
    "pingpong": "suites/test_pingpong.py",
    "submission": "suites/test_e2e.py",
    "trigger": "suites/test_e2e.py",
    "ophalen": "suites/test_e2e.py",
    "vth": "suites/test_e2e.py (with your dso_vth_check)",
}


def _manual_text(step: Step, ticket: str | None) -> str:
    text = f"{step.label} {step.title} ({step.actor}): {step.action} Evidence: {step.evidence}."
    if step.mail_subject:
        text += f" Mail dso-beheer@rws.nl, subject '{step.subject(ticket)}'."
    return text


@pytest.mark.parametrize(
    "step",
    [pytest.param(s, id=s.label.replace(" ", "-"), marks=pytest.mark.dso_step(s.label))
     for s in (*PRE_STEPS, *PROD_STEPS)],
)
def test_stap(
    step: Step,
    dso_settings: DsoSettings,
    dso_step_status: Callable[[str], StepEvidence],
    record_property: Callable[[str, object], None],
    dso_evidence: Evidence,
) -> None:
    """The status of one aansluitproces step in this run."""
    env = dso_settings.env
    record_property("dso_step", step.label)
    dso_evidence.dso_step(step.label)
    if step.env == "prod" and env != "prod":
        pytest.skip(f"{step.label} is a PROD step; this run is {env.upper()} "
                    "(run with --dso-env=prod once PRE is done)")
    if step.env == "pre" and env == "prod":
        pytest.skip(f"{step.label} belongs to PRE, which must be complete before PROD; its "
                    "evidence comes from the PRE run")
    found = dso_step_status(step.label)
    rehearsal = " (rehearsed against the simulator)" if env == "local" else ""
    if found.failed:
        pytest.fail(f"{step.label} {step.title} is NOT proven{rehearsal}: failed: "
                    + ", ".join(found.failed), pytrace=False)
    if found.passed:
        record_property("dso_step_proof", ", ".join(found.passed))
        record_property("dso_step_status", "proven" + rehearsal)
        if step.mail_subject and env != "local":
            print(f"next: mail dso-beheer@rws.nl, subject '{step.subject(dso_settings.ticket)}'")
        return
    if found.skipped:
        reasons = next((r for _, r in found.skipped if r), "skipped")
        if len(found.skipped) > 1:
            reasons += f" (and {len(found.skipped) - 1} more like it)"
        record_property("dso_step_status", "manual")
        pytest.skip(f"MANUAL: {_manual_text(step, dso_settings.ticket)} Run said: {reasons}")
    if step.automated:
        record_property("dso_step_status", "open")
        pytest.skip(f"NOT PROVEN in this run (no test labelled {step.label!r} ran; run "
                    f"{SUITE_FOR_PROOF.get(step.proof, 'the suites')}). "
                    + _manual_text(step, dso_settings.ticket))
    record_property("dso_step_status", "manual")
    pytest.skip(f"MANUAL: {_manual_text(step, dso_settings.ticket)}")
