"""A step is judged per tenant from that tenant's results only, the same whether the results
come indexed (``IndexedOutcomes``, as the ticket bundle passes them) or as a plain list."""

from __future__ import annotations

from pytest_dso.e2e.steps import step
from pytest_dso.evidence.allure import LABEL_STEP, LABEL_TENANT
from pytest_dso.evidence.progress import (
    FAILED,
    PROVEN,
    IndexedOutcomes,
    shared_outcomes,
    step_outcomes,
    step_status,
    tenant_outcomes,
)
from pytest_dso.evidence.results import TestOutcome
from pytest_dso.pkio.testpki import test_oin
from pytest_dso.tenants import Tenant

GEMEENTE = Tenant(test_oin(101), "Gemeente Een", "gemeente")
WATERSCHAP = Tenant(test_oin(102), "Waterschap Twee", "waterschap")


def _outcome(name: str, status: str, steps: tuple[str, ...],
             tenant: Tenant | None = None) -> TestOutcome:
    labels: dict[str, tuple[str, ...]] = {LABEL_STEP: steps}
    if tenant is not None:
        labels[LABEL_TENANT] = (tenant.oin,)
    return TestOutcome(name, f"suites.x#{name}", status, 1, 2, labels)


OUTCOMES = IndexedOutcomes((
    _outcome("test_ping", "passed", ("PRE 2.6",)),
    _outcome("test_ingediend[g]", "passed", ("PRE 3.2", "PROD 4"), GEMEENTE),
    _outcome("test_ingediend[w]", "failed", ("PRE 3.2", "PROD 4"), WATERSCHAP),
    # a label given twice counts once; an unknown label is no step
    _outcome("test_opgehaald[g]", "passed", ("PRE 4.1", "PRE 4.1", "mijn label"), GEMEENTE),
    _outcome("test_own", "passed", ("mijn label",)),
))


def test_a_per_tenant_step_reads_only_its_tenants_results() -> None:
    submitted = step("PRE 3.2")
    assert [o.name for o in step_outcomes(submitted, GEMEENTE, OUTCOMES)] == [
        "test_ingediend[g]"]
    assert step_status(submitted, GEMEENTE, OUTCOMES).status == PROVEN
    assert step_status(submitted, WATERSCHAP, OUTCOMES).status == FAILED
    # without a tenant, every result labelled with the step
    assert len(step_outcomes(submitted, None, OUTCOMES)) == 2
    assert [o.name for o in step_outcomes(step("PRE 4.1"), GEMEENTE, OUTCOMES)] == [
        "test_opgehaald[g]"]
    assert step_outcomes(step("PRE 4.1"), WATERSCHAP, OUTCOMES) == []


def test_indexed_and_plain_results_give_the_same_verdicts() -> None:
    as_list = list(OUTCOMES)
    for label in ("PRE 2.6", "PRE 3.2", "PRE 4.1", "PROD 4", "PROD 6"):
        for tenant in (None, GEMEENTE, WATERSCHAP):
            item = step(label)
            assert step_outcomes(item, tenant, OUTCOMES) == step_outcomes(item, tenant, as_list)
    for env in ("local", "pre", "prod"):
        assert shared_outcomes(OUTCOMES, env) == shared_outcomes(as_list, env)
        for tenant in (None, GEMEENTE, WATERSCHAP):
            assert tenant_outcomes(tenant, OUTCOMES, env) == tenant_outcomes(
                tenant, as_list, env)
    assert [o.name for o in shared_outcomes(OUTCOMES, "local")] == ["test_ping"]
    assert [o.name for o in tenant_outcomes(GEMEENTE, OUTCOMES, "prod")] == [
        "test_ingediend[g]"]


def test_new_indexed_results_are_judged_afresh() -> None:
    submitted = step("PRE 3.2")
    assert step_status(submitted, WATERSCHAP, OUTCOMES).status == FAILED
    retried = IndexedOutcomes((*(o for o in OUTCOMES if o.name != "test_ingediend[w]"),
                               _outcome("test_ingediend[w]", "passed", ("PRE 3.2",),
                                        WATERSCHAP)))
    assert step_status(submitted, WATERSCHAP, retried).status == PROVEN
