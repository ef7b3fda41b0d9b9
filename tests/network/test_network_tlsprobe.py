"""The TLS probe against real servers on 127.0.0.1 with certificates from the test PKI."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pytest_dso.findings import Finding, Severity, errors, render, with_check
from pytest_dso.network.ciphers import NCSC_2_1
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.handshake import TLS10, TLS12, TLS13, Protocol
from pytest_dso.network.showcerts import chain_via_openssl
from pytest_dso.network.suitescan import scan_suites
from pytest_dso.network.tlscheck import check_tls
from pytest_dso.network.tlsprobe import TlsProbe, VersionOutcome, probe_tls
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki, build_test_pki

#: ``tls_server`` from conftest: starts a MiniTlsServer and stops it after the test.
ServerFactory = Callable[..., Any]

TLS12_ONLY = ssl.TLSVersion.TLSv1_2


def probe(endpoint: Endpoint, pki: TestPki, client: Identity, **kwargs: object) -> TlsProbe:
    return probe_tls(endpoint, identity=client, trust=pki.hierarchy.anchors,
                     server_hostname="localhost", timeout=3, **kwargs)  # type: ignore[arg-type]


def checks(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def test_good_server_passes_with_tls13_and_tls12(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server()
    result = probe(server.endpoint, pki, client_identity)
    assert result.accepted == (TLS12, TLS13)
    assert result.version(TLS13).cipher == "TLS_AES_256_GCM_SHA384"  # type: ignore[union-attr]
    assert result.weak_offer is not None
    assert result.weak_offer.outcome is VersionOutcome.REFUSED
    # TLS 1.0 and 1.1 were refused outright, so not scanned suite by suite; SSL 3.0 was.
    assert result.version(TLS10).detail == "TLSV1_ALERT_PROTOCOL_VERSION"  # type: ignore[union-attr]
    assert result.suites.version("TLSv1") is None
    assert result.suites.version("TLSv1.1") is None
    assert result.suites.version("SSLv3") is not None
    assert result.chain.certificates is not None
    assert len(result.chain.certificates) == 3
    findings = check_tls(result, trust=pki.hierarchy.anchors)
    assert not errors(findings), render(findings)
    assert not [f for f in findings if f.severity is Severity.WARNING]
    assert {"network.tls.chain.complete", "network.tls.handshake"} <= checks(findings)


def test_tls12_only_server_passes_with_a_tls13_warning(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(maximum=TLS12_ONLY)
    findings = check_tls(probe(server.endpoint, pki, client_identity), trust=pki.hierarchy.anchors)
    assert not errors(findings), render(findings)
    (missing,) = with_check(findings, "network.tls.version.tls13_missing")
    assert missing.severity is Severity.WARNING


def test_tls13_only_server_fails_for_missing_tls12(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(minimum=ssl.TLSVersion.TLSv1_3)
    findings = check_tls(probe(server.endpoint, pki, client_identity), trust=pki.hierarchy.anchors)
    assert checks(errors(findings)) == {"network.tls.version.tls12_missing"}


def test_legacy_tls10_is_forbidden(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(minimum=ssl.TLSVersion.TLSv1, ciphers="ALL:@SECLEVEL=0")
    result = probe(server.endpoint, pki, client_identity)
    assert result.version(TLS10).outcome is VersionOutcome.ACCEPTED  # type: ignore[union-attr]
    assert result.suites.version("TLSv1") is not None  # accepted, so scanned
    findings = check_tls(result, trust=pki.hierarchy.anchors)
    bad = with_check(findings, "network.tls.version.forbidden")
    assert {f.evidence["version"] for f in bad} == {"TLS 1.0", "TLS 1.1"}
    assert all(f.severity is Severity.ERROR and "TLS004" in f.message for f in bad)


def test_weak_cbc_static_rsa_cipher_is_an_error(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(maximum=TLS12_ONLY, ciphers="AES128-SHA")
    result = probe(server.endpoint, pki, client_identity)
    assert result.version(TLS12).cipher == "AES128-SHA"  # type: ignore[union-attr]
    findings = check_tls(result, trust=pki.hierarchy.anchors)
    (rated,) = with_check(findings, "network.tls.cipher.insufficient")
    assert rated.severity is Severity.ERROR
    assert "TLS_RSA_WITH_AES_128_CBC_SHA (TLS 1.2)" in rated.message
    assert "TLS006" in rated.message
    assert "2025-05" in rated.message
    # The certificate side is fine: the verified handshake still succeeds.
    assert with_check(findings, "network.tls.handshake")[0].severity is Severity.INFO


def test_without_the_suite_scan_the_negotiated_and_weak_offers_are_judged(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(maximum=TLS12_ONLY, ciphers="AES128-SHA")
    result = probe(server.endpoint, pki, client_identity, scan=False)
    findings = check_tls(result, trust=pki.hierarchy.anchors, table=NCSC_2_1)
    (rated,) = with_check(findings, "network.tls.cipher.phase_out")
    assert "AES128-SHA" in rated.message
    assert with_check(findings, "network.tls.cipher.weak_accepted")
    (untried,) = with_check(findings, "network.tls.cipher.not_probed")
    assert "3DES" in untried.message
    assert "switched off" in untried.message


def test_server_preferring_strong_but_accepting_weak_is_caught(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    server = tls_server(maximum=TLS12_ONLY, ciphers="ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA")
    findings = check_tls(probe(server.endpoint, pki, client_identity), trust=pki.hierarchy.anchors)
    assert checks(errors(findings)) == {"network.tls.cipher.insufficient"}
    assert "TLS_RSA_WITH_AES_256_CBC_SHA" in errors(findings)[0].message
    assert "ECDHE-RSA-AES256-GCM" not in errors(findings)[0].message


def test_incomplete_chain_names_the_missing_intermediate(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity, server_identity: Identity
) -> None:
    partial = Identity(server_identity.certificate, server_identity.private_key,
                       server_identity.chain[:1], "dso-lv without domain CA")
    server = tls_server(identity=partial)
    findings = check_tls(probe(server.endpoint, pki, client_identity), trust=pki.hierarchy.anchors)
    (incomplete,) = with_check(findings, "network.tls.chain.incomplete")
    assert "'TEST pytest-dso Private Services CA - G1'" in incomplete.message
    # A client without the intermediate cannot verify the server either.
    assert "tls.untrusted_server" in checks(errors(findings))


def test_untrusted_server_and_rejected_client_certificate(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    stranger = build_test_pki(key_type="ec256")
    server = tls_server()
    untrusting = probe(server.endpoint, stranger, client_identity)
    findings = check_tls(untrusting, trust=stranger.hierarchy.anchors)
    assert "tls.untrusted_server" in checks(errors(findings))
    rejected = probe(server.endpoint, pki, stranger.identity("digikoppelaar"))
    found = check_tls(rejected, trust=pki.hierarchy.anchors)
    (bad,) = with_check(found, "tls.unknown_ca")
    assert "digikoppelaar" in bad.message


def test_tls12_client_certificate_rejection_still_counts_the_version_as_accepted(
    tls_server: ServerFactory, pki: TestPki
) -> None:
    stranger = build_test_pki(key_type="ec256").identity("digikoppelaar")
    server = tls_server(maximum=TLS12_ONLY)
    result = probe(server.endpoint, pki, stranger)
    tls12 = result.version(TLS12)
    assert tls12 is not None
    assert tls12.outcome is VersionOutcome.ACCEPTED
    assert "client certificate was rejected" in tls12.detail


def test_unreachable_endpoint_gives_one_tcp_error(
    pki: TestPki, client_identity: Identity, closed_port: int
) -> None:
    result = probe(Endpoint("127.0.0.1", closed_port), pki, client_identity)
    findings = check_tls(result, trust=pki.hierarchy.anchors)
    assert [f.check for f in findings] == ["network.tcp.refused"]


@pytest.fixture
def plain_tcp_server() -> Iterator[Endpoint]:
    """A server that answers every connection with a line of HTTP and closes it."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    worker = threading.Thread(target=loop, daemon=True)
    worker.start()
    yield Endpoint("127.0.0.1", listener.getsockname()[1])
    stop.set()
    with contextlib.suppress(OSError):
        listener.shutdown(socket.SHUT_RDWR)  # wakes the waiting accept() at once
    listener.close()
    worker.join(2)


