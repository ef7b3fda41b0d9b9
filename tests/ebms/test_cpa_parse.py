"""CPA parsing and resolution, on a hand-written CPA and on CPAs the writer produces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import (
    CpaError,
    build_cpa,
    load_cpa,
    local_cpa,
    parse_cpa,
    write_cpa,
)
from pytest_dso.ebms.cpa_build import CpaSpec
from pytest_dso.ebms.durations import format_duration, parse_duration
from pytest_dso.ebms.envelope import PartyId
from pytest_dso.pkio.identity import fingerprint_sha256
from pytest_dso.pkio.testpki import TestPki

Read = Callable[[str], bytes]
A_FINGERPRINT = "29fcb5ac7f4ba705d0da5d498cf9cb16add678317bf632eec440d409b9a1aa2f"
B_FINGERPRINT = "ab76f334dee39c288f6f9070ddb8e9c9d6992bb2641b2e32417af7d33e6bb66d"


def test_hand_written_cpa_header_values(ebms_data: Read) -> None:
    cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    assert cpa.cpa_id == "HANDWRITTEN_00000099000000001000_00000099000000002000_1"
    assert cpa.status == "agreed"
    assert cpa.version == "2"
    assert cpa.start == dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    assert cpa.end == dt.datetime(2034, 2, 1, tzinfo=dt.UTC)
    assert [p.name for p in cpa.parties] == ["DSO-LV", "Digikoppelaar"]


def test_certificates_are_read_with_ds_as_default_namespace_and_as_prefix(
    ebms_data: Read,
) -> None:
    cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    a, b = cpa.parties
    assert fingerprint_sha256(a.certificates["A_cert"].certificate) == A_FINGERPRINT
    assert fingerprint_sha256(b.certificates["B_cert"].certificate) == B_FINGERPRINT
    assert a.trust_anchor_refs == ("A_cert",)


def test_party_details(ebms_data: Read) -> None:
    cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    a, b = cpa.parties
    assert a.ids == ("urn:osb:oin:00000099000000001000",)
    assert b.party_id == PartyId("00000099000000002000_T", "urn:osb:oin")
    assert b.oin == "00000099000000002000"
    assert a.roles == ("Verzender",)
    assert a.default_msh_channel_id == "A_msh"
    binding = a.service_bindings[0]
    assert binding.service == "TEST:Handgeschreven:1:0"
    assert binding.service_type == "urn:osb:services"
    assert [x.action for x in binding.can_send] == ["Notificatie"]
    assert [x.action for x in binding.can_receive] == ["Antwoord"]
    assert binding.can_send[0].channel_ids == ("A_business",)
    msh = a.channels["A_msh"]
    assert msh.sync_reply_mode == "mshSignalsOnly"
    assert (msh.ack_requested, msh.ack_signature_requested, msh.duplicate_elimination) == (
        "always", "always", "always",
    )
    assert msh.actor == c.ACTOR_TO_PARTY_MSH
    transport = a.transports["A_transport"]
    assert transport.endpoint == "https://dso-lv.test.localhost/ebms"
    assert (transport.client_cert_ref, transport.server_cert_ref) == ("A_cert", "A_cert")
    assert transport.client_security_protocol == "SSL"
    exchange = a.doc_exchanges["A_docex"]
    assert exchange.retries == 5
    assert exchange.retry_interval == dt.timedelta(minutes=5)
    assert exchange.persist_duration == dt.timedelta(minutes=30)
    assert exchange.hash_functions == ("http://www.w3.org/2001/04/xmlenc#sha256",)
    assert exchange.signature_algorithms == ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",)
    assert exchange.signing_cert_ref == "A_cert"


def test_resolution_helpers(ebms_data: Read) -> None:
    cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    # business actions go through CanReceive -> channel -> transport -> endpoint
    assert cpa.endpoint_for("Digikoppelaar", "Notificatie") == (
        "https://digikoppelaar.test.localhost:443/ebms"
    )
    assert cpa.endpoint_for("urn:osb:oin:00000099000000001000", "Antwoord") == (
        "https://dso-lv.test.localhost/ebms"
    )
    # MSH signals use the default MSH channel
    assert cpa.msh_channel("DSO-LV").channel_id == "A_msh"
    assert cpa.receive_channel("DSO-LV", "Pong").sync_reply_mode == "mshSignalsOnly"
    assert cpa.endpoint_for("DSO-LV", "Ping") == "https://dso-lv.test.localhost/ebms"
    assert cpa.send_channel("DSO-LV", "Notificatie").channel_id == "A_business"
    client = cpa.expected_client_cert("DSO-LV")
    server = cpa.expected_server_cert("00000099000000002000")
    assert client is not None
    assert fingerprint_sha256(client) == A_FINGERPRINT
    assert server is not None
    assert fingerprint_sha256(server) == B_FINGERPRINT
    assert cpa.other_party("DSO-LV").name == "Digikoppelaar"
    found = cpa.party_by_oin("00000099000000002000")
    assert found is not None
    assert found.name == "Digikoppelaar"
    assert cpa.party_by_oin("00000099000000009000") is None
    assert cpa.party(PartyId("00000099000000001000")).name == "DSO-LV"
    assert cpa.is_valid_at(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    assert not cpa.is_valid_at(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
    assert ("TEST:Handgeschreven:1:0", "urn:osb:services", "Antwoord") in cpa.service_actions


def test_resolution_failures_say_what_is_missing(ebms_data: Read) -> None:
    cpa = parse_cpa(ebms_data("cpa_handwritten.xml"))
    with pytest.raises(CpaError, match="cannot receive action 'Bestaatniet'"):
        cpa.endpoint_for("Digikoppelaar", "Bestaatniet")
    with pytest.raises(CpaError, match=r"has no party 'Onbekend'.*DSO-LV"):
        cpa.party("Onbekend")
    with pytest.raises(CpaError, match="cannot send"):
        cpa.send_channel("DSO-LV", "Antwoord")


@pytest.mark.parametrize(
    ("old", "new", "message", "where"),
    [
        ('cppa:cpaid="HANDWRITTEN_00000099000000001000_00000099000000002000_1"', "",
         "cpaid is missing", "CollaborationProtocolAgreement/@cpaid"),
        ("<cppa:Start>2024-02-01T00:00:00Z</cppa:Start>", "", "cppa:Start is missing",
         "CollaborationProtocolAgreement/Start"),
        ("<cppa:End>2034-02-01T00:00:00Z</cppa:End>", "<cppa:End>soon</cppa:End>",
         "not a date-time", "CollaborationProtocolAgreement/End"),
        ("<cppa:Retries>5</cppa:Retries>", "<cppa:Retries>five</cppa:Retries>",
         "Retries is not a number", "ReliableMessaging/Retries"),
        ("<cppa:RetryInterval>PT5M</cppa:RetryInterval>",
         "<cppa:RetryInterval>5 minutes</cppa:RetryInterval>", "not an xsd:duration",
         "RetryInterval"),
        ("TuAXYpXuV1O3zE", "TuAX!!!!", "not a base64 DER", "Certificate[@certId='A_cert']"),
        ('<cppa:Status cppa:value="agreed"/>', "<cppa:Status/>", "Status/@value is missing",
         "Status"),
        ('cppa:channelId="A_msh" ', "", "channelId is missing", "DeliveryChannel/@channelId"),
    ],
)
def test_bad_cpa_raises_cpa_error_with_where_and_what(
    ebms_data: Read, old: str, new: str, message: str, where: str
) -> None:
    text = ebms_data("cpa_handwritten.xml").decode()
    assert old in text
    with pytest.raises(CpaError, match=message) as caught:
        parse_cpa(text.replace(old, new, 1))
    assert where in caught.value.where


def test_not_a_cpa_and_hostile_xml_are_refused(ebms_data: Read) -> None:
    with pytest.raises(CpaError, match=r"not a CPPA 2\.0"):
        parse_cpa(ebms_data("ping.xml"))
    with pytest.raises(CpaError, match="DOCTYPE"):
        parse_cpa(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')
    text = ebms_data("cpa_handwritten.xml").decode()
    start = text.index('  <cppa:PartyInfo cppa:partyName="Digikoppelaar"')
    end = text.index("  <cppa:SimplePart")
    with pytest.raises(CpaError, match="exactly two PartyInfo"):
        parse_cpa(text[:start] + text[end:])


def test_load_cpa_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CpaError, match="cannot read the CPA file"):
        load_cpa(tmp_path / "missing.xml")


def test_written_cpa_round_trips(ebms_clean_spec: CpaSpec, tmp_path: Path) -> None:
    path = write_cpa(ebms_clean_spec, tmp_path / "cpa.xml")
    cpa = load_cpa(path)
    assert cpa.cpa_id == ebms_clean_spec.cpa_id
    dso, dka = cpa.parties
    assert dso.oin == "00000099000000001000"
    endpoint = cpa.endpoint_for(dka, "Verzoeknotificatie")
    assert endpoint == "https://digikoppelaar.test.localhost/ebms"
    assert cpa.endpoint_for(dso, "Pong") == "https://dso-lv.test.localhost/ebms"
    channel = cpa.msh_channel(dka)
    assert (channel.sync_reply_mode, channel.ack_requested, channel.duplicate_elimination) == (
        "none", "always", "always",
    )
    exchange = dka.doc_exchanges[channel.doc_exchange_id]
    assert (exchange.retries, exchange.retry_interval, exchange.persist_duration) == (
        8, dt.timedelta(hours=3), dt.timedelta(days=1),
    )
    assert cpa.expected_client_cert(dso) == ebms_clean_spec.parties[0].certificate


def test_best_effort_and_signed_variants(ebms_clean_spec: CpaSpec) -> None:
    be = parse_cpa(build_cpa(replace(ebms_clean_spec, reliable=False)))
    channel = be.msh_channel("DSO-LV")
    assert (channel.ack_requested, channel.duplicate_elimination) == ("never", "never")
    assert not be.parties[0].doc_exchanges[channel.doc_exchange_id].reliable
    signed = parse_cpa(build_cpa(replace(ebms_clean_spec, signing=True)))
    exchange = next(iter(signed.parties[0].doc_exchanges.values()))
    assert exchange.signing_cert_ref is not None
    assert signed.msh_channel("DSO-LV").ack_signature_requested == "always"


def test_local_cpa_connects_simulator_and_digikoppelaar(ebms_pki: TestPki) -> None:
    now = dt.datetime.now(dt.UTC)
    cpa = parse_cpa(
        local_cpa(ebms_pki, "https://127.0.0.1:1111/ebms", "https://127.0.0.1:2222/ebms", now=now)
    )
    assert cpa.is_valid_at(now)
    assert "." not in cpa.cpa_id
    assert cpa.endpoint_for("00000099000000002000", "Verzoeknotificatie").endswith(":2222/ebms")
    assert cpa.endpoint_for("00000099000000001000", "Ping").endswith(":1111/ebms")
    assert cpa.end <= ebms_pki.leaves["dso-lv"].certificate.not_valid_after_utc


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("PT5M", dt.timedelta(minutes=5)),
        ("PT3H", dt.timedelta(hours=3)),
        ("P1D", dt.timedelta(days=1)),
        ("P1DT2H30M15.5S", dt.timedelta(days=1, hours=2, minutes=30, seconds=15.5)),
        ("P1W", dt.timedelta(days=7)),
    ],
)
def test_durations(text: str, value: dt.timedelta) -> None:
    assert parse_duration(text) == value
    whole_seconds = dt.timedelta(seconds=int(value.total_seconds()))
    assert parse_duration(format_duration(value)) == whole_seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "5M", "P1H", "PT1D"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="xsd:duration"):
        parse_duration(text)
