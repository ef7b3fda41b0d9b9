"""Probe a TLS endpoint: accepted protocol versions, negotiated cipher suites, every suite it
accepts with its key exchange (:mod:`pytest_dso.network.suitescan`), whether it refuses a client
without a certificate, the chain it sends, and whether it verifies against our trust anchors
(Digikoppeling TLS001-TLS006).

:func:`probe_tls` only observes and returns a :class:`TlsProbe`; ``tlscheck.check_tls`` turns
that into findings. Each protocol version is tried on its own connection with
``minimum_version`` and ``maximum_version`` pinned. For TLS 1.0 and 1.1 the client lowers its
OpenSSL security level (``@SECLEVEL=0``) so it can still *ask*; when the local OpenSSL cannot
offer a version at all, that version is reported as "not probed" (INFO), never as refused.
"""

from __future__ import annotations

import enum
import re
import socket
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from pytest_dso.network.ciphers import NCSC_TLS_TABLE, CipherTable, Rating
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.handshake import (
    CLIENT_CERTIFICATE_REJECTED,
    FORBIDDEN,
    PROTOCOLS,
    REFUSED_REASONS,
    TLS12,
    VERSION_REFUSED_REASONS,
    Handshake,
    Protocol,
    client_context,
    handshake,
    offering,
    ssl_reason,
)
from pytest_dso.network.showcerts import SentChain, chain_via_openssl
from pytest_dso.network.suitescan import LABELS, SuiteScan, not_scanned, scan_suites
from pytest_dso.network.tcp import TcpResult, tcp_connect
from pytest_dso.pkio.identity import Identity

#: ``SSLSocket.version()`` names, oldest first.
SCAN_ORDER: tuple[str, ...] = tuple(LABELS)


