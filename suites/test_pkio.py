"""The PKIoverheid certificate: "a PKIoverheid certificate with an OIN or HRN" before the
Digikoppeling can be realised (aansluitproces PRE part 2, PROD step 3).

Checks the configured ``[certificate]`` (in local mode without one: the test PKI's
Digikoppelaar). All checks are read-only.
"""

from __future__ import annotations

import pytest

from pytest_dso.evidence.allure import Evidence
from pytest_dso.pkio.checks import (
    CertificatePolicy,
    certificate_summary,
    chain_findings,
    oin_findings,
    profile_findings,
    validity_findings,
)
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.load import LoadedCertificate
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health, pytest.mark.dso_step("PRE 2.3")]


@pytest.fixture
def identity(dso_certificate_under_test: LoadedCertificate) -> Identity:
    """The certificate under test; the checks below skip when it did not load."""
    if dso_certificate_under_test.identity is None:
        pytest.skip("the certificate did not load; see test_certificate_loads")
    return dso_certificate_under_test.identity


def test_certificate_loads(
    dso_certificate_under_test: LoadedCertificate,
    dso_certificate_policy: CertificatePolicy,
    dso_evidence: Evidence,
) -> None:
    """The certificate, its key (matching) and its chain can be read; the report gets its
    summary (subject, OIN, issuer chain, validity, fingerprint; never the key)."""
    loaded = dso_certificate_under_test
    print(f"certificate: {loaded.source}")
    expect_clean(loaded.findings, "loading the certificate")
    assert loaded.identity is not None
    summary = certificate_summary(
        loaded.identity.certificate, loaded.identity.chain, dso_certificate_policy.anchors
    )
    dso_evidence.attach_certificate_summary({"bron": str(loaded.source), **summary},
                                            "certificaat")
    for key, value in summary.items():
        print(f"{key}: {value}")


def test_certificate_carries_the_right_oin(
    identity: Identity, dso_certificate_policy: CertificatePolicy
) -> None:
    """The OIN in subject serialNumber is well-formed and is the configured OIN."""
    expect_clean(oin_findings(identity.certificate, dso_certificate_policy), "OIN")


def test_chain_is_complete_up_to_an_accepted_root(
    identity: Identity, dso_certificate_policy: CertificatePolicy
) -> None:
    """Leaf → TSP CA → domain CA → PKIoverheid private root (a test root only locally)."""
    findings = chain_findings(identity.certificate, identity.chain, dso_certificate_policy)
    expect_clean(findings, "certificate chain")


def test_certificate_profile_fits_digikoppeling(
    identity: Identity, dso_certificate_policy: CertificatePolicy
) -> None:
    """Key usage, EKU serverAuth + clientAuth, key size, SHA-2, SAN, not a CA."""
    expect_clean(profile_findings(identity.certificate, dso_certificate_policy), "profile")


def test_certificate_is_valid_now(
    identity: Identity, dso_certificate_policy: CertificatePolicy
) -> None:
    """Valid today, and not expiring within the warning period."""
    expect_clean(validity_findings(identity.certificate, dso_certificate_policy), "validity")
