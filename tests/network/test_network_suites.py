"""The TLS and whitelist suites run end to end in local mode, and fail with a readable verdict
when the partner or the configuration is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.pkio.identity import Identity, certificates_pem
from pytest_dso.pkio.testpki import TestPki

ServerFactory = Callable[..., Any]

SUITES = Path(__file__).parents[2] / "suites"

WEAK_PARTNER_CONFTEST = '''
import ssl
import warnings

import pytest

from pytest_dso.network.partners import partner_from_url
from pytest_dso.transport.server import HttpsServer


@pytest.fixture(scope="session")
def _dso_local_tls_partner(dso_test_pki, dso_trust_anchors):
    """A partner that still accepts TLS 1.0 and serves a static-RSA CBC suite."""
    context = dso_test_pki.identity("dso-lv").server_context(dso_trust_anchors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES128-SHA:@SECLEVEL=0")
    server = HttpsServer(context).start()
    yield partner_from_url(server.url, "weak test partner")
    server.stop()
'''


@pytest.fixture
def suites(pytester: pytest.Pytester) -> pytest.Pytester:
    for name in ("test_tls.py", "test_whitelist.py"):
        pytester.makepyfile(**{name[:-3]: (SUITES / name).read_text(encoding="utf-8")})
    return pytester


def test_suites_pass_against_the_local_partner(suites: pytest.Pytester) -> None:
    result = suites.runpytest("-p", "no:cacheprovider", "-m", "health")
    result.assert_outcomes(passed=9)


@pytest.mark.pki("rsa2048")  # a static-RSA suite needs an RSA server key
def test_tls_suite_fails_on_a_weak_partner(suites: pytest.Pytester) -> None:
    suites.makeconftest(WEAK_PARTNER_CONFTEST)
    result = suites.runpytest("-p", "no:cacheprovider", "test_tls.py")
    result.assert_outcomes(failed=2, passed=4)
    result.stdout.fnmatch_lines([
        "*test_partner_accepts_only_tls12_and_tls13*",
        "*[[]error[]] network.tls.version.forbidden: the server accepts TLS 1.0*",
    ])
    result.stdout.fnmatch_lines(["*[[]error[]] network.tls.cipher.insufficient: the server "
                                 "accepts 1 suite(s) rated insufficient*"
                                 "TLS_RSA_WITH_AES_128_CBC_SHA (TLS 1.2)*TLS006*"])
    assert "Traceback" not in result.stdout.str()


def test_whitelist_suite_names_a_bad_allow_list_line(suites: pytest.Pytester) -> None:
    suites.path.joinpath("allow.txt").write_text("147.181.12.102\nfirewall.example.nl\n",
                                                 encoding="utf-8")
    suites.path.joinpath("dso.toml").write_text('[network]\nallow_from_file = "allow.txt"\n',
                                                encoding="utf-8")
    result = suites.runpytest("-p", "no:cacheprovider", "test_whitelist.py")
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines([
        "*[[]error[]] network.allowlist.bad_entry: 'firewall.example.nl' is not an IP address*"
        "allow.txt:2)",
    ])


def test_tls_suite_on_pre_probes_the_configured_ebms_endpoint(
    suites: pytest.Pytester, tls_server: ServerFactory, pki: TestPki, client_identity: Identity
) -> None:
    # A PRE run whose [ebms] endpoint points at a loopback server: the harness's certificate
    # and trust come from files, as they would for a real adapter.
    server = tls_server()
    folder = suites.path
    (folder / "cert.pem").write_bytes(client_identity.chain_pem())
    (folder / "key.pem").write_bytes(client_identity.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (folder / "roots.pem").write_bytes(certificates_pem(pki.hierarchy.anchors))
    (folder / "dso.toml").write_text(
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nca_bundle = "roots.pem"\n'
        f'[ebms]\nendpoint = "https://localhost:{server.endpoint.port}/ebms"\n',
        encoding="utf-8",
    )
    result = suites.runpytest("-p", "no:cacheprovider", "--dso-env=pre", "test_tls.py")
    # The transport is fine; the test certificate is rightly refused as a PRE server certificate.
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines([
        "*[[]error[]] pkio.chain.not_pkio_root: the chain ends at 'TEST pytest-dso Private Root*",
        "*FAILED test_tls.py::test_partner_certificate_passes_the_certificate_checks*",
    ])
    assert f"localhost:{server.endpoint.port}" in result.stdout.str()


def _pre_run_against(suites: pytest.Pytester, port: int, pki: TestPki, client: Identity,
                     extra: str = "") -> pytest.RunResult:
    folder = suites.path
    (folder / "cert.pem").write_bytes(client.chain_pem())
    (folder / "key.pem").write_bytes(client.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    (folder / "roots.pem").write_bytes(certificates_pem(pki.hierarchy.anchors))
    (folder / "dso.toml").write_text(
        '[certificate]\ncert = "cert.pem"\nkey = "key.pem"\nca_bundle = "roots.pem"\n'
        f'[ebms]\nendpoint = "https://localhost:{port}/ebms"\n{extra}',
        encoding="utf-8",
    )
    return suites.runpytest(
        "-p", "no:cacheprovider", "--dso-env=pre", "test_tls.py",
        "-k", "client_certificate or ciphers or mutual",
    )


@pytest.mark.parametrize("verify", [(), ("-verify", "2")], ids=["not-requested", "optional"])
def test_tls_suite_fails_when_the_partner_does_not_require_a_client_certificate(
    suites: pytest.Pytester, openssl_server: Callable[..., Any], pki: TestPki,
    client_identity: Identity, verify: tuple[str, ...],
) -> None:
    server = openssl_server(*verify, "-cipher", "ECDHE-RSA-AES256-GCM-SHA384")
    result = _pre_run_against(suites, server.port, pki, client_identity)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*[[]error[]] network.tls.client_auth.not_required: the server completes a TLS "
        "handshake (TLSv1.3) without a client certificate*TLS001/TLS002*",
        "*FAILED test_tls.py::test_partner_requires_a_client_certificate*",
    ])
    assert "Traceback" not in result.stdout.str()


def test_tls_suite_fails_the_cipher_test_on_dhe_1024(
    suites: pytest.Pytester, openssl_server: Callable[..., Any], pki: TestPki,
    client_identity: Identity, dh1024: Path,
) -> None:
    server = openssl_server(
        "-Verify", "2", "-no_tls1_3", "-dhparam", str(dh1024),
        "-cipher", "DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
    )
    # Under v2.1 the DHE suite itself is sufficient: only the group can fail it.
    result = _pre_run_against(suites, server.port, pki, client_identity,
                              '[network]\ntls_guidelines = "2.1"\n')
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*cipher ratings: our reading of the NCSC*v2.1*"])
    result.stdout.fnmatch_lines([
        "*[[]error[]] network.tls.key_exchange.insufficient: the server's ephemeral key "
        "exchange uses DH 1024-bit (not an RFC 7919 group)*TLS006*",
        "*FAILED test_tls.py::test_partner_negotiates_good_or_sufficient_ciphers*",
    ])


def test_tls_scan_can_be_switched_off(
    suites: pytest.Pytester,
) -> None:
    suites.path.joinpath("dso.toml").write_text("[network]\ntls_scan = false\n",
                                                encoding="utf-8")
    result = suites.runpytest("-p", "no:cacheprovider", "-rA", "test_tls.py",
                                         "-k", "ciphers")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*cipher ratings: our reading of the NCSC*2025-05*"])
