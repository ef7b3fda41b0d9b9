"""The aansluitproces suite lists every shared step in every run, and per tenant only the steps
of the process the run gives evidence for: PRE for a local or PRE run, PROD for a PROD run."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TENANTS = """
[[bevoegd_gezag]]
oin = "00000001001589623000"
name = "Gemeente Test"
type = "gemeente"

[[bevoegd_gezag]]
oin = "00000001001589624000"
name = "Waterschap Test"
type = "waterschap"
"""


def _collected(pytester: pytest.Pytester, env: str) -> list[str]:
    suite = (ROOT / "suites" / "test_aansluitproces.py").read_text(encoding="utf-8")
    pytester.makepyfile(test_aansluitproces=suite)
    (pytester.path / "dso.toml").write_text(TENANTS, encoding="utf-8")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--collect-only", "-q",
                                          f"--dso-env={env}", "test_aansluitproces.py")
    assert result.ret == 0, result.stdout.str()
    return [line.split("::", 1)[1] for line in result.stdout.lines if "::" in line]


@pytest.mark.parametrize(("env", "own", "other"), [("local", "PRE", "PROD"),
                                                   ("prod", "PROD", "PRE")])
def test_per_tenant_steps_are_those_of_the_runs_process(
    pytester: pytest.Pytester, env: str, own: str, other: str
) -> None:
    ids = _collected(pytester, env)
    per_tenant = [i for i in ids if i.startswith("test_stap_per_tenant[")]
    steps = {"PRE": ["3.1", "3.2", "3.3", "4.1", "4.2"], "PROD": ["4", "5", "6", "7"]}[own]
    # the tenant first in the id, then the step; every step of the process for every tenant
    assert per_tenant == [f"test_stap_per_tenant[{tenant}-{own}-{number}]"
                          for tenant in ("gemeente-9623", "waterschap-9624")
                          for number in steps]
    assert not [i for i in per_tenant if f"-{other}-" in i]
    # the shared steps show the whole road, the other process's included
    shared = [i for i in ids if i.startswith("test_stap[")]
    assert "test_stap[PRE-2.6]" in shared
    assert "test_stap[PROD-3]" in shared
    assert len(shared) == 12


def test_a_step_is_judged_from_the_session_fixtures_the_root_conftest_gives(
    pytester: pytest.Pytester,
) -> None:
    suite = (ROOT / "suites" / "test_aansluitproces.py").read_text(encoding="utf-8")
    pytester.makepyfile(test_aansluitproces=suite)
    pytester.makeconftest(
        """
        import pytest
        from pytest_dso.findings import error
        from pytest_dso.pkio.testpki import build_test_pki

        @pytest.fixture(scope="session")
        def dso_test_pki():
            return build_test_pki(key_type="ec256")

        @pytest.fixture(scope="session")
        def dso_cpa_findings():
            return [error("cpa.planted", "a planted CPA problem", "cpa.xml", "")]
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--dso-env=local",
                                          "test_aansluitproces.py", "-k", "PRE-2.3 or PRE-1.1")
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*PRE 2.3 CPA aanmaken is NOT proven*", "*a planted CPA problem*"])
