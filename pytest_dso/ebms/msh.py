"""A framework-free ebMS 2.0 Message Service Handler core.

:class:`Msh` takes one inbound HTTP request (content type, headers, body, the verified client
certificate) and decides the answer: a SOAP Fault (HTTP 500), a synchronous reply (HTTP 200
``text/xml``: Pong, Acknowledgment, MessageError, StatusResponse) or HTTP 204 with the reply to
be sent asynchronously to the sender's CPA endpoint (:attr:`MshResult.outbound`). It never does
I/O itself: the harness receiver, the local MSH peer and the simulator serve it over
:mod:`pytest_dso.transport.server` and send the outbound messages.

Behaviour follows the Digikoppeling ebMS2 profile and, where the profile is silent, the
behaviour of ebms-core (reference §7, §8, §11):

* ``SOAPAction`` must be ``"ebXML"`` with the quotes, else a Fault Client
  ``Unable to process message! SOAPAction=...``;
* hostile or unreadable XML, an envelope that violates the ebMS 2.0 schema (a Manifest
  without Reference, a header block without ``soap:mustUnderstand``) and an unknown CPAId give
  a SOAP Fault (500); the schema is the one :func:`pytest_dso.ebms.validate.validate_envelope`
  uses, and the envelope parser enforces the Digikoppeling rules the validator reports;
* header problems are answered with an ``eb:ErrorList`` carrying the ebMS error code and the
  location of the offending element (``Inconsistent``, ``ValueNotRecognized``,
  ``TimeToLiveExpired``, ``NotSupported``, ``MimeProblem``, ``DeliveryFailure``), with
  ebms-core's locations (an unknown ``cid:`` reference: the href itself, "MIME part not
  found.");
* a reply is synchronous when the message carries ``eb:SyncReply`` or the sender's default
  MSH channel has a ``syncReplyMode`` other than ``none``; otherwise it is asynchronous;
* duplicates (same MessageId) re-send the original Acknowledgment when the content is the same,
  and are refused with a Fault (``already used``) when it differs;
* the client-certificate check (``verify_client_certificate``) binds the TLS client certificate
  to the sending party: it must be one of the From party's certificates in the CPA or carry the
  From party's OIN, else a SOAP Fault ``Invalid SSL Client Certificate!`` (ebms-core's text);
* a signal referring to a message this side sent (Acknowledgment, MessageError, Pong) is taken
  only from the party that message went to; from any other party an Acknowledgment or Pong is
  answered with an ``Inconsistent`` MessageError and a MessageError is dropped.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from cryptography import x509
from lxml import etree

from pytest_dso.ebms import constants as c
from pytest_dso.ebms import mime
from pytest_dso.ebms.cpa import Cpa, CpaError, PartyInfo
from pytest_dso.ebms.envelope import (
    EbmsError,
    EbmsMessage,
    EnvelopeError,
    MessageHeader,
    PartyId,
    acknowledgment_for,
    build_envelope,
    message_error_for,
    parse_envelope,
    pong_for,
    status_response_for,
    utc_now,
)
from pytest_dso.ebms.validate import schema_problems
from pytest_dso.pkio.identity import subject_oin
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml

Clock = Callable[[], dt.datetime]

#: Where each header check points (ebms-core's locations).
LOC_MESSAGE_HEADER = "//Header/MessageHeader"
LOC_CPA_ID = "//Header/MessageHeader/@cpaid"
LOC_FROM_PARTY = "//Header/MessageHeader/From/PartyId"
LOC_TO_PARTY = "//Header/MessageHeader/To/PartyId"
LOC_FROM_ROLE = "//Header/MessageHeader/From/Role"
LOC_ACTION = "//Header/MessageHeader/Action"
LOC_REF_TO = "//Header/MessageHeader/MessageData/RefToMessageId"
LOC_TTL = "//Header/MessageHeader/MessageData/TimeToLive"
LOC_DUP_ELIM = "//Header/MessageHeader/DuplicateElimination"
LOC_ACK_REQUESTED = "//Header/AckRequested"
LOC_ACK_SIGNED = "//Header/AckRequested/@signed"
LOC_SYNC_REPLY = "//Header/SyncReply"
LOC_MANIFEST = "//Body/Manifest/Reference"

SOAP_FAULT_CLIENT = "soap:Client"
SOAP_FAULT_SERVER = "soap:Server"


# --- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outbound:
    """A reply to send in a new HTTP POST (asynchronous messaging)."""

    url: str
    content_type: str
    body: bytes = field(repr=False)
    message: EbmsMessage
    cpa_id: str


@dataclass(frozen=True)
class MshResult:
    """The MSH's answer to one request.

    ``status``/``content_type``/``body`` form the HTTP response; ``outbound`` holds replies to
    send asynchronously. ``message`` is the inbound message when it could be parsed, ``reply``
    the reply built (sync or async), ``errors`` the ebMS errors answered, ``fault`` the SOAP
    Fault text for a 500.
    """

    status: int
    content_type: str | None = None
    body: bytes = field(default=b"", repr=False)
    outbound: tuple[Outbound, ...] = ()
    message: EbmsMessage | None = None
    reply: EbmsMessage | None = None
    errors: tuple[EbmsError, ...] = ()
    fault: str | None = None
    duplicate: bool = False
    delivered: bool = False

    @property
    def sync(self) -> bool:
        """True when the reply went back on the same HTTP response."""
        return self.status == 200 and bool(self.body)


@dataclass(frozen=True)
class AcceptedMessage:
    """A business message the MSH accepted, handed to the delivery callback."""

    message: EbmsMessage
    cpa: Cpa
    content_type: str
    body: bytes = field(repr=False)
    peer_certificate: x509.Certificate | None = None
    #: Facts of the TLS connection it came over, as name/value pairs (protocol, cipher).
    connection: tuple[tuple[str, str], ...] = ()


@dataclass
class StoredMessage:
    """What the store keeps about a received message (for duplicates and StatusRequest)."""

    message_id: str
    digest: str
    cpa_id: str
    from_party: str
    action: str
    received_at: dt.datetime
    status: str = "Received"
    reply: MshResult | None = None


class MessageStore(Protocol):
    """Persistence the MSH needs; :class:`MemoryStore` is the default."""

    def claim(self, record: StoredMessage) -> StoredMessage | None:
        """Store ``record`` unless its MessageId is known; return the existing one if so."""

    def get(self, message_id: str) -> StoredMessage | None:
        """The record of a received message."""

    def set_reply(self, message_id: str, reply: MshResult) -> None:
        """Remember the reply given to a received message (re-sent for duplicates)."""

    def set_status(self, message_id: str, status: str) -> None:
        """Change the StatusResponse status of a received message."""

    def add_sent(self, message_id: str) -> None:
        """Remember a MessageId this side sent (RefToMessageId values are checked against it)."""

    def is_known(self, message_id: str) -> bool:
        """True for a MessageId sent or received here."""


class MemoryStore:
    """A thread-safe in-memory :class:`MessageStore`, bounded to ``limit`` entries each."""

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._received: dict[str, StoredMessage] = {}
        self._sent: dict[str, None] = {}
        self._limit = limit

    def claim(self, record: StoredMessage) -> StoredMessage | None:
        with self._lock:
            existing = self._received.get(record.message_id)
            if existing is not None:
                return existing
            if len(self._received) >= self._limit:
                self._received.pop(next(iter(self._received)))
            self._received[record.message_id] = record
            return None

    def get(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            return self._received.get(message_id)

    def set_reply(self, message_id: str, reply: MshResult) -> None:
        with self._lock:
            record = self._received.get(message_id)
            if record is not None:
                record.reply = reply

    def set_status(self, message_id: str, status: str) -> None:
        with self._lock:
            record = self._received.get(message_id)
            if record is not None:
                record.status = status

    def add_sent(self, message_id: str) -> None:
        with self._lock:
            if len(self._sent) >= self._limit:
                self._sent.pop(next(iter(self._sent)))
            self._sent[message_id] = None

    def is_known(self, message_id: str) -> bool:
        with self._lock:
            return message_id in self._sent or message_id in self._received


# --- SOAP Faults -----------------------------------------------------------------------------


def soap_fault(text: str, code: str = SOAP_FAULT_CLIENT) -> bytes:
    """A SOAP 1.1 Fault envelope with ``faultcode`` ``code`` and ``faultstring`` ``text``."""
    soap = f"{{{c.SOAP_NS}}}"
    envelope = etree.Element(soap + "Envelope", nsmap={"soap": c.SOAP_NS})
    body = etree.SubElement(envelope, soap + "Body")
    fault = etree.SubElement(body, soap + "Fault")
    etree.SubElement(fault, "faultcode").text = code
    etree.SubElement(fault, "faultstring").text = text
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _fault(
    text: str, message: EbmsMessage | None = None, code: str = SOAP_FAULT_CLIENT
) -> MshResult:
    return MshResult(500, c.TEXT_XML, soap_fault(text, code), message=message, fault=text)


def _party_ref(party: PartyId) -> str:
    return str(party)


def _digest(content_type: str, body: bytes) -> str:
    hasher = hashlib.sha256(content_type.split(";", 1)[0].strip().lower().encode())
    hasher.update(b"\0")
    hasher.update(body)
    return hasher.hexdigest()


# --- the MSH ---------------------------------------------------------------------------------


class Msh:
    """An MSH acting for ``own_party_ids`` (``type:value`` strings or bare OINs) under
    ``cpas``.

    ``clock`` gives "now" (aware UTC) for TimeToLive and CPA validity; ``on_deliver`` receives
    every accepted business message (raising makes it a ``DeliveryFailure``); ``on_signal``
    every accepted MSH signal (Pong, Acknowledgment, MessageError, StatusResponse).
    ``verify_client_certificate`` binds the TLS client certificate to the From party (a
    request without one is refused too).
    """

    #: How many sent MessageIds keep their recipient (oldest forgotten first).
    SENT_LIMIT = 200_000

    def __init__(
        self,
        cpas: Iterable[Cpa] = (),
        own_party_ids: Iterable[str] = (),
        clock: Clock = utc_now,
        store: MessageStore | None = None,
        *,
        on_deliver: Callable[[AcceptedMessage], None] | None = None,
        on_signal: Callable[[EbmsMessage], None] | None = None,
        verify_client_certificate: bool = False,
        host: str | None = None,
    ) -> None:
        self._cpas: Mapping[str, Cpa] = {cpa.cpa_id: cpa for cpa in cpas}
        self._own: frozenset[str] = frozenset(own_party_ids)
        self.clock = clock
        self.store: MessageStore = store if store is not None else MemoryStore()
        self.on_deliver = on_deliver
        self.on_signal = on_signal
        self.verify_client_certificate = verify_client_certificate
        self.host = host
        self._sent_to: collections.OrderedDict[str, frozenset[str]] = collections.OrderedDict()
        self._sent_lock = threading.Lock()

    # -- configuration ----------------------------------------------------------------------
    def add_cpa(self, cpa: Cpa) -> None:
        """Accept messages under ``cpa`` (replacing one with the same CPAId)."""
        self._cpas = {**self._cpas, cpa.cpa_id: cpa}

    @property
    def cpas(self) -> Mapping[str, Cpa]:
        """The CPAs by CPAId."""
        return self._cpas

    def cpa(self, cpa_id: str) -> Cpa | None:
        """The CPA ``cpa_id``, if known."""
        return self._cpas.get(cpa_id)

    def expect(
        self, message_id: str, to: PartyId | PartyInfo | Iterable[PartyId] | None = None
    ) -> None:
        """Remember that this side sent ``message_id`` (its Pong/Ack/Error will refer to it).

        With ``to`` (the party it went to) a signal referring to it is taken only from that
        party."""
        self.store.add_sent(message_id)
        if to is None:
            return
        if isinstance(to, PartyId):
            ids: Iterable[PartyId] = (to,)
        elif isinstance(to, PartyInfo):
            ids = to.party_ids
        else:
            ids = to
        values = frozenset(pid.value for pid in ids)
        with self._sent_lock:
            self._sent_to[message_id] = values
            self._sent_to.move_to_end(message_id)
            while len(self._sent_to) > self.SENT_LIMIT:
                self._sent_to.popitem(last=False)

    def sent_to(self, message_id: str) -> frozenset[str] | None:
        """The PartyId values of the party ``message_id`` went to, when recorded."""
        with self._sent_lock:
            return self._sent_to.get(message_id)

    def mark_processed(self, message_id: str) -> None:
        """StatusRequests about ``message_id`` answer ``Processed`` from now on."""
        self.store.set_status(message_id, "Processed")

    def is_own(self, party: PartyId | PartyInfo) -> bool:
        """True when this MSH acts for ``party`` (all parties when none were configured)."""
        if not self._own:
            return True
        ids = party.party_ids if isinstance(party, PartyInfo) else (party,)
        return any(str(pid) in self._own or pid.value in self._own for pid in ids)

    # -- handling ---------------------------------------------------------------------------
    def handle(
        self,
        content_type: str,
        headers: Mapping[str, str],
        body: bytes,
        peer_cert: x509.Certificate | None = None,
        *,
        connection: tuple[tuple[str, str], ...] = (),
    ) -> MshResult:
        """Decide the answer to one inbound request. Never raises for bad input.
        ``connection``: facts of its TLS connection, handed on with an accepted message."""
        soap_action = _header(headers, c.SOAP_ACTION_HEADER)
        if soap_action != c.SOAP_ACTION:
            return _fault(f"Unable to process message! SOAPAction={soap_action}")
        try:
            envelope, attachments = mime.unpack(content_type, body)
        except mime.MimeError as exc:
            return _fault(f"Unable to process message! {exc}")
        try:
            root = parse_xml(envelope, what="ebMS envelope")
        except UnsafeXmlError as exc:
            return _fault(f"Unable to process message! {exc}")
        problems = schema_problems(root)
        if problems:  # as ebms-core: a schema violation is a SOAP Fault, never an ack
            reason, where = problems[0]
            return _fault(
                "Unable to process message! The envelope violates the ebMS 2.0 schema: "
                f"{reason} (at {where})"
            )
        try:
            message = parse_envelope(root, tuple(attachments.values()))
        except EnvelopeError as exc:
            return self._envelope_error(exc)
        cpa = self._cpas.get(message.header.cpa_id)
        if cpa is None:
            return _fault(f"CPA {message.header.cpa_id} not found!", message)
        if self.verify_client_certificate:
            fault = self._check_client_certificate(message, cpa, peer_cert)
            if fault is not None:
                return fault
        return self._handle_message(message, cpa, content_type, body, peer_cert, connection)

    def _envelope_error(self, exc: EnvelopeError) -> MshResult:
        header = exc.header
        if exc.soap_fault or header is None:
            return _fault(f"Unable to process message! {exc.message}")
        cpa = self._cpas.get(header.cpa_id)
        if cpa is None:
            return _fault(f"CPA {header.cpa_id} not found!")
        return self._reply_error(EbmsMessage(header), cpa, (exc.as_ebms_error(),))

    def _check_client_certificate(
        self, message: EbmsMessage, cpa: Cpa, peer_cert: x509.Certificate | None
    ) -> MshResult | None:
        sender = _exact_party(cpa, message.header.from_parties)
        if sender is None:
            return None  # the party check answers this one
        if peer_cert is None:
            return _fault(
                "Invalid SSL Client Certificate! No client certificate was presented.", message
            )
        if client_certificate_matches(sender, peer_cert):
            return None
        oin = _safe_oin(peer_cert)
        return _fault(
            "Invalid SSL Client Certificate! The certificate "
            f"({'OIN ' + oin if oin else 'without OIN'}) is not that of {sender.name} "
            f"({', '.join(sender.ids)}) in CPA {cpa.cpa_id}.",
            message,
        )

    def _check_recipient(self, header: MessageHeader) -> bool:
        """False when ``header`` refers to a message this side sent to another party."""
        ref = header.ref_to_message_id
        if not ref or not header.is_msh_signal:
            return True
        recipient = self.sent_to(ref)
        if recipient is None:
            return True
        return any(pid.value in recipient for pid in header.from_parties)

    def _handle_message(
        self,
        message: EbmsMessage,
        cpa: Cpa,
        content_type: str,
        body: bytes,
        peer_cert: x509.Certificate | None,
        connection: tuple[tuple[str, str], ...] = (),
    ) -> MshResult:
        header = message.header
        now = self.clock()
        if not cpa.is_valid_at(header.timestamp) or not cpa.is_valid_at(now):
            return self._reply_error(
                message,
                cpa,
                (EbmsError(c.INCONSISTENT, location=LOC_CPA_ID, description="Invalid CPA."),),
            )
        party_error = self._check_parties(header, cpa)
        if party_error is not None:
            return self._reply_error(message, cpa, (party_error,))
        if header.is_msh_signal:
            if header.action not in c.MSH_ACTIONS or header.service_type:
                return self._reply_error(
                    message,
                    cpa,
                    (
                        _error(
                            c.VALUE_NOT_RECOGNIZED,
                            LOC_ACTION,
                            f"Unknown MSH action {header.action!r}.",
                        ),
                    ),
                )
        else:
            binding_error = self._check_binding(header, cpa)
            if binding_error is not None:
                return self._reply_error(message, cpa, (binding_error,))
        if header.time_to_live is not None and header.time_to_live < now:
            return self._reply_error(
                message, cpa, (_error(c.TIME_TO_LIVE_EXPIRED, LOC_TTL, "TimeToLive has expired."),)
            )
        if header.ref_to_message_id and not self.store.is_known(header.ref_to_message_id):
            if header.action == c.ACTION_MESSAGE_ERROR:
                return self._accept_signal(message)  # never answer an error with an error
            return self._reply_error(
                message, cpa, (_error(c.VALUE_NOT_RECOGNIZED, LOC_REF_TO, "Value not found."),)
            )
        if not self._check_recipient(header):
            if header.action == c.ACTION_MESSAGE_ERROR:  # never answer an error with an error
                return MshResult(204, message=message)
            return self._reply_error(
                message,
                cpa,
                (
                    _error(
                        c.INCONSISTENT,
                        LOC_REF_TO,
                        "The referred message was not sent to this party.",
                    ),
                ),
            )
        if not header.is_msh_signal:
            channel_error = self._check_channel(message, cpa)
            if channel_error is not None:
                return self._reply_error(message, cpa, (channel_error,))
            manifest_error = _check_manifest(message)
            if manifest_error is not None:
                return self._reply_error(message, cpa, (manifest_error,))
            return self._business(message, cpa, content_type, body, peer_cert, connection)
        if header.action == c.ACTION_PING:
            return self._reply(message, cpa, pong_for(message, host=self._host(cpa, header)))
        if header.action == c.ACTION_STATUS_REQUEST:
            return self._status(message, cpa)
        return self._accept_signal(message)

    # -- checks -----------------------------------------------------------------------------
    def _check_parties(self, header: MessageHeader, cpa: Cpa) -> EbmsError | None:
        sender = _exact_party(cpa, header.from_parties)
        if sender is None:
            return _error(c.INCONSISTENT, LOC_FROM_PARTY, "Value not found.")
        receiver = _exact_party(cpa, header.to_parties)
        if receiver is None or receiver is sender or not self.is_own(receiver):
            return _error(c.INCONSISTENT, LOC_TO_PARTY, "Value not found.")
        return None

    def _check_binding(self, header: MessageHeader, cpa: Cpa) -> EbmsError | None:
        if not header.from_role:
            return _error(c.INCONSISTENT, LOC_FROM_ROLE, "Value not found.")
        sender = cpa.party(header.from_party)
        receiver = cpa.party(header.to_party)
        sends = any(
            binding.role == header.from_role
            and binding.service == header.service
            and binding.service_type == header.service_type
            and any(a.action == header.action for a in binding.can_send)
            for binding in sender.service_bindings
        )
        receives = any(
            (header.to_role is None or binding.role == header.to_role)
            and binding.service == header.service
            and binding.service_type == header.service_type
            and any(a.action == header.action for a in binding.can_receive)
            for binding in receiver.service_bindings
        )
        if not (sends and receives):
            return _error(c.VALUE_NOT_RECOGNIZED, LOC_ACTION, "Value not found.")
        return None

    def _check_channel(self, message: EbmsMessage, cpa: Cpa) -> EbmsError | None:
        header = message.header
        try:
            channel = cpa.send_channel(
                header.from_party, header.action, header.service,
                service_type=header.service_type, role=header.from_role,
            )
        except CpaError:
            return _error(c.VALUE_NOT_RECOGNIZED, LOC_ACTION, "Value not found.")
        dup = channel.duplicate_elimination
        if (dup == "always" and not header.duplicate_elimination) or (
            dup == "never" and header.duplicate_elimination
        ):
            return _error(c.INCONSISTENT, LOC_DUP_ELIM, f"Value does not match the CPA ({dup}).")
        ack = message.ack_requested
        if (channel.ack_requested == "always" and ack is None) or (
            channel.ack_requested == "never" and ack is not None
        ):
            return _error(
                c.INCONSISTENT,
                LOC_ACK_REQUESTED,
                f"Value does not match the CPA ({channel.ack_requested}).",
            )
        if ack is not None:
            signed = channel.ack_signature_requested
            if (signed == "always" and not ack.signed) or (signed == "never" and ack.signed):
                return _error(
                    c.INCONSISTENT, LOC_ACK_SIGNED, f"Value does not match the CPA ({signed})."
                )
        sync_mode = channel.sync_reply_mode
        if (sync_mode == "none" and message.sync_reply is not None) or (
            sync_mode != "none" and message.sync_reply is None
        ):
            return _error(
                c.INCONSISTENT, LOC_SYNC_REPLY, f"Value does not match the CPA ({sync_mode})."
            )
        return None

    # -- replies ----------------------------------------------------------------------------
    def _host(self, cpa: Cpa, header: MessageHeader) -> str:
        if self.host:
            return self.host
        try:
            endpoint = cpa.endpoint_for(header.to_party)
        except CpaError:
            return "localhost"
        return urlsplit(endpoint).hostname or "localhost"

    def _reply_sync(self, message: EbmsMessage, cpa: Cpa) -> bool:
        if message.sync_reply is not None:
            return True
        try:
            return cpa.msh_channel(message.header.from_party).sync_reply_mode != "none"
        except CpaError:
            return True

    def _reply(
        self,
        message: EbmsMessage,
        cpa: Cpa,
        reply: EbmsMessage,
        *,
        errors: tuple[EbmsError, ...] = (),
        delivered: bool = False,
    ) -> MshResult:
        body = build_envelope(reply)
        if self._reply_sync(message, cpa):
            return MshResult(
                200,
                c.TEXT_XML,
                body,
                message=message,
                reply=reply,
                errors=errors,
                delivered=delivered,
            )
        try:
            url = cpa.endpoint_for(message.header.from_party, reply.header.action)
        except CpaError:
            return MshResult(
                200,
                c.TEXT_XML,
                body,
                message=message,
                reply=reply,
                errors=errors,
                delivered=delivered,
            )
        outbound = Outbound(url, c.TEXT_XML, body, reply, cpa.cpa_id)
        return MshResult(
            204,
            message=message,
            reply=reply,
            outbound=(outbound,),
            errors=errors,
            delivered=delivered,
        )

    def _reply_error(
        self, message: EbmsMessage, cpa: Cpa, errors: tuple[EbmsError, ...]
    ) -> MshResult:
        reply = message_error_for(
            message, errors, host=self._host(cpa, message.header), now=self.clock()
        )
        return self._reply(message, cpa, reply, errors=errors)

    def _accept_signal(self, message: EbmsMessage) -> MshResult:
        if self.on_signal is not None:
            self.on_signal(message)
        return MshResult(204, message=message)

    def _status(self, message: EbmsMessage, cpa: Cpa) -> MshResult:
        request = message.status_request
        if request is None:
            return self._reply_error(
                message,
                cpa,
                (_error(c.OTHER_XML, "//Body/StatusRequest", "eb:StatusRequest is missing."),),
            )
        record = self.store.get(request.ref_to_message_id)
        if record is None:
            status, stamp = "NotRecognized", None
        elif record.cpa_id != cpa.cpa_id or record.from_party != _party_ref(
            message.header.from_party
        ):
            status, stamp = "UnAuthorized", None
        else:
            status, stamp = record.status, record.received_at
        reply = status_response_for(
            message,
            status,
            host=self._host(cpa, message.header),
            timestamp=stamp,
            now=self.clock(),
        )
        return self._reply(message, cpa, reply)

    def _business(
        self,
        message: EbmsMessage,
        cpa: Cpa,
        content_type: str,
        body: bytes,
        peer_cert: x509.Certificate | None,
        connection: tuple[tuple[str, str], ...] = (),
    ) -> MshResult:
        header = message.header
        record = StoredMessage(
            message_id=header.message_id,
            digest=_digest(content_type, body),
            cpa_id=cpa.cpa_id,
            from_party=_party_ref(header.from_party),
            action=header.action,
            received_at=self.clock(),
        )
        existing = self.store.claim(record)
        if existing is not None:
            return self._duplicate(message, cpa, existing, record.digest)
        if self.on_deliver is not None:
            try:
                self.on_deliver(AcceptedMessage(message, cpa, content_type, body, peer_cert,
                                                connection))
            except Exception as exc:  # the application refused or failed
                result = self._reply_error(
                    message,
                    cpa,
                    (
                        _error(
                            c.DELIVERY_FAILURE,
                            LOC_MESSAGE_HEADER,
                            f"Delivery failed: {type(exc).__name__}: {exc}",
                        ),
                    ),
                )
                self.store.set_reply(header.message_id, result)
                return result
        if message.ack_requested is not None:
            ack = acknowledgment_for(message, host=self._host(cpa, header), now=self.clock())
            result = self._reply(message, cpa, ack, delivered=True)
        else:
            result = MshResult(204, message=message, delivered=True)
        self.store.set_reply(header.message_id, result)
        return result

    def _duplicate(
        self, message: EbmsMessage, cpa: Cpa, existing: StoredMessage, digest: str
    ) -> MshResult:
        if existing.digest != digest:
            return _fault(
                f"MessageId {message.header.message_id} already used!",
                message,
                SOAP_FAULT_CLIENT,
            )
        original = existing.reply
        if original is None:  # first copy still being processed: acknowledge again
            if message.ack_requested is None:
                return MshResult(204, message=message, duplicate=True)
            ack = acknowledgment_for(
                message, host=self._host(cpa, message.header), now=self.clock()
            )
            original = self._reply(message, cpa, ack)
        return dataclasses.replace(original, message=message, duplicate=True, delivered=False)


# --- helpers ---------------------------------------------------------------------------------


def _error(code: str, location: str, description: str) -> EbmsError:
    return EbmsError(code, c.SEVERITY_ERROR, location, description)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _safe_oin(certificate: x509.Certificate) -> str | None:
    try:
        return subject_oin(certificate)
    except ValueError:
        return None


def client_certificate_matches(party: PartyInfo, certificate: x509.Certificate) -> bool:
    """True when ``certificate`` is one of ``party``'s certificates in the CPA, or carries its
    OIN (a renewed certificate of the same organisation)."""
    for item in party.certificates.values():
        if certificate in item.certificates[:1]:
            return True
    oin = _safe_oin(certificate)
    return oin is not None and party.oin is not None and oin == party.oin


def _exact_party(cpa: Cpa, parties: tuple[PartyId, ...]) -> PartyInfo | None:
    for info in cpa.parties:
        if all(pid in info.party_ids for pid in parties):
            return info
    return None


def _check_manifest(message: EbmsMessage) -> EbmsError | None:
    for reference in message.manifest or ():
        cid = reference.content_id
        if cid is None:
            return _error(
                c.MIME_PROBLEM,
                f"{LOC_MANIFEST}[@href='{reference.href}']",
                "URI cannot be resolved.",
            )
        if message.attachment(cid) is None:  # ebms-core locates this one at the href itself
            return _error(c.MIME_PROBLEM, reference.href, "MIME part not found.")
    return None
