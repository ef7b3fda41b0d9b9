"""The sent-chain completeness check and the NCSC cipher table."""

from __future__ import annotations

import pytest

from pytest_dso.findings import Severity, errors, with_check
from pytest_dso.network.chain import build_path, check_sent_chain
from pytest_dso.network.ciphers import NCSC_TLS_TABLE, CipherEntry, Rating, rate_version, table_from
from pytest_dso.pkio.testpki import TestPki, build_hierarchy


def test_complete_chain_is_anchored_at_the_root(pki: TestPki) -> None:
    leaf = pki.leaves["dso-lv"]
    sent = (leaf.certificate, *leaf.issuers[:2])
    findings = check_sent_chain(sent, pki.hierarchy.anchors, where="sim")
    assert not errors(findings)
    assert [f.check for f in findings] == ["network.tls.chain.complete"]
    assert findings[0].evidence["sent"] == "3"


def test_missing_domain_ca_is_named(pki: TestPki) -> None:
    leaf = pki.leaves["dso-lv"]
    findings = check_sent_chain((leaf.certificate, leaf.issuers[0]), pki.hierarchy.anchors)
    (bad,) = errors(findings)
    assert bad.check == "network.tls.chain.incomplete"
    domain_ca = "TEST pytest-dso Private Services CA - G1"
    assert f"not the certificate of '{domain_ca}'" in bad.message
    assert domain_ca in bad.hint


def test_leaf_only_without_trust_uses_the_four_level_rule(pki: TestPki) -> None:
    leaf = pki.leaves["dso-lv"]
    (bad,) = errors(check_sent_chain((leaf.certificate,)))
    assert "four levels and only 1 were sent" in bad.message
    assert "PKIoverheid Private Services TSP CA" in bad.message


def test_three_levels_without_trust_is_unanchored_info(pki: TestPki) -> None:
    leaf = pki.leaves["dso-lv"]
    findings = check_sent_chain((leaf.certificate, *leaf.issuers[:2]))
    assert [f.check for f in findings] == ["network.tls.chain.unanchored"]


def test_root_included_is_complete_and_out_of_order_warns(pki: TestPki) -> None:
    leaf = pki.leaves["dso-lv"]
    tsp, domain, root = leaf.issuers
    findings = check_sent_chain((leaf.certificate, domain, root, tsp))
    assert not errors(findings)
    assert with_check(findings, "network.tls.chain.order")[0].severity is Severity.WARNING
    path = build_path((leaf.certificate, domain, root, tsp))
    assert path == (leaf.certificate, tsp, domain, root)


def test_foreign_certificates_are_reported_and_wrong_anchor_fails(pki: TestPki) -> None:
    other = build_hierarchy("other", key_type="ec256")
    leaf = pki.leaves["dso-lv"]
    sent = (leaf.certificate, *leaf.issuers[:2], other.tsp.certificate)
    findings = check_sent_chain(sent, other.anchors)
    assert with_check(findings, "network.tls.chain.extra")
    (bad,) = errors(findings)
    assert "none of the trust anchors issued it" in bad.message


def test_empty_chain_is_an_error() -> None:
    assert [f.check for f in check_sent_chain(())] == ["network.tls.chain.empty"]


@pytest.mark.parametrize(
    ("name", "rating"),
    [
        ("TLS_AES_256_GCM_SHA384", Rating.GOOD),
        ("ECDHE-RSA-AES256-GCM-SHA384", Rating.GOOD),
        ("tls_ecdhe_rsa_with_aes_256_gcm_sha384", Rating.GOOD),
        ("ECDHE-RSA-AES128-SHA", Rating.SUFFICIENT),
        ("DHE-RSA-AES256-GCM-SHA384", Rating.SUFFICIENT),
        ("AES128-SHA", Rating.PHASE_OUT),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", Rating.PHASE_OUT),
        ("DES-CBC3-SHA", Rating.PHASE_OUT),
        ("RC4-MD5", Rating.INSUFFICIENT),
        ("ECDHE-ARIA256-GCM-SHA384", Rating.INSUFFICIENT),
    ],
)
def test_ncsc_table(name: str, rating: Rating) -> None:
    assert NCSC_TLS_TABLE.rate(name) is rating


def test_table_states_it_is_our_reading_with_a_version_date() -> None:
    assert "our reading" in NCSC_TLS_TABLE.source
    assert "2021-01" in NCSC_TLS_TABLE.source


def test_table_overrides_by_either_spelling_and_adds_unknown_suites() -> None:
    table = NCSC_TLS_TABLE.overridden(
        {
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "uit te faseren",
            "ECDHE-ARIA256-GCM-SHA384": "goed",
        },
        source="site policy 2025",
    )
    assert table.rate("ECDHE-RSA-AES128-SHA") is Rating.PHASE_OUT
    assert table.rate("ECDHE-ARIA256-GCM-SHA384") is Rating.GOOD
    assert "site policy 2025" in table.source
    assert NCSC_TLS_TABLE.rate("ECDHE-RSA-AES128-SHA") is Rating.SUFFICIENT


def test_own_table_and_bad_rating_names() -> None:
    table = table_from([CipherEntry("X", "X", Rating.GOOD)], "mine")
    assert table.rate("x") is Rating.GOOD
    assert table.rate("AES128-SHA") is Rating.INSUFFICIENT
    with pytest.raises(ValueError, match="unknown rating 'great'"):
        Rating.parse("great")


def test_version_ratings() -> None:
    assert rate_version("TLSv1.3") is Rating.GOOD
    assert rate_version("TLSv1") is Rating.PHASE_OUT
    assert not rate_version("TLSv1.1").acceptable
    assert rate_version("TLSv1.2").acceptable
