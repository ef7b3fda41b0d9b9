"""MIME packaging: bare text/xml, multipart/related round trips, and refused packages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pytest_dso.ebms import constants as c
from pytest_dso.ebms import mime
from pytest_dso.ebms.envelope import (
    AckRequested,
    Attachment,
    EbmsMessage,
    EnvelopeError,
    PartyId,
    message,
    ping,
)
from pytest_dso.ebms.mime import (
    EBMS_HTTP_HEADERS,
    MimeError,
    pack,
    soap_action_ok,
    unpack,
    unpack_message,
)

Read = Callable[[str], bytes]
BINARY = bytes(range(256)) + b"\r\n--not-a-boundary\n\r\n\x00"


def _message(*attachments: Attachment) -> EbmsMessage:
    return message(
        cpa_id="cpa", from_party=PartyId("00000099000000001000"),
        to_party=PartyId("00000099000000002000"), service="S:x:1", action="Act", host="h",
        ack_requested=AckRequested(), duplicate_elimination=True, attachments=attachments,
    )


def test_signal_without_attachments_is_bare_text_xml() -> None:
    msg = ping(cpa_id="c", from_party=PartyId("1"), to_party=PartyId("2"), host="h")
    content_type, body = pack(msg)
    assert content_type == "text/xml; charset=UTF-8"
    assert body.startswith(b"<?xml")
    envelope, parts = unpack(content_type, body)
    assert envelope == body
    assert parts == {}


def test_multipart_round_trip_keeps_bytes_exactly() -> None:
    parts = (
        Attachment("verzoek@h", "application/xml", b"<verzoek>\n  <a/>\n</verzoek>\n"),
        Attachment("bijlage@h", "application/pdf", BINARY, "tekening 1.pdf"),
    )
    msg = _message(*parts)
    content_type, body = pack(msg)
    assert content_type.startswith("multipart/related; boundary=")
    assert 'type="text/xml"' in content_type
    assert 'start-info="text/xml"' in content_type
    assert b"Content-Transfer-Encoding" not in body
    assert b'Content-Disposition: attachment; filename="tekening 1.pdf"\r\n' in body
    assert unpack_message(content_type, body) == msg


def test_multipart_wire_format(ebms_data: Read) -> None:
    msg = _message(Attachment("p1@h", "text/plain", b"hallo"))
    content_type, body = pack(msg, boundary="BOUNDARY", start_id="soap@h")
    assert content_type == (
        'multipart/related; boundary="BOUNDARY"; type="text/xml"; start="<soap@h>"; '
        'start-info="text/xml"'
    )
    head, _, rest = body.partition(b"\r\n\r\n")
    assert head == b"--BOUNDARY\r\nContent-Type: text/xml; charset=UTF-8\r\nContent-ID: <soap@h>"
    assert rest.endswith(
        b"\r\n--BOUNDARY\r\nContent-Type: text/plain\r\nContent-ID: <p1@h>\r\n"
        b"Content-Disposition: attachment\r\n\r\nhallo\r\n--BOUNDARY--\r\n"
    )


HAND_WRITTEN_HEAD = (
    b"--MIMEBoundary_1\r\n"
    b"Content-Type: text/xml; charset=UTF-8\r\n"
    b"Content-ID: <0.envelope@dso>\r\n"
    b"\r\n"
)
HAND_WRITTEN_TAIL = (
    b"\r\n--MIMEBoundary_1\r\n"
    b"Content-Type: application/xml\r\n"
    b"Content-ID: <verzoek-1@dso.test.localhost>\r\n"
    b"Content-Disposition: attachment; filename=\"verzoek.xml\"\r\n"
    b"\r\n"
    b"<verzoek/>\r\n"
    b"--MIMEBoundary_1--\r\n"
)
HAND_WRITTEN_TYPE = (
    'Multipart/Related; type="text/xml"; boundary=MIMEBoundary_1; start="<0.envelope@dso>"'
)


def test_hand_written_multipart_is_read(ebms_data: Read) -> None:
    body = HAND_WRITTEN_HEAD + ebms_data("message.xml") + HAND_WRITTEN_TAIL
    msg = unpack_message(HAND_WRITTEN_TYPE, body)
    part = msg.attachment("cid:verzoek-1@dso.test.localhost")
    assert part is not None
    assert part.data == b"<verzoek/>"
    assert part.filename == "verzoek.xml"
    assert part.content_type == "application/xml"


def test_unresolvable_cid_is_a_mime_problem_with_header(ebms_data: Read) -> None:
    tail = HAND_WRITTEN_TAIL.replace(b"<verzoek-1@dso.test.localhost>", b"<other@dso>")
    body = HAND_WRITTEN_HEAD + ebms_data("message.xml") + tail
    with pytest.raises(EnvelopeError) as caught:
        unpack_message(HAND_WRITTEN_TYPE, body)
    assert caught.value.code == c.MIME_PROBLEM
    assert caught.value.location == (
        "//Body/Manifest/Reference[@href='cid:verzoek-1@dso.test.localhost']"
    )
    assert caught.value.header is not None
    assert not caught.value.soap_fault


def test_manifest_without_parts_in_bare_xml_is_a_mime_problem(ebms_data: Read) -> None:
    with pytest.raises(EnvelopeError, match="no MIME part") as caught:
        unpack_message("text/xml; charset=UTF-8", ebms_data("message.xml"))
    assert caught.value.code == c.MIME_PROBLEM


@pytest.mark.parametrize(
    ("content_type", "body", "fragment"),
    [
        ("application/json", b"{}", "unsupported Content-Type"),
        ("multipart/related; type=\"text/xml\"", b"--x\r\n\r\n--x--", "without a boundary"),
        ('multipart/related; boundary=B; start="<missing@h>"',
         b"--B\r\nContent-Type: text/xml\r\nContent-ID: <a@h>\r\n\r\n<x/>\r\n--B--\r\n",
         "start Content-ID <missing@h>"),
        ("multipart/related; boundary=B",
         b"--B\r\nContent-Type: application/json\r\nContent-ID: <a@h>\r\n\r\n{}\r\n--B--\r\n",
         "expected text/xml"),
        ("multipart/related; boundary=B",
         b"--B\r\nContent-Type: text/xml\r\n\r\n<x/>\r\n--B\r\nContent-Type: text/plain\r\n"
         b"\r\nhi\r\n--B--\r\n", "has no Content-ID"),
    ],
)
def test_bad_packages_are_mime_problems(content_type: str, body: bytes, fragment: str) -> None:
    with pytest.raises(MimeError, match=fragment) as caught:
        unpack(content_type, body)
    assert caught.value.code == c.MIME_PROBLEM


def test_header_injection_is_refused() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        pack(_message(Attachment("a@h\r\nX-Evil: 1", "text/plain", b"x")))


def test_soap_action_must_be_quoted_ebxml() -> None:
    assert EBMS_HTTP_HEADERS == {"SOAPAction": '"ebXML"'}
    assert soap_action_ok('"ebXML"')
    for wrong in ("ebXML", None, '"ebxml"', ""):
        assert not soap_action_ok(wrong)


@pytest.mark.parametrize(
    ("head", "data"),
    [
        # the common shape, read by the lean reader
        (b"Content-Type: application/pdf\r\nContent-ID: <p@h>\r\n", BINARY),
        # shapes left to the email parser: a transfer encoding, folded and RFC 2231 headers
        (b"Content-Type: application/pdf\r\nContent-ID: <p@h>\r\n"
         b"Content-Transfer-Encoding: base64\r\n", b"AAEC\r\n"),
        (b"Content-Type: application/pdf;\r\n name=x.pdf\r\nContent-ID: <p@h>\r\n", b"x"),
        (b"Content-Type: application/pdf\r\nContent-ID: <p@h>\r\n"
         b"Content-Disposition: attachment; filename*=UTF-8''%C3%A9.pdf\r\n", b"x"),
        # LF line ends and a bare-CR boundary line
        (b"Content-Type: application/pdf\nContent-ID: <p@h>\n", b"x\r"),
    ],
)
def test_lean_and_email_readers_agree(head: bytes, data: bytes) -> None:
    body = (
        b"preamble\r\n--B\r\nContent-Type: text/xml\r\nContent-ID: <s@h>\r\n\r\n<x/>\r\n--B\r\n"
        + head + (b"\n" if head.endswith(b"\n") and not head.endswith(b"\r\n") else b"\r\n")
        + data + b"\r\n--B--  \r\nepilogue"
    )
    content_type = 'multipart/related; boundary="B"; type="text/xml"; start="<s@h>"'
    envelope, parts = unpack(content_type, body)
    expected_envelope, expected = mime._email_unpack(content_type, body)
    assert envelope == expected_envelope == b"<x/>"
    assert dict(parts) == dict(expected)
    assert list(parts) == ["p@h"]
