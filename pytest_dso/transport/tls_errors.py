"""Turn any connection failure into one clear :class:`~pytest_dso.findings.Finding`.

The exception class of a TLS failure depends on the TLS version and on the library that wraps
it (a missing client certificate shows up at the handshake under TLS 1.2 but only on the first
read under TLS 1.3), so the verdict is taken from ``ssl.SSLError.reason`` and
``SSLCertVerificationError.verify_message`` found anywhere in the ``__cause__``/``__context__``
chain, not from the outer class.

Check ids: ``tls.unknown_ca``, ``tls.certificate_required``, ``tls.certificate_expired``,
``tls.hostname_mismatch``, ``tls.untrusted_server``, ``tls.protocol_version``,
``tls.handshake_failure``, ``net.connection_refused``, ``net.timeout``, ``net.dns``, plus
``net.connection_reset``, ``net.unreachable``, ``net.http_protocol`` and ``net.error`` for the
rest.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
from collections.abc import Iterator

from pytest_dso.findings import Finding, error

# OpenSSL X509 verify codes (x509_vfy.h).
_X509_V_ERR_CERT_NOT_YET_VALID = 9
_X509_V_ERR_CERT_HAS_EXPIRED = 10
_X509_V_ERR_HOSTNAME_MISMATCH = 62
_X509_V_ERR_IP_ADDRESS_MISMATCH = 64

_PROTOCOL_REASONS = frozenset(
    {
        "TLSV1_ALERT_PROTOCOL_VERSION",
        "UNSUPPORTED_PROTOCOL",
        "WRONG_VERSION_NUMBER",
        "NO_PROTOCOLS_AVAILABLE",
        "VERSION_TOO_LOW",
        "VERSION_TOO_HIGH",
        "TLSV1_ALERT_INAPPROPRIATE_FALLBACK",
        "WRONG_SSL_VERSION",
    }
)
_EXPIRED_REASONS = frozenset({"SSLV3_ALERT_CERTIFICATE_EXPIRED"})
_UNKNOWN_CA_REASONS = frozenset({"TLSV1_ALERT_UNKNOWN_CA"})
_CERT_REQUIRED_REASONS = frozenset({"TLSV13_ALERT_CERTIFICATE_REQUIRED"})


def exception_chain(exc: BaseException, limit: int = 20) -> Iterator[BaseException]:
    """``exc`` and its causes/contexts, outermost first, without cycles, at most ``limit``."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo and len(seen) < limit:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (current.__cause__, current.__context__):
            if nxt is not None and id(nxt) not in seen:
                todo.append(nxt)
        # Some wrappers (urllib3, requests) keep the original in args or ``reason``.
        for extra in (*getattr(current, "args", ()), getattr(current, "reason", None)):
            if isinstance(extra, BaseException) and id(extra) not in seen:
                todo.append(extra)


def _reason(exc: ssl.SSLError) -> str:
    reason = getattr(exc, "reason", None)
    if reason:
        return str(reason)
    text = str(exc).upper()
    for known in (
        *_PROTOCOL_REASONS,
        *_EXPIRED_REASONS,
        *_UNKNOWN_CA_REASONS,
        *_CERT_REQUIRED_REASONS,
        "SSLV3_ALERT_HANDSHAKE_FAILURE",
        "CERTIFICATE_VERIFY_FAILED",
    ):
        if known in text:
            return known
    return ""


def classify_failure(exc: BaseException, *, url: str = "", what: str = "") -> Finding:
    """The verdict for a failed connection or exchange with ``url``.

    ``what`` names the exchange for people (e.g. ``"the ebMS Ping to DSO-LV"``).
    """
    chain = list(exception_chain(exc))
    subject = what or (f"the connection to {url}" if url else "the connection")
    evidence = {"exception": f"{type(exc).__name__}: {exc}"[:500]}
    if url:
        evidence["url"] = url

    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return _verify_failure(item, subject, url, evidence)
    for item in chain:
        if isinstance(item, ssl.SSLError):
            found = _ssl_failure(item, subject, url, evidence)
            if found is not None:
                return found
    for item in chain:
        found = _network_failure(item, subject, url, evidence)
        if found is not None:
            return found
    return error(
        "net.error",
        f"{subject} failed: {type(exc).__name__}: {exc}",
        "check that the address is right and the peer is up; the evidence holds the raw error",
        url,
        **evidence,
    )


def _verify_failure(
    exc: ssl.SSLCertVerificationError, subject: str, url: str, evidence: dict[str, str]
) -> Finding:
    code = int(exc.verify_code or 0)
    message = str(exc.verify_message or exc.reason or exc)
    evidence = {**evidence, "verify_code": str(code), "verify_message": message}
    lowered = message.lower()
    if code in (_X509_V_ERR_HOSTNAME_MISMATCH, _X509_V_ERR_IP_ADDRESS_MISMATCH) or (
        "mismatch" in lowered
    ):
        return error(
            "tls.hostname_mismatch",
            f"{subject}: the server certificate does not name the host you connected to "
            f"({message})",
            "the endpoint host (CPA Endpoint/@uri or the API URL) must appear in the server "
            "certificate's subjectAltName; use the exact FQDN, or ask the peer for a "
            "certificate that names it",
            url,
            **evidence,
        )
    if code in (_X509_V_ERR_CERT_HAS_EXPIRED, _X509_V_ERR_CERT_NOT_YET_VALID) or (
        "expired" in lowered or "not yet valid" in lowered
    ):
        return error(
            "tls.certificate_expired",
            f"{subject}: the server certificate is outside its validity period ({message})",
            "the peer must renew its server certificate; also check this machine's clock",
            url,
            **evidence,
        )
    return error(
        "tls.untrusted_server",
        f"{subject}: the server certificate is not trusted ({message})",
        "the server's chain must lead to a trusted root: configure the PKIoverheid (or test) "
        "root in [certificate] ca_bundle, and make sure the server sends its intermediates",
        url,
        **evidence,
    )


