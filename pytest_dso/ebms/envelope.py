"""The ebMS 2.0 SOAP envelope as typed values: build it, parse it, and make standard replies.

``build_envelope`` writes the header and body extensions in the order of the ebMS 2.0 schema
with ``eb:version="2.0"`` everywhere and ``soap:mustUnderstand="1"`` on header extensions.
``parse_envelope`` reads an envelope through the hardened XML parser and raises
:class:`EnvelopeError` with the ebMS error code and location an MSH should answer with.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml

_SOAP = f"{{{c.SOAP_NS}}}"
_EB = f"{{{c.EB_NS}}}"
_XLINK = f"{{{c.XLINK_NS}}}"
_XML = f"{{{c.XML_NS}}}"
_DS = f"{{{c.DS_NS}}}"
_WHITESPACE = re.compile(r"\s")


class EnvelopeError(ValueError):
    """An envelope an MSH must refuse.

    ``code`` is the ebMS error code (``Inconsistent``, ``OtherXml``, ...), ``location`` an
    XPath-like pointer (``//Header/MessageHeader/@version``). ``header`` is the parsed
    MessageHeader when it could be read, so the MSH can address a MessageError to the sender;
    ``soap_fault`` is true when no ebMS error can be addressed and a SOAP Fault (HTTP 500) is
    the answer (not XML, hostile XML, no MessageHeader).
    """

    def __init__(
        self,
        code: str,
        location: str,
        message: str,
        *,
        header: MessageHeader | None = None,
        soap_fault: bool = False,
    ) -> None:
        super().__init__(f"{code} at {location}: {message}")
        self.code = code
        self.location = location
        self.message = message
        self.header = header
        self.soap_fault = soap_fault

    def as_ebms_error(self) -> EbmsError:
        """This problem as an ``eb:Error`` for a MessageError reply."""
        return EbmsError(self.code, c.SEVERITY_ERROR, self.location, self.message)


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyId:
    """An ``eb:PartyId``; Digikoppeling requires ``type`` (``urn:osb:oin``)."""

    value: str
    type: str | None = c.PARTY_ID_TYPE_OIN

    def __str__(self) -> str:
        return f"{self.type}:{self.value}" if self.type else self.value


@dataclass(frozen=True)
class MessageHeader:
    """The ``eb:MessageHeader`` content. Timestamps are timezone-aware UTC datetimes."""

    from_parties: tuple[PartyId, ...]
    to_parties: tuple[PartyId, ...]
    from_role: str | None
    to_role: str | None
    cpa_id: str
    conversation_id: str
    service: str
    service_type: str | None
    action: str
    message_id: str
    timestamp: dt.datetime
    ref_to_message_id: str | None = None
    time_to_live: dt.datetime | None = None
    duplicate_elimination: bool = False
    version: str = c.EB_VERSION

    @property
    def from_party(self) -> PartyId:
        """The first From PartyId."""
        return self.from_parties[0]

    @property
    def to_party(self) -> PartyId:
        """The first To PartyId."""
        return self.to_parties[0]

    @property
    def is_msh_signal(self) -> bool:
        """True for Ping, Pong, Acknowledgment, MessageError and the status service."""
        return self.service == c.MSH_SERVICE

    def reply(self, action: str, *, message_id: str, timestamp: dt.datetime) -> MessageHeader:
        """A header for an MSH reply: From/To and roles swapped, same CPAId and
        ConversationId, RefToMessageId pointing at this message, the MSH service."""
        return MessageHeader(
            from_parties=self.to_parties,
            to_parties=self.from_parties,
            from_role=None,
            to_role=None,
            cpa_id=self.cpa_id,
            conversation_id=self.conversation_id,
            service=c.MSH_SERVICE,
            service_type=None,
            action=action,
            message_id=message_id,
            timestamp=timestamp,
            ref_to_message_id=self.message_id,
        )


@dataclass(frozen=True)
class AckRequested:
    """``eb:AckRequested``: Digikoppeling uses actor toPartyMSH only."""

    actor: str = c.ACTOR_TO_PARTY_MSH
    signed: bool = False


@dataclass(frozen=True)
class SyncReply:
    """``eb:SyncReply``: always with the SOAP ``next`` actor."""

    actor: str = c.SOAP_ACTOR_NEXT


@dataclass(frozen=True)
class Acknowledgment:
    """``eb:Acknowledgment`` of ``ref_to_message_id``."""

    timestamp: dt.datetime
    ref_to_message_id: str
    from_party: PartyId | None = None
    actor: str = c.ACTOR_TO_PARTY_MSH
    #: Number of ``ds:Reference`` elements carried (signed receipts); kept for inspection.
    reference_count: int = 0


@dataclass(frozen=True)
class EbmsError:
    """One ``eb:Error``."""

    code: str
    severity: str = c.SEVERITY_ERROR
    location: str | None = None
    description: str | None = None
    code_context: str = c.ERROR_CODE_CONTEXT


@dataclass(frozen=True)
class ErrorList:
    """``eb:ErrorList`` with its required ``highestSeverity``."""

    highest_severity: str
    errors: tuple[EbmsError, ...]


@dataclass(frozen=True)
class StatusRequest:
    """``eb:StatusRequest`` for ``ref_to_message_id``."""

    ref_to_message_id: str


@dataclass(frozen=True)
class StatusResponse:
    """``eb:StatusResponse``: status is one of :data:`constants.MESSAGE_STATUSES`."""

    status: str
    ref_to_message_id: str
    timestamp: dt.datetime | None = None


@dataclass(frozen=True)
class ManifestReference:
    """``eb:Manifest/eb:Reference``; Digikoppeling allows only ``cid:`` hrefs."""

    href: str
    role: str | None = None
    description: str | None = None

    @property
    def content_id(self) -> str | None:
        """The Content-ID this reference points at (without ``cid:`` and brackets)."""
        if not self.href.lower().startswith("cid:"):
            return None
        return self.href[4:].strip().strip("<>")


@dataclass(frozen=True)
class Attachment:
    """A MIME payload part: Content-ID (no brackets), content type, bytes, optional name."""

    content_id: str
    content_type: str
    data: bytes = field(repr=False)
    filename: str | None = None

    @property
    def href(self) -> str:
        """The manifest href for this part."""
        return f"cid:{self.content_id}"


@dataclass(frozen=True)
class EbmsMessage:
    """A whole ebMS message: header, optional extensions, manifest and payload parts."""

    header: MessageHeader
    ack_requested: AckRequested | None = None
    sync_reply: SyncReply | None = None
    acknowledgment: Acknowledgment | None = None
    error_list: ErrorList | None = None
    status_request: StatusRequest | None = None
    status_response: StatusResponse | None = None
    manifest: tuple[ManifestReference, ...] | None = None
    #: True when the envelope carries ``ds:Signature`` in its header (parsing only).
    signed: bool = False
    attachments: tuple[Attachment, ...] = ()

    @property
    def action(self) -> str:
        """The header's Action."""
        return self.header.action

    @property
    def message_id(self) -> str:
        """The header's MessageId."""
        return self.header.message_id

    def attachment(self, content_id: str) -> Attachment | None:
        """The attachment with ``content_id`` (brackets and ``cid:`` ignored)."""
        wanted = _bare_cid(content_id)
        return next((a for a in self.attachments if a.content_id == wanted), None)


def _bare_cid(value: str) -> str:
    text = value.strip()
    if text.lower().startswith("cid:"):
        text = text[4:]
    return text.strip().strip("<>")


# --- time and ids ----------------------------------------------------------------------------

#: Stands in for a Timestamp/TimeToLive that could not be read, in the header an
#: :class:`EnvelopeError` carries.
UNREADABLE_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def utc_now() -> dt.datetime:
    """Now in UTC, millisecond precision."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_timestamp(value: dt.datetime) -> str:
    """``2024-05-01T12:00:00.123Z``; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}Z"
    )


