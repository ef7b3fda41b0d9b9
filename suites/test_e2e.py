"""Triggerbericht ontvangen en verzoek ophalen (PRE parts 3 and 4, PROD steps 4 to 7).

For every bevoegd gezag and behandeldienst of the run: a melding or informatie is submitted for
its aansluitactiviteit (automatically in local mode, by you on PRE/PROD following the printed
steps, or given with ``--dso-verzoeknummer``), its verzoeknotificatie must arrive through the
configured trigger source, the verzoek must be fetchable with the tenant's certificate and
OIN, and finally it must be visible in the VTH system (the ``dso_vth_check`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.e2e.flow import FlowResult
from pytest_dso.e2e.runs import E2eRuns
from pytest_dso.e2e.vth import VthCheck
from pytest_dso.evidence.allure import Evidence
from pytest_dso.tenants import Tenant
from pytest_dso.verdict import expect_clean

RecordProperty = Callable[[str, object], None]


def _record(flow: FlowResult, dso_property: RecordProperty, evidence: Evidence) -> None:
    """Latency and identification of the run, as JUnit properties and Allure labels."""
    for key, value in flow.latency.properties().items():
        dso_property(key, value)
    dso_property("dso_trigger_source", flow.source)
    if flow.verzoeknummer:
        dso_property("dso_verzoeknummer", flow.verzoeknummer)
        evidence.verzoeknummer(flow.verzoeknummer)
    evidence.attach_text(flow.latency.describe(), "latency")


@pytest.mark.dso_step("PRE 3.2")
@pytest.mark.dso_step("PROD 4")
def test_verzoek_ingediend(
    dso_e2e_flow: FlowResult, dso_e2e_runs: E2eRuns, dso_e2e_tenant: Tenant,
    dso_property: RecordProperty, dso_evidence: Evidence,
) -> None:
    """A melding or informatie for the tenant's aansluitactiviteit has a verzoeknummer."""
    _record(dso_e2e_flow, dso_property, dso_evidence)
    dso_evidence.attach_rest(dso_e2e_runs.exchanges(
        dso_e2e_tenant, "indienen", "verzoeksroutering", "behandeldienstconfiguratie"))
    expect_clean(dso_e2e_flow.submission_findings, "submission")
    if dso_e2e_flow.submission is None and not dso_e2e_flow.trigger_findings:
        pytest.fail("no verzoek was submitted", pytrace=False)


@pytest.mark.dso_step("PRE 3.3")
@pytest.mark.dso_step("PROD 5")
def test_verzoeknotificatie_ontvangen(
    dso_e2e_flow: FlowResult, dso_property: RecordProperty, dso_evidence: Evidence
) -> None:
    """The verzoeknotificatie for exactly that verzoeknummer reaches the trigger source."""
    _record(dso_e2e_flow, dso_property, dso_evidence)
    if dso_e2e_flow.trigger_unobserved:
        pytest.skip(f"MANUAL: {dso_e2e_flow.trigger_unobserved}")
    if dso_e2e_flow.submission is None and dso_e2e_flow.trigger is None and (
        not dso_e2e_flow.trigger_findings
    ):
        pytest.skip("nothing was submitted, so no verzoeknotificatie can arrive (see "
                    "test_verzoek_ingediend)")
    if dso_e2e_flow.trigger is not None:
        dso_evidence.attach_trigger(dso_e2e_flow.trigger)
    expect_clean(dso_e2e_flow.trigger_findings, "verzoeknotificatie")
    assert dso_e2e_flow.trigger is not None


@pytest.mark.dso_step("PRE 4.1")
@pytest.mark.dso_step("PROD 6")
def test_verzoek_opgehaald(
    dso_e2e_flow: FlowResult, dso_e2e_runs: E2eRuns, dso_e2e_tenant: Tenant,
    dso_property: RecordProperty, dso_evidence: Evidence,
) -> None:
    """Referenties, STAM XML (valid), bijlagen (size, SHA-256) and the publishable PDF can be
    fetched with the tenant's certificate, and the verzoek is the one submitted. Every HTTP
    exchange of the ophalen is in the report."""
    _record(dso_e2e_flow, dso_property, dso_evidence)
    dso_evidence.attach_rest(dso_e2e_runs.exchanges(dso_e2e_tenant, "afhandelen"))
    result = dso_e2e_flow.ophalen
    if result is None:
        pytest.skip("no verzoeknotificatie arrived, so there is nothing to fetch (see "
                    "test_verzoeknotificatie_ontvangen)")
    if result.stam_xml:
        dso_evidence.attach_stam(result.stam_xml, f"verzoek {result.verzoeknummer}")
    if result.documents:
        dso_evidence.attach_bijlage_hashes(
            [(d.bestandsnaam or d.document_id, d.sha256, d.size) for d in result.documents])
    dso_property("dso_kopiebericht", "yes" if result.kopiebericht else "no")
    expect_clean(result.findings, f"verzoek ophalen {result.verzoeknummer}")


@pytest.mark.dso_step("PRE 4.2")
@pytest.mark.dso_step("PROD 7")
def test_verzoek_zichtbaar_in_vth(
    dso_e2e_flow: FlowResult,
    dso_e2e_runs: E2eRuns,
    dso_e2e_tenant: Tenant,
    dso_vth_check: VthCheck,
    dso_property: RecordProperty,
    dso_evidence: Evidence,
) -> None:
    """The fetched verzoek is visible in the VTH- or zaaksysteem (your ``dso_vth_check``)."""
    flow = dso_e2e_flow
    if flow.ophalen is None or not flow.ophalen.complete:
        pytest.skip("the verzoek was not fetched, so the VTH system cannot show it (see "
                    "test_verzoek_opgehaald)")
    outcome = dso_e2e_runs.vth(dso_e2e_tenant, dso_vth_check)
    dso_property("dso_vth_status", outcome.status)
    dso_property("dso_vth_detail", outcome.detail)
    dso_evidence.attach_text(f"{outcome.status}: {outcome.detail}\nreference: "
                             f"{outcome.reference or '-'}", "VTH check")
    if outcome.status == "manual":
        pytest.skip(f"MANUAL: {outcome.detail}")
    if outcome.failed:
        pytest.fail(f"VTH check ({outcome.status}): {outcome.detail}", pytrace=False)
