"""Findings for a TLS probe: versions (TLS003/TLS004), cipher suites and key exchange
(TLS006), the client certificate requirement (TLS001/TLS002), the chain sent and the verified
handshake."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from pytest_dso.findings import Finding, Severity, error, info, warning
from pytest_dso.network.chain import check_sent_chain
from pytest_dso.network.ciphers import (
    NCSC_TLS_TABLE,
    CipherTable,
    KeyExchange,
    Rating,
    is_tls13_suite,
)
from pytest_dso.network.handshake import (
    FORBIDDEN,
    TLS12,
    TLS13,
    Protocol,
)
from pytest_dso.network.suitescan import SuiteScan
from pytest_dso.network.tcp import tcp_findings
from pytest_dso.network.tlsprobe import ClientAuthOutcome, TlsProbe, VersionOutcome
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
    for wire in ("SSLv2", "SSLv3"):
        scanned = probe.suites.version(wire)
        if scanned is not None and scanned.accepted:
            found.append(error(
                "network.tls.version.ssl",
                f"the server accepts {scanned.label} ({scanned.accepted[0].iana}); "
                "Digikoppeling forbids SSL (TLS003)",
                f"disable {scanned.label} on the TLS endpoint; allow TLS 1.2 and 1.3 only",
                where=where, version=scanned.label,
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
    """TLS006: every suite the server accepts for TLS 1.2 and 1.3, and the (EC)DHE group and
    size it uses, must be rated good or sufficient in ``table``.

    With the suite scan (sslyze) every suite of the table that any OpenSSL implements is tried;
    without it only the suite negotiated per version and one offer of the weak suites the
    local OpenSSL has. Either way an INFO finding lists what could not be probed.
    """
    if not probe.tcp.ok:
        return unreachable(probe)
    if probe.suites.available:
        return _scanned_ciphers(probe, probe.suites, table)
    return _negotiated_ciphers(probe, table)


def _scanned_ciphers(probe: TlsProbe, scan: SuiteScan, table: CipherTable) -> list[Finding]:
    where = probe.where
    found: list[Finding] = []
    bad: dict[Rating, list[str]] = {}
    good: list[str] = []
    groups: dict[str, KeyExchange] = {}
    for wire in ("TLSv1.2", "TLSv1.3"):
        scanned = scan.version(wire)
        if scanned is None:
            continue
        if scanned.error:
            found.append(info(
                "network.tls.cipher.scan_failed",
                f"the {scanned.label} suites could not be scanned ({scan.scanner}): "
                f"{scanned.error}",
                "rerun; if it persists, check the suites with testssl.sh or "
                "'openssl s_client -cipher …'",
                where=where, version=scanned.label,
            ))
            continue
        for suite in scanned.accepted:
            rating = table.rate(suite.iana)
            label = f"{suite.iana} ({scanned.label})"
            (good if rating.acceptable else bad.setdefault(rating, [])).append(label)
            if suite.key_exchange is not None:
                groups.setdefault(suite.key_exchange.label, suite.key_exchange)
    for rating, suites in sorted(bad.items()):
        found.append(error(
            f"network.tls.cipher.{rating.name.lower()}",
            f"the server accepts {len(suites)} suite(s) rated {rating} in {table.source}: "
            + ", ".join(suites) + "; Digikoppeling allows only goed or voldoende (TLS006)",
            "remove them from the server's cipher list; keep the TLS 1.3 suites and, for "
            "TLS 1.2, ECDHE with AES-GCM or ChaCha20-Poly1305",
            where=where, ciphers=", ".join(suites), rating=rating.name,
        ))
    if good:
        found.append(info("network.tls.cipher.rated",
                          "accepted and rated goed/voldoende: " + ", ".join(good), where=where))
    found += _key_exchange_findings(groups, scan.curves, table, where)
    untried = sorted(
        e.iana for e in table.entries
        if e.iana.upper() not in scan.tested()
        and (scan.version("TLSv1.3" if is_tls13_suite(e.iana) else "TLSv1.2") is not None)
    )
    if untried:
        found.append(info(
            "network.tls.cipher.not_probed",
            f"{len(untried)} suite(s) of the table could not be probed: {scan.scanner} (and "
            "OpenSSL) cannot offer them: " + ", ".join(untried),
            "none of them is rated goed or voldoende; a server that offers them also offers "
            "other suites this check did see",
            where=where, ciphers=", ".join(untried),
        ))
    return found


def _key_exchange_findings(
    groups: dict[str, KeyExchange], curves: Sequence[str], table: CipherTable, where: str
) -> list[Finding]:
    found: list[Finding] = []
    for label, kex in sorted(groups.items()):
        rating = table.rate_key_exchange(kex)
        if rating.acceptable:
            found.append(info("network.tls.key_exchange.rated", f"{label}: {rating}",
                              where=where, group=label, rating=rating.name))
            continue
        found.append(error(
            f"network.tls.key_exchange.{rating.name.lower()}",
            f"the server's ephemeral key exchange uses {label}, rated {rating} in "
            f"{table.source} (TLS006)",
            "for DHE use an RFC 7919 group of 3072 bits or more (ffdhe3072), or drop the DHE "
            "suites; for ECDHE use x25519, secp256r1 or secp384r1",
            where=where, group=label, rating=rating.name,
        ))
    weak_curves = [
        c for c in curves
        if not table.rate_key_exchange(KeyExchange("ECDH", 0, c)).acceptable
    ]
    if weak_curves:
        found.append(error(
            "network.tls.key_exchange.curve",
            "the server also accepts the ECDH group(s) " + ", ".join(weak_curves)
            + f", not rated goed/voldoende in {table.source} (TLS006)",
            "limit the server's groups to x25519, secp256r1, secp384r1 (and x448, secp521r1)",
            where=where, groups=", ".join(weak_curves),
        ))
    return found


def _negotiated_ciphers(probe: TlsProbe, table: CipherTable) -> list[Finding]:
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
    found.append(info(
        "network.tls.cipher.not_probed",
        f"only the suite negotiated per version and the weak suites the local OpenSSL has were "
        f"tried; suites it lacks (3DES, RC4, export, SSL 3.0) and the (EC)DHE group sizes were "
        f"not probed ({probe.suites.error})",
        "install pytest-dso with its dependencies (sslyze) to probe every suite",
        where=where,
    ))
    return found


def check_client_auth(probe: TlsProbe) -> list[Finding]:
    """TLS001/TLS002: the server must require a client certificate: a handshake without one is
    refused. Refused only at the HTTP level (nginx's 400 "No required SSL certificate") is a
    WARNING; a connection let in without a certificate is an ERROR."""
    if not probe.tcp.ok:
        return unreachable(probe)
    result = probe.client_auth
    where = probe.where
    speaks_tls = bool(probe.accepted) or bool(probe.verification and probe.verification.ok)
    if result is None or result.outcome is ClientAuthOutcome.NOT_PROBED:
        why = result.detail if result is not None else "not probed"
        return [info("network.tls.client_auth.not_probed",
                     f"whether the server requires a client certificate is unknown: {why}",
                     "check with 'openssl s_client -connect HOST:PORT' (no -cert): the "
                     "handshake must fail", where=where)]
    if result.outcome is ClientAuthOutcome.REFUSED:
        if not speaks_tls:
            return [info("network.tls.client_auth.inconclusive",
                         f"a connection without a client certificate was refused "
                         f"({result.reason}), but so was every other handshake", where=where)]
        return [info("network.tls.client_auth.required",
                     f"a handshake without a client certificate is refused ({result.reason}): "
                     "mutual TLS is required (TLS001/TLS002)", where=where)]
    if result.outcome is ClientAuthOutcome.HTTP_REFUSED:
        return [warning(
            "network.tls.client_auth.http_only",
            f"the TLS handshake ({result.version}) completes without a client certificate; "
            f"only the HTTP request is refused ({result.detail})",
            "Digikoppeling requires two-sided TLS (TLS001/TLS002): make the server refuse the "
            "handshake itself when no client certificate is sent",
            where=where,
        )]
    answered = f"; GET answered {result.detail}" if result.http_status else (
        f"; {result.detail}" if result.detail else "")
    return [error(
        "network.tls.client_auth.not_required",
        f"the server completes a TLS handshake ({result.version}) without a client certificate"
        f"{answered}: it does not require one (it may ask for one optionally). Digikoppeling "
        "requires two-sided (mutual) TLS for all traffic (TLS001/TLS002)",
        "configure the endpoint to require a client certificate (OpenSSL: "
        "SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; nginx: ssl_verify_client on; "
        "Apache: SSLVerifyClient require) and trust the PKIoverheid private root",
        where=where, version=result.version or "",
    )]


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
                     f"verified TLS handshake with our client certificate presented: "
                     f"{result.version}, {result.cipher} (whether the server requires it is "
                     "checked separately)",
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
    """All TLS findings for a probe: reachability, versions, ciphers, client certificate
    requirement, chain, verification."""
    if not probe.tcp.ok:
        return unreachable(probe)
    return [
        *check_versions(probe, tls13_missing=tls13_missing),
        *check_ciphers(probe, table),
        *check_client_auth(probe),
        *check_chain(probe, trust),
        *check_verification(probe),
    ]
