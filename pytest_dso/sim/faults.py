"""Fault injection for the simulator: the failures an adapter must survive, on demand.

Faults are set by option (``[simulator] faults`` in dso.toml, ``dso-sim serve --fault``) or at
run time with ``POST /_sim/faults``. Each fault is a value (:class:`Fault`); the
:class:`FaultInjector` holds the active ones and answers the simulator's questions ("should this
request get a 503?", "how long to wait?", "drop this ack?") in a thread-safe way.

Kinds:

=================  ===========================================================================
``http_503``       The next ``count`` requests (scope ``ebms``, ``api`` or ``all``) get 503.
``delay``          The next ``count`` requests (0 = all, until cleared) wait ``seconds`` first.
``drop_acks``      The next ``count`` Acknowledgments from the DKA are ignored, so the
                   simulator re-sends the verzoeknotificatie after RetryInterval.
``duplicate_send`` The next ``count`` verzoeknotificaties are sent twice (same MessageId).
``server_cert``    New TLS connections get an ``expired`` or ``wrong`` (untrusted CA, other
                   host name) server certificate, for ``count`` handshakes (0 = until cleared).
``clock_skew``     Timestamps the simulator writes are shifted by ``seconds`` (may be negative).
=================  ===========================================================================
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

FaultKind = Literal["http_503", "delay", "drop_acks", "duplicate_send", "server_cert", "clock_skew"]
Scope = Literal["ebms", "api", "all"]

FAULT_KINDS: tuple[str, ...] = (
    "http_503", "delay", "drop_acks", "duplicate_send", "server_cert", "clock_skew",
)
SCOPES: tuple[str, ...] = ("ebms", "api", "all")
SERVER_CERT_MODES: tuple[str, ...] = ("expired", "wrong")


class FaultError(ValueError):
    """A fault description that cannot be used; the message says what to change."""


@dataclass(frozen=True)
class Fault:
    """One injected fault. ``count`` 0 means "until cleared" where that makes sense."""

    kind: FaultKind
    count: int = 1
    scope: Scope = "all"
    seconds: float = 0.0
    mode: str = ""

    def to_json(self) -> dict[str, Any]:
        """The fault as a JSON-ready mapping (the ``POST /_sim/faults`` body format)."""
        return asdict(self)


def _number(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultError(f"fault field {key!r} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number) or abs(number) > 1e9:
        raise FaultError(f"fault field {key!r} must be a finite number up to 1e9, got {value!r}")
    return number


def parse_fault(raw: Mapping[str, Any]) -> Fault:
    """Build a :class:`Fault` from a JSON/TOML mapping, with readable errors."""
    if not isinstance(raw, Mapping):
        raise FaultError('a fault must be a JSON object such as {"kind": "http_503", "count": 2}')
    unknown = set(raw) - {"kind", "count", "scope", "seconds", "mode"}
    if unknown:
        raise FaultError(
            f"unknown fault field(s) {', '.join(sorted(unknown))}; "
            "allowed: kind, count, scope, seconds, mode"
        )
    kind = raw.get("kind")
    if kind not in FAULT_KINDS:
        raise FaultError(
            f"fault kind {kind!r} is not known; choose one of: {', '.join(FAULT_KINDS)}"
        )
    count = _number(raw, "count", 0 if kind in ("clock_skew", "server_cert") else 1)
    if count < 0 or count != int(count):
        raise FaultError(f"fault count must be a whole number >= 0, got {count!r}")
    scope = raw.get("scope", "all")
    if scope not in SCOPES:
        raise FaultError(f"fault scope {scope!r} is not known; choose one of: {', '.join(SCOPES)}")
    seconds = _number(raw, "seconds", 0.0)
    mode = str(raw.get("mode", ""))
    if kind == "delay" and not 0 < seconds <= 300:
        raise FaultError("a delay fault needs 0 < seconds <= 300")
    if kind == "clock_skew" and abs(seconds) > 10 * 365 * 86400:
        raise FaultError("clock_skew seconds must be within ten years")
    if kind == "server_cert" and mode not in SERVER_CERT_MODES:
        raise FaultError(
            f"a server_cert fault needs mode {' or '.join(map(repr, SERVER_CERT_MODES))}, "
            f"got {mode!r}"
        )
    return Fault(kind, int(count), scope, seconds, mode)


def parse_faults(raw: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> tuple[Fault, ...]:
    """Faults from a list of mappings, a single mapping, or a ``{kind: options}`` table
    (the dso.toml ``[simulator.faults]`` form, e.g. ``http_503 = {count = 2}``)."""
    if isinstance(raw, Mapping):
        if "kind" in raw:
            return (parse_fault(raw),)
        items: list[Mapping[str, Any]] = []
        for kind, options in raw.items():
            if isinstance(options, Mapping):
                items.append({"kind": kind, **options})
            elif isinstance(options, int | float) and not isinstance(options, bool):
                key = "seconds" if kind in ("clock_skew", "delay") else "count"
                items.append({"kind": kind, key: options})
            elif isinstance(options, str):
                items.append({"kind": kind, "mode": options})
            else:
                raise FaultError(f"fault {kind!r}: expected a table, a number or a mode string")
        return tuple(parse_fault(i) for i in items)
    if not isinstance(raw, list | tuple):
        raise FaultError('send a fault object such as {"kind": "http_503", "count": 2}, or a '
                         f"list of them, not {type(raw).__name__}")
    if len(raw) > 100:
        raise FaultError(f"at most 100 faults at once, got {len(raw)}")
    return tuple(parse_fault(i) for i in raw)


@dataclass
class _Active:
    fault: Fault
    remaining: int  # 0 = unlimited


class FaultInjector:
    """The active faults of one simulator and counters of what they did. Thread-safe."""

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self._lock = threading.Lock()
        self._active: list[_Active] = []
        self._fired: dict[str, int] = {}
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault) -> None:
        """Activate ``fault``. A new ``clock_skew`` or ``server_cert`` replaces the old one."""
        with self._lock:
            if fault.kind in ("clock_skew", "server_cert"):
                self._active = [a for a in self._active if a.fault.kind != fault.kind]
            self._active.append(_Active(fault, fault.count))

    def clear(self, kind: str | None = None) -> None:
        """Remove every fault, or only those of ``kind``."""
        with self._lock:
            self._active = [a for a in self._active if kind is not None and a.fault.kind != kind]

    def active(self) -> tuple[Fault, ...]:
        """The active faults (with their configured counts)."""
        with self._lock:
            return tuple(a.fault for a in self._active)

    def snapshot(self) -> dict[str, Any]:
        """Active faults with remaining counts, and how often each kind fired (for the API)."""
        with self._lock:
            return {
                "active": [{**a.fault.to_json(), "remaining": a.remaining} for a in self._active],
                "fired": dict(self._fired),
            }

    def fired(self, kind: str) -> int:
        """How often faults of ``kind`` took effect so far."""
        with self._lock:
            return self._fired.get(kind, 0)

    def _take(self, kind: str, scope: str | None = None) -> Fault | None:
        """Consume one use of the first matching fault (lock held by caller)."""
        for item in self._active:
            if item.fault.kind != kind:
                continue
            if scope is not None and item.fault.scope not in ("all", scope):
                continue
            if item.remaining:
                item.remaining -= 1
                if item.remaining == 0:
                    self._active.remove(item)
            self._fired[kind] = self._fired.get(kind, 0) + 1
            return item.fault
        return None

    def http_status(self, scope: Scope) -> int | None:
        """503 when an ``http_503`` fault applies to this request, else ``None``."""
        with self._lock:
            return 503 if self._take("http_503", scope) else None

    def delay(self, scope: Scope) -> float:
        """Seconds to wait before handling this request (0 when no delay fault applies)."""
        with self._lock:
            fault = self._take("delay", scope)
            return fault.seconds if fault else 0.0

    def drop_ack(self) -> bool:
        """True when this incoming Acknowledgment must be ignored."""
        with self._lock:
            return self._take("drop_acks") is not None

    def duplicate_send(self) -> bool:
        """True when this verzoeknotificatie must be sent twice."""
        with self._lock:
            return self._take("duplicate_send") is not None

    def server_certificate(self) -> str | None:
        """``"expired"`` or ``"wrong"`` when this TLS handshake gets a bad certificate."""
        with self._lock:
            fault = self._take("server_cert")
            return fault.mode if fault else None

    def clock_skew(self) -> float:
        """Seconds to add to the simulator's clock for timestamps it writes."""
        with self._lock:
            for item in self._active:
                if item.fault.kind == "clock_skew":
                    return item.fault.seconds
            return 0.0


