"""Envelope validation: our schema and the Digikoppeling rules, on hand-written envelopes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from pytest_dso.ebms.envelope import EnvelopeError, PartyId, build_envelope, parse_envelope, ping
from pytest_dso.ebms.validate import validate_envelope
from pytest_dso.findings import Severity, errors, render

Read = Callable[[str], bytes]
VALID = [
    "ping.xml",
    "pong.xml",
    "message.xml",
    "acknowledgment.xml",
    "message_error.xml",
    "status_request.xml",
    "status_response.xml",
]


@pytest.mark.parametrize("name", VALID)
def test_hand_written_envelopes_are_valid(ebms_data: Read, name: str) -> None:
    findings = validate_envelope(ebms_data(name))
    assert findings == [], render(findings)


def test_built_envelopes_are_valid() -> None:
    msg = ping(cpa_id="c", from_party=PartyId("1"), to_party=PartyId("2"), host="h",
               sync_reply=True)
    assert validate_envelope(build_envelope(msg)) == []


def _mutated(ebms_data: Read, name: str, old: str, new: str) -> bytes:
    text = ebms_data(name).decode()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("name", "old", "new", "checks"),
    [
        ("ping.xml", 'eb:version="2.0"', 'eb:version="2.1"', {"ebms.header.version"}),
        ("ping.xml", 'soap:mustUnderstand="1" ', "",
         {"ebms.schema", "ebms.header.must_understand"}),
        ("message.xml", '<eb:Manifest eb:version="2.0">', "<eb:Manifest>",
         {"ebms.schema", "ebms.header.version"}),
        ("ping.xml", "<eb:Action>Ping</eb:Action>", "<eb:Action>Ping Pong</eb:Action>",
         {"ebms.header.whitespace"}),
        ("message.xml", ">DSO-SIM:Verzoeknotificatie:1:0<", "> DSO-SIM:Verzoeknotificatie:1:0<",
         {"ebms.header.whitespace"}),
        ("ping.xml", "<eb:Timestamp>2024-05-01T10:00:00.000Z</eb:Timestamp>", "",
         {"ebms.schema", "ebms.header.timestamp"}),
        ("ping.xml", '<eb:PartyId eb:type="urn:osb:oin">00000099000000002000',
         "<eb:PartyId>00000099000000002000", {"ebms.header.party_id_type"}),
        ("message.xml", "cid:verzoek-1@dso.test.localhost", "http://example.invalid/x",
         {"ebms.manifest.cid"}),
        ("message.xml", "actor:toPartyMSH\" eb:signed", "actor:nextMSH\" eb:signed",
         {"ebms.ack.next_msh"}),
        ("acknowledgment.xml", "</eb:MessageData>",
         "</eb:MessageData><eb:DuplicateElimination/>", {"ebms.ack.duplicate_elimination"}),
        ("ping.xml", "</soap:Header>",
         '<eb:MessageOrder soap:mustUnderstand="1" eb:version="2.0"><eb:SequenceNumber>1'
         "</eb:SequenceNumber></eb:MessageOrder></soap:Header>", {"ebms.message_order"}),
        ("message_error.xml", 'eb:highestSeverity="Error"', "", {"ebms.schema"}),
        ("status_response.xml", 'eb:messageStatus="Received"', 'eb:messageStatus="Gone"',
         {"ebms.schema"}),
        ("message.xml", "actor:toPartyMSH\" eb:signed", "actor:fromPartyMSH\" eb:signed",
         {"ebms.ack.actor"}),
        ("ping_other_prefixes.xml", "http://schemas.xmlsoap.org/soap/actor/next",
         "urn:example:elsewhere", {"ebms.sync_reply.actor"}),
        ("ping.xml", 'soap:mustUnderstand="1" ', 'soap:mustUnderstand="0" ',
         {"ebms.header.must_understand"}),
        ("message.xml", "<eb:Reference ", "<eb:Other ", {"ebms.schema"}),
        ("message.xml", "</eb:CPAId>", "</eb:CPAId><eb:Unexpected/>", {"ebms.schema"}),
        ("ping.xml", "</eb:MessageData>",
         "<eb:TimeToLive>tomorrow</eb:TimeToLive></eb:MessageData>", {"ebms.schema"}),
    ],
)
def test_each_rule_is_detected(
    ebms_data: Read, name: str, old: str, new: str, checks: set[str]
) -> None:
    findings = validate_envelope(_mutated(ebms_data, name, old, new))
    assert {f.check for f in errors(findings)} == checks, render(findings)
    assert all(f.hint for f in errors(findings))


def test_header_order_is_explained(ebms_data: Read) -> None:
    cpa = "<eb:CPAId>DSO-SIM_00000099000000001000_00000099000000002000_1</eb:CPAId>"
    text = ebms_data("ping.xml").decode().replace(cpa, "")
    text = text.replace("<eb:From>", cpa + "<eb:From>", 1)
    findings = validate_envelope(text.encode())
    order = [f for f in findings if f.check == "ebms.header.order"]
    assert order, render(findings)
    assert "CPAId, From" in order[0].message


def test_non_utc_timestamp_warns(ebms_data: Read) -> None:
    findings = validate_envelope(ebms_data("ping_other_prefixes.xml"))
    assert [(f.check, f.severity) for f in findings] == [
        ("ebms.header.timestamp", Severity.WARNING)
    ]


def test_missing_header_and_hostile_xml_are_findings_not_exceptions() -> None:
    no_header = (
        b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
    )
    assert {f.check for f in validate_envelope(no_header)} == {"ebms.header.missing"}
    hostile = b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    findings = validate_envelope(hostile)
    assert [f.check for f in findings] == ["ebms.xml"]
    assert "DOCTYPE" in findings[0].message


AGREEMENT = [
    ("ping.xml", 'eb:version="2.0"', 'eb:version="2.1"'),
    ("ping.xml", 'soap:mustUnderstand="1" ', 'soap:mustUnderstand="0" '),
    ("ping.xml", "<eb:Action>Ping</eb:Action>", "<eb:Action>Ping Pong</eb:Action>"),
    ("message.xml", ">DSO-SIM:Verzoeknotificatie:1:0<", "> DSO-SIM:Verzoeknotificatie:1:0<"),
    ("message.xml", "cid:verzoek-1@dso.test.localhost", "http://example.invalid/x"),
    ("message.xml", "actor:toPartyMSH\" eb:signed", "actor:nextMSH\" eb:signed"),
    ("message.xml", "actor:toPartyMSH\" eb:signed", "actor:fromPartyMSH\" eb:signed"),
    ("message.xml", 'eb:signed="false"', 'eb:signed="maybe"'),
    ("ping_other_prefixes.xml", "http://schemas.xmlsoap.org/soap/actor/next", "urn:x:y"),
    ("acknowledgment.xml", "</eb:MessageData>", "</eb:MessageData><eb:DuplicateElimination/>"),
    ("status_response.xml", 'eb:messageStatus="Received"', 'eb:messageStatus="Gone"'),
    ("message_error.xml", 'eb:highestSeverity="Error"', 'eb:highestSeverity="Fatal"'),
]


@pytest.mark.parametrize(("name", "old", "new"), AGREEMENT)
def test_the_validator_reports_what_the_parser_refuses_at_the_same_location(
    ebms_data: Read, name: str, old: str, new: str
) -> None:
    data = _mutated(ebms_data, name, old, new)
    with pytest.raises(EnvelopeError) as refused:
        parse_envelope(data)
    findings = errors(validate_envelope(data))
    location = refused.value.location
    assert any(
        location == f.where or location.startswith(f.where + "/") for f in findings
    ), (location, render(findings))
    # and the other way round: every valid fixture parses
    assert parse_envelope(ebms_data(name)).header.cpa_id


def test_schema_locations_use_ebms_core_forms(ebms_data: Read) -> None:
    data = _mutated(ebms_data, "message.xml", "<eb:Reference ", "<eb:Other ")
    (finding,) = [f for f in errors(validate_envelope(data)) if f.check == "ebms.schema"]
    assert finding.where == "//Body/Manifest/Other"
    assert "eb:Other" in finding.message
    assert "{" not in finding.message


def test_concurrent_validations_each_report_their_own_schema_problems(ebms_data: Read) -> None:
    # the compiled schema keeps one error log: validations in other threads must not mix
    # their problems into this one's, nor clear them
    bad = _mutated(ebms_data, "message.xml", "<eb:Reference ", "<eb:Other ")
    good = ebms_data("message.xml")
    expected = {True: render(validate_envelope(bad)), False: render(validate_envelope(good))}
    assert expected[True] != expected[False]

    def check(n: int) -> list[bool]:
        return [render(validate_envelope(bad if (n + i) % 2 else good)) == expected[
            bool((n + i) % 2)] for i in range(60)]

    with ThreadPoolExecutor(8) as pool:
        results = [ok for batch in pool.map(check, range(8)) for ok in batch]
    assert all(results), results.count(False)
