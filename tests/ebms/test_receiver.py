"""The mTLS ebMS receiver: raw records, bounded waits, async replies sent to the CPA endpoint."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import EbmsClient
from pytest_dso.ebms.cpa import local_cpa, parse_cpa
from pytest_dso.ebms.envelope import build_envelope, parse_envelope, ping, pong_for
from pytest_dso.ebms.msh import Msh
from pytest_dso.ebms.receiver import EbmsReceiver, local_msh_peer
from pytest_dso.pkio.testpki import TestPki


@pytest.fixture
def pair(ebms_pki: TestPki) -> Iterator[tuple[EbmsReceiver, EbmsReceiver]]:
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


def test_records_raw_bytes_and_sends_async_pong_to_the_cpa_endpoint(
    ebms_pki: TestPki, pair: tuple[EbmsReceiver, EbmsReceiver]
) -> None:
    peer, harness = pair
    cpa = parse_cpa(local_cpa(ebms_pki, peer.url, harness.url))
    peer.add_cpa(cpa)
    harness.add_cpa(cpa)
    message = ping(
        cpa_id=cpa.cpa_id,
        from_party=cpa.parties[1].party_id,
        to_party=cpa.parties[0].party_id,
        host="localhost",
    )
    harness.expect(message.message_id)
    client = EbmsClient.for_identity(ebms_pki.identity("digikoppelaar"), ebms_pki.hierarchy.anchors)
    try:
        sent = client.send(peer.url, message)
    finally:
        client.close()
    assert sent.status == 204
    record = peer.wait_for(lambda r: r.action == c.ACTION_PING, 1.0)
    assert record is not None
    assert record.body == sent.exchange.request_body
    assert record.peer is not None
    assert record.peer.oin == ebms_pki.party("digikoppelaar").oin
    assert ("soapaction", c.SOAP_ACTION) in record.headers
    assert record.result is not None
    assert record.result.status == 204
    pong = harness.wait_for(lambda r: r.ref_to_message_id == message.message_id, 3.0)
    assert pong is not None
    assert pong.action == c.ACTION_PONG
    assert pong.result is not None
    assert pong.result.status == 204  # the harness accepted it (known RefToMessageId)
    deadline = time.monotonic() + 3
    while not peer.sent_replies() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert peer.sent_replies()[0].status == 204


def test_wait_for_returns_none_after_the_timeout(pair: tuple[EbmsReceiver, EbmsReceiver]) -> None:
    _, harness = pair
    started = time.monotonic()
    assert harness.wait_for(lambda r: True, 0.2) is None
    assert 0.15 < time.monotonic() - started < 2


def test_unparseable_requests_are_recorded_too(
    ebms_pki: TestPki, pair: tuple[EbmsReceiver, EbmsReceiver]
) -> None:
    peer, _ = pair
    client = EbmsClient.for_identity(ebms_pki.identity("digikoppelaar"), ebms_pki.hierarchy.anchors)
    try:
        sent = client.post_raw(peer.url, c.TEXT_XML, b"<not-soap/>")
    finally:
        client.close()
    assert sent.status == 500
    assert sent.fault is not None
    (record,) = peer.records()
    assert record.body == b"<not-soap/>"
    assert record.message is None
    peer.clear()
    assert peer.records() == ()


def test_local_msh_peer_installs_cpas(
    ebms_pki: TestPki, pair: tuple[EbmsReceiver, EbmsReceiver]
) -> None:
    peer, harness = pair
    msh_peer = local_msh_peer(peer, ebms_pki)
    cpa = msh_peer.install_cpa(msh_peer.local_cpa(harness.url, ebms_pki.identity("digikoppelaar")))
    assert peer.msh.cpa(cpa.cpa_id) is cpa
    assert msh_peer.oin == ebms_pki.party("dso-lv").oin
    assert cpa.endpoint_for(msh_peer.oin) == peer.url


def test_a_certificate_of_another_party_is_refused_by_the_harness_receiver(
    ebms_pki: TestPki,
) -> None:
    signals: list[object] = []
    anchors = ebms_pki.hierarchy.anchors
    harness = EbmsReceiver(ebms_pki.identity("digikoppelaar"), anchors,
                           Msh(on_signal=signals.append), label="harness")
    with harness:
        cpa = parse_cpa(local_cpa(ebms_pki, "https://127.0.0.1:9/ebms", harness.url))
        harness.add_cpa(cpa)
        dso = cpa.party_by_oin(ebms_pki.party("dso-lv").oin or "")
        assert dso is not None
        own = cpa.other_party(dso)
        sent_ping = ping(cpa_id=cpa.cpa_id, from_party=own.party_id, to_party=dso.party_id,
                         host="localhost")
        harness.expect(sent_ping.message_id, (dso.party_id,))
        pong = pong_for(parse_envelope(build_envelope(sent_ping)), host="localhost")
        for slug, status in (("gemeente", 500), ("dso-lv", 204)):
            client = EbmsClient.for_identity(ebms_pki.identity(slug), anchors)
            try:
                answer = client.send(harness.url, pong)
            finally:
                client.close()
            assert answer.status == status, (slug, answer.exchange.response_body)
            if status == 500:
                assert b"Invalid SSL Client Certificate" in answer.exchange.response_body
                assert signals == []  # nothing taken
        assert len(signals) == 1
