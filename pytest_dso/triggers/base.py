"""The trigger vocabulary: a :class:`Trigger` value, the :class:`TriggerSource` protocol and a
thread-safe :class:`TriggerLog` every built-in source keeps its triggers in.

A trigger is one observed verzoeknotificatie. Sources differ in *where* they observe it (the
harness's own ebMS receiver, a drop folder, an HTTPS forward, the ebms-core REST API, or a
verzoeknummer typed in by a person) but all answer the same questions: "has the trigger for
verzoeknummer X arrived?" (:meth:`TriggerSource.wait_for`) and "what arrived at all?"
(:meth:`TriggerSource.all`). Nothing is ever dropped: duplicates, triggers for other verzoeken,
triggers that arrive after their wait timed out (late) and payloads whose verzoeknummer could not
be read are all kept, flagged, and reported.

**One trigger log per session.** A source keeps every verzoeknotificatie it sees from the moment
it starts (the session's start) and, where it can look back, from before: the folder source reads
the files already in the folder, the ebms-core source the DKA's list of unprocessed messages.
:class:`TriggerClaims` matches each tenant's wait against that whole log, so a trigger that
arrives while another tenant is waited for, or before the run, is kept for its own tenant.

The small read interface other checks may use (e.g. a health check for missed verzoeken):
``source.all()`` (every :class:`Trigger`, arrival order), ``Trigger.received_at`` /
``verzoeknummer`` / ``recipient_oin`` / ``duplicate`` / ``late`` / ``problem``, and on the
session's :class:`TriggerClaims`: ``started_at``, ``claimed()`` (tenant OIN → the trigger its
wait took) and ``unclaimed()`` (readable triggers no wait took).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


def utc_now() -> dt.datetime:
    """The current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Trigger:
    """One observed verzoeknotificatie.

    ``raw`` holds the bytes as the source saw them (the ebMS payload, the file, the forwarded
    body). ``sender_oin``/``recipient_oin`` are filled where the source knows them (the ebMS
    From/To party, the client certificate of a forward, the notificatie's own elements).
    ``duplicate``: an earlier trigger had the same ebMS MessageId, or (without one) the same
    verzoeknummer, recipient and payload. ``late``: it arrived after a wait for its verzoeknummer
    had timed out. ``problem``: why the verzoeknummer could not be read (``verzoeknummer`` is
    then empty and the trigger never matches a wait). ``kind`` is ``"verzoeknotificatie"``, or
    ``"dka-intrekking"`` for a DKA's own withdrawal message, which never matches a wait.
    """

    verzoeknummer: str
    received_at: dt.datetime
    source: str
    raw: bytes = field(default=b"", repr=False)
    sender_oin: str | None = None
    recipient_oin: str | None = None
    duplicate: bool = False
    late: bool = False
    message_id: str | None = None
    problem: str = ""
    location: str = ""
    kind: str = "verzoeknotificatie"
    envelope: bytes = field(default=b"", repr=False)
    details: tuple[tuple[str, str], ...] = ()
    peer_certificate_der: bytes | None = field(default=None, repr=False)

    @property
    def is_verzoeknotificatie(self) -> bool:
        """True for a verzoeknotificatie (not a DKA's own withdrawal message)."""
        return self.kind == "verzoeknotificatie"

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the raw payload (for evidence and duplicate detection)."""
        return hashlib.sha256(self.raw).hexdigest()

    def describe(self) -> str:
        """One line for reports."""
        parts = [self.verzoeknummer or "<unreadable>", f"via {self.source}"]
        if not self.is_verzoeknotificatie:
            parts.insert(1, f"({self.kind})")
        parts.append(f"at {self.received_at.isoformat(timespec='milliseconds')}")
        if self.recipient_oin:
            parts.append(f"to {self.recipient_oin}")
        if self.sender_oin:
            parts.append(f"from {self.sender_oin}")
        if self.message_id:
            parts.append(f"MessageId {self.message_id}")
        if self.location:
            parts.append(f"({self.location})")
        flags = [n for n, on in (("duplicate", self.duplicate), ("late", self.late)) if on]
        if flags:
            parts.append("[" + ", ".join(flags) + "]")
        if self.problem:
            parts.append(f"problem: {self.problem}")
        return " ".join(parts)


class TriggerTimeout(TimeoutError):
    """No trigger for ``verzoeknummer`` arrived within ``timeout`` seconds.

    ``others`` are the triggers that did arrive during the wait but belong to something else
    (another verzoeknummer or recipient, or an unreadable payload): the evidence for "a trigger
    arrived, but for another verzoek".
    """

    def __init__(
        self,
        verzoeknummer: str,
        timeout: float,
        source: str,
        others: Sequence[Trigger] = (),
        detail: str = "",
    ) -> None:
        self.verzoeknummer = verzoeknummer
        self.timeout = timeout
        self.source = source
        self.others = tuple(others)
        self.detail = detail
        text = f"no trigger for verzoeknummer {verzoeknummer} via {source} within {timeout:g} s"
        if self.others:
            text += f"; {len(self.others)} other trigger(s) arrived meanwhile"
        if detail:
            text += f" ({detail})"
        super().__init__(text)


@runtime_checkable
class TriggerSource(Protocol):
    """Where verzoeknotificaties are observed. Implementations must be thread-safe.

    ``start()`` begins observing (binds a port, starts polling) and ``stop()`` ends it and frees
    every resource; both may be called more than once. ``wait_for`` returns the first trigger for
    ``verzoeknummer`` (already received or arriving within ``timeout`` seconds; with
    ``recipient_oin`` only one addressed to that OIN where the recipient is known) or raises
    :class:`TriggerTimeout`. ``all()`` returns every trigger seen so far, in arrival order,
    including duplicates, late and unreadable ones.
    """

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def wait_for(
        self, verzoeknummer: str, timeout: float, *, recipient_oin: str | None = None
    ) -> Trigger: ...

    def all(self) -> list[Trigger]: ...


class TriggerLog:
    """The thread-safe, append-only record of one source's triggers, with waiting."""

    def __init__(self, source: str, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.source = source
        self._clock = clock
        self._lock = threading.Lock()
        self._triggers: list[Trigger] = []
        # verzoeknummer -> its readable verzoeknotificaties, arrival order kept
        self._by_number: dict[str, list[Trigger]] = {}
        # verzoeknummer -> every trigger recorded with it (any kind), arrival order kept
        self._recorded: dict[str, list[Trigger]] = {}
        # verzoeknummer -> the condition its waits sleep on (shares ``_lock``), with the
        # number of waits using it; a record wakes only the waits for its verzoeknummer
        self._waiting: dict[str, tuple[threading.Condition, int]] = {}
        self._message_ids: set[str] = set()
        self._keys: set[tuple[str, str | None, str]] = set()
        self._timed_out: set[str] = set()

    def record(
        self,
        raw: bytes,
        *,
        verzoeknummer: str,
        sender_oin: str | None = None,
        recipient_oin: str | None = None,
        message_id: str | None = None,
        problem: str = "",
        location: str = "",
        received_at: dt.datetime | None = None,
        kind: str = "verzoeknotificatie",
        envelope: bytes = b"",
        details: tuple[tuple[str, str], ...] = (),
        peer_certificate_der: bytes | None = None,
    ) -> Trigger:
        """Add one observation; returns the trigger with its duplicate/late flags set.
        ``envelope``, ``details`` (e.g. the ebMS header as name/value pairs) and the sender's
        client certificate are kept as evidence where the source saw them."""
        with self._lock:
            key = (verzoeknummer, recipient_oin, hashlib.sha256(raw).hexdigest())
            if message_id:
                duplicate = message_id in self._message_ids
                self._message_ids.add(message_id)
            else:
                duplicate = bool(verzoeknummer) and key in self._keys
            if verzoeknummer:
                self._keys.add(key)
            trigger = Trigger(
                verzoeknummer=verzoeknummer,
                received_at=received_at or self._clock(),
                source=self.source,
                raw=raw,
                sender_oin=sender_oin,
                recipient_oin=recipient_oin,
                duplicate=duplicate,
                late=verzoeknummer in self._timed_out,
                message_id=message_id,
                problem=problem,
                location=location,
                kind=kind,
                envelope=envelope,
                details=details,
                peer_certificate_der=peer_certificate_der,
            )
            self._triggers.append(trigger)
            self._recorded.setdefault(verzoeknummer, []).append(trigger)
            if verzoeknummer and trigger.is_verzoeknotificatie:
                self._by_number.setdefault(verzoeknummer, []).append(trigger)
                waiting = self._waiting.get(verzoeknummer)
                if waiting is not None:
                    waiting[0].notify_all()
            return trigger

    def _match(self, verzoeknummer: str, recipient_oin: str | None) -> Trigger | None:
        """The first verzoeknotificatie for ``verzoeknummer`` whose recipient is unknown or
        ``recipient_oin`` (any recipient without one); lock held."""
        for trigger in self._by_number.get(verzoeknummer, ()):
            if recipient_oin and trigger.recipient_oin and trigger.recipient_oin != recipient_oin:
                continue
            return trigger
        return None

    def wait_for(
        self, verzoeknummer: str, timeout: float, *, recipient_oin: str | None = None
    ) -> Trigger:
        """The first trigger for ``verzoeknummer`` (see :class:`TriggerSource`)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._lock:
            start_index = len(self._triggers)
            found = self._match(verzoeknummer, recipient_oin)
            if found is not None:
                return found
            cond, users = self._waiting.get(verzoeknummer) or (
                threading.Condition(self._lock), 0)
            self._waiting[verzoeknummer] = (cond, users + 1)
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        self._timed_out.add(verzoeknummer)
                        # Nothing matched, so whatever arrived during the wait is for
                        # something else: another verzoek, another recipient, or unreadable.
                        others = self._triggers[start_index:]
                        raise TriggerTimeout(verzoeknummer, timeout, self.source, others)
                    cond.wait(remaining)
                    found = self._match(verzoeknummer, recipient_oin)
                    if found is not None:
                        return found
            finally:
                cond, users = self._waiting[verzoeknummer]
                if users > 1:
                    self._waiting[verzoeknummer] = (cond, users - 1)
                else:
                    del self._waiting[verzoeknummer]

    def all(self) -> list[Trigger]:
        """Every trigger so far, in arrival order."""
        with self._lock:
            return list(self._triggers)

    def with_verzoeknummer(self, verzoeknummer: str) -> list[Trigger]:
        """Every trigger so far recorded with ``verzoeknummer`` (any kind, duplicates and late
        ones included), in arrival order: ``all()`` filtered on the number, without the scan."""
        with self._lock:
            return list(self._recorded.get(verzoeknummer, ()))


class LoggingSource:
    """Base of the built-in sources: ``wait_for`` and ``all`` answered from a :class:`TriggerLog`.

    Subclasses implement :meth:`start` and :meth:`stop` and call ``self.log.record(...)``.
    """

    name = "base"
    #: The source sees verzoeknotificaties itself (the manual source does not).
    observes = True

    def __init__(self) -> None:
        self.log = TriggerLog(self.name)

    def start(self) -> None:
        """Begin observing (nothing to do for the base)."""

    def stop(self) -> None:
        """Stop observing (nothing to do for the base)."""

    def wait_for(
        self, verzoeknummer: str, timeout: float, *, recipient_oin: str | None = None
    ) -> Trigger:
        """See :meth:`TriggerSource.wait_for`."""
        return self.log.wait_for(verzoeknummer, timeout, recipient_oin=recipient_oin)

    def all(self) -> list[Trigger]:
        """See :meth:`TriggerSource.all`."""
        return self.log.all()

    def __enter__(self) -> LoggingSource:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def triggers_with(source: TriggerSource, verzoeknummer: str) -> list[Trigger]:
    """``[t for t in source.all() if t.verzoeknummer == verzoeknummer]``, answered from the
    log's index when ``source`` keeps its triggers in a :class:`TriggerLog` unchanged."""
    if isinstance(source, LoggingSource) and type(source).all is LoggingSource.all:
        return source.log.with_verzoeknummer(verzoeknummer)
    return [t for t in source.all() if t.verzoeknummer == verzoeknummer]


class TriggerClaims:
    """Which trigger each tenant's wait took, for one session over one source (thread-safe).

    Waits are matched against the source's whole log, never only against what arrives during
    the wait. A trigger (verzoeknummer + recipient) goes to one tenant only, and a verzoeknummer
    given by hand for a tenant (:meth:`reserve`) is never taken by another tenant's wait.
    Triggers received more than ``lookback`` seconds before ``started_at`` (stale files, old
    messages in the DKA) are not taken by a wait without a verzoeknummer.
    """

    def __init__(self, source: TriggerSource, *, started_at: dt.datetime | None = None,
                 lookback: float = 3600.0) -> None:
        self.source = source
        self.started_at = started_at or utc_now()
        self.lookback = max(0.0, float(lookback))
        self._lock = threading.Lock()
        self._taken: dict[tuple[str, str | None], str] = {}
        self._claims: dict[str, Trigger] = {}
        self._reserved: dict[str, str] = {}

    def reserve(self, verzoeknummer: str, tenant_oin: str) -> None:
        """``verzoeknummer`` belongs to ``tenant_oin`` (given with ``--dso-verzoeknummer``)."""
        with self._lock:
            self._reserved[verzoeknummer] = tenant_oin

    def before_session(self, trigger: Trigger) -> bool:
        """True when ``trigger`` was received before the session started."""
        return trigger.received_at < self.started_at

    def _usable(self, trigger: Trigger, tenant_oin: str) -> bool:
        if not trigger.verzoeknummer or trigger.problem or trigger.duplicate:
            return False
        if (trigger.verzoeknummer, trigger.recipient_oin) in self._taken:
            return False
        owner = self._reserved.get(trigger.verzoeknummer)
        if owner is not None and owner != tenant_oin:
            return False
        oldest = self.started_at - dt.timedelta(seconds=self.lookback)
        return trigger.received_at >= oldest

    def take(self, tenant_oin: str) -> Trigger | None:
        """The first trigger in the log addressed to ``tenant_oin`` that no other wait took
        (one with an unknown recipient when none is addressed to it), now claimed; else
        ``None``. Never blocks."""
        triggers = self.source.all()
        with self._lock:
            usable = [t for t in triggers if self._usable(t, tenant_oin)]
            found = next((t for t in usable if t.recipient_oin == tenant_oin), None) or next(
                (t for t in usable if t.recipient_oin is None), None)
            if found is not None:
                self._mark(tenant_oin, found)
            return found

    def claim(self, tenant_oin: str, trigger: Trigger) -> None:
        """Record that ``tenant_oin``'s wait took ``trigger`` (a wait by verzoeknummer)."""
        with self._lock:
            self._mark(tenant_oin, trigger)

    def _mark(self, tenant_oin: str, trigger: Trigger) -> None:
        self._taken[(trigger.verzoeknummer, trigger.recipient_oin)] = tenant_oin
        self._claims.setdefault(tenant_oin, trigger)

    def claimed(self) -> dict[str, Trigger]:
        """Tenant OIN → the trigger its wait took."""
        with self._lock:
            return dict(self._claims)

    def unclaimed(self) -> list[Trigger]:
        """Readable, first-seen triggers no wait took (in arrival order)."""
        triggers = self.source.all()
        with self._lock:
            return [t for t in triggers if t.verzoeknummer and not t.problem and not t.duplicate
                    and (t.verzoeknummer, t.recipient_oin) not in self._taken]
