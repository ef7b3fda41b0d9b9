"""Packaging an ebMS message for HTTP: a bare ``text/xml`` envelope, or ``multipart/related``.

Without attachments the envelope goes as ``text/xml; charset=UTF-8`` (how Ping, Pong, acks and
errors travel). With attachments: ``multipart/related; type="text/xml"; start=...;
start-info="text/xml"``, CRLF line ends, a Content-ID on every part, a Content-Disposition on
attachments and no Content-Transfer-Encoding (parts are sent as raw bytes).

Writing is done byte-exactly here (the stdlib generator rewrites line ends inside payloads);
reading uses the stdlib ``email`` parser.
"""

from __future__ import annotations

import email.parser
import email.policy
import uuid
from collections.abc import Mapping, Sequence
from email.message import Message
from types import MappingProxyType
from typing import Final

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.envelope import (
    Attachment,
    EbmsMessage,
    EnvelopeError,
    build_envelope,
    parse_envelope,
)

#: HTTP headers every ebMS POST carries besides Content-Type (SOAPAction with its quotes).
EBMS_HTTP_HEADERS: Final = MappingProxyType({c.SOAP_ACTION_HEADER: c.SOAP_ACTION})
CRLF: Final = b"\r\n"


class MimeError(EnvelopeError):
    """A packaging problem (ebMS error code ``MimeProblem``)."""

    def __init__(self, message: str, location: str = "/") -> None:
        super().__init__(c.MIME_PROBLEM, location, message, soap_fault=True)


def soap_action_ok(value: str | None) -> bool:
    """True when a received SOAPAction header is exactly ``"ebXML"`` (with the quotes)."""
    return value == c.SOAP_ACTION


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_header_value(value: str, what: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{what} may not contain line breaks or NUL: {value!r}")
    return value


def pack(
    message: EbmsMessage,
    attachments: Sequence[Attachment] | None = None,
    *,
    boundary: str | None = None,
    start_id: str | None = None,
) -> tuple[str, bytes]:
    """``(content_type, body)`` for ``message``; ``attachments`` default to the message's own.

    Without attachments the body is the bare envelope (``text/xml``).
    """
    parts = tuple(message.attachments if attachments is None else attachments)
    envelope = build_envelope(message)
    if not parts:
        return c.TEXT_XML, envelope
    boundary = boundary or f"----=_Part_{uuid.uuid4().hex}"
    start = _check_header_value(start_id or f"soap-{uuid.uuid4().hex}@pytest-dso", "start id")
    marker = b"--" + boundary.encode("ascii")
    for blob in (envelope, *(p.data for p in parts)):
        if marker in blob:
            raise ValueError("the MIME boundary occurs in a part; choose another boundary")
    chunks = [
        marker,
        CRLF,
        f"Content-Type: {c.TEXT_XML}".encode(),
        CRLF,
        f"Content-ID: <{start}>".encode(),
        CRLF,
        CRLF,
        envelope,
        CRLF,
    ]
    for part in parts:
        cid = _check_header_value(part.content_id, "Content-ID")
        ctype = _check_header_value(part.content_type, "Content-Type")
        disposition = "attachment"
        if part.filename:
            disposition += f"; filename={_quote(_check_header_value(part.filename, 'filename'))}"
        chunks += [
            marker,
            CRLF,
            f"Content-Type: {ctype}".encode(),
            CRLF,
            f"Content-ID: <{cid}>".encode(),
            CRLF,
            f"Content-Disposition: {disposition}".encode(),
            CRLF,
            CRLF,
            part.data,
            CRLF,
        ]
    chunks += [marker, b"--", CRLF]
    content_type = (
        f'multipart/related; boundary="{boundary}"; type="text/xml"; '
        f'start="<{start}>"; start-info="text/xml"'
    )
    return content_type, b"".join(chunks)


def _bare(cid: str) -> str:
    return cid.strip().strip("<>").strip()


def _header_message(content_type: str) -> Message:
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    return parser.parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1"))


def unpack(content_type: str, body: bytes) -> tuple[bytes, Mapping[str, Attachment]]:
    """Split an HTTP body into the envelope bytes and the attachments by Content-ID (no
    brackets). Raises :class:`MimeError` for anything that is not a usable ebMS package."""
    try:
        header = _header_message(content_type or "")
    except UnicodeEncodeError:
        raise MimeError("the Content-Type header is not ASCII") from None
    mime_type = header.get_content_type()
    if mime_type == "text/xml":
        return body, MappingProxyType({})
    if mime_type != "multipart/related":
        raise MimeError(
            f"unsupported Content-Type {content_type!r}; ebMS over HTTP uses text/xml or "
            'multipart/related; type="text/xml"'
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MimeError("multipart/related without a boundary parameter")
    raw = b"Content-Type: " + content_type.encode("latin-1") + CRLF + CRLF + body
    parsed = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    if not parsed.is_multipart():
        raise MimeError("the multipart body could not be split into parts")
    parts = [p for p in parsed.get_payload() if isinstance(p, Message)]
    if not parts:
        raise MimeError(f"no MIME parts found with boundary {boundary!r}")
    start = header.get_param("start")
    start_cid = _bare(start) if isinstance(start, str) else None
    envelope_part: Message | None = None
    attachments: dict[str, Attachment] = {}
    for index, part in enumerate(parts):
        cid = _bare(str(part.get("Content-ID", "")))
        is_start = cid == start_cid if start_cid else index == 0
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        if is_start:
            envelope_part = part
            envelope = data
            continue
        if not cid:
            raise MimeError(f"MIME part {index + 1} has no Content-ID")
        if cid in attachments:
            raise MimeError(f"two MIME parts share Content-ID <{cid}>")
        filename = part.get_filename()
        attachments[cid] = Attachment(cid, part.get_content_type(), data, filename)
    if envelope_part is None:
        raise MimeError(f"no MIME part has the start Content-ID <{start_cid}>")
    if envelope_part.get_content_type() != "text/xml":
        raise MimeError(
            f"the SOAP part is {envelope_part.get_content_type()!r}, expected text/xml"
        )
    return envelope, MappingProxyType(attachments)


def unpack_message(content_type: str, body: bytes) -> EbmsMessage:
    """Unpack and parse, then check that every Manifest reference names a received part.

    An unresolvable ``cid:`` gives :class:`EnvelopeError` ``MimeProblem`` (with the header, so
    the MSH can answer with a MessageError).
    """
    envelope, attachments = unpack(content_type, body)
    message = parse_envelope(envelope, tuple(attachments.values()))
    for reference in message.manifest or ():
        cid = reference.content_id
        if cid is None or cid not in attachments:
            raise EnvelopeError(
                c.MIME_PROBLEM,
                f"//Body/Manifest/Reference[@href='{reference.href}']",
                f"the Manifest refers to {reference.href}, but no MIME part has that Content-ID",
                header=message.header,
            )
    return message
