"""Packaging an ebMS message for HTTP: a bare ``text/xml`` envelope, or ``multipart/related``.

Without attachments the envelope goes as ``text/xml; charset=UTF-8`` (how Ping, Pong, acks and
errors travel). With attachments: ``multipart/related; type="text/xml"; start=...;
start-info="text/xml"``, CRLF line ends, a Content-ID on every part, a Content-Disposition on
attachments and no Content-Transfer-Encoding (parts are sent as raw bytes).

Writing is done byte-exactly here (the stdlib generator rewrites line ends inside payloads).
Reading splits the common package shape (parameters without RFC 2231 encoding, parts without a
transfer encoding or with 7bit/8bit/binary) with a small reader of its own; anything else goes
through the stdlib ``email`` parser, which reads the same shapes the same way but costs much
more (it compiles a regular expression for every new boundary).
"""

from __future__ import annotations

import email.parser
import email.policy
import re
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


_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})


class _Unusual(Exception):
    """The lean reader met a shape it leaves to the ``email`` parser."""


def _split_params(value: str) -> list[str]:
    """``value`` split at semicolons outside double quotes (no backslashes in ``value``)."""
    pieces: list[str] = []
    start = 0
    quoted = False
    for index, char in enumerate(value):
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            pieces.append(value[start:index])
            start = index + 1
    pieces.append(value[start:])
    return pieces


def _unquote(text: str) -> str:
    """Surrounding double quotes or angle brackets removed, as ``email.utils.unquote`` does."""
    if len(text) > 1 and (text[0] == text[-1] == '"' or (text[0] == "<" and text[-1] == ">")):
        return text[1:-1]
    return text


def _media(value: str | None, default: str = "text/plain") -> tuple[str, dict[str, str]]:
    """``(type, params)`` of a Content-Type or Content-Disposition value; the type in lower
    case (``default`` when absent or without exactly one ``/``), parameter names in lower
    case and values unquoted."""
    if value is None:
        return default, {}
    if not value.isascii() or any(char in value for char in "*\\\r\n"):
        raise _Unusual("RFC 2231 parameters, escapes, line breaks or non-ASCII")
    first, *rest = _split_params(value)
    if '"' in first:
        raise _Unusual("a quoted media type")
    kind = value.partition(";")[0].strip().lower()
    if kind.count("/") != 1:
        kind = default
    params: dict[str, str] = {}
    for piece in rest:
        name, equals, raw = piece.partition("=")
        if not equals:
            raise _Unusual("a parameter without a value")
        params.setdefault(name.strip().lower(), _unquote(raw.strip()))
    return kind, params


_HEADER_NAME = re.compile("[\x21-\x39\x3b-\x7e]+")


def _part_headers(block: bytes) -> dict[str, str]:
    """The headers of one part (first occurrence of each name, as ``email`` answers)."""
    headers: dict[str, str] = {}
    for raw in block.decode("ascii").replace("\r\n", "\n").split("\n"):
        name, colon, value = raw.partition(":")
        if not colon or "\r" in raw or _HEADER_NAME.fullmatch(name) is None:
            raise _Unusual("a folded or malformed header line")
        headers.setdefault(name.lower(), value.lstrip(" \t"))
    return headers


def _lean_unpack(
    content_type: str, boundary: str, start: str | None, body: bytes
) -> tuple[bytes, Mapping[str, Attachment]]:
    marker = b"--" + boundary.encode("ascii")
    bounds: list[tuple[int, int, bool]] = []  # (start of the line ending before, end of line)
    position = 0
    while True:
        found = body.find(marker, position)
        if found < 0:
            break
        position = found + len(marker)
        if found > 0 and body[found - 1] not in b"\r\n":
            continue
        after = position
        closing = body.startswith(b"--", after)
        if closing:
            after += 2
        while after < len(body) and body[after] in b" \t":
            after += 1
        if body.startswith(b"\r\n", after):
            after += 2
        elif after < len(body) and body[after] in b"\r\n":
            after += 1
        elif after != len(body):
            continue  # the marker is the start of a longer line: not a boundary
        before = found
        if body.startswith(b"\r\n", found - 2) and found >= 2:
            before = found - 2
        elif found > 0:
            before = found - 1
        bounds.append((before, after, closing))
        if closing:
            break
        position = after
    if not bounds or bounds[0][2]:
        raise _Unusual("no opening boundary")
    if not bounds[-1][2]:
        raise _Unusual("no closing boundary")
    start_cid = _bare(start) if start is not None else None
    envelope: bytes | None = None
    envelope_type = ""
    attachments: dict[str, Attachment] = {}
    for index in range(len(bounds) - 1):
        chunk = body[bounds[index][1] : bounds[index + 1][0]]
        split = chunk.find(b"\r\n\r\n")
        gap = 4
        if split < 0 or b"\n\n" in chunk[:split]:
            split, gap = chunk.find(b"\n\n"), 2
        if split < 0 or not chunk[:split].isascii():
            raise _Unusual("a part without a header block")
        if chunk.startswith((b"\r\n", b"\n")):
            raise _Unusual("a part without headers")
        headers = _part_headers(chunk[:split])
        data = chunk[split + gap :]
        part_type, part_params = _media(headers.get("content-type"))
        if part_type.startswith(("multipart/", "message/")):
            raise _Unusual("a nested message")
        encoding = headers.get("content-transfer-encoding", "").strip().lower()
        if encoding not in _IDENTITY_ENCODINGS:
            raise _Unusual("a transfer encoding")
        cid = _bare(headers.get("content-id", ""))
        is_start = cid == start_cid if start_cid else index == 0
        if is_start:
            envelope = data
            envelope_type = part_type
            continue
        if not cid:
            raise MimeError(f"MIME part {index + 1} has no Content-ID")
        if cid in attachments:
            raise MimeError(f"two MIME parts share Content-ID <{cid}>")
        _, disposition = _media(headers.get("content-disposition"), "")
        filename = disposition.get("filename", part_params.get("name"))
        attachments[cid] = Attachment(
            cid, part_type, data, _unquote(filename).strip() if filename is not None else None
        )
    if envelope is None:
        raise MimeError(f"no MIME part has the start Content-ID <{start_cid}>")
    if envelope_type != "text/xml":
        raise MimeError(f"the SOAP part is {envelope_type!r}, expected text/xml")
    return envelope, MappingProxyType(attachments)


def unpack(content_type: str, body: bytes) -> tuple[bytes, Mapping[str, Attachment]]:
    """Split an HTTP body into the envelope bytes and the attachments by Content-ID (no
    brackets). Raises :class:`MimeError` for anything that is not a usable ebMS package."""
    try:
        kind, params = _media(content_type or "")
    except _Unusual:
        pass
    else:
        if kind == "text/xml":
            return body, MappingProxyType({})
        boundary = params.get("boundary")
        if kind == "multipart/related" and boundary:
            try:
                return _lean_unpack(content_type, boundary, params.get("start"), body)
            except _Unusual:
                pass
    return _email_unpack(content_type, body)


def _email_unpack(content_type: str, body: bytes) -> tuple[bytes, Mapping[str, Attachment]]:
    """:func:`unpack` through the stdlib ``email`` parser, for every shape."""
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
