"""One Service name under several service types, each with its own channel (as real
Digikoppeling CPAs do): lookups, the MSH and the conformance cases key on the type."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.conformance import CaseContext, business_action, business_channel
from pytest_dso.ebms.cpa import ANY_TYPE, Cpa, CpaError, parse_cpa
from pytest_dso.ebms.cpa_build import CpaSpec, PartySpec, ServiceSpec, build_cpa
from pytest_dso.ebms.envelope import (
    AckRequested,
    Attachment,
    EbmsMessage,
    message,
    parse_envelope,
)
from pytest_dso.ebms.mime import pack
from pytest_dso.ebms.msh import AcceptedMessage, Msh, MshResult
from pytest_dso.pkio.testpki import TestPki

SERVICE = "TEST:Echo:1:0"
BE = "urn:test:be:services"
RM = "urn:test:rm:services"
RM_SYNC = "urn:test:rm:sync:services"
SOAP = {"SOAPAction": c.SOAP_ACTION}


def _cpa(pki: TestPki, *, first: str = BE) -> Cpa:
    dso, dka = pki.leaves["dso-lv"].certificate, pki.leaves["digikoppelaar"].certificate
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    others = tuple(
        ServiceSpec(SERVICE, kind, reliable=kind != BE) for kind in (BE, RM) if kind != first
    )
    spec = CpaSpec(
        cpa_id="TEST-Echo-1-0_types_1",
        parties=(
            PartySpec(name="DSO-LV", party_id=pki.party("dso-lv").oin, certificate=dso,
                      endpoint="https://dso-lv.test.localhost/ebms", role="Echo",
                      sends=("EchoResponse",)),
            PartySpec(name="Digikoppelaar", party_id=pki.party("digikoppelaar").oin,
                      certificate=dka, endpoint="https://digikoppelaar.test.localhost/ebms",
                      role="Echo", sends=("EchoRequest",)),
        ),
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=10),
        service=SERVICE,
        service_type=first,
        reliable=first != BE,
        extra_services=others,
    )
    return parse_cpa(build_cpa(spec))


@pytest.fixture(scope="module")
def cpa(ebms_pki: TestPki) -> Cpa:
    return _cpa(ebms_pki)


def _echo(pki: TestPki, cpa: Cpa, kind: str, **changes: object) -> EbmsMessage:
    sender = cpa.party(pki.party("digikoppelaar").oin)
    channel = cpa.send_channel(sender, "EchoRequest", SERVICE, service_type=kind,
                               role="Echo")
    reliable = channel.ack_requested == "always"
    built = message(
        cpa_id=cpa.cpa_id, from_party=sender.party_id,
        to_party=cpa.other_party(sender).party_id, service=SERVICE, service_type=kind,
        action="EchoRequest", from_role="Echo", to_role="Echo",
        host="digikoppelaar.test.localhost",
        ack_requested=AckRequested() if reliable else None,
        duplicate_elimination=channel.duplicate_elimination == "always",
        attachments=(Attachment("echo-1@test", "application/xml", b"<echo/>"),),
    )
    if changes:
        header = dataclasses.replace(built.header, **changes)  # type: ignore[arg-type]
        built = dataclasses.replace(built, header=header)
    return built


def _post(msh: Msh, msg: EbmsMessage) -> MshResult:
    content_type, body = pack(msg)
    return msh.handle(content_type, SOAP, body)


def test_lookups_key_on_the_service_type(cpa: Cpa, ebms_pki: TestPki) -> None:
    dka = ebms_pki.party("digikoppelaar").oin
    be = cpa.send_channel(dka, "EchoRequest", SERVICE, service_type=BE, role="Echo")
    rm = cpa.send_channel(dka, "EchoRequest", SERVICE, service_type=RM, role="Echo")
    assert (be.ack_requested, be.duplicate_elimination) == ("never", "never")
    assert (rm.ack_requested, rm.duplicate_elimination) == ("always", "always")
    assert be.channel_id != rm.channel_id
    received = cpa.receive_channel("DSO-LV", "EchoRequest", SERVICE, service_type=RM)
    assert received.ack_requested == "always"
    assert cpa.endpoint_for("DSO-LV", "EchoRequest", SERVICE, service_type=RM).endswith("/ebms")
    # the name alone is ambiguous: the lookup says so instead of picking the first binding
    with pytest.raises(CpaError, match=r"different channels.*name the service type"):
        cpa.send_channel(dka, "EchoRequest", SERVICE)
    with pytest.raises(CpaError, match="service type 'urn:test:other'"):
        cpa.send_channel(dka, "EchoRequest", SERVICE, service_type="urn:test:other")
    with pytest.raises(CpaError, match="as role 'Nobody'"):
        cpa.send_channel(dka, "EchoRequest", SERVICE, service_type=RM, role="Nobody")
    keys = {(b.service_type, b.service, b.action, b.role, b.direction)
            for b in cpa.bindings(dka, direction="send")}
    assert keys == {(BE, SERVICE, "EchoRequest", "Echo", "send"),
                    (RM, SERVICE, "EchoRequest", "Echo", "send")}
    assert len(cpa.bindings(dka, direction="send", service_type=ANY_TYPE)) == 2
    assert [(s.service_type, r.service_type) for s, r in cpa.exchanges(dka)] == [(BE, BE), (RM, RM)]


@pytest.mark.parametrize("first", [BE, RM], ids=["be-first", "rm-first"])
def test_reliable_and_best_effort_round_trip_through_the_msh(
    ebms_pki: TestPki, first: str
) -> None:
    cpa = _cpa(ebms_pki, first=first)
    delivered: list[AcceptedMessage] = []
    msh = Msh((cpa,), (ebms_pki.party("dso-lv").oin,), on_deliver=delivered.append)

    reliable = _echo(ebms_pki, cpa, RM)
    result = _post(msh, reliable)
    assert result.errors == (), result
    assert result.delivered
    assert result.status == 204
    assert result.outbound, "async channel: the Ack comes separately"
    ack = result.outbound[0].message
    assert ack.action == c.ACTION_ACKNOWLEDGMENT
    assert ack.acknowledgment is not None
    assert ack.acknowledgment.ref_to_message_id == reliable.message_id

    best_effort = _echo(ebms_pki, cpa, BE)
    result = _post(msh, best_effort)
    assert result.errors == (), result
    assert result.delivered
    assert (result.status, result.outbound, result.reply) == (204, (), None)
    assert [(d.message.header.service_type, d.message.message_id) for d in delivered] == [
        (RM, reliable.message_id), (BE, best_effort.message_id)
    ]


def test_a_message_on_the_wrong_types_channel_is_inconsistent(
    cpa: Cpa, ebms_pki: TestPki
) -> None:
    msh = Msh((cpa,), (ebms_pki.party("dso-lv").oin,))
    reliable_as_be = _echo(ebms_pki, cpa, RM, service_type=BE)
    result = _post(msh, reliable_as_be)
    assert [(e.code, e.location) for e in result.errors] == [
        (c.INCONSISTENT, "//Header/MessageHeader/DuplicateElimination")
    ]
    unknown_type = _echo(ebms_pki, cpa, RM, service_type="urn:test:other")
    result = _post(msh, unknown_type)
    assert [(e.code, e.location) for e in result.errors] == [
        (c.VALUE_NOT_RECOGNIZED, "//Header/MessageHeader/Action")
    ]


def test_conformance_cases_use_the_typed_channel(ebms_pki: TestPki) -> None:
    cpa = _cpa(ebms_pki, first=RM)
    own = cpa.party(ebms_pki.party("digikoppelaar").oin)
    service, service_type, action, role, peer_role = business_action(cpa, own)
    assert (service, service_type, action, role, peer_role) == (
        SERVICE, RM, "EchoRequest", "Echo", "Echo")
    assert business_channel(cpa, own).ack_requested == "always"
    ctx = CaseContext(cpa, own, cpa.other_party(own), "digikoppelaar.test.localhost",
                      dt.datetime.now(dt.UTC))
    built = ctx.business()
    assert built.header.service_type == RM
    assert built.ack_requested is not None
    result = _post(Msh((cpa,), (ebms_pki.party("dso-lv").oin,)), built)
    assert result.errors == ()
    assert result.delivered
    reply = result.outbound[0].message if result.outbound else parse_envelope(result.body)
    assert reply.action == c.ACTION_ACKNOWLEDGMENT