_DATETIME_RE = re.compile(
    r"^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$"
)


def parse_timestamp(text: str) -> dt.datetime:
    """Parse an xsd:dateTime into an aware UTC datetime (no zone means UTC).

    The one timestamp parser of the package: years 1 to 9999 whose UTC value is still in that
    range, a zone of at most 14 hours. Raises ``ValueError`` (never anything else) with what is
    wrong for every other text.
    """
    shown = text.strip()[:60]
    if len(text) > 100:
        raise ValueError(f"not an xsd:dateTime: {len(text)} characters, starting {shown!r}")
    match = _DATETIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"not an xsd:dateTime: {shown!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if hour == "24":
        raise ValueError(f"hour 24 is not supported: {shown!r}")
    if len(year.lstrip("-")) > 4 or year.startswith("-") or int(year) < 1:
        raise ValueError(f"the year of {shown!r} is outside 0001-9999")
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    tz: dt.tzinfo = dt.UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise ValueError(f"the time zone {zone} of {shown!r} is outside -14:00..+14:00")
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    try:
        value = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro,
            tzinfo=tz,
        )
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError(f"{shown!r} is outside the range 0001-9999 in UTC") from None
    except ValueError as exc:
        raise ValueError(f"not a valid date-time {shown!r}: {exc}") from None


def new_message_id(host: str) -> str:
    """A globally unique MessageId ``<uuid>@<host>`` (RFC 5322 msg-id form)."""
    return f"{uuid.uuid4()}@{host}"


