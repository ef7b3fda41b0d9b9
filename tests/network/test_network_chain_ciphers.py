"""The sent-chain completeness check and the NCSC cipher table."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_parameters

from pytest_dso.findings import Severity, errors, with_check
from pytest_dso.network.chain import build_path, check_sent_chain
from pytest_dso.network.ciphers import (
    NCSC_2_1,
    NCSC_2025_05,
    NCSC_TLS_TABLE,
    CipherEntry,
    KeyExchange,
    Rating,
    cipher_table,
    dh_group_name,
    rate_version,
    table_from,
)
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


_G, _S, _P, _I = Rating.GOOD, Rating.SUFFICIENT, Rating.PHASE_OUT, Rating.INSUFFICIENT


@pytest.mark.parametrize(
    ("name", "v21", "v2025"),
    [
        ("TLS_AES_256_GCM_SHA384", _G, _G),
        ("TLS_AES_128_GCM_SHA256", _G, _S),
        ("TLS_AES_128_CCM_SHA256", _G, _S),
        ("TLS_AES_128_CCM_8_SHA256", _I, _I),
        ("ECDHE-RSA-AES256-GCM-SHA384", _G, _S),
        ("tls_ecdhe_rsa_with_aes_256_gcm_sha384", _G, _S),
        ("ECDHE-ECDSA-AES128-CCM", _G, _S),
        ("ECDHE-ECDSA-AES128-CCM8", _I, _I),
        ("ECDHE-RSA-AES128-SHA256", _S, _P),
        ("ECDHE-RSA-AES128-SHA", _S, _I),
        ("ECDHE-RSA-CAMELLIA128-SHA256", _S, _P),
        ("TLS_ECDHE_RSA_WITH_CAMELLIA_128_GCM_SHA256", _I, _P),
        ("ECDHE-ARIA256-GCM-SHA384", _I, _P),
        ("DHE-RSA-AES256-GCM-SHA384", _S, _P),
        ("DHE-RSA-AES128-CCM", _S, _P),
        ("DHE-RSA-CAMELLIA256-SHA", _S, _I),
        ("DHE-RSA-AES128-SHA", _S, _I),
        ("AES128-SHA", _P, _I),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", _P, _I),
        ("CAMELLIA128-SHA", _P, _I),
        ("DES-CBC3-SHA", _P, _I),
        ("RC4-MD5", _I, _I),
    ],
)
def test_ncsc_tables(name: str, v21: Rating, v2025: Rating) -> None:
    assert NCSC_2_1.rate(name) is v21
    assert NCSC_2025_05.rate(name) is v2025


def test_default_table_is_2025_05_and_says_it_is_our_reading() -> None:
    assert NCSC_TLS_TABLE is NCSC_2025_05 is cipher_table("2025-05")
    assert cipher_table("2.1") is NCSC_2_1
    assert "our reading" in NCSC_TLS_TABLE.source
    assert "2025-05" in NCSC_TLS_TABLE.source
    assert "2021-01" in NCSC_2_1.source
    with pytest.raises(ValueError, match=r"unknown NCSC TLS guidelines edition '3\.0'"):
        cipher_table("3.0")


@pytest.mark.parametrize(
    ("kex", "v21", "v2025"),
    [
        (KeyExchange("ECDH", 253, "x25519"), _G, _G),
        (KeyExchange("ECDH", 256, "prime256v1"), _G, _G),
        (KeyExchange("ECDH", 256, "brainpoolp256r1"), _I, _G),
        (KeyExchange("ECDH", 224, "secp224r1"), _P, _P),
        (KeyExchange("ECDH", 192, "secp192r1"), _I, _I),
        (KeyExchange("DH", 4096, "ffdhe4096"), _S, _P),
        (KeyExchange("DH", 3072, "ffdhe3072"), _S, _P),
        (KeyExchange("DH", 2048, "ffdhe2048"), _P, _I),
        (KeyExchange("DH", 3072), _P, _I),
        (KeyExchange("DH", 1024), _I, _I),
    ],
)
def test_key_exchange_ratings(kex: KeyExchange, v21: Rating, v2025: Rating) -> None:
    assert NCSC_2_1.rate_key_exchange(kex) is v21
    assert NCSC_2025_05.rate_key_exchange(kex) is v2025


@pytest.mark.parametrize("bits", [2048, 3072, 4096])
def test_rfc7919_groups_are_recognised_by_their_prime(
    bits: int, tmp_path: Path
) -> None:
    """The primes OpenSSL knows as ffdheNNNN are recognised; another prime is not."""
    out = tmp_path / "dh.pem"
    made = subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
         f"group:ffdhe{bits}", "-out", str(out)],
        capture_output=True, timeout=30, check=False,
    )
    if made.returncode != 0:
        pytest.skip("this openssl cannot write named DH groups")
    numbers = load_pem_parameters(out.read_bytes()).parameter_numbers()
    prime = numbers.p.to_bytes((numbers.p.bit_length() + 7) // 8, "big")
    assert dh_group_name(prime) == f"ffdhe{bits}"
    assert dh_group_name(b"\0" + prime) == f"ffdhe{bits}"
    assert dh_group_name(prime[:-1] + b"\x01") is None
    assert KeyExchange("DH", bits, dh_group_name(prime)).label == f"DH ffdhe{bits}"
    assert "not an RFC 7919 group" in KeyExchange("DH", bits).label


def test_table_overrides_by_either_spelling_and_adds_unknown_suites() -> None:
    table = NCSC_2_1.overridden(
        {
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "uit te faseren",
            "ECDHE-ARIA256-GCM-SHA384": "goed",
            "MY-OWN-SUITE": "voldoende",
        },
        source="site policy 2025",
    )
    assert table.rate("ECDHE-RSA-AES128-SHA") is Rating.PHASE_OUT
    assert table.rate("ECDHE-ARIA256-GCM-SHA384") is Rating.GOOD
    assert table.rate("my-own-suite") is Rating.SUFFICIENT
    assert "site policy 2025" in table.source
    assert table.edition == "2.1"
    assert table.rate_key_exchange(KeyExchange("DH", 3072, "ffdhe3072")) is Rating.SUFFICIENT
    assert NCSC_2_1.rate("ECDHE-RSA-AES128-SHA") is Rating.SUFFICIENT


def test_own_table_and_bad_rating_names() -> None:
    table = table_from([CipherEntry("X", "X", Rating.GOOD)], "mine")
    assert table.rate("x") is Rating.GOOD
    assert table.rate("AES128-SHA") is Rating.INSUFFICIENT
    with pytest.raises(ValueError, match="unknown rating 'great'"):
        Rating.parse("great")


def test_version_ratings() -> None:
    assert rate_version("TLSv1.3") is Rating.GOOD
    assert rate_version("TLSv1.2").acceptable
    assert rate_version("TLSv1") is Rating.INSUFFICIENT
    assert rate_version("TLSv1", NCSC_2_1) is Rating.PHASE_OUT
    assert not rate_version("TLSv1.1", NCSC_2_1).acceptable
    assert rate_version("SSLv3", NCSC_2_1) is Rating.INSUFFICIENT
