"""Reliable delivery of verzoeknotificaties: send, wait for the Acknowledgment, retry, give up.

The scheduler follows ebMS 2.0 reliable messaging as Digikoppeling ``osb-rm`` uses it: every
attempt re-sends the *same* message (same MessageId), the next attempt is due ``RetryInterval``
after the previous one unless an Acknowledgment arrived, and delivery stops after ``Retries``
re-sends or when the message's TimeToLive has passed. A delivery on a best-effort binding (the
CPA's channel requests no Acknowledgment, ``reliable=False``) is sent once and never re-sent:
taken (2xx) it ends DELIVERED, otherwise FAILED. Every attempt is recorded.

The scheduler knows nothing about HTTP or ebMS: it calls an injected :data:`Sender` and keeps its
state in an injected :class:`DeliveryJournal` (the simulator's SQLite store, or memory in tests).
On start it resumes whatever the journal still has pending, so a restart loses nothing.
"""

from __future__ import annotations

import enum
import heapq
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

OutcomeKind = Literal["acked", "sent", "retry", "fatal"]


class DeliveryStatus(enum.StrEnum):
    """Where a verzoeknotificatie delivery stands."""

    PENDING = "pending"  # not yet sent, or a retry is scheduled
    SENT = "sent"  # the recipient's MSH took it (HTTP 2xx); waiting for the Acknowledgment
    ACKED = "acked"  # acknowledged (final)
    FAILED = "failed"  # given up or refused (final)
    EXPIRED = "expired"  # TimeToLive passed without an Acknowledgment (final)
    DELIVERED = "delivered"  # best effort: the recipient's MSH took it, no ack expected (final)


FINAL_STATES: frozenset[DeliveryStatus] = frozenset(
    {DeliveryStatus.ACKED, DeliveryStatus.FAILED, DeliveryStatus.EXPIRED,
     DeliveryStatus.DELIVERED}
)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries, RetryInterval and TimeToLive in seconds (already scaled for test runs)."""

    retries: int = 8
    retry_interval: float = 3 * 3600.0
    time_to_live: float | None = None

    @property
    def ttl(self) -> float:
        """TimeToLive: as configured, else RetryInterval × (Retries + 1) as ebMS senders do."""
        if self.time_to_live is not None:
            return self.time_to_live
        return self.retry_interval * (self.retries + 1)


@dataclass(frozen=True)
class Delivery:
    """One verzoeknotificatie to one recipient, and how its delivery went.

    The scheduler works on it in memory and the simulator's store keeps it; ``id`` is the
    store's row id (0 before it is stored). Times are POSIX seconds.
    """

    message_id: str  # the ebMS MessageId, the same on every attempt
    conversation_id: str
    verzoeknummer: str
    recipient_oin: str
    payload: bytes = field(repr=False)
    created: float
    expires: float
    endpoint: str = ""
    content_type: str = ""
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    next_attempt: float = 0.0
    acked_at: float | None = None
    last_error: str = ""
    last_http_status: int | None = None
    volgnummer: int = 0
    kopie: bool = False
    id: int = 0
    ack_message_id: int | None = None
    #: False on a best-effort binding: sent once, never re-sent, no Acknowledgment awaited.
    reliable: bool = True


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt achieved.

    ``acked``: the Acknowledgment came back in the HTTP response (sync); ``sent``: the DKA took
    the message (2xx) and the Acknowledgment will come as a separate message (async); ``retry``:
    a recoverable failure (connection refused, timeout, 408/429/5xx); ``fatal``: the DKA
    refused the message for good (e.g. a MessageError, a 4xx).
    """

    kind: OutcomeKind
    http_status: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Attempt:
    """One recorded attempt: when it started (POSIX seconds), how long it took (seconds)."""

    message_id: str
    number: int
    started: float
    duration: float
    outcome: OutcomeKind
    http_status: int | None
    detail: str

    @property
    def ok(self) -> bool:
        """The recipient took the message (acknowledged, or accepted awaiting the ack)."""
        return self.outcome in ("acked", "sent")


Sender = Callable[[Delivery, int], SendOutcome]


