"""The last step of the aansluitproces with the demo VTH check of conftest.py.

The same check runs in ``suites/test_e2e.py::test_verzoek_zichtbaar_in_vth`` when you put the
``dso_vth_check`` fixture in the conftest.py next to the suites.
"""

from __future__ import annotations

import pytest

from pytest_dso.e2e.vth import VthCheck
from pytest_dso.fixtures.e2e import E2eRuns
from pytest_dso.tenants import Tenant


@pytest.mark.dso_step("PRE 4.2")
@pytest.mark.dso_step("PROD 7")
def test_verzoek_zichtbaar_in_mijn_vth(
    dso_e2e_runs: E2eRuns, dso_e2e_tenant: Tenant, dso_vth_check: VthCheck
) -> None:
    """Submit, receive the trigger, fetch, and find the verzoek in the (demo) VTH system."""
    flow = dso_e2e_runs.flow(dso_e2e_tenant)
    assert flow.ophalen is not None, [str(f) for f in flow.findings]
    assert flow.ophalen.complete, [str(f) for f in flow.findings]
    outcome = dso_e2e_runs.vth(dso_e2e_tenant, dso_vth_check)
    assert outcome.proven, outcome.detail
    print(f"{dso_e2e_tenant.name}: {outcome.detail}")
