"""All checks under one policy, and the key-free summary."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization

from pytest_dso.findings import Severity, errors, warnings_of
from pytest_dso.pkio.checks import CertificatePolicy, certificate_summary, check_identity
from pytest_dso.pkio.identity import fingerprint_sha256
from pytest_dso.pkio.testpki import Issued, TestHierarchy


@pytest.fixture(scope="module")
def local(hierarchy: TestHierarchy, leaf_oin: str) -> CertificatePolicy:
    """The local policy: test root trusted, the leaf's OIN expected."""
    return CertificatePolicy(
        expected_oin=leaf_oin, env="local", anchors=hierarchy.anchors, host="localhost"
    )


def test_policy_is_frozen(local: CertificatePolicy) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        local.env = "pre"  # type: ignore[misc]


def test_sound_identity_is_clean_locally(good: Issued, local: CertificatePolicy) -> None:
    findings = check_identity(good.identity(), local)
    assert errors(findings) == []
    assert warnings_of(findings) == []


def test_the_same_identity_on_pre(good: Issued, local: CertificatePolicy) -> None:
    pre = dataclasses.replace(local, env="pre", require_pkio_root=True)
    findings = check_identity(good.identity(), pre)
    assert [f.check for f in errors(findings)] == ["pkio.chain.not_pkio_root"]
    assert [f.check for f in warnings_of(findings)] == ["pkio.oin.test_oin"]


def test_one_finding_per_problem_each_with_a_hint(
    issue: Callable[..., Issued], local: CertificatePolicy
) -> None:
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    bad = issue(oin="00000001002220647000", not_before=start, not_after=start + dt.timedelta(1))
    identity = bad.identity()
    findings = check_identity(dataclasses.replace(identity, chain=identity.chain[:1]), local)
    assert sorted(f.check for f in errors(findings)) == [
        "pkio.chain.incomplete",
        "pkio.oin.mismatch",
        "pkio.validity.expired",
    ]
    problems = [f for f in findings if f.severity >= Severity.WARNING]
    assert all(f.hint for f in problems)


def test_policy_clock_is_used(good: Issued, local: CertificatePolicy) -> None:
    far = dataclasses.replace(local, now=dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    checks = {f.check for f in errors(check_identity(good.identity(), far))}
    assert "pkio.validity.expired" in checks
    assert "pkio.chain.ca_expired" in checks


def test_expiry_warning_days_from_policy(good: Issued, local: CertificatePolicy) -> None:
    eager = dataclasses.replace(local, expiry_warning_days=10_000)
    assert [f.check for f in warnings_of(check_identity(good.identity(), eager))] == [
        "pkio.validity.expiring"
    ]


def test_summary_has_the_facts_and_no_key(good: Issued, hierarchy: TestHierarchy) -> None:
    summary = certificate_summary(good.certificate, good.issuers[:-1], hierarchy.anchors)
    assert summary["sha256 fingerprint"] == fingerprint_sha256(good.certificate)
    assert summary["oin"].startswith("00000099000004242000 = test OIN")
    assert summary["issuer chain"].endswith("TEST unit Private Root CA - G1")
    assert summary["issuer chain"].count("→") == 3
    assert summary["key"] == "EC secp256r1"
    assert {"subject", "valid from", "valid until", "days left"} <= summary.keys()
    key_pem = good.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    text = repr(summary)
    assert "PRIVATE" not in text
    for line in key_pem.splitlines()[1:-1]:
        assert line not in text


def test_summary_of_an_incomplete_chain_names_the_gap(good: Issued) -> None:
    summary = certificate_summary(good.certificate, ())
    assert "missing: TEST unit PKIoverheid Private Services TSP CA - G1" in summary["issuer chain"]


def test_summary_without_oin(issue: Callable[..., Issued]) -> None:
    assert certificate_summary(issue(oin=None).certificate)["oin"].startswith("none")