def _ssl_failure(
    exc: ssl.SSLError, subject: str, url: str, evidence: dict[str, str]
) -> Finding | None:
    reason = _reason(exc)
    evidence = {**evidence, "tls_reason": reason or type(exc).__name__}
    if reason in _UNKNOWN_CA_REASONS:
        return error(
            "tls.unknown_ca",
            f"{subject}: the server rejected your client certificate: it does not trust its "
            "issuer (alert unknown_ca)",
            "present a PKIoverheid certificate (with its intermediates in the chain); the "
            "peer only accepts client certificates under the roots it trusts",
            url,
            **evidence,
        )
    if reason in _CERT_REQUIRED_REASONS:
        return error(
            "tls.certificate_required",
            f"{subject}: the server requires a client certificate and none was presented "
            "(alert certificate_required)",
            "configure [certificate] in dso.toml (cert + key or pkcs12); Digikoppeling "
            "requires mutual TLS for every connection",
            url,
            **evidence,
        )
    if reason in _EXPIRED_REASONS:
        return error(
            "tls.certificate_expired",
            f"{subject}: the server rejected your client certificate as expired "
            "(alert certificate_expired)",
            "renew your PKIoverheid certificate and update [certificate]; a new key also "
            "needs new CPAs",
            url,
            **evidence,
        )
    if reason in _PROTOCOL_REASONS:
        hint = (
            "Digikoppeling requires TLS 1.2 or 1.3 (TLS004); make both sides offer at least TLS 1.2"
        )
        if reason == "WRONG_VERSION_NUMBER":
            hint += "; WRONG_VERSION_NUMBER also means the port speaks plain HTTP, not TLS"
        return error(
            "tls.protocol_version",
            f"{subject}: no common TLS protocol version ({reason})",
            hint,
            url,
            **evidence,
        )
    if reason == "CERTIFICATE_VERIFY_FAILED":
        return error(
            "tls.untrusted_server",
            f"{subject}: the server certificate could not be verified ({exc})",
            "configure the root of the server's chain in [certificate] ca_bundle and make sure "
            "the server sends its intermediates",
            url,
            **evidence,
        )
    if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError) and not reason:
        return None  # an abrupt close: let the network rules name it
    hint = "compare the TLS versions, cipher suites and certificates of both sides"
    if reason == "SSLV3_ALERT_HANDSHAKE_FAILURE":
        hint = (
            "under TLS 1.2 a server sends handshake_failure when no client certificate is "
            "presented or no cipher suite is shared; configure [certificate] and check the "
            "cipher suites (NCSC 'goed'/'voldoende')"
        )
    elif reason == "SSLV3_ALERT_BAD_CERTIFICATE":
        hint = "the peer found the certificate malformed or unsuitable (key usage, EKU, chain)"
    return error(
        "tls.handshake_failure",
        f"{subject}: the TLS handshake failed ({reason or exc})",
        hint,
        url,
        **evidence,
    )


def _network_failure(
    exc: BaseException, subject: str, url: str, evidence: dict[str, str]
) -> Finding | None:
    if isinstance(exc, ConnectionRefusedError):
        return error(
            "net.connection_refused",
            f"{subject}: the connection was refused (nothing listens on that port)",
            "check host and port (Digikoppeling uses 443), that the service is running and "
            "that no firewall rejects the connection",
            url,
            **evidence,
        )
    if isinstance(exc, socket.gaierror):
        return error(
            "net.dns",
            f"{subject}: the host name does not resolve ({exc})",
            "check the spelling of the host and the DNS configuration of this machine",
            url,
            **evidence,
        )
    if isinstance(exc, TimeoutError):
        return error(
            "net.timeout",
            f"{subject}: no answer within the timeout",
            "the peer is slow or a firewall drops the packets; check the IP allow lists "
            "(whitelisting) on both sides and the timeout in [ebms] timeout",
            url,
            **evidence,
        )
    closed = (
        ConnectionResetError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        ssl.SSLEOFError,
        ssl.SSLZeroReturnError,
    )
    if isinstance(exc, closed):
        return error(
            "net.connection_reset",
            f"{subject}: the peer closed the connection unexpectedly ({type(exc).__name__})",
            "a server often does this when it rejects the client certificate without an alert "
            "or when a proxy or firewall cuts the connection; check its logs",
            url,
            **evidence,
        )
    if isinstance(exc, http.client.HTTPException):
        return error(
            "net.http_protocol",
            f"{subject}: the peer did not answer with valid HTTP ({type(exc).__name__}: {exc})",
            "check that the URL points at an HTTP(S) service",
            url,
            **evidence,
        )
    if isinstance(exc, OSError) and exc.errno in (
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.EADDRNOTAVAIL,
    ):
        return error(
            "net.unreachable",
            f"{subject}: the network or host is unreachable ({exc})",
            "check routing and the address; Digikoppeling peers are only reachable from "
            "whitelisted egress IPs",
            url,
            **evidence,
        )
    return None
