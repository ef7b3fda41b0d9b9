"""The TLS checks against real ``openssl s_server`` processes configured as partners are in the
wild: client authentication required (``-Verify``), optional (``-verify``) or absent, a DHE
suite with a 1024-bit group, weak suites behind a preferred good one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pytest_dso.findings import errors, with_check
from pytest_dso.network.ciphers import NCSC_2_1
from pytest_dso.network.endpoint import Endpoint
from pytest_dso.network.handshake import TLS12
from pytest_dso.network.suitescan import AcceptedSuite
from pytest_dso.network.tlscheck import check_ciphers, check_client_auth
from pytest_dso.network.tlsprobe import ClientAuthOutcome, TlsProbe, probe_tls
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki

#: ``openssl_server`` from conftest: ``openssl_server(*s_server_args)`` -> a running server.
OpenSslFactory = Callable[..., Any]
#: ``tls_server`` from conftest: a Python TLS server on 127.0.0.1.
ServerFactory = Callable[..., Any]


def probe(server_endpoint: Endpoint, pki: TestPki, client: Identity) -> TlsProbe:
    return probe_tls(server_endpoint, identity=client, trust=pki.hierarchy.anchors,
                     server_hostname="localhost", timeout=3, scan_concurrency=2)


@pytest.mark.parametrize(
    ("args", "outcome"),
    [
        ((), ClientAuthOutcome.ACCEPTED),
        (("-verify", "2"), ClientAuthOutcome.ACCEPTED),
        (("-Verify", "2"), ClientAuthOutcome.REFUSED),
        (("-Verify", "2", "-no_tls1_3"), ClientAuthOutcome.REFUSED),
    ],
    ids=["no-client-auth", "optional", "required", "required-tls12"],
)
def test_client_certificate_must_be_required(
    openssl_server: OpenSslFactory, pki: TestPki, client_identity: Identity,
    args: tuple[str, ...], outcome: ClientAuthOutcome,
) -> None:
    server = openssl_server(*args)
    result = probe(server.endpoint, pki, client_identity)
    assert result.client_auth is not None
    assert result.client_auth.outcome is outcome
    findings = check_client_auth(result)
    if outcome is ClientAuthOutcome.REFUSED:
        assert not errors(findings)
        assert with_check(findings, "network.tls.client_auth.required")
        # Our certificate is still accepted: the verified handshake completes.
        assert result.verification is not None
        assert result.verification.ok
    else:
        (bad,) = errors(findings)
        assert bad.check == "network.tls.client_auth.not_required"
        assert "TLS001/TLS002" in bad.message
        assert "without a client certificate" in bad.message
        assert "200" in bad.message  # s_server -www answered the GET


def test_dhe_with_a_1024_bit_group_fails_the_cipher_check(
    openssl_server: OpenSslFactory, pki: TestPki, client_identity: Identity, dh1024: Path
) -> None:
    server = openssl_server(
        "-Verify", "2", "-no_tls1_3", "-dhparam", str(dh1024),
        "-cipher", "DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
    )
    result = probe(server.endpoint, pki, client_identity)
    # v2.1 rates the DHE suite itself sufficient: the group decides.
    findings = check_ciphers(result, NCSC_2_1)
    (group,) = errors(findings)
    assert group.check == "network.tls.key_exchange.insufficient"
    assert "DH 1024-bit (not an RFC 7919 group)" in group.message
    assert "TLS006" in group.message
    assert with_check(findings, "network.tls.key_exchange.rated")  # the ECDHE curve is fine
    # 2025-05: the DHE suite phases out as well.
    checks = {f.check for f in errors(check_ciphers(result))}
    assert checks == {"network.tls.cipher.phase_out", "network.tls.key_exchange.insufficient"}


def test_every_accepted_suite_is_listed_not_only_the_negotiated_one(
    openssl_server: OpenSslFactory, pki: TestPki, client_identity: Identity
) -> None:
    """The server prefers a good suite; the scan still lists each weak one it accepts."""
    server = openssl_server(
        "-Verify", "2", "-no_tls1_3", "-serverpref",
        "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA:CAMELLIA128-SHA:"
        "AES128-CCM8:@SECLEVEL=0",
    )
    result = probe(server.endpoint, pki, client_identity)
    assert result.version(TLS12).cipher == "ECDHE-RSA-AES128-GCM-SHA256"  # type: ignore[union-attr]
    (bad,) = errors(check_ciphers(result))
    assert bad.check == "network.tls.cipher.insufficient"
    for suite in ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA",
                  "TLS_RSA_WITH_AES_128_CCM_8"):
        assert f"{suite} (TLS 1.2)" in bad.message
    assert "ECDHE_RSA_WITH_AES_128_GCM" not in bad.message


def test_suites_the_local_openssl_lacks_are_judged_from_the_scan(
    tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    """Debian's OpenSSL can neither offer nor serve 3DES: a scan that found it (as sslyze's
    legacy OpenSSL does at a server that has it) is judged, and the table suites nobody can
    offer are named as not probed."""
    server = tls_server()
    real = probe(server.endpoint, pki, client_identity)
    tls12 = real.suites.version("TLSv1.2")
    assert tls12 is not None
    assert not tls12.error
    legacy = AcceptedSuite("TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA")
    seen = replace(real, suites=replace(real.suites, versions=tuple(
        replace(v, accepted=(*v.accepted, legacy)) if v.version == "TLSv1.2" else v
        for v in real.suites.versions
    )))
    (bad,) = errors(check_ciphers(seen))
    assert "TLS_RSA_WITH_3DES_EDE_CBC_SHA (TLS 1.2)" in bad.message
    (untried,) = with_check(check_ciphers(real), "network.tls.cipher.not_probed")
    assert "TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256" in untried.message
    assert "3DES" not in untried.message  # the scan did offer it