def new_conversation_id() -> str:
    """A fresh ConversationId (a UUID)."""
    return str(uuid.uuid4())


# --- building --------------------------------------------------------------------------------
#
# The envelope is written as text, byte for byte what lxml's serialiser writes for the same
# tree (prefixes from ``constants.NSMAP`` declared on the root, attributes in insertion order,
# lxml's escaping, and lxml's refusal of strings that are not XML compatible); building an
# element tree only to serialise it again costs several times more.

_PREFIX = {uri: prefix for prefix, uri in c.NSMAP.items()}
_PREFIX[c.XML_NS] = "xml"
_ROOT_OPEN = "soap:Envelope" + "".join(
    f' xmlns:{prefix}="{uri}"' for prefix, uri in c.NSMAP.items()
)
_DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>\n"
#: Characters lxml refuses in text and attribute values, and those it escapes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TEXT_SPECIAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff&<>\r]")
_ATTR_SPECIAL = re.compile("[\x00-\x1f\ufffe\uffff&<>\"]")
_NOT_XML_MESSAGE = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)


def _escape_text(value: str) -> str:
    if _TEXT_SPECIAL.search(value) is None:
        return value
    if _NOT_XML.search(value) is not None:
        raise ValueError(_NOT_XML_MESSAGE)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _escape_attr(value: str) -> str:
    if _ATTR_SPECIAL.search(value) is None:
        return value
    if _NOT_XML.search(value) is not None:
        raise ValueError(_NOT_XML_MESSAGE)
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _q(ns: str, name: str) -> str:
    return f"{_PREFIX[ns]}:{name}"


_MUST_UNDERSTAND = f' {_q(c.SOAP_NS, "mustUnderstand")}="1"'
_EB_VERSION_ATTR = f' {_q(c.EB_NS, "version")}="{c.EB_VERSION}"'


class _Writer:
    """Appends serialised elements to a list of strings; an element closed with nothing in it
    becomes an empty-element tag, as lxml writes it."""

    __slots__ = ("opened", "out")

    def __init__(self) -> None:
        self.out: list[str] = [_DECLARATION]
        self.opened = -1

    def open(self, tag: str, attrs: str = "") -> None:
        self.opened = len(self.out)
        self.out.append(f"<{tag}{attrs}>")

    def close(self, tag: str) -> None:
        if self.opened == len(self.out) - 1:
            self.out[-1] = self.out[-1][:-1] + "/>"
            self.opened = -1
        else:
            self.out.append(f"</{tag}>")

    def leaf(self, tag: str, text: str | None = None, attrs: str = "") -> None:
        if text is None:
            self.out.append(f"<{tag}{attrs}/>")
        else:
            self.out.append(f"<{tag}{attrs}>{_escape_text(text)}</{tag}>")


def _attr_text(ns: str, name: str, value: str) -> str:
    return f' {_PREFIX[ns]}:{name}="{_escape_attr(value)}"'


def _eb(name: str, value: str) -> str:
    return _attr_text(c.EB_NS, name, value)


def _party(out: _Writer, tag: str, parties: Sequence[PartyId], role: str | None) -> None:
    out.open(tag)
    for party in parties:
        out.leaf("eb:PartyId", party.value, _eb("type", party.type) if party.type else "")
    if role:
        out.leaf("eb:Role", role)
    out.close(tag)


def _write_header(out: _Writer, header: MessageHeader) -> None:
    out.open("eb:MessageHeader", _MUST_UNDERSTAND + _eb("version", header.version))
    _party(out, "eb:From", header.from_parties, header.from_role)
    _party(out, "eb:To", header.to_parties, header.to_role)
    out.leaf("eb:CPAId", header.cpa_id)
    out.leaf("eb:ConversationId", header.conversation_id)
    service_type = _eb("type", header.service_type) if header.service_type else ""
    out.leaf("eb:Service", header.service, service_type)
    out.leaf("eb:Action", header.action)
    out.open("eb:MessageData")
    out.leaf("eb:MessageId", header.message_id)
    out.leaf("eb:Timestamp", format_timestamp(header.timestamp))
    if header.ref_to_message_id:
        out.leaf("eb:RefToMessageId", header.ref_to_message_id)
    if header.time_to_live:
        out.leaf("eb:TimeToLive", format_timestamp(header.time_to_live))
    out.close("eb:MessageData")
    if header.duplicate_elimination:
        out.leaf("eb:DuplicateElimination")
    out.close("eb:MessageHeader")


def _description(out: _Writer, text: str) -> None:
    out.leaf("eb:Description", text, _attr_text(c.XML_NS, "lang", "en"))


