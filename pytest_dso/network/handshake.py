"""One TLS handshake with a probing client context, and the reasons it can fail.

The protocol versions Digikoppeling cares about and a classification of OpenSSL failure reasons:
refused by the server, impossible on our side (local), or our client certificate rejected.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.showcerts import SentChain, chain_from_socket
from pytest_dso.network.tcp import TcpResult, classify_os_error
from pytest_dso.pkio.identity import Identity, certificates_pem
from pytest_dso.transport.tls_errors import exception_chain


@dataclass(frozen=True)
class Protocol:
    """A TLS protocol version: display label, ``SSLSocket.version()`` name, ``ssl`` attributes."""

    label: str
    wire: str
    attribute: str
    has_flag: str

    @property
    def tls_version(self) -> ssl.TLSVersion:
        """The ``ssl.TLSVersion`` member."""
        return ssl.TLSVersion[self.attribute]

    @property
    def locally_available(self) -> bool:
        """Whether this Python's OpenSSL was built with the version."""
        return bool(getattr(ssl, self.has_flag, False))


TLS10 = Protocol("TLS 1.0", "TLSv1", "TLSv1", "HAS_TLSv1")
TLS11 = Protocol("TLS 1.1", "TLSv1.1", "TLSv1_1", "HAS_TLSv1_1")
TLS12 = Protocol("TLS 1.2", "TLSv1.2", "TLSv1_2", "HAS_TLSv1_2")
TLS13 = Protocol("TLS 1.3", "TLSv1.3", "TLSv1_3", "HAS_TLSv1_3")
#: The versions probed by default, oldest first.
PROTOCOLS: tuple[Protocol, ...] = (TLS10, TLS11, TLS12, TLS13)
#: Versions Digikoppeling forbids (TLS004).
FORBIDDEN = (TLS10, TLS11)

#: Offer every suite the local OpenSSL has, including ones it would normally refuse.
OFFER_ALL = "ALL:COMPLEMENTOFALL:@SECLEVEL=0"

# OpenSSL reasons raised before anything was asked of the server.
LOCAL_REASONS = frozenset(
    {"NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE", "NO_CIPHER_MATCH", "NO_SUITABLE_KEY_SHARE"}
)
# Reasons meaning: the server does not speak this version or any offered suite.
REFUSED_REASONS = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "WRONG_VERSION_NUMBER",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "NO_SHARED_CIPHER",
        "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        "UNEXPECTED_EOF_WHILE_READING",
        "EOF",
        "CONNECTION_RESET",
    }
)
# Of those, the ones that refuse the protocol version itself, whatever suites were offered.
VERSION_REFUSED_REASONS = frozenset({"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL"})
# Reasons meaning: the version was negotiated but the server rejected our client certificate.
CLIENT_CERTIFICATE_REJECTED = frozenset(
    {
        "TLSV1_ALERT_UNKNOWN_CA",
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "TLSV1_ALERT_ACCESS_DENIED",
        "TLSV1_ALERT_DECRYPT_ERROR",
        "PEER_DID_NOT_RETURN_A_CERTIFICATE",
    }
)


