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
def dso_local_tls_partner(dso_test_pki, dso_trust_anchors):
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
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "-m", "health")
    result.assert_outcomes(passed=8)


def test_tls_suite_fails_on_a_weak_partner(suites: pytest.Pytester) -> None:
    suites.makeconftest(WEAK_PARTNER_CONFTEST)
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "test_tls.py")
    result.assert_outcomes(failed=2, passed=3)
    result.stdout.fnmatch_lines([
        "*test_partner_accepts_only_tls12_and_tls13*",
        "*[[]error[]] network.tls.version.forbidden: the server accepts TLS 1.0*",
    ])
    result.stdout.fnmatch_lines(["*[[]error[]] network.tls.cipher.phase_out: TLS 1.2 negotiates "
                                 "AES128-SHA*"])
    assert "Traceback" not in result.stdout.str()


def test_whitelist_suite_names_a_bad_allow_list_line(suites: pytest.Pytester) -> None:
    suites.path.joinpath("allow.txt").write_text("147.181.12.102\nfirewall.example.nl\n",
                                                 encoding="utf-8")
    suites.path.joinpath("dso.toml").write_text('[network]\nallow_from_file = "allow.txt"\n',
                                                encoding="utf-8")
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "test_whitelist.py")
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
    result = suites.runpytest_subprocess("-p", "no:cacheprovider", "--dso-env=pre", "test_tls.py")
    # The transport is fine; the test certificate is rightly refused as a PRE server certificate.
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines([
        "*[[]error[]] pkio.chain.not_pkio_root: the chain ends at 'TEST pytest-dso Private Root*",
        "*FAILED test_tls.py::test_partner_certificate_passes_the_certificate_checks*",
    ])
    assert f"localhost:{server.endpoint.port}" in result.stdout.str()
