"""``receiver``: the harness's own ebMS endpoint sees the verzoeknotificatie itself.

Use it when the harness stands where the Digikoppeling-adapter delivers (the CPA's endpoint
points at the harness), and in local mode, where the harness's receiver is the reference DKA
the simulator delivers to. The ebMS receiver (:mod:`pytest_dso.ebms.receiver`) does the MSH
work (acknowledgments as the CPA asks, duplicate elimination); this source only records every
business message it hands on: the payload (the first XML part), the MessageId, and the From and
To party OINs from the ebMS header.

Wire it with :meth:`ReceiverTriggerSource.on_delivery` as (one of) the receiver's delivery
callbacks. When ``receiver`` is given, :meth:`start`/:meth:`stop` start and stop it too.
"""

from __future__ import annotations

from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from pytest_dso.ebms.envelope import EbmsMessage
from pytest_dso.ebms.msh import AcceptedMessage
from pytest_dso.triggers.base import LoggingSource, Trigger
from pytest_dso.triggers.extract import STAM_EXTRACTOR, TriggerParseError, VerzoeknummerExtractor


class _Startable(Protocol):
    def start(self) -> Any: ...

    def stop(self) -> Any: ...


def _oin(value: str) -> str | None:
    tail = value.rsplit(":", 1)[-1]
    return tail if tail.isdigit() and len(tail) == 20 else None


def payload_of(message: EbmsMessage) -> bytes:
    """The business payload: the first XML attachment, else the first attachment."""
    for attachment in message.attachments:
        if "xml" in attachment.content_type.lower():
            return attachment.data
    return message.attachments[0].data if message.attachments else b""


def header_details(message: EbmsMessage) -> tuple[tuple[str, str], ...]:
    """The ebMS header of ``message`` as ``(name, value)`` pairs for evidence."""
    h = message.header
    stamp = h.timestamp.isoformat() if h.timestamp is not None else "-"
    return (
        ("ConversationId", h.conversation_id),
        ("CPAId", h.cpa_id),
        ("RefToMessageId", h.ref_to_message_id or "-"),
        ("From", ", ".join(str(p) for p in h.from_parties)),
        ("To", ", ".join(str(p) for p in h.to_parties)),
        ("Service/Action", f"{h.service} / {h.action}"),
        ("Timestamp", stamp),
    )


class ReceiverTriggerSource(LoggingSource):
    """Triggers from the harness's ebMS receiver; see the module docstring."""

    name = "receiver"

    def __init__(
        self,
        receiver: _Startable | None = None,
        *,
        extractor: VerzoeknummerExtractor = STAM_EXTRACTOR,
    ) -> None:
        super().__init__()
        self.receiver = receiver
        self.extractor = extractor

    def start(self) -> None:
        """Start the wrapped receiver, if any."""
        if self.receiver is not None:
            self.receiver.start()

    def stop(self) -> None:
        """Stop the wrapped receiver, if any."""
        if self.receiver is not None:
            self.receiver.stop()

    def on_delivery(self, delivery: AcceptedMessage) -> None:
        """Delivery callback for the receiver: record the message, its envelope and the
        sender's client certificate."""
        self.record_message(delivery.message, envelope=delivery.body,
                            peer_certificate=delivery.peer_certificate,
                            connection=delivery.connection)

    def record_message(
        self,
        message: EbmsMessage,
        *,
        envelope: bytes = b"",
        peer_certificate: x509.Certificate | None = None,
        connection: tuple[tuple[str, str], ...] = (),
    ) -> Trigger:
        """Record one received business message (with its ebMS header and the facts of its
        TLS connection as evidence)."""
        header = message.header
        sender = next((o for p in header.from_parties if (o := _oin(p.value))), None)
        recipient = next((o for p in header.to_parties if (o := _oin(p.value))), None)
        payload = payload_of(message)
        where = f"ebMS {header.service} {header.action}"
        evidence: dict[str, Any] = {
            "envelope": envelope,
            "details": (*header_details(message), *connection),
            "peer_certificate_der": peer_certificate.public_bytes(Encoding.DER)
            if peer_certificate is not None else None,
        }
        try:
            found = self.extractor.extract(payload)
        except TriggerParseError as exc:
            return self.log.record(payload, verzoeknummer="", sender_oin=sender,
                                   recipient_oin=recipient, message_id=header.message_id,
                                   problem=str(exc), location=where, **evidence)
        return self.log.record(
            payload,
            verzoeknummer=found.verzoeknummer,
            kind=found.kind,
            sender_oin=sender,
            # The notificatie names the bevoegd gezag or behandeldienst it is for; the ebMS To
            # party is often the Digikoppelaar that receives for many of them.
            recipient_oin=found.recipient_oin or recipient,
            message_id=header.message_id,
            location=where,
            **evidence,
        )