def build_envelope(message: EbmsMessage) -> bytes:
    """Serialise ``message`` as a UTF-8 SOAP 1.1 envelope (payload parts are not included;
    see :mod:`pytest_dso.ebms.mime`)."""
    out = _Writer()
    out.open(_ROOT_OPEN)
    out.open("soap:Header")
    _write_header(out, message.header)
    extension = _MUST_UNDERSTAND + _EB_VERSION_ATTR
    if message.sync_reply is not None:
        actor = _attr_text(c.SOAP_NS, "actor", message.sync_reply.actor)
        out.leaf("eb:SyncReply", None, extension + actor)
    if message.ack_requested is not None:
        requested = message.ack_requested
        out.leaf(
            "eb:AckRequested",
            None,
            extension
            + _attr_text(c.SOAP_NS, "actor", requested.actor)
            + _eb("signed", "true" if requested.signed else "false"),
        )
    if message.acknowledgment is not None:
        ack = message.acknowledgment
        out.open("eb:Acknowledgment", extension + _attr_text(c.SOAP_NS, "actor", ack.actor))
        out.leaf("eb:Timestamp", format_timestamp(ack.timestamp))
        out.leaf("eb:RefToMessageId", ack.ref_to_message_id)
        if ack.from_party is not None:
            _party(out, "eb:From", (ack.from_party,), None)
        out.close("eb:Acknowledgment")
    if message.error_list is not None:
        out.open(
            "eb:ErrorList", extension + _eb("highestSeverity", message.error_list.highest_severity)
        )
        for item in message.error_list.errors:
            attrs = _eb("errorCode", item.code) + _eb("severity", item.severity)
            if item.location:
                attrs += _eb("location", item.location)
            attrs += _eb("codeContext", item.code_context)
            out.open("eb:Error", attrs)
            if item.description:
                _description(out, item.description)
            out.close("eb:Error")
        out.close("eb:ErrorList")
    out.close("soap:Header")
    out.open("soap:Body")
    if message.manifest is not None:
        out.open("eb:Manifest", _EB_VERSION_ATTR)
        for ref in message.manifest:
            attrs = _attr_text(c.XLINK_NS, "href", ref.href) + ' xlink:type="simple"'
            if ref.role:
                attrs += _attr_text(c.XLINK_NS, "role", ref.role)
            out.open("eb:Reference", attrs)
            if ref.description:
                _description(out, ref.description)
            out.close("eb:Reference")
        out.close("eb:Manifest")
    if message.status_request is not None:
        out.open("eb:StatusRequest", _EB_VERSION_ATTR)
        out.leaf("eb:RefToMessageId", message.status_request.ref_to_message_id)
        out.close("eb:StatusRequest")
    if message.status_response is not None:
        response = message.status_response
        out.open("eb:StatusResponse", _EB_VERSION_ATTR + _eb("messageStatus", response.status))
        out.leaf("eb:RefToMessageId", response.ref_to_message_id)
        if response.timestamp is not None:
            out.leaf("eb:Timestamp", format_timestamp(response.timestamp))
        out.close("eb:StatusResponse")
    out.close("soap:Body")
    out.close("soap:Envelope")
    return "".join(out.out).encode("utf-8")


# --- parsing ---------------------------------------------------------------------------------


def _attr(element: etree._Element, name: str, ns: str = _EB) -> str | None:
    """An attribute in namespace ``ns``, falling back to the unqualified name (seen in the
    wild)."""
    value = element.get(ns + name)
    if value is None:
        value = element.get(name)
    return value


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return (element.text or "").strip()


