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

from pytest_dso.ebms.envelope import EbmsMessage
from pytest_dso.ebms.msh import Delivery
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

    def on_delivery(self, delivery: Delivery) -> None:
        """Delivery callback for the receiver: record the message."""
        self.record_message(delivery.message)

    def record_message(self, message: EbmsMessage) -> Trigger:
        """Record one received business message."""
        header = message.header
        sender = next((o for p in header.from_parties if (o := _oin(p.value))), None)
        recipient = next((o for p in header.to_parties if (o := _oin(p.value))), None)
        payload = payload_of(message)
        where = f"ebMS {header.service} {header.action}"
        try:
            found = self.extractor.extract(payload)
        except TriggerParseError as exc:
            return self.log.record(payload, verzoeknummer="", sender_oin=sender,
                                   recipient_oin=recipient, message_id=header.message_id,
                                   problem=str(exc), location=where)
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
        )
