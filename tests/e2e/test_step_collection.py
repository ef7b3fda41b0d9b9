"""The aansluitproces suite lists every shared step in every run, once; the steps about one
bevoegd gezag that a run proves are left to the end-to-end tests (labelled with them), and a
per-tenant step without a proof is listed once, for the run's own process only."""

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


@pytest.mark.parametrize(("env", "manual"), [("local", ["test_stap[PRE-3.1]"]),
                                             ("prod", [])])
def test_steps_are_listed_once_and_per_tenant_proofs_are_left_to_the_e2e_tests(
    pytester: pytest.Pytester, env: str, manual: list[str]
) -> None:
    ids = _collected(pytester, env)
    assert all(i.startswith("test_stap[") for i in ids), ids
    assert len(ids) == len(set(ids))
    # the shared steps show the whole road, the other process's included
    assert "test_stap[PRE-2.6]" in ids
    assert "test_stap[PROD-3]" in ids
    # logging in (PRE 3.1) has no proof: listed once, and only for the run's own process
    assert [i for i in ids if i.startswith(("test_stap[PRE-3", "test_stap[PRE-4"))] == manual
    assert not [i for i in ids if i.startswith(tuple(f"test_stap[PROD-{n}]" for n in "4567"))]
    assert len(ids) == 12 + len(manual)


def test_the_e2e_tests_carry_the_per_tenant_steps_of_both_processes() -> None:
    from pytest_dso.e2e.steps import PRE_STEPS, PROD_STEPS
    from suites import test_e2e

    marked = {str(arg) for name in dir(test_e2e) if name.startswith("test_")
              for mark in getattr(getattr(test_e2e, name), "pytestmark", [])
              if mark.name == "dso_step" for arg in mark.args}
    proven = {s.label for s in (*PRE_STEPS, *PROD_STEPS) if s.per_tenant and s.proof}
    assert proven
    assert proven <= marked, proven - marked


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