class _Reader:
    """Parsing state: the header once read, so later errors can carry it."""

    def __init__(self) -> None:
        self.header: MessageHeader | None = None
        self._kids: dict[etree._Element, dict[str, list[etree._Element]]] = {}

    def children(self, element: etree._Element, name: str, ns: str = _EB) -> list[etree._Element]:
        """The child elements ``{ns}name`` of ``element``, in document order. The children of
        an element are sorted by tag in one pass, the first time any of them is asked for."""
        kids = self._kids.get(element)
        if kids is None:
            kids = {}
            for child in element:
                tag = child.tag
                if isinstance(tag, str):  # not a comment or processing instruction
                    found = kids.get(tag)
                    if found is None:
                        kids[tag] = [child]
                    else:
                        found.append(child)
            self._kids[element] = kids
        return kids.get(ns + name, [])

    def child(self, element: etree._Element, name: str, ns: str = _EB) -> etree._Element | None:
        """The first child element ``{ns}name`` of ``element``."""
        found = self.children(element, name, ns)
        return found[0] if found else None

    def fail(self, code: str, location: str, message: str, *, fault: bool = False) -> EnvelopeError:
        return EnvelopeError(
            code, location, message, header=self.header, soap_fault=fault or self.header is None
        )

    def required(self, parent: etree._Element, name: str, location: str) -> str:
        element = self.child(parent, name)
        value = _text(element)
        if element is None or not value:
            what = "missing" if element is None else "empty"
            raise self.fail(c.OTHER_XML, location, f"eb:{name} is {what}")
        return value

    def timestamp(self, text: str, location: str) -> dt.datetime:
        try:
            return parse_timestamp(text)
        except ValueError as exc:
            raise self.fail(c.VALUE_NOT_RECOGNIZED, location, str(exc)) from None

    def version(self, element: etree._Element, location: str) -> None:
        version = _attr(element, "version")
        if version != c.EB_VERSION:
            raise self.fail(
                c.INCONSISTENT,
                f"{location}/@version",
                f"eb:version must be {c.EB_VERSION!r}, found {version!r}",
            )

    def parties(self, parent: etree._Element, location: str) -> tuple[PartyId, ...]:
        elements = self.children(parent, "PartyId")
        if not elements:
            raise self.fail(c.OTHER_XML, f"{location}/PartyId", "no eb:PartyId")
        result = []
        for element in elements:
            value = _text(element)
            if not value:
                raise self.fail(c.OTHER_XML, f"{location}/PartyId", "empty eb:PartyId")
            result.append(PartyId(value, _attr(element, "type")))
        return tuple(result)

    def message_header(self, element: etree._Element) -> MessageHeader:
        where = "//Header/MessageHeader"
        sender = self.child(element, "From")
        receiver = self.child(element, "To")
        if sender is None:
            raise self.fail(c.OTHER_XML, f"{where}/From", "eb:From is missing")
        if receiver is None:
            raise self.fail(c.OTHER_XML, f"{where}/To", "eb:To is missing")
        data = self.child(element, "MessageData")
        if data is None:
            raise self.fail(c.OTHER_XML, f"{where}/MessageData", "eb:MessageData is missing")
        service = self.child(element, "Service")
        stamp_where = f"{where}/MessageData/Timestamp"
        stamp_text = self.required(data, "Timestamp", stamp_where)
        ttl_where = f"{where}/MessageData/TimeToLive"
        ttl_text = _text(self.child(data, "TimeToLive"))
        problems: list[EnvelopeError] = []

        def when(text: str, location: str) -> dt.datetime:
            try:
                return parse_timestamp(text)
            except ValueError as exc:
                problems.append(self.fail(c.VALUE_NOT_RECOGNIZED, location, str(exc)))
                return UNREADABLE_TIME

        header = MessageHeader(
            from_parties=self.parties(sender, f"{where}/From"),
            to_parties=self.parties(receiver, f"{where}/To"),
            from_role=_text(self.child(sender, "Role")) or None,
            to_role=_text(self.child(receiver, "Role")) or None,
            cpa_id=self.required(element, "CPAId", f"{where}/CPAId"),
            conversation_id=self.required(element, "ConversationId", f"{where}/ConversationId"),
            service=self.required(element, "Service", f"{where}/Service"),
            service_type=_attr(service, "type") if service is not None else None,
            action=self.required(element, "Action", f"{where}/Action"),
            message_id=self.required(data, "MessageId", f"{where}/MessageData/MessageId"),
            timestamp=when(stamp_text, stamp_where),
            ref_to_message_id=_text(self.child(data, "RefToMessageId")) or None,
            time_to_live=when(ttl_text, ttl_where) if ttl_text else None,
            duplicate_elimination=self.child(element, "DuplicateElimination") is not None,
            version=_attr(element, "version") or "",
        )
        self.header = header
        for name in ("Service", "Action"):  # Digikoppeling: no whitespace in either
            found = self.child(element, name)
            raw = (found.text or "") if found is not None else ""
            if _WHITESPACE.search(raw):
                problems.append(self.fail(
                    c.INCONSISTENT, f"{where}/{name}",
                    f"eb:{name} {raw!r} contains whitespace; Digikoppeling forbids it",
                ))
        if problems:
            problem = problems[0]
            raise EnvelopeError(problem.code, problem.location, problem.message, header=header)
        self.version(element, where)
        self.must_understand(element, where)
        return header

    def must_understand(self, element: etree._Element, location: str) -> None:
        """ebMS header blocks carry ``soap:mustUnderstand="1"``."""
        value = element.get(_SOAP + "mustUnderstand")
        if value != "1":
            raise self.fail(
                c.INCONSISTENT,
                f"{location}/@mustUnderstand",
                f'soap:mustUnderstand must be "1", found {value!r}',
            )

    def ack_requested(self, element: etree._Element) -> AckRequested:
        where = "//Header/AckRequested"
        self.version(element, where)
        self.must_understand(element, where)
        actor = _attr(element, "actor", _SOAP) or ""
        if actor == c.ACTOR_NEXT_MSH:
            raise self.fail(
                c.NOT_SUPPORTED, f"{where}/@actor", "acknowledgements by nextMSH are not supported"
            )
        if actor != c.ACTOR_TO_PARTY_MSH:
            raise self.fail(
                c.INCONSISTENT, f"{where}/@actor", f"actor must be {c.ACTOR_TO_PARTY_MSH!r}"
            )
        return AckRequested(actor, self.boolean(_attr(element, "signed"), f"{where}/@signed"))

    def boolean(self, value: str | None, location: str) -> bool:
        if value in (None, "false", "0"):
            return False
        if value in ("true", "1"):
            return True
        raise self.fail(c.INCONSISTENT, location, f"not a boolean: {value!r}")

    def sync_reply(self, element: etree._Element) -> SyncReply:
        where = "//Header/SyncReply"
        self.version(element, where)
        self.must_understand(element, where)
        actor = _attr(element, "actor", _SOAP)
        if actor != c.SOAP_ACTOR_NEXT:
            raise self.fail(
                c.INCONSISTENT, f"{where}/@actor", f"actor must be {c.SOAP_ACTOR_NEXT!r}"
            )
        return SyncReply(actor)

    def acknowledgment(self, element: etree._Element) -> Acknowledgment:
        where = "//Header/Acknowledgment"
        self.version(element, where)
        self.must_understand(element, where)
        sender = self.child(element, "From")
        return Acknowledgment(
            timestamp=self.timestamp(
                self.required(element, "Timestamp", f"{where}/Timestamp"), f"{where}/Timestamp"
            ),
            ref_to_message_id=self.required(element, "RefToMessageId", f"{where}/RefToMessageId"),
            from_party=self.parties(sender, f"{where}/From")[0] if sender is not None else None,
            actor=_attr(element, "actor", _SOAP) or c.ACTOR_TO_PARTY_MSH,
            reference_count=len(self.children(element, "Reference", _DS)),
        )

    def error_list(self, element: etree._Element) -> ErrorList:
        where = "//Header/ErrorList"
        self.version(element, where)
        self.must_understand(element, where)
        highest = _attr(element, "highestSeverity")
        if highest not in (c.SEVERITY_WARNING, c.SEVERITY_ERROR):
            raise self.fail(
                c.INCONSISTENT, f"{where}/@highestSeverity", f"invalid severity {highest!r}"
            )
        errors = []
        for item in self.children(element, "Error"):
            code = _attr(item, "errorCode")
            if not code:
                raise self.fail(c.OTHER_XML, f"{where}/Error/@errorCode", "errorCode missing")
            errors.append(
                EbmsError(
                    code=code,
                    severity=_attr(item, "severity") or c.SEVERITY_ERROR,
                    location=_attr(item, "location"),
                    description=_text(self.child(item, "Description")),
                    code_context=_attr(item, "codeContext") or c.ERROR_CODE_CONTEXT,
                )
            )
        if not errors:
            raise self.fail(c.OTHER_XML, f"{where}/Error", "eb:ErrorList holds no eb:Error")
        return ErrorList(highest, tuple(errors))

    def manifest(self, element: etree._Element) -> tuple[ManifestReference, ...]:
        where = "//Body/Manifest"
        self.version(element, where)
        references = []
        for item in self.children(element, "Reference"):
            href = item.get(_XLINK + "href")
            if not href:
                raise self.fail(c.OTHER_XML, f"{where}/Reference/@href", "xlink:href missing")
            if not href.lower().startswith("cid:"):
                raise self.fail(
                    c.MIME_PROBLEM,
                    f"{where}/Reference[@href='{href}']",
                    "Digikoppeling allows only cid: references to MIME parts",
                )
            references.append(
                ManifestReference(
                    href, item.get(_XLINK + "role"), _text(self.child(item, "Description"))
                )
            )
        return tuple(references)

    def status_request(self, element: etree._Element) -> StatusRequest:
        where = "//Body/StatusRequest"
        self.version(element, where)
        return StatusRequest(self.required(element, "RefToMessageId", f"{where}/RefToMessageId"))

    def status_response(self, element: etree._Element) -> StatusResponse:
        where = "//Body/StatusResponse"
        self.version(element, where)
        status = _attr(element, "messageStatus") or ""
        if status not in c.MESSAGE_STATUSES:
            raise self.fail(
                c.VALUE_NOT_RECOGNIZED, f"{where}/@messageStatus", f"unknown status {status!r}"
            )
        stamp = _text(self.child(element, "Timestamp"))
        return StatusResponse(
            status,
            self.required(element, "RefToMessageId", f"{where}/RefToMessageId"),
            self.timestamp(stamp, f"{where}/Timestamp") if stamp else None,
        )


