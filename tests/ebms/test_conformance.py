"""The negative matrix: refuses shared environments, passes a conforming MSH over real mTLS,
and catches an MSH that accepts everything."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from pytest_dso.ebms.conformance import (
    MATRIX,
    ConformanceRefused,
    ConformanceTarget,
    case,
    conformance_cpa,
    not_applicable,
    run_case,
)
from pytest_dso.ebms.cpa import Cpa, local_cpa, parse_cpa
from pytest_dso.ebms.msh import Msh, MshResult, Outbound
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.findings import Severity
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Request, Response


@pytest.fixture(scope="module")
def endpoints(ebms_pki: TestPki) -> Iterator[tuple[EbmsReceiver, EbmsReceiver]]:
    anchors = ebms_pki.hierarchy.anchors
    peer = EbmsReceiver(
        ebms_pki.identity("dso-lv"),
        anchors,
        Msh(own_party_ids=(ebms_pki.party("dso-lv").oin,)),
        label="peer",
    )
    harness = EbmsReceiver(ebms_pki.identity("digikoppelaar"), anchors, label="harness")
    with peer, harness:
        yield peer, harness


@pytest.fixture(scope="module")
def client(ebms_pki: TestPki) -> Iterator[HttpClient]:
    """The Digikoppelaar's HTTP client, shared by the module's cases as the suite's fixture
    shares one per run (one key load, kept-alive connections)."""
    http = HttpClient.for_identity(
        ebms_pki.identity("digikoppelaar"), ebms_pki.hierarchy.anchors, read_timeout=2.0
    )
    try:
        yield http
    finally:
        http.close()


def _target(
    pki: TestPki, cpa: Cpa, harness: EbmsReceiver, client: HttpClient, timeout: float = 2.0
) -> ConformanceTarget:
    return ConformanceTarget(
        cpa,
        pki.party("digikoppelaar").oin,
        pki.identity("digikoppelaar"),
        pki.hierarchy.anchors,
        receiver=harness,
        timeout=timeout,
        client=client,
    )


@pytest.fixture(scope="module", params=["mshSignalsOnly", "none"], ids=["sync", "async"])
def target(
    request: pytest.FixtureRequest, ebms_pki: TestPki,
    endpoints: tuple[EbmsReceiver, EbmsReceiver], client: HttpClient
) -> ConformanceTarget:
    peer, harness = endpoints
    cpa = parse_cpa(conformance_cpa(ebms_pki, peer.url, harness.url, sync_reply_mode=request.param))
    peer.add_cpa(cpa)
    return _target(ebms_pki, cpa, harness, client)


def test_case_ids_are_unique_and_rows_documented() -> None:
    ids = [m.case_id for m in MATRIX]
    assert len(ids) == len(set(ids))
    assert {m.row for m in MATRIX} >= set(range(1, 23))
    assert case("xxe").row == 21
    with pytest.raises(KeyError):
        case("nope")


@pytest.mark.parametrize("env", ["pre", "prod"])
def test_refuses_shared_environments(
    env: str, target: ConformanceTarget, endpoints: tuple[EbmsReceiver, EbmsReceiver]
) -> None:
    peer, _ = endpoints
    before = len(peer.records())
    shared = ConformanceTarget(target.cpa, target.own_party, target.identity, target.trust, env=env)
    with pytest.raises(ConformanceRefused, match="only with --dso-env=local"):
        run_case(case("ping_valid"), shared)
    assert len(peer.records()) == before  # nothing was sent


@pytest.mark.parametrize("item", MATRIX, ids=[m.case_id for m in MATRIX])
def test_conforming_msh_passes_every_row(item: object, target: ConformanceTarget) -> None:
    from pytest_dso.ebms.conformance import ConformanceCase

    assert isinstance(item, ConformanceCase)
    assert not_applicable(item, target) is None
    assert run_case(item, target) == []


def test_lenient_msh_fails_the_negative_rows(
    ebms_pki: TestPki, endpoints: tuple[EbmsReceiver, EbmsReceiver], client: HttpClient
) -> None:
    peer, harness = endpoints
    cpa = parse_cpa(conformance_cpa(ebms_pki, peer.url, harness.url))
    peer.add_cpa(cpa)

    def accept_everything(request: Request, result: MshResult) -> tuple[Response, list[Outbound]]:
        return Response(204), []

    peer.handler = accept_everything
    try:
        # a sync CPA and no receiver: nothing to wait for
        lenient = dataclasses.replace(_target(ebms_pki, cpa, harness, client), receiver=None)
        findings = {m.case_id: run_case(m, lenient) for m in MATRIX}
    finally:
        peer.handler = None
    for case_id in (
        "soapaction_unquoted",
        "unknown_cpa",
        "xxe",
        "wrong_action",
        "ttl_expired",
        "message_order",
        "unknown_cid",
        "duplicate_same_content",
        "ping_valid",
    ):
        assert findings[case_id], case_id
        assert findings[case_id][0].severity == Severity.ERROR
        assert findings[case_id][0].check == f"ebms.conformance.{case_id}"
    assert "expected MessageError TimeToLiveExpired" in findings["ttl_expired"][0].message


def test_wrong_error_location_is_caught(
    ebms_pki: TestPki, endpoints: tuple[EbmsReceiver, EbmsReceiver], client: HttpClient
) -> None:
    peer, harness = endpoints
    cpa = parse_cpa(conformance_cpa(ebms_pki, peer.url, harness.url))
    peer.add_cpa(cpa)

    def wrong_location(request: Request, result: MshResult) -> tuple[Response, list[Outbound]]:
        body = result.body.replace(b"/From/PartyId", b"/To/PartyId")
        return Response(result.status, body, result.content_type), []

    peer.handler = wrong_location
    try:
        findings = run_case(case("wrong_from_party"), _target(ebms_pki, cpa, harness, client))
    finally:
        peer.handler = None
    assert [f.check for f in findings] == ["ebms.conformance.wrong_from_party"]


def test_business_rows_not_applicable_when_the_cpa_lets_us_send_nothing(
    ebms_pki: TestPki, endpoints: tuple[EbmsReceiver, EbmsReceiver], client: HttpClient
) -> None:
    peer, harness = endpoints
    cpa = parse_cpa(local_cpa(ebms_pki, peer.url, harness.url))
    target = _target(ebms_pki, cpa, harness, client)
    reason = not_applicable(case("wrong_action"), target)
    assert reason is not None
    assert "business" in reason
    assert not_applicable(case("ping_valid"), target) is None
    (finding,) = run_case(case("wrong_action"), target)
    assert finding.check == "ebms.conformance.not_applicable"
    assert finding.severity == Severity.INFO
