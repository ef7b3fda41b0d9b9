"""The MSH core, called directly: Ping/Pong, every matrix row, duplicates, status, signals."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import parse_soap_fault
from pytest_dso.ebms.conformance import MATRIX, CaseContext, Prepared, conformance_cpa
from pytest_dso.ebms.cpa import Cpa, local_cpa, parse_cpa
from pytest_dso.ebms.envelope import (
    EbmsError,
    EbmsMessage,
    acknowledgment_for,
    build_envelope,
    message_error_for,
    parse_envelope,
    ping,
    status_request,
)
from pytest_dso.ebms.mime import pack
from pytest_dso.ebms.msh import AcceptedMessage, Msh, MshResult
from pytest_dso.pkio.testpki import TestPki

SOAP = {"SOAPAction": c.SOAP_ACTION}
PEER_URL = "https://dso-lv.test.localhost:8443/ebms"
OWN_URL = "https://digikoppelaar.test.localhost:9443/ebms"


def _cpa(pki: TestPki, mode: str) -> Cpa:
    return parse_cpa(conformance_cpa(pki, PEER_URL, OWN_URL, sync_reply_mode=mode))


def _msh(pki: TestPki, *cpas: Cpa, **kwargs: object) -> Msh:
    return Msh(cpas, (pki.party("dso-lv").oin,), **kwargs)  # type: ignore[arg-type]


def _ctx(pki: TestPki, cpa: Cpa) -> CaseContext:
    own = cpa.party(pki.party("digikoppelaar").oin)
    return CaseContext(
        cpa, own, cpa.other_party(own), "digikoppelaar.test.localhost", dt.datetime.now(dt.UTC)
    )


def _send(msh: Msh, prepared: Prepared) -> MshResult:
    headers = {**SOAP, **prepared.headers}
    headers = {k: v for k, v in headers.items() if v != ""}
    return msh.handle(prepared.content_type, headers, prepared.body)


def _post(msh: Msh, message: EbmsMessage) -> MshResult:
    content_type, body = pack(message)
    return msh.handle(content_type, SOAP, body)


def _reply(result: MshResult) -> EbmsMessage:
    if result.outbound:
        return result.outbound[0].message
    assert result.status == 200, result
    return parse_envelope(result.body)


@pytest.fixture(scope="module", params=["mshSignalsOnly", "none"], ids=["sync", "async"])
def cpa(request: pytest.FixtureRequest, ebms_pki: TestPki) -> Cpa:
    return _cpa(ebms_pki, request.param)


@pytest.mark.parametrize("case", MATRIX, ids=[m.case_id for m in MATRIX])
def test_every_matrix_row(case: object, cpa: Cpa, ebms_pki: TestPki) -> None:
    from pytest_dso.ebms.conformance import ConformanceCase

    assert isinstance(case, ConformanceCase)
    msh = _msh(ebms_pki, cpa)
    ctx = _ctx(ebms_pki, cpa)
    results = [_send(msh, p) for p in case.build(ctx)]
    last = results[-1]
    expect = case.expect
    if expect.outcome == "fault":
        assert last.status == 500
        assert parse_soap_fault(last.body) is not None
        assert last.fault
        return
    reply = _reply(last)
    if expect.outcome == "error":
        assert reply.error_list is not None, reply
        codes = [(e.code, e.location or "") for e in reply.error_list.errors]
        assert any(
            code == expect.code and loc.lower().endswith((expect.location or "").lower())
            for code, loc in codes
        ), codes
        assert reply.header.ref_to_message_id == results[-1].message.message_id  # type: ignore[union-attr]
    elif expect.outcome == "pong":
        assert reply.header.action == c.ACTION_PONG
    elif expect.outcome == "status":
        assert reply.status_response is not None
        assert reply.status_response.status in expect.statuses
    else:
        assert reply.acknowledgment is not None
        if expect.outcome == "same_ack":
            assert reply.header.message_id == _reply(results[0]).header.message_id
            assert last.duplicate


def test_sync_ping_gets_a_pong_in_the_response(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "mshSignalsOnly")
    ctx = _ctx(ebms_pki, cpa)
    the_ping = ctx.ping()
    result = _msh(ebms_pki, cpa).handle(c.TEXT_XML, SOAP, build_envelope(the_ping))
    assert (result.status, result.content_type, result.outbound) == (200, c.TEXT_XML, ())
    pong = parse_envelope(result.body)
    assert pong.header.action == c.ACTION_PONG
    assert pong.header.ref_to_message_id == the_ping.message_id
    assert pong.header.conversation_id == the_ping.header.conversation_id
    assert pong.header.from_parties == the_ping.header.to_parties
    assert pong.header.message_id.endswith("@dso-lv.test.localhost")


def test_async_ping_gets_204_and_a_pong_for_the_sender_endpoint(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "none")
    the_ping = _ctx(ebms_pki, cpa).ping()
    result = _msh(ebms_pki, cpa).handle(c.TEXT_XML, SOAP, build_envelope(the_ping))
    assert (result.status, result.body) == (204, b"")
    (out,) = result.outbound
    assert out.url == OWN_URL
    assert parse_envelope(out.body).header.ref_to_message_id == the_ping.message_id


def test_ping_with_sync_reply_is_answered_sync_even_on_async_cpa(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "none")
    the_ping = dataclasses.replace(_ctx(ebms_pki, cpa).ping(), sync_reply=None)
    ping_sync = ping(
        cpa_id=cpa.cpa_id,
        from_party=the_ping.header.from_party,
        to_party=the_ping.header.to_party,
        host="x",
        sync_reply=True,
    )
    assert _msh(ebms_pki, cpa).handle(c.TEXT_XML, SOAP, build_envelope(ping_sync)).status == 200


def test_status_request_reports_received_then_processed(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "mshSignalsOnly")
    msh = _msh(ebms_pki, cpa)
    ctx = _ctx(ebms_pki, cpa)
    business = ctx.business()
    assert _post(msh, business).status == 200

    def ask(ref: str) -> str:
        request = dataclasses.replace(
            status_request(
                cpa_id=cpa.cpa_id,
                from_party=ctx.own.party_ids[0],
                to_party=ctx.peer.party_ids[0],
                ref_to_message_id=ref,
                host="x",
            ),
        )
        reply = _reply(msh.handle(c.TEXT_XML, SOAP, build_envelope(request)))
        assert reply.status_response is not None
        return reply.status_response.status

    assert ask(business.message_id) == "Received"
    msh.mark_processed(business.message_id)
    assert ask(business.message_id) == "Processed"
    assert ask("never-seen@example.invalid") == "NotRecognized"


def test_delivery_callback_gets_business_messages_and_failure_is_delivery_failure(
    ebms_pki: TestPki,
) -> None:
    cpa = _cpa(ebms_pki, "mshSignalsOnly")
    delivered: list[AcceptedMessage] = []
    msh = _msh(ebms_pki, cpa, on_deliver=delivered.append)
    business = _ctx(ebms_pki, cpa).business()
    result = _post(msh, business)
    assert result.delivered
    assert [d.message.message_id for d in delivered] == [business.message_id]
    assert delivered[0].message.attachments[0].data == b"<conformance/>"

    def refuse(delivery: AcceptedMessage) -> None:
        raise RuntimeError("backend down")

    failing = _msh(ebms_pki, cpa, on_deliver=refuse)
    reply = _reply(_post(failing, _ctx(ebms_pki, cpa).business()))
    assert reply.error_list is not None
    assert reply.error_list.errors[0].code == c.DELIVERY_FAILURE


def test_incoming_acknowledgment_and_error_are_signals_never_answered_with_errors(
    ebms_pki: TestPki,
) -> None:
    cpa = _cpa(ebms_pki, "none")
    signals: list[EbmsMessage] = []
    harness = Msh((cpa,), (ebms_pki.party("digikoppelaar").oin,), on_signal=signals.append)
    peer_ctx = CaseContext(
        cpa,
        cpa.party(ebms_pki.party("dso-lv").oin),
        cpa.party(ebms_pki.party("digikoppelaar").oin),
        "dso-lv",
        dt.datetime.now(dt.UTC),
    )
    sent = peer_ctx.ping()  # pretend the harness sent this message
    harness.expect(sent.message_id)
    ack = acknowledgment_for(dataclasses.replace(sent), host="dso")
    # an Ack travels from the receiver of ``sent`` back: swap by building from the harness side
    ack = dataclasses.replace(
        ack,
        header=dataclasses.replace(
            ack.header, from_parties=sent.header.from_parties, to_parties=sent.header.to_parties
        ),
    )
    assert harness.handle(c.TEXT_XML, SOAP, build_envelope(ack)).status == 204
    stray = message_error_for(sent, EbmsError(c.UNKNOWN, description="x"), host="dso")
    stray = dataclasses.replace(
        stray,
        header=dataclasses.replace(
            stray.header,
            from_parties=sent.header.from_parties,
            to_parties=sent.header.to_parties,
            ref_to_message_id="unknown@example.invalid",
        ),
    )
    result = harness.handle(c.TEXT_XML, SOAP, build_envelope(stray))
    assert (result.status, result.outbound, result.body) == (204, (), b"")
    assert [s.header.action for s in signals] == [c.ACTION_ACKNOWLEDGMENT, c.ACTION_MESSAGE_ERROR]


def test_proposed_or_expired_cpa_is_inconsistent(ebms_pki: TestPki) -> None:
    xml = conformance_cpa(ebms_pki, PEER_URL, OWN_URL).replace(
        b'value="agreed"', b'value="proposed"'
    )
    cpa = parse_cpa(xml)
    reply = _reply(
        _msh(ebms_pki, cpa).handle(c.TEXT_XML, SOAP, build_envelope(_ctx(ebms_pki, cpa).ping()))
    )
    assert reply.error_list is not None
    assert reply.error_list.errors[0].code == c.INCONSISTENT
    assert reply.error_list.errors[0].description == "Invalid CPA."


def test_client_certificate_must_match_the_cpa_when_checked(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "mshSignalsOnly")
    body = build_envelope(_ctx(ebms_pki, cpa).ping())
    msh = _msh(ebms_pki, cpa, verify_client_certificate=True)
    right = ebms_pki.leaves["digikoppelaar"].certificate
    wrong = ebms_pki.leaves["gemeente"].certificate
    assert msh.handle(c.TEXT_XML, SOAP, body, right).status == 200
    refused = msh.handle(c.TEXT_XML, SOAP, body, wrong)
    assert refused.status == 500
    assert refused.fault is not None
    assert refused.fault.startswith("Invalid SSL Client Certificate!")
    assert "TEST Digikoppelaar" in refused.fault


def test_soapaction_fault_names_the_value(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, "mshSignalsOnly")
    body = build_envelope(_ctx(ebms_pki, cpa).ping())
    result = _msh(ebms_pki, cpa).handle(c.TEXT_XML, {"soapaction": "ebXML"}, body)
    fault = parse_soap_fault(result.body)
    assert fault is not None
    assert fault.code == "soap:Client"
    assert fault.text == "Unable to process message! SOAPAction=ebXML"


def test_unknown_cpa_fault_names_it(ebms_pki: TestPki) -> None:
    cpa = parse_cpa(local_cpa(ebms_pki, PEER_URL, OWN_URL))
    body = build_envelope(_ctx(ebms_pki, cpa).ping())
    result = _msh(ebms_pki).handle(c.TEXT_XML, SOAP, body)
    assert result.status == 500
    assert result.fault == f"CPA {cpa.cpa_id} not found!"


def test_garbage_and_wrong_content_type_are_faults_not_exceptions(ebms_pki: TestPki) -> None:
    msh = _msh(ebms_pki, _cpa(ebms_pki, "none"))
    assert msh.handle(c.TEXT_XML, SOAP, b"not xml").status == 500
    assert msh.handle("application/json", SOAP, b"{}").status == 500
    assert msh.handle(c.TEXT_XML, SOAP, b"").status == 500