def parse_envelope(
    data: bytes | etree._Element, attachments: Sequence[Attachment] = ()
) -> EbmsMessage:
    """Parse a SOAP envelope into an :class:`EbmsMessage`.

    Raises :class:`EnvelopeError` for hostile or malformed XML, a missing or incomplete
    MessageHeader, a wrong ``eb:version``, unsupported features (MessageOrder, nextMSH acks)
    and values that cannot be read. ``attachments`` are attached to the result unchanged;
    use :func:`pytest_dso.ebms.mime.unpack_message` to also resolve the manifest.
    """
    reader = _Reader()
    if isinstance(data, etree._Element):  # already parsed through the hardened parser
        root = data
    else:
        try:
            root = parse_xml(data, what="ebMS envelope")
        except UnsafeXmlError as exc:
            raise EnvelopeError(c.OTHER_XML, "/", str(exc), soap_fault=True) from None
    if root.tag != _SOAP + "Envelope":
        raise reader.fail(
            c.OTHER_XML, "/", f"the root element is {root.tag!r}, not a SOAP 1.1 soap:Envelope"
        )
    soap_header = reader.child(root, "Header", _SOAP)
    soap_body = reader.child(root, "Body", _SOAP)
    if soap_header is None:
        raise reader.fail(c.OTHER_XML, "//Header", "the SOAP Header is missing")
    if soap_body is None:
        raise reader.fail(c.OTHER_XML, "//Body", "the SOAP Body is missing")
    message_headers = reader.children(soap_header, "MessageHeader")
    if len(message_headers) != 1:
        raise reader.fail(
            c.OTHER_XML,
            "//Header/MessageHeader",
            f"expected exactly one eb:MessageHeader, found {len(message_headers)}",
        )
    header = reader.message_header(message_headers[0])
    if reader.child(soap_header, "MessageOrder") is not None:
        raise reader.fail(
            c.NOT_SUPPORTED, "//Header/MessageOrder", "MessageOrder is not supported"
        )
    if len(reader.children(soap_header, "AckRequested")) > 1:
        raise reader.fail(c.NOT_SUPPORTED, "//Header/AckRequested", "more than one AckRequested")

    def one(parent: etree._Element, name: str) -> etree._Element | None:
        return reader.child(parent, name)

    element = one(soap_header, "AckRequested")
    ack_requested = reader.ack_requested(element) if element is not None else None
    element = one(soap_header, "SyncReply")
    sync_reply = reader.sync_reply(element) if element is not None else None
    element = one(soap_header, "Acknowledgment")
    acknowledgment = reader.acknowledgment(element) if element is not None else None
    if acknowledgment is not None and header.duplicate_elimination:
        raise reader.fail(
            c.INCONSISTENT,
            "//Header/MessageHeader/DuplicateElimination",
            "an Acknowledgment carries no eb:DuplicateElimination",
        )
    element = one(soap_header, "ErrorList")
    error_list = reader.error_list(element) if element is not None else None
    element = one(soap_body, "Manifest")
    manifest = reader.manifest(element) if element is not None else None
    element = one(soap_body, "StatusRequest")
    status_request = reader.status_request(element) if element is not None else None
    element = one(soap_body, "StatusResponse")
    status_response = reader.status_response(element) if element is not None else None
    return EbmsMessage(
        header=header,
        ack_requested=ack_requested,
        sync_reply=sync_reply,
        acknowledgment=acknowledgment,
        error_list=error_list,
        status_request=status_request,
        status_response=status_response,
        manifest=manifest,
        signed=reader.child(soap_header, "Signature", _DS) is not None,
        attachments=tuple(attachments),
    )


