"""TCP reachability: connect to an address and port with a timeout, and say why it failed."""

from __future__ import annotations

import enum
import errno
import socket
import time
from dataclasses import dataclass

from pytest_dso.findings import Finding, error, info
from pytest_dso.network.endpoint import Endpoint


class TcpOutcome(enum.StrEnum):
    """How a TCP connection attempt ended."""

    CONNECTED = "connected"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    UNRESOLVED = "unresolved"
    ERROR = "error"


_UNREACHABLE = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ENETDOWN,
    errno.EHOSTDOWN,
    errno.EADDRNOTAVAIL,
}


@dataclass(frozen=True)
class TcpResult:
    """The result of one connection attempt; ``source`` is the local address used."""

    endpoint: Endpoint
    outcome: TcpOutcome
    seconds: float
    source: str | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when the connection was established."""
        return self.outcome is TcpOutcome.CONNECTED


def classify_os_error(exc: OSError) -> TcpOutcome:
    """Map a socket error to an outcome: refused, timeout, unreachable, unresolved or error."""
    if isinstance(exc, TimeoutError | socket.timeout):
        return TcpOutcome.TIMEOUT
    if isinstance(exc, socket.gaierror):
        return TcpOutcome.UNRESOLVED
    if isinstance(exc, ConnectionRefusedError) or exc.errno == errno.ECONNREFUSED:
        return TcpOutcome.REFUSED
    if exc.errno == errno.ETIMEDOUT:
        return TcpOutcome.TIMEOUT
    if exc.errno in _UNREACHABLE:
        return TcpOutcome.UNREACHABLE
    return TcpOutcome.ERROR


def tcp_connect(endpoint: Endpoint, timeout: float = 5.0) -> TcpResult:
    """Open (and close) one TCP connection to ``endpoint`` within ``timeout`` seconds."""
    start = time.monotonic()
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout) as sock:
            source = str(sock.getsockname()[0])
    except OSError as exc:
        return TcpResult(
            endpoint,
            classify_os_error(exc),
            time.monotonic() - start,
            detail=exc.strerror or str(exc) or type(exc).__name__,
        )
    return TcpResult(endpoint, TcpOutcome.CONNECTED, time.monotonic() - start, source)


_HINTS = {
    TcpOutcome.REFUSED: "the host answered but nothing listens on port {port}: check that the "
    "service runs and listens on this address and port",
    TcpOutcome.TIMEOUT: "no answer within {timeout:g}s: usually a firewall drops the packets; "
    "allow outbound TCP to {host} port {port} on your firewall and ask the other side to allow "
    "your source address",
    TcpOutcome.UNREACHABLE: "there is no route to {host}: check routing, the default gateway "
    "and whether outbound traffic to this network is allowed",
    TcpOutcome.UNRESOLVED: "the host name {host} does not resolve: check DNS on the adapter host",
    TcpOutcome.ERROR: "the connection failed for another reason; see the detail",
}


def check_tcp(endpoint: Endpoint, timeout: float = 5.0, *, what: str = "") -> list[Finding]:
    """Findings for a TCP connection to ``endpoint``: one INFO when it connects, one ERROR
    (``network.tcp.<outcome>``) when it is refused, times out, is unreachable or unresolved."""
    return tcp_findings(tcp_connect(endpoint, timeout), timeout, what=what)


def tcp_findings(result: TcpResult, timeout: float, *, what: str = "") -> list[Finding]:
    """Findings for an existing :class:`TcpResult`."""
    target = f"{what} {result.endpoint}".strip()
    if result.ok:
        return [
            info(
                "network.tcp.connected",
                f"TCP connection to {target} established in {result.seconds * 1000:.0f} ms "
                f"from {result.source}",
                where=str(result.endpoint),
                source=result.source or "",
            )
        ]
    hint = _HINTS[result.outcome].format(
        host=result.endpoint.host, port=result.endpoint.port, timeout=timeout
    )
    return [
        error(
            f"network.tcp.{result.outcome}",
            f"TCP connection to {target} {result.outcome}: {result.detail}",
            hint,
            where=str(result.endpoint),
            seconds=f"{result.seconds:.3f}",
        )
    ]
