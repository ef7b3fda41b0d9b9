"""Findings for a TLS probe: versions (TLS004), cipher suites (TLS006), the chain sent and the
verified mutual-TLS handshake."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from pytest_dso.findings import Finding, Severity, error, info
from pytest_dso.network.chain import check_sent_chain
from pytest_dso.network.ciphers import NCSC_TLS_TABLE, CipherTable
from pytest_dso.network.handshake import (
    FORBIDDEN,
    TLS12,
    TLS13,
    Protocol,
)
from pytest_dso.network.tcp import tcp_findings
from pytest_dso.network.tlsprobe import TlsProbe, VersionOutcome
from pytest_dso.transport.tls_errors import classify_failure


def unreachable(probe: TlsProbe) -> list[Finding]:
    """The TCP failure of a probe that never reached the server (empty when it did). Every
    check below returns these instead of judging a server it could not see."""
    if probe.tcp.ok:
        return []
    return tcp_findings(probe.tcp, probe.timeout, what="TLS endpoint")


def check_versions(probe: TlsProbe, *, tls13_missing: Severity = Severity.WARNING) -> list[Finding]:
    """TLS004: 1.0 and 1.1 accepted is an ERROR, 1.2 not accepted is an ERROR, 1.3 not
    accepted is ``tls13_missing`` (recommended, not required). Versions the local OpenSSL
    could not offer are INFO."""
    if not probe.tcp.ok:
        return unreachable(probe)
    where = probe.where
    found: list[Finding] = []
    for result in probe.versions:
        p = result.protocol
        if result.outcome is VersionOutcome.NOT_PROBED:
            found.append(info(
                "network.tls.version.not_probed",
                f"{p.label} was not probed: {result.detail}",
                "probe from a host whose OpenSSL still offers this version (e.g. openssl "
                f"s_client -{p.wire.lower().replace('v', '').replace('.', '_')}) to be sure",
                where=where, version=p.label,
            ))
        elif p in FORBIDDEN and result.outcome is VersionOutcome.ACCEPTED:
            found.append(error(
                "network.tls.version.forbidden",
                f"the server accepts {p.label}"
                + (f" (cipher {result.cipher})" if result.cipher else "")
                + "; Digikoppeling allows only TLS 1.2 and 1.3 (TLS004)",
                f"disable {p.label} on the TLS endpoint (TLS 1.0 and 1.1 are forbidden "
                "since 2016); allow TLS 1.2 and 1.3 only",
                where=where, version=p.label,
            ))
        elif p in FORBIDDEN and result.outcome is VersionOutcome.FAILED:
            found.append(info(
                "network.tls.version.inconclusive",
                f"{p.label} probe inconclusive: {result.detail}",
                where=where, version=p.label,
            ))
        elif p == TLS12 and result.outcome is not VersionOutcome.ACCEPTED:
            found.append(error(
                "network.tls.version.tls12_missing",
                f"the server does not complete a TLS 1.2 handshake ({result.detail}); "
                "TLS 1.2 is required (TLS004)",
                "enable TLS 1.2 with NCSC 'goed' or 'voldoende' cipher suites; if the "
                "server needs a client certificate, check the configured [certificate]",
                where=where, version=p.label,
            ))
        elif p == TLS13 and result.outcome is not VersionOutcome.ACCEPTED:
            found.append(Finding(
                "network.tls.version.tls13_missing", tls13_missing,
                f"the server does not offer TLS 1.3 ({result.detail}); TLS 1.3 is recommended",
                "enable TLS 1.3 next to TLS 1.2 (Digikoppeling TLS004: use it when offered)",
                where, {"version": p.label},
            ))
    accepted = [
        f"{v.protocol.label} ({v.cipher or 'cipher unknown'})"
        for v in probe.versions if v.outcome is VersionOutcome.ACCEPTED
    ]
    found.append(info(
        "network.tls.versions",
        "accepted: " + (", ".join(accepted) if accepted else "none of the probed versions"),
        where=where,
    ))
    return found


def check_ciphers(probe: TlsProbe, table: CipherTable = NCSC_TLS_TABLE) -> list[Finding]:
    """TLS006: the suite negotiated for TLS 1.2 and 1.3 must be rated good or sufficient, and
    the server must refuse a client that offers only phase-out or insufficient suites."""
    if not probe.tcp.ok:
        return unreachable(probe)
    where = probe.where
    found: list[Finding] = []
    for result in probe.versions:
        if result.protocol in FORBIDDEN or result.outcome is not VersionOutcome.ACCEPTED:
            continue
        if result.cipher is None:
            continue
        found.append(_rated(result.cipher, result.protocol, table, where))
    weak = probe.weak_offer
    if weak is not None:
        rating = table.rate(weak.cipher) if weak.cipher else table.default
        if weak.outcome is VersionOutcome.ACCEPTED and weak.cipher and not rating.acceptable:
            found.append(error(
                "network.tls.cipher.weak_accepted",
                f"the server accepts {weak.cipher}, rated {rating} in {table.source}, when a "
                "client offers only such suites",
                f"remove {weak.cipher} and every other suite not rated goed/voldoende from the "
                "server's TLS 1.2 cipher list",
                where=where, cipher=weak.cipher, rating=rating.name,
            ))
        elif weak.outcome is VersionOutcome.NOT_PROBED:
            found.append(info("network.tls.cipher.weak_not_probed",
                              f"weak suites not probed: {weak.detail}", where=where))
    return found


def _rated(cipher: str, protocol: Protocol, table: CipherTable, where: str) -> Finding:
    rating = table.rate(cipher)
    evidence = {"cipher": cipher, "rating": rating.name, "version": protocol.label}
    if rating.acceptable:
        return info("network.tls.cipher.rated",
                    f"{protocol.label} negotiates {cipher}: {rating}", where=where, **evidence)
    return error(
        f"network.tls.cipher.{rating.name.lower()}",
        f"{protocol.label} negotiates {cipher}, rated {rating} in {table.source}; Digikoppeling "
        "allows only goed or voldoende (TLS006)",
        "configure the server to prefer and offer only ECDHE suites with AES-GCM or "
        "ChaCha20-Poly1305 (and the TLS 1.3 suites)",
        where=where, **evidence,
    )


def check_chain(probe: TlsProbe, trust: Sequence[x509.Certificate] = ()) -> list[Finding]:
    """The chain the server sent must be complete (see :func:`check_sent_chain`)."""
    if not probe.tcp.ok:
        return unreachable(probe)
    chain = probe.chain
    if chain.certificates is None:
        return [info("network.tls.chain.not_inspectable",
                     f"the chain the server sends could not be inspected: {chain.note}",
                     "run 'openssl s_client -connect HOST:PORT -showcerts' to look at it",
                     where=probe.where)]
    return check_sent_chain(chain.certificates, trust, where=probe.where)


def check_verification(probe: TlsProbe) -> list[Finding]:
    """The server certificate verifies against our trust anchors and hostname, and the server
    accepts our client certificate. Failures are classified by
    :func:`pytest_dso.transport.tls_errors.classify_failure` (``tls.untrusted_server``,
    ``tls.hostname_mismatch``, ``tls.unknown_ca``, ...)."""
    if not probe.tcp.ok:
        return unreachable(probe)
    result = probe.verification
    if result is None:
        return []
    where = probe.where
    if result.ok:
        return [info("network.tls.handshake",
                     f"verified mutual TLS handshake: {result.version}, {result.cipher}",
                     where=where)]
    if result.local:
        return [info("network.tls.handshake.not_probed",
                     f"no verified handshake possible locally: {result.detail}", where=where)]
    who = f" as {probe.client_identity}" if probe.client_identity else ""
    if result.error is not None:
        # One vocabulary for TLS failures across the harness (tls.*, net.* check ids).
        return [classify_failure(
            result.error, url=where, what=f"the verified TLS handshake with {where}{who}"
        )]
    return [error(
        "network.tls.handshake_failed",
        f"TLS handshake with {where}{who} failed: {result.reason} {result.detail}".strip(),
        "check that the endpoint speaks TLS on this port and supports TLS 1.2 or 1.3",
        where=where,
    )]


def check_tls(
    probe: TlsProbe,
    *,
    trust: Sequence[x509.Certificate] = (),
    table: CipherTable = NCSC_TLS_TABLE,
    tls13_missing: Severity = Severity.WARNING,
) -> list[Finding]:
    """All TLS findings for a probe: reachability, versions, ciphers, chain, verification."""
    if not probe.tcp.ok:
        return unreachable(probe)
    return [
        *check_versions(probe, tls13_missing=tls13_missing),
        *check_ciphers(probe, table),
        *check_chain(probe, trust),
        *check_verification(probe),
    ]