# --- factories -------------------------------------------------------------------------------


def _parties(value: PartyId | Sequence[PartyId]) -> tuple[PartyId, ...]:
    return (value,) if isinstance(value, PartyId) else tuple(value)


def message(
    *,
    cpa_id: str,
    from_party: PartyId | Sequence[PartyId],
    to_party: PartyId | Sequence[PartyId],
    service: str,
    action: str,
    host: str,
    service_type: str | None = None,
    from_role: str | None = None,
    to_role: str | None = None,
    conversation_id: str | None = None,
    message_id: str | None = None,
    ref_to_message_id: str | None = None,
    time_to_live: dt.datetime | None = None,
    ack_requested: AckRequested | None = None,
    duplicate_elimination: bool = False,
    sync_reply: bool = False,
    attachments: Sequence[Attachment] = (),
    now: dt.datetime | None = None,
) -> EbmsMessage:
    """A business message; its manifest references every attachment by ``cid:``."""
    header = MessageHeader(
        from_parties=_parties(from_party),
        to_parties=_parties(to_party),
        from_role=from_role,
        to_role=to_role,
        cpa_id=cpa_id,
        conversation_id=conversation_id or new_conversation_id(),
        service=service,
        service_type=service_type,
        action=action,
        message_id=message_id or new_message_id(host),
        timestamp=now or utc_now(),
        ref_to_message_id=ref_to_message_id,
        time_to_live=time_to_live,
        duplicate_elimination=duplicate_elimination,
    )
    manifest = tuple(ManifestReference(a.href) for a in attachments) if attachments else None
    return EbmsMessage(
        header=header,
        ack_requested=ack_requested,
        sync_reply=SyncReply() if sync_reply else None,
        manifest=manifest,
        attachments=tuple(attachments),
    )


