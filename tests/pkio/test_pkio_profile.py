"""The end-entity profile: key usage, EKU, key, signature hash, SAN, basic constraints."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from pytest_dso.findings import Finding, Severity
from pytest_dso.pkio.profile import check_profile
from pytest_dso.pkio.testpki import Issued, LeafSpec, TestHierarchy, build_hierarchy


def ids(findings: list[Finding], severity: Severity = Severity.ERROR) -> list[str]:
    return [f.check for f in findings if f.severity == severity]


def test_sound_certificate_is_clean(good: Issued) -> None:
    findings = check_profile(good.certificate, "adapter.test.localhost")
    assert ids(findings) == []
    assert ids(findings, Severity.WARNING) == []


def test_every_problem_has_a_hint(issue: Callable[..., Issued]) -> None:
    bad = issue(
        key_usage=("digital_signature",),
        extended_key_usage=(ExtendedKeyUsageOID.CODE_SIGNING,),
        dns_names=(),
        ip_addresses=(),
    )
    findings = check_profile(bad.certificate, "adapter.example.nl")
    assert ids(findings) == [
        "pkio.profile.key_usage",
        "pkio.profile.extended_key_usage",
        "pkio.profile.san",
    ]
    assert all(f.hint for f in findings)


def test_only_server_auth(issue: Callable[..., Issued]) -> None:
    cert = issue(extended_key_usage=(ExtendedKeyUsageOID.SERVER_AUTH,)).certificate
    findings = check_profile(cert)
    assert ids(findings) == ["pkio.profile.extended_key_usage"]
    assert "clientAuth" in findings[0].message
    assert "serverAuth" not in findings[0].message.split("lacks")[1]


def test_no_eku_is_an_error(issue: Callable[..., Issued]) -> None:
    findings = check_profile(issue(extended_key_usage=()).certificate)
    assert ids(findings) == ["pkio.profile.extended_key_usage"]
    assert "PvE" in findings[0].message
    assert "serverAuth and clientAuth" in findings[0].message


def test_missing_key_encipherment(issue: Callable[..., Issued]) -> None:
    findings = check_profile(issue(key_usage=("digital_signature",)).certificate)
    assert ids(findings) == ["pkio.profile.key_usage"]
    assert "key_encipherment" in findings[0].message


def test_no_key_usage_at_all(issue: Callable[..., Issued]) -> None:
    findings = check_profile(issue(key_usage=()).certificate)
    assert ids(findings) == ["pkio.profile.key_usage"]


def test_extra_key_usage_warns(issue: Callable[..., Issued]) -> None:
    cert = issue(
        key_usage=("digital_signature", "key_encipherment", "content_commitment")
    ).certificate
    findings = check_profile(cert)
    assert ids(findings, Severity.WARNING) == ["pkio.profile.key_usage_extra"]


@pytest.fixture(scope="module")
def rsa_issuer() -> TestHierarchy:
    """An RSA hierarchy, for the key-size and SHA-1 cases."""
    return build_hierarchy("rsa", key_type="rsa2048")


@pytest.mark.parametrize(
    ("key_type", "severity", "check"),
    [
        ("rsa1024", Severity.ERROR, "pkio.profile.key"),
        ("rsa2048", Severity.WARNING, "pkio.profile.key_size"),
    ],
)
def test_rsa_key_sizes(
    rsa_issuer: TestHierarchy, key_type: str, severity: Severity, check: str
) -> None:
    leaf = rsa_issuer.issue(LeafSpec("small", None, key_type=key_type))  # type: ignore[arg-type]
    findings = check_profile(leaf.certificate)
    assert ids(findings, severity) == [check]
    assert key_type[3:] in findings[0].message


def test_rsa_3072_is_fine(rsa_issuer: TestHierarchy) -> None:
    leaf = rsa_issuer.issue(LeafSpec("ok", None, key_type="rsa3072"))
    findings = check_profile(leaf.certificate)
    assert ids(findings) == []
    assert ids(findings, Severity.WARNING) == []


def test_sha1_signature_is_an_error(rsa_issuer: TestHierarchy) -> None:
    leaf = rsa_issuer.issue(LeafSpec("old", None, key_type="ec256", hash_name="sha1"))
    findings = check_profile(leaf.certificate)
    assert ids(findings) == ["pkio.profile.signature"]
    assert "SHA1" in findings[0].message


def test_sha384_is_fine(issue: Callable[..., Issued]) -> None:
    assert ids(check_profile(issue(hash_name="sha384").certificate)) == []


@pytest.mark.parametrize(
    ("host", "matches"),
    [
        ("adapter.test.localhost", True),
        ("ADAPTER.test.localhost.", True),
        ("127.0.0.1", True),
        ("other.test.localhost", False),
        ("10.0.0.1", False),
    ],
)
def test_san_names_the_host(good: Issued, host: str, matches: bool) -> None:
    findings = check_profile(good.certificate, host)
    assert ids(findings) == ([] if matches else ["pkio.profile.san"])
    if not matches:
        assert host in findings[0].message
        assert "adapter.test.localhost" in findings[0].message


def test_wildcard_san(issue: Callable[..., Issued]) -> None:
    cert = issue(dns_names=("*.example.nl",)).certificate
    assert ids(check_profile(cert, "stam.example.nl")) == []
    assert ids(check_profile(cert, "a.b.example.nl")) == ["pkio.profile.san"]


def test_no_host_configured_is_informational(good: Issued) -> None:
    findings = check_profile(good.certificate, None)
    assert ids(findings, Severity.INFO) == ["pkio.profile.san"]


def test_ca_certificate_is_not_an_end_entity(hierarchy: TestHierarchy) -> None:
    findings = check_profile(hierarchy.tsp.certificate)
    assert "pkio.profile.basic_constraints" in ids(findings)
