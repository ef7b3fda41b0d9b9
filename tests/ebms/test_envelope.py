"""ebMS envelope: round trips, wire format pinned by hand-written XML, and every parse error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.envelope import (
    AckRequested,
    Attachment,
    EbmsError,
    EnvelopeError,
    PartyId,
    acknowledgment_for,
    build_envelope,
    format_timestamp,
    message,
    message_error_for,
    new_message_id,
    parse_envelope,
    parse_timestamp,
    ping,
    pong_for,
    status_request,
    status_response_for,
)

Read = Callable[[str], bytes]
Shape = Callable[[bytes], tuple[object, ...]]
DSO = PartyId("00000099000000001000")
DKA = PartyId("00000099000000002000")
T0 = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
FIXTURES = [
    "ping.xml",
    "pong.xml",
    "message.xml",
    "acknowledgment.xml",
    "message_error.xml",
    "status_request.xml",
    "status_response.xml",
]


@pytest.mark.parametrize("name", FIXTURES)
def test_hand_written_envelope_parses_and_rebuilds_identically(
    ebms_data: Read, ebms_shape: Shape, name: str
) -> None:
    original = ebms_data(name)
    rebuilt = build_envelope(parse_envelope(original))
    assert ebms_shape(rebuilt) == ebms_shape(original)


def test_ping_fixture_reads_as_a_digikoppeling_ping(ebms_data: Read) -> None:
    msg = parse_envelope(ebms_data("ping.xml"))
    header = msg.header
    assert header.from_parties == (DKA,)
    assert header.to_parties == (DSO,)
    assert header.service == c.MSH_SERVICE
    assert header.service_type is None
    assert header.action == "Ping"
    assert header.from_role is None
    assert header.timestamp == dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert msg.ack_requested is None
    assert msg.manifest is None
    assert not header.duplicate_elimination


def test_built_ping_matches_the_hand_written_one(ebms_data: Read, ebms_shape: Shape) -> None:
    built = ping(
        cpa_id="DSO-SIM_00000099000000001000_00000099000000002000_1",
        from_party=DKA,
        to_party=DSO,
        host="dka.test.localhost",
        conversation_id="7a4c3f0e-1b2d-4e5f-8a9b-0c1d2e3f4a5b",
        now=T0,
    )
    fixed = parse_envelope(ebms_data("ping.xml"))
    # The only free value is the MessageId: take the fixture's to compare the wire format.
    assert built.header.message_id.endswith("@dka.test.localhost")
    from dataclasses import replace

    built = replace(built, header=replace(built.header, message_id=fixed.header.message_id))
    assert ebms_shape(build_envelope(built)) == ebms_shape(ebms_data("ping.xml"))


def test_pong_answers_the_ping(ebms_data: Read) -> None:
    the_ping = parse_envelope(ebms_data("ping.xml"))
    pong = pong_for(the_ping, host="dso.test.localhost", now=T0)
    assert pong.header.action == "Pong"
    assert pong.header.from_parties == the_ping.header.to_parties
    assert pong.header.to_parties == the_ping.header.from_parties
    assert pong.header.cpa_id == the_ping.header.cpa_id
    assert pong.header.conversation_id == the_ping.header.conversation_id
    assert pong.header.ref_to_message_id == the_ping.header.message_id
    assert pong.header.message_id != the_ping.header.message_id
    assert parse_envelope(build_envelope(pong)) == pong


def test_acknowledgment_has_no_duplicate_elimination_and_refers_to_the_message(
    ebms_data: Read,
) -> None:
    original = parse_envelope(ebms_data("message.xml"))
    assert original.header.duplicate_elimination
    ack = acknowledgment_for(original, host="dka.test.localhost", now=T0)
    assert ack.header.action == "Acknowledgment"
    assert not ack.header.duplicate_elimination
    assert ack.acknowledgment is not None
    assert ack.acknowledgment.ref_to_message_id == original.header.message_id
    assert ack.acknowledgment.from_party == original.header.to_party
    assert b"DuplicateElimination" not in build_envelope(ack)
    assert parse_envelope(build_envelope(ack)) == ack


def test_message_error_computes_highest_severity() -> None:
    base = ping(cpa_id="x", from_party=DSO, to_party=DKA, host="h", now=T0)
    warn = message_error_for(base, EbmsError("Unknown", c.SEVERITY_WARNING), host="h", now=T0)
    assert warn.error_list is not None
    assert warn.error_list.highest_severity == "Warning"
    both = message_error_for(
        base,
        [EbmsError("Unknown", c.SEVERITY_WARNING), EbmsError("Inconsistent", location="//x")],
        host="h",
        now=T0,
    )
    assert both.error_list is not None
    assert both.error_list.highest_severity == "Error"
    parsed = parse_envelope(build_envelope(both))
    assert parsed.error_list == both.error_list
    with pytest.raises(ValueError, match="at least one"):
        message_error_for(base, [], host="h")


def test_status_request_and_response_round_trip() -> None:
    request = status_request(
        cpa_id="x", from_party=DSO, to_party=DKA, ref_to_message_id="m@h", host="h", now=T0
    )
    response = status_response_for(request, "Processed", host="g", timestamp=T0, now=T0)
    assert response.status_response is not None
    assert response.status_response.ref_to_message_id == "m@h"
    assert parse_envelope(build_envelope(request)) == request
    assert parse_envelope(build_envelope(response)) == response
    with pytest.raises(ValueError, match="unknown message status"):
        status_response_for(request, "Done", host="g")


def test_business_message_round_trip_with_manifest_and_ack_requested() -> None:
    part = Attachment("verzoek-1@h", "application/xml", b"<verzoek/>")
    msg = message(
        cpa_id="cpa",
        from_party=DSO,
        to_party=DKA,
        from_role="Verzender",
        to_role="Ontvanger",
        service="DSO-SIM:Verzoeknotificatie:1:0",
        service_type=c.SERVICE_TYPE_OSB,
        action="Verzoeknotificatie",
        host="h",
        ack_requested=AckRequested(),
        duplicate_elimination=True,
        time_to_live=T0 + dt.timedelta(hours=1),
        attachments=[part],
        now=T0,
    )
    assert msg.manifest is not None
    assert msg.manifest[0].href == "cid:verzoek-1@h"
    parsed = parse_envelope(build_envelope(msg), msg.attachments)
    assert parsed == msg
    assert parsed.attachment("<verzoek-1@h>") == part


def test_built_envelope_carries_version_and_must_understand_everywhere() -> None:
    msg = message(
        cpa_id="cpa", from_party=DSO, to_party=DKA, service="s", action="a", host="h",
        ack_requested=AckRequested(), sync_reply=True,
        attachments=[Attachment("p@h", "text/plain", b"x")],
    )
    xml = build_envelope(msg).decode()
    for name in ("MessageHeader", "AckRequested", "SyncReply"):
        assert f'<eb:{name} soap:mustUnderstand="1" eb:version="2.0"' in xml
    assert '<eb:Manifest eb:version="2.0">' in xml
    assert xml.index("<eb:MessageHeader") < xml.index("<eb:SyncReply")


def test_other_prefixes_offsets_and_otap_suffixes_are_read(ebms_data: Read) -> None:
    msg = parse_envelope(ebms_data("ping_other_prefixes.xml"))
    assert msg.header.from_party == PartyId("00000099000000002000_T")
    assert msg.header.timestamp == dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert msg.sync_reply is not None


def test_message_ids_are_unique_and_name_the_host() -> None:
    ids = {new_message_id("dso.test.localhost") for _ in range(100)}
    assert len(ids) == 100
    assert all(i.endswith("@dso.test.localhost") for i in ids)


def test_timestamps_are_utc_with_z() -> None:
    local = dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_timestamp(local) == "2024-05-01T10:00:00.500Z"
    assert parse_timestamp("2024-05-01T10:00:00Z") == dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC)
    assert parse_timestamp("2024-05-01T10:00:00").tzinfo == dt.UTC
    with pytest.raises(ValueError, match="xsd:dateTime"):
        parse_timestamp("1 May 2024")


# --- errors ----------------------------------------------------------------------------------


def _mutate(ebms_data: Read, name: str, old: str, new: str) -> bytes:
    text = ebms_data(name).decode()
    assert old in text, f"fixture {name} does not contain {old!r}"
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("name", "old", "new", "code", "location"),
    [
        (
            "ping.xml", 'eb:version="2.0"', 'eb:version="3.0"',
            c.INCONSISTENT, "//Header/MessageHeader/@version",
        ),
        (
            "message.xml", "toPartyMSH\" eb:signed", "nextMSH\" eb:signed",
            c.NOT_SUPPORTED, "//Header/AckRequested/@actor",
        ),
        (
            "message.xml", 'eb:signed="false"', 'eb:signed="maybe"',
            c.INCONSISTENT, "//Header/AckRequested/@signed",
        ),
        (
            "message.xml", "<eb:AckRequested soap:mustUnderstand=\"1\" eb:version=\"2.0\"",
            "<eb:AckRequested soap:mustUnderstand=\"1\" eb:version=\"1.0\"",
            c.INCONSISTENT, "//Header/AckRequested/@version",
        ),
        (
            "ping.xml", "</soap:Header>",
            '<eb:MessageOrder soap:mustUnderstand="1" eb:version="2.0"><eb:SequenceNumber>0'
            "</eb:SequenceNumber></eb:MessageOrder></soap:Header>",
            c.NOT_SUPPORTED, "//Header/MessageOrder",
        ),
        (
            "ping.xml", "</soap:Header>",
            '<eb:SyncReply soap:mustUnderstand="1" eb:version="2.0" soap:actor="urn:x"/>'
            "</soap:Header>",
            c.INCONSISTENT, "//Header/SyncReply/@actor",
        ),
        (
            "ping.xml", "2024-05-01T10:00:00.000Z", "yesterday",
            c.VALUE_NOT_RECOGNIZED, "//Header/MessageHeader/MessageData/Timestamp",
        ),
        (
            "message.xml", "cid:verzoek-1@dso.test.localhost", "http://evil.example/x",
            c.MIME_PROBLEM, "//Body/Manifest/Reference[@href='http://evil.example/x']",
        ),
        (
            "message_error.xml", 'eb:highestSeverity="Error"', 'eb:highestSeverity="Fatal"',
            c.INCONSISTENT, "//Header/ErrorList/@highestSeverity",
        ),
        (
            "status_response.xml", 'eb:messageStatus="Received"', 'eb:messageStatus="Lost"',
            c.VALUE_NOT_RECOGNIZED, "//Body/StatusResponse/@messageStatus",
        ),
    ],
)
def test_semantic_problems_carry_code_location_and_header(
    ebms_data: Read, name: str, old: str, new: str, code: str, location: str
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(_mutate(ebms_data, name, old, new))
    assert caught.value.code == code
    assert caught.value.location == location
    assert caught.value.header is not None, "the MSH needs the header to address its error"
    assert not caught.value.soap_fault
    assert caught.value.as_ebms_error().code == code


@pytest.mark.parametrize(
    ("old", "new", "location"),
    [
        ('<eb:PartyId eb:type="urn:osb:oin">00000099000000002000</eb:PartyId>', "",
         "//Header/MessageHeader/From/PartyId"),
        ("<eb:CPAId>DSO-SIM_00000099000000001000_00000099000000002000_1</eb:CPAId>", "",
         "//Header/MessageHeader/CPAId"),
        ("<eb:Timestamp>2024-05-01T10:00:00.000Z</eb:Timestamp>", "",
         "//Header/MessageHeader/MessageData/Timestamp"),
        ("<eb:Action>Ping</eb:Action>", "<eb:Action> </eb:Action>",
         "//Header/MessageHeader/Action"),
    ],
)
def test_incomplete_message_header_is_a_soap_fault(
    ebms_data: Read, old: str, new: str, location: str
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(_mutate(ebms_data, "ping.xml", old, new))
    assert caught.value.code == c.OTHER_XML
    assert caught.value.location == location
    assert caught.value.soap_fault


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"", "empty"),
        (b"<not-closed>", "not well-formed"),
        (b"<Envelope/>", "not a SOAP 1.1"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/>'
            b"</s:Envelope>",
            "Header is missing",
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/>'
            b"<s:Body/></s:Envelope>",
            "exactly one eb:MessageHeader",
        ),
    ],
)
def test_not_an_ebms_envelope_is_a_soap_fault(data: bytes, fragment: str) -> None:
    with pytest.raises(EnvelopeError, match=fragment) as caught:
        parse_envelope(data)
    assert caught.value.code == c.OTHER_XML
    assert caught.value.soap_fault
    assert caught.value.header is None


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>
<soap:Body>&x;</soap:Body></soap:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/>
<soap:Body>&lol3;</soap:Body></soap:Envelope>"""


