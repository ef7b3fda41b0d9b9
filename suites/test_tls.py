"""TLS of the DSO-LV endpoint: what the adapter will meet when it connects (Digikoppeling
TLS001-TLS006, aansluitproces PRE 2.5).

Every suite the partner accepts is probed (sslyze, so also suites the local OpenSSL lacks) and
rated with the NCSC TLS guidelines edition of ``[network] tls_guidelines`` (default 2025-05),
together with the (EC)DHE group; a connection without a client certificate must be refused.

The partner is the simulator's ebMS endpoint in local mode; otherwise the ``[ebms] endpoint``
override, the DSO-LV endpoint of the configured CPA, or the hosts of the environment's APIs.
Each partner is probed once per session (``dso_tls_probes``); the tests below judge that probe,
and each result carries its summary (what was probed, and what could not be, and why).
All checks are read-only.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from cryptography import x509

from pytest_dso.evidence.allure import Evidence
from pytest_dso.findings import Finding
from pytest_dso.network.ciphers import CipherTable
from pytest_dso.network.tlscheck import (
    check_chain,
    check_ciphers,
    check_client_auth,
    check_verification,
    check_versions,
    unreachable,
)
from pytest_dso.network.tlsprobe import TlsProbe
from pytest_dso.pkio.checks import CertificatePolicy, check_certificate
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health, pytest.mark.dso_step("PRE 2.5")]


def test_partner_accepts_only_tls12_and_tls13(
    dso_tls_probes: tuple[TlsProbe, ...], dso_evidence: Evidence
) -> None:
    """TLS 1.2 is accepted, TLS 1.0 and 1.1 are refused (TLS004); TLS 1.3 is recommended."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    findings = [f for probe in dso_tls_probes for f in check_versions(probe)]
    expect_clean(findings, "TLS protocol versions")


def test_partner_negotiates_good_or_sufficient_ciphers(
    dso_tls_probes: tuple[TlsProbe, ...], dso_cipher_table: CipherTable, dso_evidence: Evidence
) -> None:
    """Only cipher suites and (EC)DHE groups rated goed or voldoende by the NCSC guidelines
    (TLS006); what could not be probed is listed."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    print(f"cipher ratings: {dso_cipher_table.source}")
    findings = [f for probe in dso_tls_probes for f in check_ciphers(probe, dso_cipher_table)]
    expect_clean(findings, "TLS cipher suites")


def test_partner_sends_its_complete_chain(
    dso_tls_probes: tuple[TlsProbe, ...],
    dso_trust_anchors: tuple[x509.Certificate, ...],
    dso_evidence: Evidence,
) -> None:
    """The server sends its certificate, the TSP CA and the domain CA."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    findings = [f for probe in dso_tls_probes for f in check_chain(probe, dso_trust_anchors)]
    expect_clean(findings, "certificate chain sent by the server")
    if any(p.tcp.ok and p.chain.certificates is None for p in dso_tls_probes):
        pytest.skip("the chain the server sends could not be inspected here (see the findings)")


def test_partner_certificate_passes_the_certificate_checks(
    dso_tls_probes: tuple[TlsProbe, ...],
    dso_certificate_policy: CertificatePolicy,
    dso_evidence: Evidence,
) -> None:
    """The server certificate passes the same checks as our own: chain to an accepted root,
    OIN, profile (the endpoint host in the SAN) and validity."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    findings: list[Finding] = []
    not_inspected: list[str] = []
    for probe in dso_tls_probes:
        sent = probe.chain.certificates
        if not probe.tcp.ok or not sent:
            findings += unreachable(probe)
            not_inspected += [] if not probe.tcp.ok else [f"{probe.where}: {probe.chain.note}"]
            continue
        policy = replace(
            dso_certificate_policy,
            expected_oin=None,
            host=probe.server_hostname or probe.endpoint.host,
        )
        print(f"{probe.where}: {sent[0].subject.rfc4514_string()}")
        findings += check_certificate(sent[0], sent[1:], policy)
    expect_clean(findings, "server certificate")
    if not_inspected:
        pytest.skip("server certificate not inspectable: " + "; ".join(not_inspected))


def test_partner_requires_a_client_certificate(
    dso_tls_probes: tuple[TlsProbe, ...], dso_evidence: Evidence
) -> None:
    """A handshake without a client certificate is refused: mutual TLS (TLS001/TLS002)."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    findings = [f for probe in dso_tls_probes for f in check_client_auth(probe)]
    expect_clean(findings, "client certificate required (TLS001/TLS002)")


def test_mutual_tls_handshake_verifies(
    dso_tls_probes: tuple[TlsProbe, ...], dso_evidence: Evidence
) -> None:
    """With our certificate and trust anchors the handshake completes: the server's certificate
    verifies and ours is accepted (TLS001/002)."""
    dso_evidence.attach_tls_probes(dso_tls_probes)
    findings = [f for probe in dso_tls_probes for f in check_verification(probe)]
    expect_clean(findings, "mutual TLS handshake")
