"""The flows of all tenants run concurrently, each with its own result and REST log."""

from __future__ import annotations

import time
from pathlib import Path

from pytest_dso.dsofile import DsoFile, TriggersConfig
from pytest_dso.e2e.flow import FlowResult
from pytest_dso.e2e.runs import E2eRuns, local_chain
from pytest_dso.environments import profile
from pytest_dso.findings import errors
from pytest_dso.pkio.testpki import build_test_pki, test_oin
from pytest_dso.settings import DsoSettings
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.faults import FaultHelper
from pytest_dso.sim.server import Simulator
from pytest_dso.tenants import Tenant

DELAY = 0.2  # seconds the simulator waits before answering each REST call


def test_every_tenants_flow_runs_at_the_same_time_with_its_own_result(tmp_path: Path) -> None:
    pki = build_test_pki(key_type="ec256")
    tenants = tuple(Tenant(test_oin(500 + n), f"TEST Gemeente {n}", "gemeente")
                    for n in range(6))
    settings = DsoSettings(env="local", file=DsoFile(
        bevoegde_gezagen=tenants, triggers=TriggersConfig(timeout=30)))
    leverancier = pki.identity("leverancier")
    acting = tuple(t.with_identity(leverancier) for t in tenants)
    with Simulator(SimOptions.from_dso_file(settings.file, time_scale=0.001), pki=pki,
                   store_path=tmp_path / "sim" / "dso-sim.sqlite") as sim:
        chain = local_chain(settings, profile("local").with_base_urls(sim.api_base_urls), sim,
                            tmp_path)
        runs = E2eRuns(chain, acting, pki, {}, say=lambda _text: None)
        try:
            FaultHelper(sim.faults).delay(DELAY, count=0, scope="api")
            started = time.monotonic()
            first = runs.flow(acting[0])  # starts every tenant's flow
            results = [runs.flow(t) for t in acting]
            elapsed = time.monotonic() - started
            calls = {t.oin: len(runs.exchanges(t)) for t in acting}
        finally:
            runs.close()
            chain.close()
    assert results[0] is first  # cached, not run again
    for tenant, result in zip(acting, results, strict=True):
        assert isinstance(result, FlowResult)
        assert not errors(result.findings), result.findings
        assert result.trigger is not None
        assert result.trigger.recipient_oin == tenant.oin
        assert result.ophalen is not None
        assert result.ophalen.complete
        assert result.plan.tenant.oin == tenant.oin
    assert len({r.verzoeknummer for r in results}) == len(acting)
    for tenant, result in zip(acting, results, strict=True):  # each log holds its own calls
        fetched = [e.url for e in runs.exchanges(tenant, "afhandelen")
                   if not e.url.endswith("/openapi.json")]
        assert fetched
        assert all(str(result.verzoeknummer) in url for url in fetched), fetched
    sequential = sum(calls.values()) * DELAY  # each call waits DELAY on the simulator
    assert min(calls.values()) >= 3
    assert elapsed < sequential / 2, (elapsed, sequential)
