"""The real suites give every test the same outcome with and without pytest-xdist (``-n 2``):
no test, the aansluitproces status included, depends on which other tests ran in its process.

The run without xdist is in-process (it saves a process start; a run in a process that has
run other tests is, if anything, the harder case), the ``-n 2`` run a subprocess. Under
``-n 2`` each tenant's tests run on one worker, which runs that tenant's flow once: every
tenant's results name one verzoeknummer and one process, and the run made one verzoek per
tenant, each with a verzoeknummer of its own."""

from __future__ import annotations

import contextlib
import sqlite3
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from pytest_dso.evidence.results import load_results

pytest.importorskip("xdist")

ROOT = Path(__file__).parents[2]
#: EC keys make the session's test PKI quick to build (RSA-3072 takes seconds per run).
FAST_PKI = """
import pytest
from pytest_dso.pkio.testpki import build_test_pki

@pytest.fixture(scope="session")
def dso_test_pki():
    return build_test_pki(key_type="ec256")
"""


def _outcomes(junit: Path) -> dict[str, str]:
    """Test id → outcome (passed, failed, error, skipped) from a JUnit XML report."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314 - our own report
        test_id = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcome = "passed" if not kinds else kinds[0].replace("failure", "failed")
        # a test that failed in its call and errored in teardown reports both; keep the worst
        outcomes[test_id] = "error" if "error" in kinds else outcome
    return outcomes


def _per_tenant(results: Path) -> dict[str, tuple[set[str], set[str]]]:
    """Tenant OIN → (the verzoeknummers, the processes) its results name."""
    found: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for outcome in load_results(results):
        if outcome.tenant and outcome.verzoeknummer:
            numbers, processes = found[outcome.tenant]
            numbers.add(outcome.verzoeknummer)
            # allure-pytest's thread label: "<pid>-<thread name>"
            processes.update(t.split("-")[0] for t in outcome.labels.get("thread", ()))
    return found


def _run(pytester: pytest.Pytester, name: str, *args: str, subprocess: bool) -> dict[str, str]:
    junit = pytester.path / f"{name}.xml"
    options = ("-p", "no:cacheprovider", f"--junitxml={junit}", *args)
    result = (pytester.runpytest_subprocess(*options, timeout=300) if subprocess
              else pytester.runpytest_inprocess(*options))
    assert junit.exists(), result.stdout.str()
    return _outcomes(junit)


@pytest.mark.slow
def test_every_test_has_the_same_outcome_with_and_without_xdist(
    pytester: pytest.Pytester,
) -> None:
    for suite in sorted((ROOT / "suites").glob("test_*.py")):
        pytester.makepyfile(**{suite.stem: suite.read_text(encoding="utf-8")})
    pytester.makeconftest(FAST_PKI)

    serial = _run(pytester, "serial", subprocess=False)
    spread = _run(pytester, "xdist", "-n", "2", subprocess=True)

    assert serial, "no test ran"
    assert set(serial) == set(spread)
    differ = {t: (serial[t], spread[t]) for t in serial if serial[t] != spread[t]}
    assert not differ, f"outcome (without xdist, with -n 2) differs: {differ}"
    # the steps proven by other suites' results, whichever worker runs them
    for label in ("PRE-2.3", "PRE-2.5", "PRE-2.6"):
        assert serial[f"test_aansluitproces::test_stap[{label}]"] == "passed", label
    # the per-tenant steps are the end-to-end tests, for every tenant
    for test in ("test_verzoek_ingediend", "test_verzoeknotificatie_ontvangen",
                 "test_verzoek_opgehaald"):
        per_tenant = [t for t in serial if t.startswith(f"test_e2e::{test}[")]
        assert per_tenant, test
        assert {serial[t] for t in per_tenant} == {"passed"}, test
    # -n 2: a tenant's tests on one worker, its flow run once in the whole run
    tenants = _per_tenant(pytester.path / "reports" / "allure-results")
    assert len(tenants) == 3
    for oin, (numbers, processes) in tenants.items():
        assert len(numbers) == 1, (oin, numbers)
        assert len(processes) == 1, (oin, processes)
    # one verzoek per tenant, each its own verzoeknummer (the workers' simulators share the
    # day's sequence out)
    assert len({n for numbers, _ in tenants.values() for n in numbers}) == 3
    assert len({p for _, processes in tenants.values() for p in processes}) == 2  # both worked
    # and no worker ran another's flows: three verzoeken over both workers' simulators
    stores = sorted((pytester.path / "reports" / "dso-sim").glob("gw*/dso-sim.sqlite"))
    assert len(stores) == 2
    made = []
    for store in stores:
        with contextlib.closing(sqlite3.connect(store)) as db:
            made.append(db.execute("SELECT count(*) FROM verzoeken").fetchone()[0])
    assert sum(made) == 3, made
