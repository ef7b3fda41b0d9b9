"""The delivery journal on the simulator's SQLite store.

Each verzoeknotificatie is kept as an outgoing message (its exact wire bytes, so a re-send after
a restart is byte-identical, same MessageId) plus a delivery row with its attempts. The
store's statuses map to the scheduler's: ``pending`` → pending, ``sent`` → awaiting_ack,
``acked`` → delivered, ``failed`` → failed or expired (the reason says which).
"""

from __future__ import annotations

import datetime as dt
import threading

from pytest_dso.sim.delivery import Attempt, Delivery, DeliveryState, RetryPolicy
from pytest_dso.sim.store import DeliveryStatus, Store

_STATES: dict[DeliveryStatus, DeliveryState] = {
    DeliveryStatus.PENDING: "pending",
    DeliveryStatus.SENT: "awaiting_ack",
    DeliveryStatus.ACKED: "delivered",
    DeliveryStatus.FAILED: "failed",
}


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class StoreJournal:
    """:class:`~pytest_dso.sim.delivery.DeliveryJournal` on a :class:`Store`."""

    def __init__(self, store: Store, policy: RetryPolicy) -> None:
        self._store = store
        self._policy = policy
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}

    def _delivery_id(self, message_id: str) -> int:
        with self._lock:
            known = self._ids.get(message_id)
        if known is not None:
            return known
        found = self._store.delivery_for_message(message_id)
        if found is None:
            raise KeyError(f"no delivery for MessageId {message_id}")
        with self._lock:
            self._ids[message_id] = found.id
        return found.id

    def add(self, delivery: Delivery) -> None:
        with self._store.transaction():
            row = self._store.add_message(
                direction="out", kind="verzoeknotificatie", raw=delivery.payload,
                ebms_message_id=delivery.message_id, conversation_id=delivery.conversation_id,
                to_oin=delivery.to_oin, verzoeknummer=delivery.verzoeknummer,
                content_type=delivery.content_type,
            )
            delivery_id = self._store.add_delivery(
                message_id=row, recipient_oin=delivery.to_oin, endpoint=delivery.endpoint,
                verzoeknummer=delivery.verzoeknummer, volgnummer=0,
                next_attempt_at=_utc(delivery.next_attempt),
            )
        with self._lock:
            self._ids[delivery.message_id] = delivery_id

    def attempted(self, delivery: Delivery, attempt: Attempt) -> None:
        ok = attempt.outcome in ("acked", "sent")
        delivery_id = self._delivery_id(delivery.message_id)
        self._store.record_attempt(
            delivery_id, ok=ok, http_status=attempt.http_status, error=attempt.detail,
            duration_ms=attempt.duration * 1000.0,
            next_attempt_at=_utc(delivery.next_attempt) if delivery.next_attempt else None,
        )

    def finished(self, delivery: Delivery) -> None:
        delivery_id = self._delivery_id(delivery.message_id)
        if delivery.state == "delivered":
            self._store.mark_acked(delivery_id)
        else:
            reason = delivery.last_error or delivery.state
            prefix = "expired: " if delivery.state == "expired" else ""
            self._store.mark_failed(delivery_id, prefix + reason)
        with self._lock:
            self._ids.pop(delivery.message_id, None)

    def unfinished(self) -> list[Delivery]:
        out: list[Delivery] = []
        for row in self._store.pending_deliveries():
            message = self._store.get_message(row.message_id)
            if message is None:
                continue
            created = row.created_at.timestamp()
            out.append(
                Delivery(
                    message_id=message.ebms_message_id,
                    conversation_id=message.conversation_id,
                    verzoeknummer=row.verzoeknummer,
                    to_oin=row.recipient_oin,
                    payload=message.raw,
                    created=created,
                    expires=created + self._policy.ttl,
                    endpoint=row.endpoint,
                    content_type=message.content_type,
                    state=_STATES[row.status],
                    attempts=row.attempts,
                    next_attempt=(row.next_attempt_at or row.created_at).timestamp(),
                    last_error=row.last_error,
                )
            )
            with self._lock:
                self._ids[message.ebms_message_id] = row.id
        return out
