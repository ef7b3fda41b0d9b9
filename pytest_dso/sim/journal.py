"""The delivery journal on the simulator's SQLite store.

Each verzoeknotificatie is kept as an outgoing message (its exact wire bytes, so a re-send after
a restart is byte-identical, same MessageId) plus a delivery row with its attempts; the store
reads both back as one :class:`~pytest_dso.sim.delivery.Delivery`.
"""

from __future__ import annotations

import datetime as dt
import threading

from pytest_dso.sim.delivery import Attempt, Delivery, DeliveryStatus
from pytest_dso.sim.store import Store


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


class StoreJournal:
    """:class:`~pytest_dso.sim.delivery.DeliveryJournal` on a :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self._store = store
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
                to_oin=delivery.recipient_oin, verzoeknummer=delivery.verzoeknummer,
                content_type=delivery.content_type,
            )
            delivery_id = self._store.add_delivery(
                message_id=row, recipient_oin=delivery.recipient_oin, endpoint=delivery.endpoint,
                verzoeknummer=delivery.verzoeknummer, volgnummer=delivery.volgnummer,
                kopie=delivery.kopie, next_attempt_at=_utc(delivery.next_attempt),
                expires_at=_utc(delivery.expires), reliable=delivery.reliable,
            )
        with self._lock:
            self._ids[delivery.message_id] = delivery_id

    def attempted(self, delivery: Delivery, attempt: Attempt) -> None:
        delivery_id = self._delivery_id(delivery.message_id)
        self._store.write_attempt(
            delivery_id, attempt,
            next_attempt_at=_utc(delivery.next_attempt) if delivery.next_attempt else None,
        )

    def finished(self, delivery: Delivery) -> None:
        delivery_id = self._delivery_id(delivery.message_id)
        if delivery.status is DeliveryStatus.ACKED:
            self._store.write_acked(delivery_id)
        elif delivery.status is DeliveryStatus.DELIVERED:
            self._store.mark_failed(delivery_id, "", delivery.status)  # final, no error
        else:
            reason = delivery.last_error or delivery.status.value
            expired = delivery.status is DeliveryStatus.EXPIRED
            prefix = "expired: " if expired else ""
            self._store.mark_failed(delivery_id, prefix + reason, delivery.status)
        with self._lock:
            self._ids.pop(delivery.message_id, None)

    def unfinished(self) -> list[Delivery]:
        out = list(self._store.pending_deliveries())
        with self._lock:
            for delivery in out:
                self._ids[delivery.message_id] = delivery.id
        return out