class VersionOutcome(enum.StrEnum):
    """What the server did with one protocol version."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    NOT_PROBED = "not probed"
    FAILED = "failed"


@dataclass(frozen=True)
class VersionProbe:
    """The outcome for one protocol version and, when accepted, the negotiated suite."""

    protocol: Protocol
    outcome: VersionOutcome
    cipher: str | None = None
    detail: str = ""


class ClientAuthOutcome(enum.StrEnum):
    """What the server did with a client that presents no certificate."""

    REFUSED = "refused"
    HTTP_REFUSED = "refused at the HTTP level"
    ACCEPTED = "accepted"
    NOT_PROBED = "not probed"


@dataclass(frozen=True)
class ClientAuthProbe:
    """A connection without a client certificate: ``reason`` is the TLS alert (or close) that
    refused it, ``http_status`` the answer to a GET when the handshake completed."""

    outcome: ClientAuthOutcome
    version: str | None = None
    reason: str = ""
    http_status: int | None = None
    detail: str = ""


#: HTTP statuses a server answers when it wants a client certificate at the HTTP level (nginx
#: uses 400 with "No required SSL certificate was sent"; 495/496 are its internal codes).
_CERT_STATUSES = frozenset({400, 401, 403, 495, 496})
_STATUS_LINE = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")


def _read_answer(tls: ssl.SSLSocket, deadline: float, limit: int = 4096) -> bytes:
    data = b""
    while len(data) < limit and b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete HTTP answer in time")
        tls.settimeout(left)
        chunk = tls.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data


def probe_client_auth(
    endpoint: Endpoint,
    server_hostname: str | None = None,
    *,
    timeout: float = 5.0,
    path: str = "/",
) -> ClientAuthProbe:
    """Connect with no client certificate (TLS 1.2 or 1.3, every suite offered) and, when the
    handshake completes, send ``GET path`` and read the status line. A server that requires
    mutual TLS refuses the handshake (TLS 1.2) or alerts right after it (TLS 1.3)."""
    try:
        context = client_context(None, minimum=TLS12)
    except (ssl.SSLError, ValueError) as exc:
        return ClientAuthProbe(ClientAuthOutcome.NOT_PROBED, detail=f"local OpenSSL: {exc}")
    host = server_hostname or endpoint.host
    deadline = time.monotonic() + 2 * timeout
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except OSError as exc:
        return ClientAuthProbe(ClientAuthOutcome.NOT_PROBED,
                               detail=f"TCP connection failed: {exc.strerror or exc}")
    version: str | None = None
    try:
        with raw, context.wrap_socket(raw, server_hostname=host) as tls:
            version = tls.version()
            request = (f"GET {path or '/'} HTTP/1.1\r\nHost: {host}\r\n"
                       "User-Agent: pytest-dso\r\nConnection: close\r\n\r\n")
            tls.sendall(request.encode("ascii", "replace"))
            answer = _read_answer(tls, deadline)
    except TimeoutError:
        if version is None:
            return ClientAuthProbe(ClientAuthOutcome.NOT_PROBED,
                                   detail="the handshake timed out")
        return ClientAuthProbe(ClientAuthOutcome.ACCEPTED, version,
                               detail=f"no HTTP answer within {2 * timeout:g} s")
    except (ssl.SSLError, OSError) as exc:
        reason = ssl_reason(exc)
        if reason in CLIENT_CERTIFICATE_REJECTED or reason in REFUSED_REASONS:
            return ClientAuthProbe(ClientAuthOutcome.REFUSED, version, reason, detail=str(exc))
        return ClientAuthProbe(ClientAuthOutcome.NOT_PROBED, version, reason, detail=str(exc))
    match = _STATUS_LINE.match(answer)
    status = int(match.group(1)) if match else None
    if not answer:
        # Closed without a word after the handshake: the server dropped the connection.
        return ClientAuthProbe(ClientAuthOutcome.REFUSED, version, "EOF",
                               detail="closed after the handshake without an answer")
    if status in _CERT_STATUSES and b"certificate" in answer.lower():
        return ClientAuthProbe(ClientAuthOutcome.HTTP_REFUSED, version, http_status=status,
                               detail=answer.split(b"\r\n", 1)[0].decode("latin-1"))
    return ClientAuthProbe(ClientAuthOutcome.ACCEPTED, version, http_status=status,
                           detail=answer.split(b"\r\n", 1)[0].decode("latin-1")[:120])


@dataclass(frozen=True)
class TlsProbe:
    """Everything :func:`probe_tls` observed at one endpoint."""

    endpoint: Endpoint
    server_hostname: str | None
    tcp: TcpResult
    versions: tuple[VersionProbe, ...] = ()
    weak_offer: VersionProbe | None = None
    chain: SentChain = field(default_factory=lambda: SentChain(None, "", "not connected"))
    verification: Handshake | None = None
    client_identity: str = ""
    timeout: float = 5.0
    suites: SuiteScan = field(default_factory=lambda: not_scanned("not scanned"))
    client_auth: ClientAuthProbe | None = None

    @property
    def where(self) -> str:
        """The endpoint, with the server name when it differs from the host."""
        name = self.server_hostname
        return f"{self.endpoint} ({name})" if name and name != self.endpoint.host else str(
            self.endpoint
        )

    def version(self, protocol: Protocol) -> VersionProbe | None:
        """The probe of ``protocol``, if it was probed."""
        return next((v for v in self.versions if v.protocol == protocol), None)

    @property
    def accepted(self) -> tuple[Protocol, ...]:
        """The versions the server accepted."""
        return tuple(v.protocol for v in self.versions if v.outcome is VersionOutcome.ACCEPTED)


def _probing_context(identity: Identity | None) -> ssl.SSLContext | Exception:
    """The one non-verifying context that presents ``identity`` in the version and weak-suite
    handshakes (reconfigured with :func:`offering` before each), or why there is none."""
    try:
        return client_context(identity)
    except (ssl.SSLError, ValueError) as exc:
        return exc


def _probe_version(
    endpoint: Endpoint,
    protocol: Protocol,
    probing: ssl.SSLContext | Exception,
    server_hostname: str | None,
    timeout: float,
) -> tuple[VersionProbe, Handshake | None]:
    if not protocol.locally_available:
        return VersionProbe(protocol, VersionOutcome.NOT_PROBED,
                            detail="the local OpenSSL was built without it"), None
    try:
        if isinstance(probing, Exception):
            raise probing
        context = offering(probing, minimum=protocol, maximum=protocol)
    except (ssl.SSLError, ValueError) as exc:
        return VersionProbe(protocol, VersionOutcome.NOT_PROBED,
                            detail=f"the local OpenSSL refuses to offer it: {exc}"), None
    result = handshake(endpoint, context, server_hostname=server_hostname, timeout=timeout,
                       want_chain=True)
    if result.ok:
        return VersionProbe(protocol, VersionOutcome.ACCEPTED, result.cipher), result
    if result.local:
        return VersionProbe(protocol, VersionOutcome.NOT_PROBED,
                            detail=f"the local OpenSSL cannot offer it ({result.reason})"), None
    if result.reason in CLIENT_CERTIFICATE_REJECTED:
        return VersionProbe(
            protocol, VersionOutcome.ACCEPTED,
            detail=f"negotiated, then our client certificate was rejected ({result.reason})",
        ), None
    if result.reason in REFUSED_REASONS:
        return VersionProbe(protocol, VersionOutcome.REFUSED, detail=result.reason), None
    return VersionProbe(protocol, VersionOutcome.FAILED,
                        detail=f"{result.reason}: {result.detail}"), None


def _weak_offer(
    endpoint: Endpoint,
    probing: ssl.SSLContext | Exception,
    server_hostname: str | None,
    timeout: float,
    table: CipherTable,
) -> VersionProbe:
    """Offer TLS 1.2 with only the suites the table does not accept."""
    excluded = "".join(f":!{name}" for name in table.names(Rating.GOOD, Rating.SUFFICIENT))
    try:
        if isinstance(probing, Exception):
            raise probing
        context = offering(probing, minimum=TLS12, maximum=TLS12,
                           ciphers=f"ALL:COMPLEMENTOFALL{excluded}:@SECLEVEL=0")
    except (ssl.SSLError, ValueError) as exc:
        return VersionProbe(TLS12, VersionOutcome.NOT_PROBED, detail=str(exc))
    result = handshake(endpoint, context, server_hostname=server_hostname, timeout=timeout)
    if result.ok:
        return VersionProbe(TLS12, VersionOutcome.ACCEPTED, result.cipher)
    if result.local:
        return VersionProbe(TLS12, VersionOutcome.NOT_PROBED, detail=result.reason)
    if result.reason in REFUSED_REASONS:
        return VersionProbe(TLS12, VersionOutcome.REFUSED, detail=result.reason)
    return VersionProbe(TLS12, VersionOutcome.FAILED, detail=f"{result.reason}: {result.detail}")


def probe_tls(
    endpoint: Endpoint,
    *,
    identity: Identity | None = None,
    trust: Sequence[x509.Certificate] = (),
    server_hostname: str | None = None,
    timeout: float = 5.0,
    protocols: Sequence[Protocol] = PROTOCOLS,
    table: CipherTable = NCSC_TLS_TABLE,
    weak_offer: bool = True,
    openssl: str | None = "openssl",
    scan: bool = True,
    scan_concurrency: int = 4,
    path: str = "/",
) -> TlsProbe:
    """Probe ``endpoint``: one handshake per protocol version, one offering only weak suites
    (``weak_offer``), a scan of every suite (``scan``, see :func:`scan_suites`; not of TLS 1.0
    and 1.1 when the server refused them with a protocol_version alert), a connection
    without a client certificate (GET ``path`` if it is let in), and one handshake verifying
    the server against ``trust`` (the system store when empty) with hostname
    ``server_hostname`` (default: the endpoint's host). ``identity`` is presented as client
    certificate (Digikoppeling uses mutual TLS). ``openssl`` is the executable used to read the
    chain when the ssl module cannot; ``None`` disables it."""
    tcp = tcp_connect(endpoint, timeout)
    label = identity.subject if identity is not None else ""
    if not tcp.ok:
        return TlsProbe(endpoint, server_hostname, tcp, client_identity=label, timeout=timeout)
    versions: list[VersionProbe] = []
    best: Handshake | None = None
    probing = _probing_context(identity)
    for protocol in protocols:
        probe, result = _probe_version(endpoint, protocol, probing, server_hostname, timeout)
        versions.append(probe)
        if result is not None and result.chain is not None:
            best = result
    # The newest version our own handshakes saw accepted spares sslyze its connectivity test.
    seen = [v.protocol.wire for v in versions
            if v.outcome is VersionOutcome.ACCEPTED and v.protocol.wire in SCAN_ORDER]
    highest = max(seen, key=SCAN_ORDER.index, default=None)
    # TLS 1.0 and 1.1 refused outright (a protocol_version alert to an offer of every suite
    # we have) accept no suite: scanning them one suite at a time adds 160 connections.
    refused = {v.protocol.wire for v in versions
               if v.protocol in FORBIDDEN and v.outcome is VersionOutcome.REFUSED
               and v.detail in VERSION_REFUSED_REASONS}
    suites = (
        scan_suites(endpoint, server_hostname, timeout=timeout, concurrency=scan_concurrency,
                    versions=[w for w in SCAN_ORDER if w not in refused], highest=highest)
        if scan else not_scanned("the suite scan was switched off")
    )
    versions = _with_scan(versions, suites)
    client_auth = probe_client_auth(endpoint, server_hostname, timeout=timeout, path=path)
    weak = (
        _weak_offer(endpoint, probing, server_hostname, timeout, table) if weak_offer else None
    )
    chain = best.chain if best is not None and best.chain is not None else None
    if chain is None or chain.certificates is None:
        first_note = chain.note if chain else "no handshake completed"
        chain = (
            chain_via_openssl(endpoint, server_hostname, timeout, openssl)
            if openssl
            else SentChain(None, "", first_note)
        )
        if chain.certificates is None:
            chain = SentChain(None, "", f"{first_note}; {chain.note}")
    try:
        # Every suite at the default security level: the cipher verdict is made above.
        context = client_context(identity, trust, verify=True, ciphers="ALL:COMPLEMENTOFALL")
        verification = handshake(
            endpoint, context, server_hostname=server_hostname, timeout=timeout,
            await_alert=0.3 if identity is not None else 0.0,
        )
    except (ssl.SSLError, ValueError) as exc:
        verification = Handshake(endpoint, False, reason="LOCAL", detail=str(exc), local=True)
    return TlsProbe(endpoint, server_hostname, tcp, tuple(versions), weak, chain, verification,
                    label, timeout, suites, client_auth)


def _with_scan(versions: Sequence[VersionProbe], suites: SuiteScan) -> list[VersionProbe]:
    """Fill in the versions the local OpenSSL could not offer from the suite scan."""
    merged: list[VersionProbe] = []
    for probe in versions:
        scanned = suites.version(probe.protocol.wire) if suites.available else None
        if probe.outcome is VersionOutcome.NOT_PROBED and scanned is not None and (
            not scanned.error
        ):
            if scanned.accepted:
                probe = VersionProbe(probe.protocol, VersionOutcome.ACCEPTED,
                                     scanned.accepted[0].openssl,
                                     detail=f"found by {suites.scanner}")
            else:
                probe = VersionProbe(probe.protocol, VersionOutcome.REFUSED,
                                     detail=f"no suite accepted ({suites.scanner})")
        merged.append(probe)
    return merged