def test_non_tls_service_fails_tls12_and_the_handshake(
    plain_tcp_server: Endpoint, pki: TestPki, client_identity: Identity
) -> None:
    result = probe(plain_tcp_server, pki, client_identity, openssl=None)
    findings = check_tls(result, trust=pki.hierarchy.anchors)
    assert {"network.tls.version.tls12_missing", "tls.protocol_version"} <= checks(
        errors(findings)
    )
    assert with_check(findings, "network.tls.chain.not_inspectable")[0].severity is Severity.INFO


def test_version_the_local_openssl_cannot_offer_is_info_not_a_pass(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    unavailable = Protocol("TLS 1.0", "TLSv1", "TLSv1", "HAS_NO_SUCH_FLAG")
    server = tls_server()
    result = probe(server.endpoint, pki, client_identity, protocols=(unavailable, TLS12, TLS13),
                   weak_offer=False, scan=False)
    assert result.versions[0].outcome is VersionOutcome.NOT_PROBED
    (note,) = with_check(check_tls(result), "network.tls.version.not_probed")
    assert note.severity is Severity.INFO
    assert "-tls1" in note.hint


@pytest.mark.skipif(chain_via_openssl(Endpoint("127.0.0.1", 1), timeout=1).note
                    .endswith("not installed"), reason="openssl is not installed")
def test_openssl_fallback_reads_the_same_chain(
    tls_server: ServerFactory, server_identity: Identity
) -> None:
    server = tls_server(mtls=False)
    sent = chain_via_openssl(server.endpoint, "localhost", timeout=10)
    assert sent.certificates is not None, sent.note
    assert sent.certificates[0] == server_identity.certificate
    assert sent.certificates[1:] == server_identity.chain


def test_the_scan_sees_the_same_without_sslyzes_connectivity_test(
    tls_server: ServerFactory,
) -> None:
    """Told the newest version our handshakes saw, the scan skips sslyze's own connectivity
    test and counts a certificate request as acceptance: at a server that only asks for a
    client certificate (which that test tells sslyze to ignore) it finds exactly the same."""
    server = tls_server(maximum=TLS12_ONLY, mtls=False,
                        ciphers="ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA")
    tested = scan_suites(server.endpoint, "localhost", timeout=3, versions=("TLSv1.2",))
    told = scan_suites(server.endpoint, "localhost", timeout=3, versions=("TLSv1.2",),
                       highest="TLSv1.2")
    assert told.available, told.error
    assert told == tested
    tls12 = told.version("TLSv1.2")
    assert tls12 is not None
    assert {s.openssl for s in tls12.accepted} == {"ECDHE-RSA-AES128-GCM-SHA256", "AES256-SHA"}
    assert "x25519" in told.curves