class FaultHelper:
    """Convenience methods over a :class:`FaultInjector` (the ``dso_sim_faults`` fixture)."""

    def __init__(self, injector: FaultInjector) -> None:
        self.injector = injector

    def __repr__(self) -> str:
        return f"FaultHelper({self.injector.active()!r})"

    def inject(self, **fields: Any) -> Fault:
        """Add a fault from keyword fields (``kind=…, count=…``); returns it."""
        fault = parse_fault(fields)
        self.injector.add(fault)
        return fault

    def http_503(self, count: int = 1, scope: Scope = "all") -> Fault:
        """Answer the next ``count`` requests in ``scope`` with 503."""
        return self.inject(kind="http_503", count=count, scope=scope)

    def delay(self, seconds: float, count: int = 1, scope: Scope = "all") -> Fault:
        """Delay the next ``count`` requests (0 = all) by ``seconds``."""
        return self.inject(kind="delay", seconds=seconds, count=count, scope=scope)

    def drop_acks(self, count: int = 1) -> Fault:
        """Ignore the next ``count`` Acknowledgments from the DKA."""
        return self.inject(kind="drop_acks", count=count)

    def duplicate_sends(self, count: int = 1) -> Fault:
        """Send the next ``count`` verzoeknotificaties twice."""
        return self.inject(kind="duplicate_send", count=count)

    def server_certificate(self, mode: str, count: int = 0) -> Fault:
        """Present an ``expired`` or ``wrong`` server certificate (``count`` 0: until
        cleared)."""
        return self.inject(kind="server_cert", mode=mode, count=count)

    def clock_skew(self, seconds: float) -> Fault:
        """Shift the simulator's timestamps by ``seconds``."""
        return self.inject(kind="clock_skew", seconds=seconds)

    def fired(self, kind: str) -> int:
        """How often faults of ``kind`` took effect."""
        return self.injector.fired(kind)

    def clear(self) -> None:
        """Remove every fault."""
        self.injector.clear()
