"""PRE 2.3 CPA aanmaken: the CPA is agreed, valid, and fits Digikoppeling and our certificates.

Each test checks one group of rules on the CPA under test (``[ebms] cpa`` in dso.toml, or the
simulator's CPA in local mode). Findings explain what is wrong, where, and how to fix it.
"""

from __future__ import annotations

import pytest

from pytest_dso.ebms.cpa import Cpa
from pytest_dso.evidence.allure import Evidence
from pytest_dso.evidence.exchanges import cpa_summary
from pytest_dso.findings import Finding, with_check
from pytest_dso.verdict import expect_clean

pytestmark = [pytest.mark.health, pytest.mark.dso_step("PRE 2.3")]


def test_cpa_names_two_parties_with_endpoints(dso_cpa: Cpa, dso_evidence: Evidence) -> None:
    """Both parties can be reached: each has a default MSH channel with an endpoint. The
    report gets the CPA's summary (CPAId, validity, parties, their ids and endpoints)."""
    dso_evidence.attach_cpa_summary(cpa_summary(dso_cpa), "CPA")
    for party in dso_cpa.parties:
        assert dso_cpa.endpoint_for(party, "Ping").startswith("https://"), party.name


def test_cpa_is_agreed_and_currently_valid(dso_cpa_findings: list[Finding]) -> None:
    """Status agreed, Start in the past, End in the future (warning when End is near)."""
    expect_clean(with_check(dso_cpa_findings, "cpa.validity"), "CPA validity")


def test_cpa_certificates_are_valid_and_ours(dso_cpa_findings: list[Finding]) -> None:
    """The certificates in the CPA are valid, outlast the CPA, and ours is the configured one."""
    expect_clean(with_check(dso_cpa_findings, "cpa.certificate"), "CPA certificates")


def test_party_ids_are_the_certificate_oins(dso_cpa_findings: list[Finding]) -> None:
    """PartyId type urn:osb:oin with the OIN of the party's certificate."""
    expect_clean(with_check(dso_cpa_findings, "cpa.party_id"), "CPA PartyIds")


def test_endpoints_are_https_and_named_in_the_server_certificate(
    dso_cpa_findings: list[Finding],
) -> None:
    """HTTPS endpoints (port 443 on PRE/PROD) whose host is in the server certificate SAN."""
    expect_clean(with_check(dso_cpa_findings, "cpa.endpoint"), "CPA endpoints")


def test_no_sha1_and_no_3des(dso_cpa_findings: list[Finding]) -> None:
    """Signing uses SHA-2 (SIGN001-004); encryption AES in GCM mode, no 3DES, key transport
    RSA-OAEP (ENC001-004)."""
    expect_clean(with_check(dso_cpa_findings, "cpa.crypto"), "CPA algorithms")


def test_service_action_and_cpa_id_are_well_formed(dso_cpa_findings: list[Finding]) -> None:
    """No whitespace in Service or Action; no dots or odd characters in the CPAId."""
    expect_clean(with_check(dso_cpa_findings, "cpa.naming"), "CPA names")


def test_one_consistent_default_msh_channel_per_party(dso_cpa_findings: list[Finding]) -> None:
    """Each party has one default MSH channel and both use the same signal profile."""
    expect_clean(with_check(dso_cpa_findings, "cpa.msh"), "CPA MSH channels")


def test_reliable_messaging_values(dso_cpa_findings: list[Finding]) -> None:
    """Retries and RetryInterval are stated and PersistDuration covers them."""
    expect_clean(with_check(dso_cpa_findings, "cpa.rm"), "CPA reliable messaging")
