"""One timestamp parser: out-of-range values are refused with a clear ValueError, and every
parser that reads a timestamp turns that into its own verdict (never an OverflowError)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.cpa import CpaError, parse_cpa
from pytest_dso.ebms.envelope import (
    EnvelopeError,
    PartyId,
    build_envelope,
    format_timestamp,
    parse_envelope,
    parse_timestamp,
    ping,
)
from pytest_dso.ebms.msh import Msh
from pytest_dso.ebms.validate import validate_envelope
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.cpas import simulator_cpa

HOSTILE = (
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00+01:00",
    "12345678901234567890-01-01T00:00:00Z",
    "99999999999999999999-12-31T23:59:59Z",
    "2024-13-01T00:00:00Z",
    "2024-02-30T00:00:00Z",
    "2024-01-01T24:00:00Z",
    "2024-01-01T00:00:00+99:99",
    "0000-01-01T00:00:00Z",
    "-2024-01-01T00:00:00Z",
    "2024-01-01T00:00:00." + "9" * 5000 + "Z",
)


@pytest.mark.parametrize("text", HOSTILE)
def test_out_of_range_timestamps_are_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse_timestamp(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_timestamp_raises_only_value_error(text: str) -> None:
    try:
        value = parse_timestamp(text)
    except ValueError:
        return
    assert value.tzinfo is not None


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31),
                    timezones=st.just(dt.UTC)))
def test_written_timestamps_read_back(moment: dt.datetime) -> None:
    assert parse_timestamp(format_timestamp(moment)) == moment.replace(
        microsecond=moment.microsecond // 1000 * 1000)


def _ping_with_timestamp(pki: TestPki, cpa_id: str, text: str) -> bytes:
    message = ping(cpa_id=cpa_id, from_party=PartyId(pki.party("digikoppelaar").oin or ""),
                   to_party=PartyId(pki.party("dso-lv").oin or ""), host="localhost")
    stamp = format_timestamp(message.header.timestamp)
    return build_envelope(message).replace(stamp.encode(), text.encode())


@pytest.mark.parametrize("text", HOSTILE[:4])
def test_envelope_readers_answer_hostile_timestamps(ebms_pki: TestPki, text: str) -> None:
    dka = ebms_pki.leaves["digikoppelaar"].certificate
    cpa_xml = simulator_cpa(ebms_pki.identity("dso-lv"), "https://127.0.0.1:1/ebms",
                            "https://127.0.0.1:2/ebms", dka)
    cpa = parse_cpa(cpa_xml)
    body = _ping_with_timestamp(ebms_pki, cpa.cpa_id, text)
    assert text.encode() in body
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(body)
    assert "Timestamp" in caught.value.location
    findings = validate_envelope(body)
    assert any(f.check == "ebms.header.timestamp" for f in findings), findings
    result = Msh((cpa,), (ebms_pki.party("dso-lv").oin or "",)).handle(
        c.TEXT_XML, {"SOAPAction": c.SOAP_ACTION}, body)
    if result.status == 500:  # beyond what xs:dateTime holds: a schema Fault, as ebms-core
        assert result.fault is not None
        assert "//Header/MessageHeader/MessageData/Timestamp" in result.fault
    else:
        assert result.errors, result
        assert result.errors[0].code == c.VALUE_NOT_RECOGNIZED
    start = format_timestamp(cpa.start).replace(".000", "")
    hostile_cpa = cpa_xml.replace(cpa.start.strftime("%Y-%m-%dT%H:%M:%S").encode(),
                                  text.replace("Z", "").encode(), 1)
    assert hostile_cpa != cpa_xml, start
    with pytest.raises(CpaError, match="date-time"):
        parse_cpa(hostile_cpa)
