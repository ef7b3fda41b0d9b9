"""Gemiste verzoeken: nothing DSO-LV holds for a tenant went unseen.

Per tenant, Verzoek afhandelen ``verzoeken/_zoek`` lists the verzoeken of the last
``[health] missed_days`` days (default 7). Each one the trigger source of this run has not seen,
and the VTH check (``pytest_dso_vth_check`` or your ``dso_vth_check`` fixture) does not find,
is reported with its ``samenvatting`` link: the original STAM message to process by hand. Run
it after an outage of the adapter, or every night with ``pytest -m health``. Read-only, on
PRE and PROD alike.

Without a VTH check, only a trigger source that keeps its history (a ``folder`` drop folder,
``ebms-core``; locally the simulator's run) can tell which verzoeken arrived before this run;
with another source those verzoeken are listed as undecided (a warning), not as missed.
Configure a VTH check to make the answer exact.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.rest import ApiError, RestSession
from pytest_dso.e2e.missed import MissedReport, SharedSearch, missed_verzoeken
from pytest_dso.e2e.vth import VerzoekForVth, VthOutcome
from pytest_dso.settings import DsoSettings
from pytest_dso.tenants import Tenant
from pytest_dso.triggers.base import TriggerSource
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health]

SessionFor = Callable[[Tenant | None], RestSession]
VthCheck = Callable[[VerzoekForVth], VthOutcome]


#: Trigger sources whose log holds verzoeknotificaties from before this run.
SOURCES_WITH_HISTORY = frozenset({"folder", "ebms-core"})


@pytest.fixture(scope="module")
def dso_seen_verzoek(
    request: pytest.FixtureRequest, dso_vth_check: VthCheck, dso_settings: DsoSettings
) -> Callable[[Tenant], Callable[[str], bool | None]]:
    """``(tenant) -> (verzoeknummer) -> bool | None``: seen by the trigger source or visible in
    the VTH system (True), not (False), or nothing can tell (None: the source keeps no history
    from before this run and no VTH check is configured)."""
    source: TriggerSource | None
    try:
        source = request.getfixturevalue("dso_trigger_source")
    except pytest.fail.Exception as exc:  # no usable trigger source: the VTH check alone
        print(f"trigger source not available: {exc}")
        source = None
    complete_log = source is not None and (
        dso_settings.env == "local" or source.name in SOURCES_WITH_HISTORY)

    def for_tenant(tenant: Tenant) -> Callable[[str], bool | None]:
        def seen(verzoeknummer: str) -> bool | None:
            if source is not None and any(
                    t.verzoeknummer == verzoeknummer and t.is_verzoeknotificatie
                    for t in source.all()):
                return True
            outcome = dso_vth_check(VerzoekForVth(verzoeknummer, tenant.oin, tenant.name,
                                                  dso_settings.env, None,
                                                  ticket=dso_settings.ticket))
            if outcome.status == "visible":
                return True
            if outcome.status == "manual" and not complete_log:
                return None
            return False

        return seen

    return for_tenant


def test_geen_gemiste_verzoeken(
    dso_tenants: tuple[Tenant, ...],
    dso_rest_session_for: SessionFor,
    dso_seen_verzoek: Callable[[Tenant], Callable[[str], bool | None]],
    dso_settings: DsoSettings,
    dso_property: Callable[[str, object], None],
) -> None:
    """Every verzoek of the last N days for every tenant was seen (trigger or VTH)."""
    days = dso_settings.file.health.missed_days
    findings = []
    shared = SharedSearch()  # tenants that call as the same party search once
    for tenant in dso_tenants:
        client = AfhandelenClient(dso_rest_session_for(tenant))
        try:
            report: MissedReport = missed_verzoeken(
                client, tenant.oin, dso_seen_verzoek(tenant), days=days, shared=shared)
        except ApiError as exc:
            pytest.fail(f"verzoeken/_zoek for {tenant.name} ({tenant.oin}) failed: {exc}",
                        pytrace=False)
        dso_property(f"dso_gemiste_verzoeken_{tenant.oin}",
                        [m.verzoeknummer for m in report.missed])
        print(f"{tenant.name}: {len(report.found)} verzoek(en) between {report.van} and "
              f"{report.tot}, {len(report.missed)} not seen, {len(report.undecided)} undecided")
        for missed in report.missed:
            print(f"gemist: {missed.describe()}")
        findings.extend(report.findings(tenant.name))
    expect_clean(findings, f"gemiste verzoeken (laatste {days} dagen)")