@pytest.mark.parametrize("data", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_hostile_xml_is_refused_without_reading_anything(data: bytes) -> None:
    with pytest.raises(EnvelopeError, match="DOCTYPE") as caught:
        parse_envelope(data)
    assert caught.value.soap_fault
    assert "root:" not in str(caught.value)


def test_built_envelope_is_what_lxml_writes_for_it_with_its_escaping() -> None:
    from lxml import etree

    from pytest_dso.xmlsafe import parse_xml

    odd = "a&b<c>d\"e'f\r\ng\th é😀"
    msg = message_error_for(
        message(
            cpa_id=odd, from_party=PartyId(odd, odd), to_party=DKA, service=odd, action="a",
            host="h", from_role=odd, time_to_live=T0, duplicate_elimination=True,
            ack_requested=AckRequested(), sync_reply=True,
            attachments=[Attachment("p@h", "text/plain", b"x")],
        ),
        [EbmsError("Inconsistent", location=odd, description=odd), EbmsError("OtherXml")],
        host="h", now=T0,
    )
    for item in (msg, status_request(cpa_id="c", from_party=DSO, to_party=DKA,
                                      ref_to_message_id=odd, host="h", now=T0)):
        built = build_envelope(item)
        assert built == etree.tostring(parse_xml(built), xml_declaration=True, encoding="UTF-8")
        assert parse_envelope(built) == item


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x0b", "\ufffe"])
def test_strings_that_are_not_xml_are_refused_when_building(bad: str) -> None:
    with pytest.raises(ValueError, match="XML compatible"):
        build_envelope(ping(cpa_id=f"c{bad}", from_party=DSO, to_party=DKA, host="h"))
