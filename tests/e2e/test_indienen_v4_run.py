"""A local run configured for the deprecated Verzoek indienen v4 (``[api] indienen_version``)
still submits, receives and fetches for every tenant."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
FAST_PKI = """
import pytest
from pytest_dso.pkio.testpki import build_test_pki

@pytest.fixture(scope="session")
def dso_test_pki():
    return build_test_pki(key_type="ec256")
"""
VERSION_CHECK = """
def test_the_simulator_serves_v4(dso_sim, _dso_e2e_chain):
    assert dso_sim.api_url("indienen").endswith("/publiek/verzoeken/api/indienen/v4")
    assert _dso_e2e_chain.rest.base_url("indienen") == dso_sim.api_url("indienen")
"""


def test_the_e2e_suite_passes_with_indienen_v4(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", dso='[api]\nindienen_version = "v4"\n\n'
                      '[triggers]\nsource = "receiver"\ntimeout = 15\n')
    pytester.makepyfile(test_e2e=(ROOT / "suites" / "test_e2e.py").read_text(encoding="utf-8"),
                        test_version=VERSION_CHECK)
    pytester.makeconftest(FAST_PKI)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs", "--dso-env=local")
    # 3 tenants x 3 automated steps, plus the version check; the VTH step is manual
    result.assert_outcomes(passed=10, skipped=3)