def ping(
    *,
    cpa_id: str,
    from_party: PartyId | Sequence[PartyId],
    to_party: PartyId | Sequence[PartyId],
    host: str,
    conversation_id: str | None = None,
    sync_reply: bool = False,
    now: dt.datetime | None = None,
) -> EbmsMessage:
    """A Ping: MSH service without type, no Role, empty Body, no AckRequested.

    Set ``sync_reply`` only when the sender's default MSH channel has a syncReplyMode other
    than ``none``.
    """
    return message(
        cpa_id=cpa_id,
        from_party=from_party,
        to_party=to_party,
        service=c.MSH_SERVICE,
        action=c.ACTION_PING,
        host=host,
        conversation_id=conversation_id,
        sync_reply=sync_reply,
        now=now,
    )


def _reply(
    original: EbmsMessage | MessageHeader, action: str, host: str, now: dt.datetime | None
) -> MessageHeader:
    header = original.header if isinstance(original, EbmsMessage) else original
    return header.reply(action, message_id=new_message_id(host), timestamp=now or utc_now())


def pong_for(
    ping_message: EbmsMessage, *, host: str, now: dt.datetime | None = None
) -> EbmsMessage:
    """The Pong for ``ping_message``: new MessageId, same CPAId and ConversationId,
    RefToMessageId = the Ping's MessageId, From/To swapped."""
    return EbmsMessage(_reply(ping_message, c.ACTION_PONG, host, now))


def acknowledgment_for(
    original: EbmsMessage, *, host: str, now: dt.datetime | None = None
) -> EbmsMessage:
    """A standalone Acknowledgment of ``original`` (never with DuplicateElimination)."""
    header = _reply(original, c.ACTION_ACKNOWLEDGMENT, host, now)
    ack = Acknowledgment(
        timestamp=header.timestamp,
        ref_to_message_id=original.header.message_id,
        from_party=original.header.to_party,
    )
    return EbmsMessage(header, acknowledgment=ack)


def message_error_for(
    original: EbmsMessage | MessageHeader,
    errors: Sequence[EbmsError] | EbmsError,
    *,
    host: str,
    now: dt.datetime | None = None,
) -> EbmsMessage:
    """A MessageError answering ``original`` with ``errors``; ``highestSeverity`` is
    computed."""
    items = (errors,) if isinstance(errors, EbmsError) else tuple(errors)
    if not items:
        raise ValueError("a MessageError needs at least one error")
    highest = (
        c.SEVERITY_ERROR
        if any(e.severity == c.SEVERITY_ERROR for e in items)
        else c.SEVERITY_WARNING
    )
    header = _reply(original, c.ACTION_MESSAGE_ERROR, host, now)
    return EbmsMessage(header, error_list=ErrorList(highest, items))


def status_request(
    *,
    cpa_id: str,
    from_party: PartyId | Sequence[PartyId],
    to_party: PartyId | Sequence[PartyId],
    ref_to_message_id: str,
    host: str,
    now: dt.datetime | None = None,
) -> EbmsMessage:
    """A StatusRequest about ``ref_to_message_id``."""
    base = message(
        cpa_id=cpa_id,
        from_party=from_party,
        to_party=to_party,
        service=c.MSH_SERVICE,
        action=c.ACTION_STATUS_REQUEST,
        host=host,
        now=now,
    )
    return replace(base, status_request=StatusRequest(ref_to_message_id))


def status_response_for(
    request: EbmsMessage,
    status: str,
    *,
    host: str,
    timestamp: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> EbmsMessage:
    """The StatusResponse to ``request``; ``timestamp`` is when the asked-about message was
    received (omitted for NotRecognized/UnAuthorized)."""
    if status not in c.MESSAGE_STATUSES:
        raise ValueError(f"unknown message status {status!r}; use one of {c.MESSAGE_STATUSES}")
    if request.status_request is None:
        raise ValueError("not a StatusRequest")
    header = _reply(request, c.ACTION_STATUS_RESPONSE, host, now)
    response = StatusResponse(status, request.status_request.ref_to_message_id, timestamp)
    return EbmsMessage(header, status_response=response)
