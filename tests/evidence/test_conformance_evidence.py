"""Each negative conformance case leaves its exchanges as report steps: both envelopes, the
ebMS ids, HTTP status, timings and the TLS facts of the connection (real MSH, real mTLS)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_dso.ebms.conformance import (
    ConformanceTarget,
    case,
    conformance_cpa,
    run_case_recorded,
)
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.msh import Msh
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.evidence.exchanges import ExchangeRecord, conformance_records
from pytest_dso.pkio.identity import fingerprint_sha256
from pytest_dso.pkio.testpki import TestPki


@pytest.fixture(scope="module")
def pki(dso_test_pki: TestPki) -> TestPki:
    """The session's quick EC test PKI (see dso_selftest_plugin)."""
    return dso_test_pki


@pytest.fixture(scope="module", params=["mshSignalsOnly", "none"], ids=["sync", "async"])
def target(request: pytest.FixtureRequest, pki: TestPki) -> Iterator[ConformanceTarget]:
    anchors = pki.hierarchy.anchors
    peer = EbmsReceiver(pki.identity("dso-lv"), anchors,
                        Msh(own_party_ids=(pki.party("dso-lv").oin,)), label="peer")
    harness = EbmsReceiver(pki.identity("digikoppelaar"), anchors, label="harness")
    with peer, harness:
        cpa = parse_cpa(conformance_cpa(pki, peer.url, harness.url,
                                        sync_reply_mode=request.param))
        peer.add_cpa(cpa)
        yield ConformanceTarget(cpa, pki.party("digikoppelaar").oin,
                                pki.identity("digikoppelaar"), anchors, receiver=harness,
                                timeout=3.0)


def _post(record: ExchangeRecord) -> ExchangeRecord:
    assert record.children, record.title
    return record.children[0]


def test_a_message_error_case_records_envelope_answer_ids_and_tls(
    target: ConformanceTarget, pki: TestPki
) -> None:
    run = run_case_recorded(case("wrong_action"), target)
    assert run.findings == [], run.findings
    [summary] = conformance_records(run)
    assert summary.parameter("verwacht") == str(case("wrong_action").expect)
    assert summary.parameter("uitkomst") == "conform"
    post = _post(summary)
    sent = run.exchanges[0].prepared.message
    assert sent is not None
    assert post.parameter("MessageId") == sent.message_id
    assert post.parameter("CPAId") == target.cpa.cpa_id
    assert post.parameter("ConversationId") == sent.header.conversation_id
    assert post.parameter("From")
    assert post.parameter("To")
    assert post.parameter("HTTP status") in ("200", "204")
    assert float(post.parameter("duur (ms)") or "x") > 0
    assert post.parameter("TLS protocol") in ("TLSv1.2", "TLSv1.3")
    assert post.parameter("TLS cipher") not in (None, "-")
    server = pki.leaves["dso-lv"].certificate
    assert post.parameter("TLS peer sha256") == fingerprint_sha256(server)
    assert post.parameter("TLS peer serial") == format(server.serial_number, "x")
    assert post.parameter("TLS peer subject") == server.subject.rfc4514_string()
    assert post.parameter("TLS peer not_after")
    names = [a.name for a in post.attachments]
    assert "verzonden envelop" in names
    body = next(a.body for a in post.attachments if a.name == "verzonden envelop")
    assert sent.message_id.encode() in (body if isinstance(body, bytes) else body.encode())
    # The MessageError: in the synchronous answer, or as the asynchronous POST to us.
    texts = [a.body for r in (post, *summary.children[1:]) for a in r.attachments]
    joined = b"".join(t if isinstance(t, bytes) else t.encode() for t in texts)
    assert b"ErrorList" in joined
    refs = [r.parameter("antwoord RefToMessageId") for r in summary.children] + [
        r.parameter("RefToMessageId") for r in summary.children[1:]]
    assert sent.message_id in refs
    for record in (summary, *summary.children):
        for attachment in record.attachments:
            data = attachment.body if isinstance(attachment.body, bytes) else (
                attachment.body.encode())
            assert b"PRIVATE KEY" not in data


def test_a_refused_case_records_the_fault_and_a_failure_is_a_finding(
    target: ConformanceTarget,
) -> None:
    run = run_case_recorded(case("soapaction_missing"), target)
    [summary] = conformance_records(run)
    post = _post(summary)
    assert post.parameter("HTTP status") == "500"
    assert "SOAP Fault" in (summary.parameter("ontvangen") or "")
    answer = next(a.body for a in post.attachments if a.name == "ontvangen antwoord")
    assert b"Fault" in (answer if isinstance(answer, bytes) else answer.encode())


def test_a_lenient_answer_shows_in_the_summary_verdict(target: ConformanceTarget) -> None:
    # A valid Ping expected to be refused: swap the expectation of a refusal row.
    import dataclasses

    item = dataclasses.replace(case("ping_valid"), expect=case("soapaction_missing").expect)
    run = run_case_recorded(item, target)
    assert run.findings
    [summary] = conformance_records(run)
    assert summary.parameter("uitkomst") != "conform"
    assert "expected HTTP 500" in (summary.parameter("uitkomst") or "")


def test_a_received_verzoeknotificatie_keeps_its_envelope_ids_sender_certificate_and_tls(
    pki: TestPki,
) -> None:
    from pytest_dso.evidence.exchanges import trigger_record
    from pytest_dso.triggers.receiver import ReceiverTriggerSource

    anchors = pki.hierarchy.anchors
    source = ReceiverTriggerSource()
    msh = Msh(own_party_ids=(pki.party("digikoppelaar").oin,))
    msh.on_deliver = source.on_delivery
    dka = EbmsReceiver(pki.identity("digikoppelaar"), anchors, msh, label="dka")
    sim = EbmsReceiver(pki.identity("dso-lv"), anchors, label="sim")
    with dka, sim:
        cpa = parse_cpa(conformance_cpa(pki, dka.url, sim.url, peer_slug="digikoppelaar",
                                        own_slug="dso-lv"))
        dka.add_cpa(cpa)
        sender = ConformanceTarget(cpa, pki.party("dso-lv").oin, pki.identity("dso-lv"),
                                   anchors, receiver=sim, timeout=3.0)
        run = run_case_recorded(case("business_valid"), sender)
    assert run.findings == [], run.findings
    [trigger] = source.all()
    record = trigger_record(trigger)
    sent = run.exchanges[0].prepared.message
    assert sent is not None
    assert record.parameter("MessageId") == sent.message_id
    assert record.parameter("CPAId") == cpa.cpa_id
    assert record.parameter("ConversationId") == sent.header.conversation_id
    leaf = pki.leaves["dso-lv"].certificate
    assert record.parameter("client-certificaat sha256") == fingerprint_sha256(leaf)
    # the TLS connection it came over, as the harness's receiver negotiated it
    assert record.parameter("TLS-protocol") in ("TLSv1.2", "TLSv1.3")
    cipher = record.parameter("TLS-cipher")
    assert cipher is not None
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher
    envelope = next(a.body for a in record.attachments if a.name == "ontvangen envelop")
    assert sent.message_id.encode() in (envelope if isinstance(envelope, bytes)
                                        else envelope.encode())
