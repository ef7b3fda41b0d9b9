"""How a run proves each automated aansluitproces step, as data: ``Step.proof`` → :data:`PROOFS`.

A proof asks the session fixtures for the engine results the suites judge (CPA lint findings,
certificate checks, whitelist and TLS findings, the Ping/Pong, the end-to-end flow per tenant)
through ``request.getfixturevalue``, so a step computes only what it needs, and judges them the
way the suites do. Session fixtures are cached per process: whichever test asks first computes a
result, the others reuse it. A step's status therefore never depends on which other tests ran in
the same process (pytest-xdist gives the same statuses as a run without it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest

from pytest_dso.findings import Finding, errors, render

if TYPE_CHECKING:
    from pytest_dso.e2e.flow import FlowResult
    from pytest_dso.e2e.steps import Step
    from pytest_dso.ebms.pingpong import PingResult
    from pytest_dso.fixtures.e2e import E2eRuns
    from pytest_dso.tenants import Tenant


@dataclass(frozen=True)
class StepProof:
    """What this run found for one step: what proves it, why not, or why it could not run."""

    label: str
    passed: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


ProveFn = Callable[["pytest.FixtureRequest", str, "Tenant | None"], StepProof]


@dataclass(frozen=True)
class Proof:
    """One kind of automated evidence: the suite that shows its details, and how to prove it
    (``None``: the harness cannot prove it yet)."""

    suite: str
    prove: ProveFn | None = None


def combine(label: str, parts: Iterable[StepProof]) -> StepProof:
    """All parts together: failed when any part failed, else proven when any part proved it."""
    found = list(parts)
    return StepProof(
        label,
        passed=tuple(p for part in found for p in part.passed),
        failed=tuple(f for part in found for f in part.failed),
        skipped=tuple(s for part in found for s in part.skipped),
    )


def guarded(label: str, what: str, prove: Callable[[], StepProof]) -> StepProof:
    """``prove()``, with a fixture's skip or failure turned into the step's outcome."""
    try:
        return prove()
    except pytest.skip.Exception as exc:
        return StepProof(label, skipped=(exc.msg or f"{what} skipped",))
    except pytest.fail.Exception as exc:
        return StepProof(label, failed=(f"{what}: {exc.msg}",))


def judge(label: str, what: str, findings: Iterable[Finding]) -> StepProof:
    """Proven when no finding is an error (as ``expect_clean`` decides)."""
    found = list(findings)
    bad = errors(found)
    if bad:
        return StepProof(label, failed=(f"{what}: {len(bad)} problem(s)\n{render(bad)}",))
    return StepProof(label, passed=(what,))


def _value(request: pytest.FixtureRequest, name: str) -> Any:
    return request.getfixturevalue(name)


def _judge_fixture(request: pytest.FixtureRequest, label: str, what: str, name: str) -> StepProof:
    """Judge the findings the session fixture ``name`` holds."""
    return judge(label, what, _value(request, name))


# -- PRE 2.3: CPA and certificate ----------------------------------------------------------------


def _certificate(request: pytest.FixtureRequest, label: str) -> StepProof:
    from pytest_dso.pkio.checks import (
        chain_findings,
        oin_findings,
        profile_findings,
        validity_findings,
    )

    loaded = _value(request, "dso_certificate_under_test")
    policy = _value(request, "dso_certificate_policy")
    what = f"certificate checks ({loaded.source})"
    identity = loaded.identity
    if identity is None:
        return StepProof(label, failed=(f"{what}: the certificate did not load\n"
                                        f"{render(loaded.findings)}",))
    cert = identity.certificate
    return judge(label, what, [
        *loaded.findings,
        *oin_findings(cert, policy),
        *chain_findings(cert, identity.chain, policy),
        *profile_findings(cert, policy),
        *validity_findings(cert, policy),
    ])


def _prove_cpa(request: pytest.FixtureRequest, label: str, _tenant: Tenant | None) -> StepProof:
    return combine(label, [
        guarded(label, "CPA", lambda: judge(label, "CPA lint",
                                            _value(request, "dso_cpa_findings"))),
        guarded(label, "certificate", lambda: _certificate(request, label)),
    ])


# -- PRE 2.5: whitelist and TLS ------------------------------------------------------------------


def _tls(request: pytest.FixtureRequest, label: str) -> StepProof:
    from pytest_dso.network.tlscheck import (
        check_chain,
        check_ciphers,
        check_verification,
        check_versions,
    )

    probes = _value(request, "dso_tls_probes")
    table = _value(request, "dso_cipher_table")
    trust = _value(request, "dso_trust_anchors")
    findings = [
        f
        for probe in probes
        for f in (*check_versions(probe), *check_ciphers(probe, table),
                  *check_chain(probe, trust), *check_verification(probe))
    ]
    return judge(label, "TLS of " + ", ".join(p.where for p in probes), findings)


def _prove_whitelist(request: pytest.FixtureRequest, label: str,
                     _tenant: Tenant | None) -> StepProof:
    checks: Sequence[tuple[str, str]] = (
        ("DNS of the DSO-LV hosts", "dso_dns_findings"),
        ("reach of the DSO ingress addresses", "dso_ingress_reach_findings"),
        ("allow list", "dso_allow_list_findings"),
    )
    parts = [guarded(label, what, partial(_judge_fixture, request, label, what, name))
             for what, name in checks]
    parts.append(guarded(label, "TLS", lambda: _tls(request, label)))
    return combine(label, parts)


# -- PRE 2.6 / PROD 3: Ping/Pong -----------------------------------------------------------------


def _prove_pingpong(request: pytest.FixtureRequest, label: str,
                    _tenant: Tenant | None) -> StepProof:
    result: PingResult = _value(request, "dso_ping_result")
    what = f"Ping/Pong with {result.url}"
    verdict = judge(label, what, result.findings)
    if verdict.failed:
        return verdict
    if result.pong is None or result.ping is None:
        return StepProof(label, failed=(f"{what}: no Pong answered the Ping",))
    ping, pong = result.ping.header, result.pong.header
    return StepProof(label, passed=(
        f"{what} ({result.mode}): CPAId {ping.cpa_id}, MessageId {ping.message_id}, "
        f"RefToMessageId {pong.ref_to_message_id}",))


# -- PRE 2.4: CPA aanbieden (writes) ------------------------------------------------------------


def _prove_cpa_aanbieden(request: pytest.FixtureRequest, label: str,
                         _tenant: Tenant | None) -> StepProof:
    offer = _value(request, "dso_cpa_offer")
    return judge(label, f"CPA aanbieden (HTTP {offer.status})", offer.findings)


# -- PRE 3.x / 4.x, PROD 4-7: the end-to-end flow per tenant -------------------------------------


def _per_tenant(
    judge_flow: Callable[[pytest.FixtureRequest, str, E2eRuns, Tenant, FlowResult], StepProof],
) -> ProveFn:
    """A proof over the flow of one tenant, or of every tenant of the run when ``tenant`` is
    ``None`` (each flow computed once per process)."""

    def prove(request: pytest.FixtureRequest, label: str, tenant: Tenant | None) -> StepProof:
        runs: E2eRuns = _value(request, "dso_e2e_runs")
        tenants: tuple[Tenant, ...] = (
            (tenant,) if tenant is not None else _value(request, "dso_tenants"))

        def one(tenant: Tenant) -> StepProof:
            return judge_flow(request, label, runs, tenant, runs.flow(tenant))

        return combine(label, [
            guarded(label, f"{t.name} ({t.oin})", partial(one, t)) for t in tenants
        ])

    return prove


def _submission(request: pytest.FixtureRequest, label: str, runs: E2eRuns, tenant: Tenant,
                flow: FlowResult) -> StepProof:
    verdict = judge(label, f"submission for {tenant.name}", flow.submission_findings)
    if verdict.failed:
        return verdict
    if flow.submission is None and not flow.trigger_findings:
        return StepProof(label, failed=(f"no verzoek was submitted for {tenant.name}",))
    return StepProof(label, passed=(f"verzoeknummer {flow.verzoeknummer} for {tenant.name}",))


def _trigger(request: pytest.FixtureRequest, label: str, runs: E2eRuns, tenant: Tenant,
             flow: FlowResult) -> StepProof:
    if flow.trigger_unobserved:
        return StepProof(label, skipped=(f"MANUAL: {flow.trigger_unobserved}",))
    if flow.submission is None and flow.trigger is None and not flow.trigger_findings:
        return StepProof(label, skipped=(
            f"nothing was submitted for {tenant.name}, so no verzoeknotificatie can arrive",))
    verdict = judge(label, f"verzoeknotificatie for {tenant.name}", flow.trigger_findings)
    if verdict.failed:
        return verdict
    if flow.trigger is None:
        return StepProof(label, failed=(f"no verzoeknotificatie for {tenant.name}",))
    return StepProof(label, passed=(
        f"verzoeknotificatie {flow.trigger.verzoeknummer} for {tenant.name} "
        f"({flow.trigger.source})",))


def _ophalen(request: pytest.FixtureRequest, label: str, runs: E2eRuns, tenant: Tenant,
             flow: FlowResult) -> StepProof:
    result = flow.ophalen
    if result is None:
        return StepProof(label, skipped=(
            f"no verzoeknotificatie arrived for {tenant.name}, so there is nothing to fetch",))
    verdict = judge(label, f"verzoek ophalen {result.verzoeknummer} for {tenant.name}",
                    result.findings)
    if verdict.failed:
        return verdict
    return StepProof(label, passed=(f"verzoek {result.verzoeknummer} fetched for {tenant.name}",))


def _vth(request: pytest.FixtureRequest, label: str, runs: E2eRuns, tenant: Tenant,
         flow: FlowResult) -> StepProof:
    if flow.ophalen is None or not flow.ophalen.complete:
        return StepProof(label, skipped=(
            f"the verzoek for {tenant.name} was not fetched, so the VTH system cannot show it",))
    outcome = runs.vth(tenant, _value(request, "dso_vth_check"))
    if outcome.status == "manual":
        return StepProof(label, skipped=(f"MANUAL: {outcome.detail}",))
    if outcome.failed:
        return StepProof(label, failed=(f"VTH check ({outcome.status}) for {tenant.name}: "
                                        f"{outcome.detail}",))
    reference = f" (reference {outcome.reference})" if outcome.reference else ""
    return StepProof(label, passed=(f"VTH check for {tenant.name}: {outcome.detail}"
                                    f"{reference}",))


#: Each kind of automated evidence (``Step.proof``): where the suite shows it, how to prove it.
PROOFS: Mapping[str, Proof] = MappingProxyType({
    "cpa": Proof("suites/test_cpa.py, suites/test_pkio.py", _prove_cpa),
    "cpa_aanbieden": Proof("suites/test_cpa_aanbieden.py", _prove_cpa_aanbieden),
    "whitelist": Proof("suites/test_whitelist.py, suites/test_tls.py", _prove_whitelist),
    "pingpong": Proof("suites/test_pingpong.py", _prove_pingpong),
    "submission": Proof("suites/test_e2e.py", _per_tenant(_submission)),
    "trigger": Proof("suites/test_e2e.py", _per_tenant(_trigger)),
    "ophalen": Proof("suites/test_e2e.py", _per_tenant(_ophalen)),
    "vth": Proof("suites/test_e2e.py (with your dso_vth_check)", _per_tenant(_vth)),
})


def prove(request: pytest.FixtureRequest, step: Step,
          tenant: Tenant | None = None) -> StepProof | None:
    """What this run proves for ``step`` (for ``tenant`` only, when given); ``None`` when no
    automated proof exists for it."""
    proof = PROOFS.get(step.proof)
    if proof is None or proof.prove is None:
        return None
    prove_fn = proof.prove
    return guarded(step.label, step.label, lambda: prove_fn(request, step.label, tenant))
