"""The negative ebMS conformance matrix (reference §11) as data, and a runner.

Each :class:`ConformanceCase` says how to spoil a valid message (or its HTTP headers) and what a
conforming MSH answers: a SOAP Fault (HTTP 500), a MessageError with an error code and location,
an Acknowledgment, a Pong or a StatusResponse. :func:`run_case` sends the case to the MSH under
test and returns findings (empty when the MSH behaved).

These cases send deliberately broken messages and create state at the peer, so they run only
against the local simulator: :func:`run_case` refuses (``ConformanceRefused``) for ``pre`` and
``prod``. Rows 1–20 of the matrix follow ebms-core's own negative test suite [V]; a few
locations are that implementation's choice, not normative, and are matched by suffix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from cryptography import x509
from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.ebms import mime
from pytest_dso.ebms.client import EbmsClient, SendResult
from pytest_dso.ebms.cpa import Cpa, CpaError, DeliveryChannel, PartyInfo
from pytest_dso.ebms.cpa_build import CpaSpec, PartySpec, build_cpa, cpa_id_for, earliest_expiry
from pytest_dso.ebms.envelope import (
    AckRequested,
    Attachment,
    EbmsMessage,
    PartyId,
    SyncReply,
    build_envelope,
    message,
    ping,
    status_request,
    utc_now,
)
from pytest_dso.ebms.receiver import EbmsReceiver, ReceivedRecord
from pytest_dso.findings import Finding, error, info
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.transport.client import HttpClient

#: Environments where the matrix may run. Anything else is refused.
ALLOWED_ENVIRONMENTS = frozenset({"local"})
_SOAP = f"{{{c.SOAP_NS}}}"
_EB = f"{{{c.EB_NS}}}"


class ConformanceRefused(RuntimeError):
    """Raised when the negative matrix is pointed at a shared environment (pre, prod)."""


@dataclass(frozen=True)
class ConformanceTarget:
    """The MSH under test: the CPA, the party we play, our identity and the environment."""

    cpa: Cpa
    own_party: str
    identity: Identity = field(repr=False)
    trust: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    env: str = "local"
    endpoint: str | None = None
    receiver: EbmsReceiver | None = field(default=None, repr=False)
    timeout: float = 10.0
    client: HttpClient | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Prepared:
    """One HTTP request of a case."""

    content_type: str
    body: bytes = field(repr=False)
    message: EbmsMessage | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expectation:
    """What a conforming MSH answers to the last request of a case.

    ``outcome``: ``fault`` (HTTP 500 SOAP Fault), ``error`` (MessageError ``code`` at a
    location ending in ``location``), ``ack`` (an Acknowledgment, or 204 when the CPA asks
    for none), ``pong``, ``status`` (StatusResponse with one of ``statuses``) or
    ``same_ack`` (the Acknowledgment of the first request, re-sent).
    """

    outcome: str
    code: str | None = None
    location: str | None = None
    statuses: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.outcome == "error":
            where = f" at …{self.location}" if self.location else ""
            return f"MessageError {self.code}{where}"
        if self.outcome == "fault":
            return "HTTP 500 with a SOAP Fault"
        if self.outcome == "status":
            return f"StatusResponse {'/'.join(self.statuses)}"
        return {
            "ack": "an Acknowledgment",
            "pong": "a Pong",
            "same_ack": "the original Acknowledgment again",
        }[self.outcome]


@dataclass(frozen=True)
class CaseContext:
    """What a case needs to build its requests."""

    cpa: Cpa
    own: PartyInfo
    peer: PartyInfo
    host: str
    now: dt.datetime

    def business(self, **changes: object) -> EbmsMessage:
        """A valid business message from us to the peer, per the CPA (with one attachment)."""
        service, service_type, action, role, to_role = business_action(self.cpa, self.own)
        channel = business_channel(self.cpa, self.own)
        ack = (
            AckRequested(signed=channel.ack_signature_requested == "always")
            if channel.ack_requested == "always"
            else None
        )
        base = message(
            cpa_id=self.cpa.cpa_id,
            from_party=self.own.party_ids[0],
            to_party=self.peer.party_ids[0],
            service=service,
            service_type=service_type,
            action=action,
            host=self.host,
            from_role=role,
            to_role=to_role,
            ack_requested=ack,
            duplicate_elimination=channel.duplicate_elimination == "always",
            sync_reply=channel.sync_reply_mode != "none",
            attachments=(Attachment("payload-1@pytest-dso", "application/xml", b"<conformance/>"),),
            now=self.now,
        )
        header_changes = {k: v for k, v in changes.items() if k != "message"}
        if header_changes:
            base = dataclasses.replace(
                base,
                header=dataclasses.replace(base.header, **header_changes),  # type: ignore[arg-type]
            )
        return base

    def ping(self) -> EbmsMessage:
        """A valid Ping from us to the peer."""
        return ping(
            cpa_id=self.cpa.cpa_id,
            from_party=self.own.party_ids[0],
            to_party=self.peer.party_ids[0],
            host=self.host,
            sync_reply=self.cpa.msh_channel(self.own).sync_reply_mode != "none",
            now=self.now,
        )


Builder = Callable[[CaseContext], Sequence[Prepared]]
Applies = Callable[[CaseContext], str | None]


@dataclass(frozen=True)
class ConformanceCase:
    """One row of the matrix."""

    case_id: str
    row: int
    description: str
    build: Builder = field(repr=False)
    expect: Expectation
    business: bool = True
    applies: Applies | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{self.case_id} (row {self.row}): {self.description}"


# --- building blocks -------------------------------------------------------------------------


def business_action(cpa: Cpa, own: PartyInfo) -> tuple[str, str | None, str, str, str | None]:
    """(service, type, action, our role, peer role) of the first action we may send and the
    peer may receive, matched on service type, service and action.

    Raises :class:`CpaError` when the CPA lets us send nothing.
    """
    for send, receive in cpa.exchanges(own):
        return send.service, send.service_type, send.action, send.role, receive.role
    raise CpaError(
        f"party {own.name!r} may send no business action in CPA {cpa.cpa_id!r}; the "
        "business-message rows need one"
    )


def business_channel(cpa: Cpa, own: PartyInfo) -> DeliveryChannel:
    """Our send channel for :func:`business_action` (looked up with all its keys)."""
    service, service_type, action, role, _ = business_action(cpa, own)
    return cpa.send_channel(own, action, service, service_type=service_type, role=role)


def _pack(msg: EbmsMessage) -> Prepared:
    content_type, body = mime.pack(msg)
    return Prepared(content_type, body, msg)


def _edit(msg: EbmsMessage, change: Callable[[etree._Element], None]) -> Prepared:
    """Pack ``msg`` and apply ``change`` to its SOAP envelope (our own bytes, trusted)."""
    envelope = etree.fromstring(build_envelope(msg))
    change(envelope)
    edited = bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
    if not msg.attachments:
        return Prepared(c.TEXT_XML, edited, msg)
    content_type, body = mime.pack(msg)
    return Prepared(content_type, body.replace(build_envelope(msg), edited, 1), msg)


def _header(envelope: etree._Element) -> etree._Element:
    found = envelope.find(f"{_SOAP}Header/{_EB}MessageHeader")
    assert found is not None
    return found


def _soap_header(envelope: etree._Element) -> etree._Element:
    found = envelope.find(f"{_SOAP}Header")
    assert found is not None
    return found


def _one(path: str) -> Callable[[etree._Element], etree._Element]:
    def find(envelope: etree._Element) -> etree._Element:
        found = _header(envelope).find(path)
        assert found is not None, path
        return found

    return find


def _with_headers(prepared: Prepared, headers: Mapping[str, str]) -> Prepared:
    return dataclasses.replace(prepared, headers=dict(headers))


def _channel_says(attr: str, *values: str) -> Applies:
    def applies(ctx: CaseContext) -> str | None:
        value = getattr(business_channel(ctx.cpa, ctx.own), attr)
        if value in values:
            return None
        return f"the CPA channel has {attr}={value!r}; this row needs {' or '.join(values)}"

    return applies


def _xxe(ctx: CaseContext) -> Sequence[Prepared]:
    body = build_envelope(ctx.ping()).decode("utf-8")
    body = body.replace(
        "<?xml version='1.0' encoding='UTF-8'?>",
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE soap:Envelope [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>',
        1,
    ).replace("<eb:Action>Ping</eb:Action>", "<eb:Action>&xxe;</eb:Action>")
    return [Prepared(c.TEXT_XML, body.encode("utf-8"))]


def _laughs(ctx: CaseContext) -> Sequence[Prepared]:
    body = build_envelope(ctx.ping()).decode("utf-8")
    entities = '<!ENTITY a "ha">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    body = body.replace(
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE soap:Envelope [{entities}]>',
        1,
    ).replace("<eb:Action>Ping</eb:Action>", "<eb:Action>&i;</eb:Action>")
    return [Prepared(c.TEXT_XML, body.encode("utf-8"))]


def _set_attr(path: str, name: str, value: str) -> Callable[[etree._Element], None]:
    def change(envelope: etree._Element) -> None:
        element = envelope.find(path) if path.startswith(_SOAP) else _one(path)(envelope)
        assert element is not None
        element.set(name, value)

    return change


def _remove(path: str) -> Callable[[etree._Element], None]:
    def change(envelope: etree._Element) -> None:
        element = envelope.find(path) if path.startswith(_SOAP) else _one(path)(envelope)
        assert element is not None
        parent = element.getparent()
        assert parent is not None
        parent.remove(element)

    return change


def _add_header_block(name: str, **attrs: str) -> Callable[[etree._Element], None]:
    def change(envelope: etree._Element) -> None:
        block = etree.SubElement(_soap_header(envelope), _EB + name)
        block.set(_SOAP + "mustUnderstand", "1")
        block.set(_EB + "version", c.EB_VERSION)
        for key, value in attrs.items():
            block.set(key, value)
        if name == "MessageOrder":
            etree.SubElement(block, _EB + "SequenceNumber").text = "0"

    return change


def _empty_manifest(envelope: etree._Element) -> None:
    manifest = envelope.find(f"{_SOAP}Body/{_EB}Manifest")
    assert manifest is not None
    for reference in list(manifest):
        manifest.remove(reference)


def _toggle_sync_reply(ctx: CaseContext) -> Sequence[Prepared]:
    msg = ctx.business()
    flipped = dataclasses.replace(
        msg, sync_reply=None if msg.sync_reply is not None else SyncReply()
    )
    return [_pack(flipped)]


def _duplicate(ctx: CaseContext) -> Sequence[Prepared]:
    first = _pack(ctx.business())
    return [first, first]


def _same_id_other_content(ctx: CaseContext) -> Sequence[Prepared]:
    msg = ctx.business()
    other = dataclasses.replace(
        msg,
        attachments=(Attachment("payload-1@pytest-dso", "application/xml", b"<different/>"),),
    )
    return [_pack(msg), _pack(other)]


def _status_after_message(ctx: CaseContext) -> Sequence[Prepared]:
    msg = ctx.business()
    request = status_request(
        cpa_id=ctx.cpa.cpa_id,
        from_party=ctx.own.party_ids[0],
        to_party=ctx.peer.party_ids[0],
        ref_to_message_id=msg.message_id,
        host=ctx.host,
        now=ctx.now,
    )
    sync = ctx.cpa.msh_channel(ctx.own).sync_reply_mode != "none"
    if sync:
        request = dataclasses.replace(request, sync_reply=SyncReply())
    return [_pack(msg), _pack(request)]


def _business_edit(change: Callable[[etree._Element], None]) -> Builder:
    return lambda ctx: [_edit(ctx.business(), change)]


def _business_header(**changes: object) -> Builder:
    return lambda ctx: [_pack(ctx.business(**changes))]


def _ping_headers(**headers: str) -> Builder:
    return lambda ctx: [_with_headers(_pack(ctx.ping()), headers)]


def _wrong_party(ctx: CaseContext, which: str, value: str | None, kind: str | None) -> EbmsMessage:
    msg = ctx.business()
    original = msg.header.from_party if which == "from" else msg.header.to_party
    party = PartyId(value or original.value, kind if kind is not None else original.type)
    header = (
        dataclasses.replace(msg.header, from_parties=(party,))
        if which == "from"
        else dataclasses.replace(msg.header, to_parties=(party,))
    )
    return dataclasses.replace(msg, header=header)


_MH = "//Header/MessageHeader"
_ERROR = "error"

#: The matrix. Locations are matched as suffixes of the answered location.
MATRIX: tuple[ConformanceCase, ...] = (
    ConformanceCase(
        "ping_valid",
        1,
        "a valid Ping is answered with a Pong",
        lambda ctx: [_pack(ctx.ping())],
        Expectation("pong"),
        business=False,
    ),
    ConformanceCase(
        "soapaction_missing",
        2,
        "no SOAPAction header",
        _ping_headers(SOAPAction=""),
        Expectation("fault"),
        business=False,
    ),
    ConformanceCase(
        "soapaction_unquoted",
        2,
        "SOAPAction ebXML without the quotes",
        _ping_headers(SOAPAction="ebXML"),
        Expectation("fault"),
        business=False,
    ),
    ConformanceCase(
        "soapaction_wrong",
        2,
        "SOAPAction with another value",
        _ping_headers(SOAPAction='"Ping"'),
        Expectation("fault"),
        business=False,
    ),
    ConformanceCase(
        "business_valid",
        3,
        "a valid business message is accepted (Acknowledgment under RM)",
        lambda ctx: [_pack(ctx.business())],
        Expectation("ack"),
    ),
    ConformanceCase(
        "status_request",
        4,
        "a StatusRequest about a received message answers Received",
        _status_after_message,
        Expectation("status", statuses=("Received", "Processed")),
    ),
    ConformanceCase(
        "duplicate_same_content",
        5,
        "an exact duplicate gets the original Acknowledgment",
        _duplicate,
        Expectation("same_ack"),
        applies=_channel_says("ack_requested", "always"),
    ),
    ConformanceCase(
        "duplicate_other_content",
        6,
        "the same MessageId with other content is refused",
        _same_id_other_content,
        Expectation("fault"),
    ),
    ConformanceCase(
        "bad_version",
        7,
        "MessageHeader eb:version other than 2.0",
        _business_edit(_set_attr(f"{_SOAP}Header/{_EB}MessageHeader", _EB + "version", "1.1")),
        Expectation(_ERROR, c.INCONSISTENT, f"{_MH}/@version"),
    ),
    ConformanceCase(
        "unknown_cpa",
        8,
        "a CPAId the MSH does not know",
        _business_header(cpa_id="pytest-dso-unknown-cpa"),
        Expectation("fault"),
    ),
    ConformanceCase(
        "wrong_from_party",
        9,
        "a From PartyId not in the CPA",
        lambda ctx: [_pack(_wrong_party(ctx, "from", "00000099999999999000", None))],
        Expectation(_ERROR, c.INCONSISTENT, f"{_MH}/From/PartyId"),
    ),
    ConformanceCase(
        "wrong_from_party_type",
        9,
        "a From PartyId with another type",
        lambda ctx: [_pack(_wrong_party(ctx, "from", None, "urn:osb:wrong"))],
        Expectation(_ERROR, c.INCONSISTENT, f"{_MH}/From/PartyId"),
    ),
    ConformanceCase(
        "wrong_to_party",
        9,
        "a To PartyId not in the CPA",
        lambda ctx: [_pack(_wrong_party(ctx, "to", "00000099999999998000", None))],
        Expectation(_ERROR, c.INCONSISTENT, f"{_MH}/To/PartyId"),
    ),
    ConformanceCase(
        "from_party_missing",
        10,
        "From without PartyId (schema violation)",
        _business_edit(_remove(f"{_EB}From/{_EB}PartyId")),
        Expectation("fault"),
    ),
    ConformanceCase(
        "wrong_role",
        11,
        "a From Role the CPA does not give us",
        _business_header(from_role="NoSuchRole"),
        Expectation(_ERROR, c.VALUE_NOT_RECOGNIZED, f"{_MH}/Action"),
    ),
    ConformanceCase(
        "wrong_service",
        11,
        "a Service not in the CPA",
        _business_header(service="pytest-dso:NoSuchService:1:0"),
        Expectation(_ERROR, c.VALUE_NOT_RECOGNIZED, f"{_MH}/Action"),
    ),
    ConformanceCase(
        "wrong_service_type",
        11,
        "a Service type other than the CPA's",
        _business_header(service_type="urn:osb:wrong"),
        Expectation(_ERROR, c.VALUE_NOT_RECOGNIZED, f"{_MH}/Action"),
    ),
    ConformanceCase(
        "wrong_action",
        11,
        "an Action not in the CPA",
        _business_header(action="NoSuchAction"),
        Expectation(_ERROR, c.VALUE_NOT_RECOGNIZED, f"{_MH}/Action"),
    ),
    ConformanceCase(
        "from_role_missing",
        12,
        "From without Role",
        _business_header(from_role=None),
        Expectation(_ERROR, c.INCONSISTENT, f"{_MH}/From/Role"),
    ),
    ConformanceCase(
        "unknown_ref_to_message_id",
        13,
        "a RefToMessageId the MSH never saw",
        _business_header(ref_to_message_id="pytest-dso-unknown@example.invalid"),
        Expectation(_ERROR, c.VALUE_NOT_RECOGNIZED, f"{_MH}/MessageData/RefToMessageId"),
    ),
    ConformanceCase(
        "ttl_expired",
        14,
        "a TimeToLive in the past",
        lambda ctx: [_pack(ctx.business(time_to_live=ctx.now - dt.timedelta(minutes=5)))],
        Expectation(_ERROR, c.TIME_TO_LIVE_EXPIRED),
    ),
    ConformanceCase(
        "duplicate_elimination_missing",
        15,
        "no DuplicateElimination where the CPA says always",
        _business_header(duplicate_elimination=False),
        Expectation(_ERROR, c.INCONSISTENT, "DuplicateElimination"),
        applies=_channel_says("duplicate_elimination", "always"),
    ),
    ConformanceCase(
        "ack_requested_missing",
        15,
        "no AckRequested where the CPA says always",
        lambda ctx: [_pack(dataclasses.replace(ctx.business(), ack_requested=None))],
        Expectation(_ERROR, c.INCONSISTENT, "//Header/AckRequested"),
        applies=_channel_says("ack_requested", "always"),
    ),
    ConformanceCase(
        "ack_requested_next_msh",
        16,
        "AckRequested for the nextMSH actor",
        lambda ctx: [
            _pack(
                dataclasses.replace(
                    ctx.business(), ack_requested=AckRequested(actor=c.ACTOR_NEXT_MSH)
                )
            )
        ],
        Expectation(_ERROR, c.NOT_SUPPORTED, "//Header/AckRequested/@actor"),
        applies=_channel_says("ack_requested", "always", "perMessage"),
    ),
    ConformanceCase(
        "ack_requested_bad_version",
        17,
        "AckRequested with eb:version other than 2.0",
        _business_edit(_set_attr(f"{_SOAP}Header/{_EB}AckRequested", _EB + "version", "1.0")),
        Expectation(_ERROR, c.INCONSISTENT, "//Header/AckRequested/@version"),
        applies=_channel_says("ack_requested", "always"),
    ),
    ConformanceCase(
        "ack_requested_signed",
        17,
        "a signed acknowledgement the CPA does not ask for",
        lambda ctx: [
            _pack(dataclasses.replace(ctx.business(), ack_requested=AckRequested(signed=True)))
        ],
        Expectation(_ERROR, c.INCONSISTENT, "//Header/AckRequested/@signed"),
        applies=_channel_says("ack_signature_requested", "never"),
    ),
    ConformanceCase(
        "sync_reply_contradicts_cpa",
        17,
        "SyncReply present or absent against syncReplyMode",
        _toggle_sync_reply,
        Expectation(_ERROR, c.INCONSISTENT, "//Header/SyncReply"),
    ),
    ConformanceCase(
        "message_order",
        18,
        "MessageOrder present",
        _business_edit(_add_header_block("MessageOrder")),
        Expectation(_ERROR, c.NOT_SUPPORTED, "//Header/MessageOrder"),
    ),
    ConformanceCase(
        "manifest_missing",
        19,
        "a message without Manifest is accepted",
        lambda ctx: [_pack(dataclasses.replace(ctx.business(), manifest=None, attachments=()))],
        Expectation("ack"),
    ),
    ConformanceCase(
        "unknown_cid",
        20,
        "a Manifest reference to a MIME part that is not there",
        _business_edit(
            _set_attr(
                f"{_SOAP}Body/{_EB}Manifest/{_EB}Reference",
                f"{{{c.XLINK_NS}}}href",
                "cid:missing@pytest-dso",
            )
        ),
        Expectation(_ERROR, c.MIME_PROBLEM, "cid:missing@pytest-dso"),
    ),
    ConformanceCase(
        "manifest_without_reference",
        20,
        "a Manifest with no Reference (the ebMS 2.0 schema requires one)",
        _business_edit(_empty_manifest),
        Expectation("fault"),
    ),
    ConformanceCase(
        "xxe",
        21,
        "an external entity (XXE) in the envelope",
        _xxe,
        Expectation("fault"),
        business=False,
    ),
    ConformanceCase(
        "entity_expansion",
        21,
        "nested entities (billion laughs) in the envelope",
        _laughs,
        Expectation("fault"),
        business=False,
    ),
    ConformanceCase(
        "timestamp_outside_cpa",
        22,
        "a Timestamp before the CPA's Start",
        lambda ctx: [_pack(ctx.business(timestamp=ctx.cpa.start - dt.timedelta(days=1)))],
        Expectation(_ERROR, c.INCONSISTENT, "cpaid"),
    ),
)


def case(case_id: str) -> ConformanceCase:
    """The matrix row ``case_id``."""
    for item in MATRIX:
        if item.case_id == case_id:
            return item
    raise KeyError(f"no conformance case {case_id!r}")


# --- running ---------------------------------------------------------------------------------


def refuse_unless_local(env: str) -> None:
    """Raise :class:`ConformanceRefused` unless ``env`` is the local simulator."""
    if env not in ALLOWED_ENVIRONMENTS:
        raise ConformanceRefused(
            f"the negative ebMS conformance matrix sends broken messages and may not run "
            f"against {env!r}; it runs only with --dso-env=local (the embedded simulator)"
        )


def context_for(target: ConformanceTarget, now: dt.datetime | None = None) -> CaseContext:
    """The :class:`CaseContext` of ``target``."""
    own = target.cpa.party(target.own_party)
    peer = target.cpa.other_party(own)
    try:
        own_url = target.cpa.endpoint_for(own, c.ACTION_PONG)
    except CpaError:
        own_url = None
    host = (urlsplit(own_url).hostname if own_url else None) or "localhost"
    return CaseContext(target.cpa, own, peer, host, now or utc_now())


def not_applicable(item: ConformanceCase, target: ConformanceTarget) -> str | None:
    """Why ``item`` cannot run against ``target`` (``None`` when it can)."""
    try:
        ctx = context_for(target)
        if item.business:
            business_action(ctx.cpa, ctx.own)
        return item.applies(ctx) if item.applies else None
    except CpaError as exc:
        return exc.message


def run_case(item: ConformanceCase, target: ConformanceTarget) -> list[Finding]:
    """Send ``item`` to the MSH of ``target`` and judge the answer (the findings of
    :func:`run_case_recorded`)."""
    return run_case_recorded(item, target).findings


@dataclass(frozen=True)
class CaseExchange:
    """One request of a case and what came back: the ebMS POST (its HTTP exchange with timings
    and TLS facts), the synchronous reply, or the asynchronous one as it reached our receiver."""

    sent: SendResult
    prepared: Prepared
    reply: EbmsMessage | None
    inbound: ReceivedRecord | None = None

    def describe(self) -> str:
        """What the MSH answered, in one line."""
        status = self.sent.status
        if self.sent.exchange.failure is not None:
            return f"no HTTP answer: {self.sent.exchange.failure.message}"
        if self.sent.fault is not None:
            return f"HTTP {status} SOAP Fault {self.sent.fault.text!r}"
        if self.reply is None:
            return f"HTTP {status} without an ebMS reply"
        if self.reply.error_list is not None:
            parts = [f"{e.code} at {e.location}" for e in self.reply.error_list.errors]
            return f"HTTP {status}, MessageError {'; '.join(parts)}"
        if self.reply.status_response is not None:
            return f"HTTP {status}, StatusResponse {self.reply.status_response.status}"
        return f"HTTP {status}, {self.reply.header.action}"


@dataclass(frozen=True)
class CaseRun:
    """A case as it ran: where it was sent, every exchange, and the verdict (``findings``,
    empty when the MSH behaved)."""

    case: ConformanceCase
    url: str
    findings: list[Finding]
    exchanges: tuple[CaseExchange, ...] = ()

    @property
    def answer(self) -> str:
        """What the MSH answered to the last request (``-`` when nothing was sent)."""
        return self.exchanges[-1].describe() if self.exchanges else "-"


def run_case_recorded(item: ConformanceCase, target: ConformanceTarget) -> CaseRun:
    """Send ``item`` to the MSH of ``target``, judge the answer and keep every exchange.

    Raises :class:`ConformanceRefused` for ``pre``/``prod``. The findings are one INFO
    ``ebms.conformance.not_applicable`` when the CPA makes the row meaningless.
    """
    refuse_unless_local(target.env)
    check = f"ebms.conformance.{item.case_id}"
    reason = not_applicable(item, target)
    if reason is not None:
        return CaseRun(item, target.endpoint or "-",
                       [info("ebms.conformance.not_applicable", f"{item}: {reason}")])
    ctx = context_for(target)
    url = target.endpoint or target.cpa.endpoint_for(ctx.peer, c.ACTION_PING)
    requests = item.build(ctx)
    http = target.client or HttpClient.for_identity(
        target.identity, target.trust, read_timeout=target.timeout
    )
    client = EbmsClient(http)
    receiver = target.receiver
    if receiver is not None and receiver.msh.cpa(target.cpa.cpa_id) is None:
        receiver.add_cpa(target.cpa)
    answers: list[CaseExchange] = []
    try:
        for prepared in requests:
            if receiver is not None and prepared.message is not None:
                receiver.expect(
                    prepared.message.message_id, prepared.message.header.to_parties
                )
            sent = client.post_raw(
                url,
                prepared.content_type,
                prepared.body,
                message=prepared.message,
                headers=prepared.headers or None,
                timeout=target.timeout,
            )
            answers.append(_answer(sent, prepared, receiver, item.expect, target.timeout))
            if sent.exchange.failure is not None:
                return CaseRun(item, url, [sent.exchange.failure], tuple(answers))
    finally:
        if target.client is None:
            http.close()
    return CaseRun(item, url, _judge(item, check, url, answers), tuple(answers))


def _answer(
    sent: SendResult,
    prepared: Prepared,
    receiver: EbmsReceiver | None,
    expect: Expectation,
    timeout: float,
) -> CaseExchange:
    reply = sent.reply
    mid = prepared.message.message_id if prepared.message is not None else None
    wants_reply = expect.outcome != "fault"
    record: ReceivedRecord | None = None
    if reply is None and sent.status == 204 and receiver is not None and mid and wants_reply:
        # Asynchronous CPA: the reply arrives as a new POST at our receiver.
        record = receiver.wait_for(
            lambda r: r.message is not None and r.message.header.ref_to_message_id == mid,
            timeout,
        )
        reply = record.message if record is not None else None
    return CaseExchange(sent, prepared, reply, record)


def _judge(
    item: ConformanceCase, check: str, url: str, answers: Sequence[CaseExchange]
) -> list[Finding]:
    last = answers[-1]
    expect = item.expect
    sent = last.sent
    reply = last.reply
    got = last.describe()

    def fail(hint: str) -> list[Finding]:
        return [
            error(
                check,
                f"row {item.row}, {item.description}: expected {expect}, got {got}",
                hint,
                url,
                expected=str(expect),
                got=got,
                status=str(sent.status),
            )
        ]

    if expect.outcome == "fault":
        if sent.status == 500:
            return []
        return fail("refuse this message with HTTP 500 and a SOAP Fault (faultcode Client)")
    if expect.outcome == "error":
        errors = reply.error_list.errors if reply is not None and reply.error_list else ()
        for e in errors:
            if e.code == expect.code and (
                expect.location is None
                or (e.location or "").lower().endswith(expect.location.lower())
            ):
                return []
        return fail(
            f"answer with an eb:ErrorList holding errorCode {expect.code}"
            + (f" and location …{expect.location}" if expect.location else "")
        )
    if expect.outcome == "pong":
        if reply is not None and reply.header.action == c.ACTION_PONG:
            return []
        return fail("answer a Ping with a Pong (sync or async as the CPA says)")
    if expect.outcome == "status":
        response = reply.status_response if reply is not None else None
        if response is not None and response.status in expect.statuses:
            return []
        return fail("answer a StatusRequest about a received message with its status")
    mid = last.prepared.message.message_id if last.prepared.message else None
    acked = (
        reply is not None
        and reply.acknowledgment is not None
        and reply.acknowledgment.ref_to_message_id == mid
    )
    wants_ack = last.prepared.message is not None and last.prepared.message.ack_requested
    if expect.outcome == "ack":
        if acked or (not wants_ack and sent.status in (200, 202, 204) and reply is None):
            return []
        return fail("accept the message and acknowledge it (AckRequested) on the CPA's channel")
    # same_ack: the duplicate gets the original Acknowledgment
    first = answers[0].reply
    if (
        acked
        and first is not None
        and reply is not None
        and (first.header.message_id == reply.header.message_id)
    ):
        return []
    if acked:
        return [
            error(
                check,
                f"row {item.row}, {item.description}: the duplicate was acknowledged with a new "
                "Acknowledgment instead of the original",
                "ebMS §6.5.4: re-send the original Acknowledgment for a duplicate",
                url,
            )
        ]
    return fail("acknowledge the duplicate with the original Acknowledgment; never stay silent")


# --- a CPA for the local MSH peer ------------------------------------------------------------

#: The business action the harness may send in :func:`conformance_cpa` (our own name).
CONFORMANCE_ACTION = "Conformancetest"
CONFORMANCE_SERVICE = "pytest-dso:Conformance:1:0"


def conformance_cpa(
    pki: TestPki,
    peer_endpoint: str,
    own_endpoint: str,
    *,
    peer_slug: str = "dso-lv",
    own_slug: str = "digikoppelaar",
    sync_reply_mode: str = "mshSignalsOnly",
    reliable: bool = True,
    now: dt.datetime | None = None,
) -> bytes:
    """A CPA in which the harness (``own_slug``) may send a business action to the local MSH
    peer (``peer_slug``), so the business-message rows can run. Synchronous MSH signals by
    default (as the ebms-core suite does); ``sync_reply_mode="none"`` tests the async path."""
    moment = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    peer_party, own_party = pki.party(peer_slug), pki.party(own_slug)
    peer_cert = pki.leaves[peer_slug].certificate
    own_cert = pki.leaves[own_slug].certificate
    spec = CpaSpec(
        cpa_id=cpa_id_for(CONFORMANCE_SERVICE, peer_party.oin, own_party.oin)
        + ("_sync" if sync_reply_mode != "none" else "_async"),
        parties=(
            PartySpec(
                name="DSO-LV",
                party_id=peer_party.oin,
                certificate=peer_cert,
                endpoint=peer_endpoint,
                role="Ontvanger",
            ),
            PartySpec(
                name=own_party.name,
                party_id=own_party.oin,
                certificate=own_cert,
                endpoint=own_endpoint,
                role="Verzender",
                sends=(CONFORMANCE_ACTION,),
            ),
        ),
        start=moment - dt.timedelta(days=1),
        end=min(moment + dt.timedelta(days=30), earliest_expiry([peer_cert, own_cert])),
        service=CONFORMANCE_SERVICE,
        reliable=reliable,
        sync_reply_mode=sync_reply_mode,
    )
    return build_cpa(spec)