def ssl_reason(exc: BaseException) -> str:
    """The OpenSSL reason of ``exc`` or of an exception it wraps (``__cause__``/``__context__``),
    ``EOF``/``CONNECTION_RESET`` for a closed connection, else the exception's class name."""
    for current in exception_chain(exc):
        if isinstance(current, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return "EOF"
        reason = getattr(current, "reason", None)
        if isinstance(current, ssl.SSLError) and reason:
            return str(reason)
        if isinstance(current, ConnectionResetError | BrokenPipeError):
            return "CONNECTION_RESET"
    return type(exc).__name__


@dataclass(frozen=True)
class Handshake:
    """One TLS connection attempt. ``reason`` is the OpenSSL reason (or OS error) on failure
    and ``error`` the exception itself (for :func:`pytest_dso.transport.tls_errors.
    classify_failure`); ``tcp`` is set when the TCP connection itself failed; ``local`` when the
    failure happened on our side before the server was asked anything."""

    endpoint: Endpoint
    ok: bool
    version: str | None = None
    cipher: str | None = None
    reason: str = ""
    detail: str = ""
    tcp: TcpResult | None = None
    local: bool = False
    chain: SentChain | None = None
    error: BaseException | None = field(default=None, compare=False, repr=False)


def client_context(
    identity: Identity | None = None,
    trust: Sequence[x509.Certificate] = (),
    *,
    verify: bool = False,
    minimum: Protocol | None = None,
    maximum: Protocol | None = None,
    ciphers: str | None = OFFER_ALL,
) -> ssl.SSLContext:
    """A client context for probing: presents ``identity`` (if any), verifies the server
    against ``trust`` (or the system store) only when ``verify``. Raises ``ssl.SSLError`` or
    ``ValueError`` when the local OpenSSL cannot be configured this way."""
    # A context that does not verify needs no trust store: the system one costs tens of
    # milliseconds per context, and a probe makes several.
    if identity is not None:
        anchors = list(trust) if verify else [identity.certificate]
        context = identity.client_context(anchors or None, check_hostname=verify)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if trust and verify:
            context.load_verify_locations(cadata=certificates_pem(trust).decode("ascii"))
        elif verify:
            context.load_default_certs()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return offering(context, minimum=minimum, maximum=maximum, ciphers=ciphers)


def offering(
    context: ssl.SSLContext,
    *,
    minimum: Protocol | None = None,
    maximum: Protocol | None = None,
    ciphers: str | None = OFFER_ALL,
) -> ssl.SSLContext:
    """Set what ``context`` offers in its next handshakes: the versions from ``minimum`` to
    ``maximum`` (all when ``None``) and the suites ``ciphers`` (unchanged when ``None``).
    Reusing one context this way loads the client certificate and key once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = (
            minimum.tls_version if minimum else ssl.TLSVersion.MINIMUM_SUPPORTED
        )
        context.maximum_version = (
            maximum.tls_version if maximum else ssl.TLSVersion.MAXIMUM_SUPPORTED
        )
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def handshake(
    endpoint: Endpoint,
    context: ssl.SSLContext,
    *,
    server_hostname: str | None = None,
    timeout: float = 5.0,
    want_chain: bool = False,
    await_alert: float = 0.0,
) -> Handshake:
    """Connect and complete one TLS handshake with ``context``.

    ``await_alert`` > 0 waits up to that long after a TLS 1.3 handshake for an alert (a TLS 1.3
    server rejects a client certificate only after the client considers the handshake done);
    the server's session ticket, or anything else it sends, ends the wait.
    """
    try:
        raw = socket.create_connection((endpoint.host, endpoint.port), timeout=timeout)
    except OSError as exc:
        outcome = classify_os_error(exc)
        tcp = TcpResult(endpoint, outcome, 0.0, detail=exc.strerror or str(exc))
        return Handshake(endpoint, False, reason=f"tcp {outcome}", detail=tcp.detail, tcp=tcp,
                         error=exc)
    try:
        with raw, context.wrap_socket(
            raw, server_hostname=server_hostname or endpoint.host
        ) as tls:
            version, cipher = tls.version(), (tls.cipher() or (None,))[0]
            chain = chain_from_socket(tls) if want_chain else None
            if await_alert > 0 and version == TLS13.wire:
                late = _late_alert(tls, await_alert)
                if late is not None:
                    return Handshake(endpoint, False, version, cipher, ssl_reason(late),
                                     str(late), chain=chain, error=late)
            return Handshake(endpoint, True, version, cipher, chain=chain)
    except ssl.SSLCertVerificationError as exc:
        return Handshake(
            endpoint, False, reason=ssl_reason(exc), detail=exc.verify_message or str(exc),
            error=exc,
        )
    except (ssl.SSLError, OSError) as exc:
        reason = ssl_reason(exc)
        if isinstance(exc, TimeoutError):
            reason = "TIMEOUT"
        return Handshake(endpoint, False, reason=reason, detail=str(exc),
                         local=reason in LOCAL_REASONS, error=exc)


def _late_alert(tls: ssl.SSLSocket, wait: float) -> BaseException | None:
    """The alert rejecting our certificate that a TLS 1.3 server sends after the handshake, if
    it comes within ``wait`` seconds. A session ticket ends the wait early: a server issues
    tickets only after it processed our certificate and Finished, so none is coming."""
    deadline = time.monotonic() + wait
    tls.setblocking(False)
    while True:
        try:
            tls.recv(1)
            return None  # data or a close, not an alert
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            if tls.session is not None and tls.session.has_ticket:
                return None
        except (ssl.SSLError, OSError) as exc:
            return exc if ssl_reason(exc) in CLIENT_CERTIFICATE_REJECTED else None
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([tls], [], [], left)[0]:
            return None
