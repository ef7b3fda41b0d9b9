"""Probe a TLS endpoint: accepted protocol versions, negotiated cipher suites, the chain it sends,
and whether it verifies against our trust anchors (Digikoppeling TLS003, TLS004, TLS006).

:func:`probe_tls` only observes and returns a :class:`TlsProbe`; ``tlscheck.check_tls`` turns
that into findings. Each protocol version is tried on its own connection with
``minimum_version`` and ``maximum_version`` pinned. For TLS 1.0 and 1.1 the client lowers its
OpenSSL security level (``@SECLEVEL=0``) so it can still *ask*; when the local OpenSSL cannot
offer a version at all, that version is reported as "not probed" (INFO), never as refused.
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from pytest_dso.network.ciphers import NCSC_TLS_TABLE, CipherTable, Rating
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.handshake import (
    CLIENT_CERTIFICATE_REJECTED,
    PROTOCOLS,
    REFUSED_REASONS,
    TLS12,
    Handshake,
    Protocol,
    client_context,
    handshake,
)
from pytest_dso.network.showcerts import SentChain, chain_via_openssl
from pytest_dso.network.tcp import TcpResult, tcp_connect
from pytest_dso.pkio.identity import Identity


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


def _probe_version(
    endpoint: Endpoint,
    protocol: Protocol,
    identity: Identity | None,
    server_hostname: str | None,
    timeout: float,
) -> tuple[VersionProbe, Handshake | None]:
    if not protocol.locally_available:
        return VersionProbe(protocol, VersionOutcome.NOT_PROBED,
                            detail="the local OpenSSL was built without it"), None
    try:
        context = client_context(identity, minimum=protocol, maximum=protocol)
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
    identity: Identity | None,
    server_hostname: str | None,
    timeout: float,
    table: CipherTable,
) -> VersionProbe:
    """Offer TLS 1.2 with only the suites the table does not accept."""
    excluded = "".join(f":!{name}" for name in table.names(Rating.GOOD, Rating.SUFFICIENT))
    try:
        context = client_context(identity, minimum=TLS12, maximum=TLS12,
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
) -> TlsProbe:
    """Probe ``endpoint``: one handshake per protocol version, one offering only weak suites
    (``weak_offer``), and one verifying the server against ``trust`` (the system store when
    empty) with hostname ``server_hostname`` (default: the endpoint's host). ``identity`` is
    presented as client certificate (Digikoppeling uses mutual TLS). ``openssl`` is the
    executable used to read the chain when the ssl module cannot; ``None`` disables it."""
    tcp = tcp_connect(endpoint, timeout)
    label = identity.subject if identity is not None else ""
    if not tcp.ok:
        return TlsProbe(endpoint, server_hostname, tcp, client_identity=label, timeout=timeout)
    versions: list[VersionProbe] = []
    best: Handshake | None = None
    for protocol in protocols:
        probe, result = _probe_version(endpoint, protocol, identity, server_hostname, timeout)
        versions.append(probe)
        if result is not None and result.chain is not None:
            best = result
    weak = (
        _weak_offer(endpoint, identity, server_hostname, timeout, table) if weak_offer else None
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
                    label, timeout)
