"""Gemiste verzoeken: nothing DSO-LV holds for a tenant went unseen.

Per tenant, Verzoek afhandelen ``verzoeken/_zoek`` lists the verzoeken of the last
``[health] missed_days`` days (default 7). Each one the trigger source of this run has not seen,
and the VTH check (``pytest_dso_vth_check`` or your ``dso_vth_check`` fixture) does not find,
is reported with its ``samenvatting`` link: the original STAM message to process by hand. Run
it after an outage of the adapter, or every night with ``pytest -m health``. Read-only, on
PRE and PROD alike.

On a scheduled run without a VTH check only a trigger source that keeps its history (a
``folder`` drop folder, ``ebms-core``) can tell which verzoeken arrived earlier; configure a
VTH check to make the answer exact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.rest import ApiError, RestSession
from pytest_dso.e2e.missed import MissedReport, missed_verzoeken
from pytest_dso.e2e.vth import VerzoekForVth, VthOutcome
from pytest_dso.settings import DsoSettings
from pytest_dso.tenants import Tenant
from pytest_dso.triggers.base import TriggerSource
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health]

SessionFor = Callable[[Tenant | None], RestSession]
VthCheck = Callable[[VerzoekForVth], VthOutcome]


@pytest.fixture(scope="module")
def dso_seen_verzoek(
    dso_trigger_source: TriggerSource, dso_vth_check: VthCheck, dso_settings: DsoSettings
) -> Callable[[Tenant], Callable[[str], bool]]:
    """``(tenant) -> (verzoeknummer) -> bool``: seen by the trigger source, or visible in the
    VTH system according to the VTH check."""

    def for_tenant(tenant: Tenant) -> Callable[[str], bool]:
        def seen(verzoeknummer: str) -> bool:
            if any(t.verzoeknummer == verzoeknummer and t.is_verzoeknotificatie
                   for t in dso_trigger_source.all()):
                return True
            outcome = dso_vth_check(VerzoekForVth(verzoeknummer, tenant.oin, tenant.name,
                                                  dso_settings.env, None,
                                                  ticket=dso_settings.ticket))
            return outcome.status == "visible"

        return seen

    return for_tenant


def test_geen_gemiste_verzoeken(
    dso_tenants: tuple[Tenant, ...],
    dso_rest_session_for: SessionFor,
    dso_seen_verzoek: Callable[[Tenant], Callable[[str], bool]],
    dso_settings: DsoSettings,
    dso_property: Callable[[str, object], None],
) -> None:
    """Every verzoek of the last N days for every tenant was seen (trigger or VTH)."""
    days = dso_settings.file.health.missed_days
    findings = []
    for tenant in dso_tenants:
        client = AfhandelenClient(dso_rest_session_for(tenant))
        try:
            report: MissedReport = missed_verzoeken(
                client, tenant.oin, dso_seen_verzoek(tenant), days=days)
        except ApiError as exc:
            pytest.fail(f"verzoeken/_zoek for {tenant.name} ({tenant.oin}) failed: {exc}",
                        pytrace=False)
        dso_property(f"dso_gemiste_verzoeken_{tenant.oin}",
                        [m.verzoeknummer for m in report.missed])
        print(f"{tenant.name}: {len(report.found)} verzoek(en) between {report.van} and "
              f"{report.tot}, {len(report.missed)} not seen")
        for missed in report.missed:
            print(f"gemist: {missed.describe()}")
        findings.extend(report.findings(tenant.name))
    expect_clean(findings, f"gemiste verzoeken (laatste {days} dagen)")