class DeliveryJournal(Protocol):
    """Where the scheduler keeps deliveries and attempts (keyed by MessageId)."""

    def add(self, delivery: Delivery) -> None:
        """Persist a new delivery."""

    def attempted(self, delivery: Delivery, attempt: Attempt) -> None:
        """Persist one attempt and the delivery's state after it. Must never turn a delivery
        that :meth:`finished` marked delivered back into a pending one."""

    def finished(self, delivery: Delivery) -> None:
        """Persist a final state (delivered, failed or expired)."""

    def unfinished(self) -> list[Delivery]:
        """Every delivery not yet delivered, failed or expired."""


class MemoryJournal:
    """A journal in memory (for tests and throw-away simulators)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.deliveries: dict[str, Delivery] = {}
        self.attempts: list[Attempt] = []

    def add(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries[delivery.message_id] = delivery

    def attempted(self, delivery: Delivery, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)
            if self.deliveries[delivery.message_id].status not in FINAL_STATES:
                self.deliveries[delivery.message_id] = delivery

    def finished(self, delivery: Delivery) -> None:
        with self._lock:
            self.deliveries[delivery.message_id] = delivery

    def unfinished(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.deliveries.values() if d.status not in FINAL_STATES]


Listener = Callable[[Delivery], None]


class DeliveryScheduler:
    """Sends deliveries with ``sender`` on a worker pool and retries them per ``policy``."""

    def __init__(
        self,
        sender: Sender,
        journal: DeliveryJournal,
        policy: RetryPolicy,
        *,
        workers: int = 16,
        clock: Callable[[], float] = time.time,
        on_final: Listener | None = None,
    ) -> None:
        self._sender = sender
        self._journal = journal
        self.policy = policy
        self._workers = max(1, workers)
        self._clock = clock
        self._on_final = on_final
        self._lock = threading.Condition()
        self._live: dict[str, Delivery] = {}
        self._in_flight: set[str] = set()
        self._early_acks: set[str] = set()
        self._heap: list[tuple[float, int, str]] = []
        self._seq = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    # -- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Resume unfinished deliveries from the journal and start dispatching."""
        if self._thread is not None:
            return
        self._stopping = False
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="dso-sim-send")
        for delivery in self._journal.unfinished():
            # Whatever was in flight when the simulator stopped is re-sent now.
            self._track(replace(delivery, next_attempt=min(delivery.next_attempt, self._clock())))
        self._thread = threading.Thread(target=self._run, name="dso-sim-delivery", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop dispatching; attempts in progress finish (bounded by the sender's timeouts)."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    # -- public operations ----------------------------------------------------------------
    def submit(
        self, message_id: str, conversation_id: str, verzoeknummer: str, recipient_oin: str,
        payload: bytes, *, endpoint: str = "", content_type: str = "",
        defer: Callable[[Callable[[], None]], None] | None = None, reliable: bool = True,
    ) -> Delivery:
        """Persist a new delivery and send it as soon as a worker is free. With ``defer``
        (e.g. ``Store.after_commit``) sending waits until ``defer`` runs the callback it gets:
        a delivery written in a transaction leaves only once that transaction committed."""
        now = self._clock()
        delivery = Delivery(
            message_id, conversation_id, verzoeknummer, recipient_oin, payload,
            created=now, expires=now + self.policy.ttl, endpoint=endpoint,
            content_type=content_type, next_attempt=now, reliable=reliable,
        )
        self._journal.add(delivery)
        if defer is None:
            self._track(delivery)
        else:
            defer(lambda: self._track(delivery))
        return delivery

    def acknowledge(self, message_id: str) -> bool:
        """Mark ``message_id`` delivered (an Acknowledgment arrived). False when unknown or
        already final."""
        with self._lock:
            delivery = self._live.get(message_id)
            if delivery is None:
                return False
            if message_id in self._in_flight:
                # The async ack overtook the end of the attempt that caused it.
                self._early_acks.add(message_id)
                return True
            done = replace(delivery, status=DeliveryStatus.ACKED, acked_at=self._clock())
            del self._live[message_id]
        self._finish(done)
        return True

    def reject(self, message_id: str, reason: str) -> bool:
        """The receiver refused ``message_id`` for good (a MessageError): stop retrying."""
        with self._lock:
            delivery = self._live.pop(message_id, None)
            self._in_flight.discard(message_id)
        if delivery is None:
            return False
        self._finish(replace(delivery, status=DeliveryStatus.FAILED, last_error=reason))
        return True

    def get(self, message_id: str) -> Delivery | None:
        """The live (unfinished) delivery with this MessageId, if any."""
        with self._lock:
            return self._live.get(message_id)

    def pending_count(self) -> int:
        """How many deliveries are not yet final."""
        with self._lock:
            return len(self._live)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no delivery is pending; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._live:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.1))
            return True

    # -- internals ------------------------------------------------------------------------
    def _track(self, delivery: Delivery) -> None:
        with self._lock:
            self._live[delivery.message_id] = delivery
            self._push(delivery.next_attempt, delivery.message_id)

    def _push(self, due: float, message_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, message_id))
        self._lock.notify_all()

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                due_now = self._due()
                if not due_now:
                    wait = self._heap[0][0] - self._clock() if self._heap else 0.5
                    self._lock.wait(max(0.001, min(wait, 0.5)))
                    continue
                pool = self._pool
            if pool is None:
                return
            for delivery in due_now:
                try:
                    pool.submit(self._attempt, delivery)
                except RuntimeError:  # pool shut down while stopping
                    return

    def _due(self) -> list[Delivery]:
        """Pop every due, still-live, not-in-flight delivery (lock held)."""
        now = self._clock()
        out: list[Delivery] = []
        while self._heap and self._heap[0][0] <= now:
            due, _, message_id = heapq.heappop(self._heap)
            delivery = self._live.get(message_id)
            if delivery is None or message_id in self._in_flight or delivery.next_attempt != due:
                continue
            self._in_flight.add(message_id)
            out.append(delivery)
        return out

    def _attempt(self, delivery: Delivery) -> None:
        now = self._clock()
        once = not delivery.reliable and delivery.attempts >= 1  # e.g. found after a restart
        if now >= delivery.expires or delivery.attempts > self.policy.retries or once:
            expired = now >= delivery.expires and not once
            status = DeliveryStatus.EXPIRED if expired else DeliveryStatus.FAILED
            reason = (
                "best effort: sent once, not re-sent"
                if once
                else "TimeToLive passed without an Acknowledgment"
                if expired
                else f"no Acknowledgment after {delivery.attempts} attempt(s)"
            )
            with self._lock:
                self._in_flight.discard(delivery.message_id)
                self._live.pop(delivery.message_id, None)
                self._early_acks.discard(delivery.message_id)
            self._finish(replace(delivery, status=status, last_error=delivery.last_error or reason))
            return
        number = delivery.attempts + 1
        started = time.monotonic()
        try:
            outcome = self._sender(delivery, number)
        except Exception as exc:  # a sender bug must not kill the worker
            outcome = SendOutcome("retry", None, f"{type(exc).__name__}: {exc}")
        duration = time.monotonic() - started
        attempt = Attempt(delivery.message_id, number, now, duration, outcome.kind,
                          outcome.http_status, outcome.detail)
        updated = replace(delivery, attempts=number, last_error=outcome.detail,
                          last_http_status=outcome.http_status)
        final: Delivery | None = None
        with self._lock:
            self._in_flight.discard(delivery.message_id)
            early = delivery.message_id in self._early_acks
            self._early_acks.discard(delivery.message_id)
            if outcome.kind == "acked" or early:
                final = replace(updated, status=DeliveryStatus.ACKED, acked_at=self._clock(),
                                last_error="")
            elif outcome.kind == "fatal":
                final = replace(updated, status=DeliveryStatus.FAILED)
            elif not delivery.reliable:
                # best effort: one attempt, whatever it gave; the outcome stays recorded
                taken = outcome.kind == "sent"
                final = replace(
                    updated,
                    status=DeliveryStatus.DELIVERED if taken else DeliveryStatus.FAILED,
                    last_error="" if taken
                    else f"best effort, not re-sent: {outcome.detail or outcome.kind}",
                )
            else:
                sent = outcome.kind == "sent"
                status = DeliveryStatus.SENT if sent else DeliveryStatus.PENDING
                next_at = self._clock() + self.policy.retry_interval
                updated = replace(updated, status=status, next_attempt=next_at)
                if delivery.message_id in self._live:
                    self._live[delivery.message_id] = updated
                    self._push(next_at, delivery.message_id)
            # Saved under the lock so a concurrent Acknowledgment cannot be overwritten.
            self._journal.attempted(final or updated, attempt)
            if final is not None:
                self._live.pop(delivery.message_id, None)
        if final is not None:
            self._finish(final)

    def _finish(self, delivery: Delivery) -> None:
        self._journal.finished(delivery)
        with self._lock:
            self._lock.notify_all()
        if self._on_final is not None:
            self._on_final(delivery)

