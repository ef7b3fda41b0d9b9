"""Loading PEM, DER and PKCS#12 identities: each problem gets its own verdict, no secrets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_dso.dsofile import CertificateConfig
from pytest_dso.findings import Finding, Severity, errors
from pytest_dso.pkio.identity import certificates_pem
from pytest_dso.pkio.load import (
    Passphrase,
    load_ca_bundle,
    load_configured_identity,
    load_pem_identity,
    load_pkcs12_identity,
    passphrase_from,
)
from pytest_dso.pkio.testpki import Issued, TestHierarchy

SECRET = "correct horse battery staple"


def key_pem(issued: Issued, passphrase: str | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    return issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def write_pem(
    folder: Path, issued: Issued, passphrase: str | None = None
) -> tuple[Path, Path, Path]:
    cert, key, chain = folder / "cert.pem", folder / "key.pem", folder / "chain.pem"
    cert.write_bytes(certificates_pem([issued.certificate]))
    key.write_bytes(key_pem(issued, passphrase))
    chain.write_bytes(certificates_pem(issued.issuers[:-1]))
    return cert, key, chain


def write_p12(path: Path, issued: Issued, passphrase: str | None) -> Path:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"test", issued.key, issued.certificate, list(issued.issuers[:-1]), encryption
        )
    )
    return path


def checks(findings: list[Finding]) -> list[str]:
    return [f.check for f in errors(findings)]


def assert_no_secrets(findings: list[Finding], issued: Issued) -> None:
    text = "\n".join(f"{f} {dict(f.evidence)}" for f in findings)
    assert SECRET not in text
    for line in key_pem(issued).decode().splitlines()[1:-1]:
        assert line not in text


# --- PEM ------------------------------------------------------------------------------------


def test_pem_with_chain_loads_in_issuing_order(tmp_path: Path, good: Issued) -> None:
    cert, key, chain = write_pem(tmp_path, good)
    identity, findings = load_pem_identity(cert, key, chain, label="me")
    assert identity is not None, findings
    assert errors(findings) == []
    assert identity.certificate == good.certificate
    assert identity.chain == good.issuers[:-1]
    assert identity.label == "me"


def test_certificate_file_may_hold_chain_in_any_order(tmp_path: Path, good: Issued) -> None:
    cert = tmp_path / "all.pem"
    tsp, domain = good.issuers[0], good.issuers[1]
    cert.write_bytes(certificates_pem([domain, good.certificate, tsp]))
    key = tmp_path / "key.pem"
    key.write_bytes(key_pem(good))
    identity, findings = load_pem_identity(cert, key)
    assert identity is not None, findings
    assert identity.certificate == good.certificate
    assert identity.chain == (tsp, domain)


def test_der_certificate_loads(tmp_path: Path, good: Issued) -> None:
    cert = tmp_path / "cert.der"
    cert.write_bytes(good.certificate.public_bytes(serialization.Encoding.DER))
    key = tmp_path / "key.pem"
    key.write_bytes(key_pem(good))
    identity, findings = load_pem_identity(cert, key)
    assert identity is not None
    assert errors(findings) == []


def test_missing_files_are_named(tmp_path: Path) -> None:
    identity, findings = load_pem_identity(tmp_path / "nope.pem", tmp_path / "nokey.pem")
    assert identity is None
    assert checks(findings) == ["pkio.load.missing", "pkio.load.missing"]
    assert "nope.pem" in findings[0].message
    assert findings[0].hint


def test_folder_instead_of_file_is_unreadable(tmp_path: Path, good: Issued) -> None:
    _cert, key, _chain = write_pem(tmp_path, good)
    identity, findings = load_pem_identity(tmp_path, key)
    assert identity is None
    assert checks(findings) == ["pkio.load.unreadable"]


def test_corrupt_certificate(tmp_path: Path, good: Issued) -> None:
    cert, key, _chain = write_pem(tmp_path, good)
    text = cert.read_text().splitlines()
    text[3] = "!!!!" + text[3][4:]
    cert.write_text("\n".join(text))
    identity, findings = load_pem_identity(cert, key)
    assert identity is None
    assert checks(findings) == ["pkio.load.corrupt"]


def test_random_bytes_are_corrupt(tmp_path: Path, good: Issued) -> None:
    _cert, key, _chain = write_pem(tmp_path, good)
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"\x00\x01 this is not a certificate")
    _identity, findings = load_pem_identity(junk, key)
    assert checks(findings) == ["pkio.load.corrupt"]


def test_pem_without_certificate(tmp_path: Path, good: Issued) -> None:
    _cert, key, _chain = write_pem(tmp_path, good)
    identity, findings = load_pem_identity(key, key)  # the key file given as certificate
    assert identity is None
    assert checks(findings) == ["pkio.load.no_certificate"]
    assert "PRIVATE KEY" in findings[0].message  # names what it found: the label only
    assert_no_secrets(findings, good)


def test_certificate_given_as_key(tmp_path: Path, good: Issued) -> None:
    cert, _key, _chain = write_pem(tmp_path, good)
    _identity, findings = load_pem_identity(cert, cert)
    assert checks(findings) == ["pkio.load.no_key"]


def test_key_of_another_certificate(
    tmp_path: Path, good: Issued, issue: Callable[..., Issued]
) -> None:
    other = issue()
    cert, _key, _chain = write_pem(tmp_path, good)
    key = tmp_path / "other.key.pem"
    key.write_bytes(key_pem(other))
    identity, findings = load_pem_identity(cert, key)
    assert identity is None
    assert checks(findings) == ["pkio.load.key_mismatch"]
    assert "adapter.test.localhost" in findings[0].message
    assert_no_secrets(findings, other)


def test_encrypted_key_without_passphrase(tmp_path: Path, good: Issued) -> None:
    cert, key, _chain = write_pem(tmp_path, good, SECRET)
    identity, findings = load_pem_identity(cert, key)
    assert identity is None
    assert checks(findings) == ["pkio.load.passphrase_required"]
    assert "passphrase_env" in findings[0].hint


def test_encrypted_key_with_wrong_passphrase(tmp_path: Path, good: Issued) -> None:
    cert, key, _chain = write_pem(tmp_path, good, SECRET)
    wrong = Passphrase(b"not it", "environment variable X")
    identity, findings = load_pem_identity(cert, key, passphrase=wrong)
    assert identity is None
    assert checks(findings) == ["pkio.load.passphrase_wrong"]
    assert "environment variable X" in findings[0].message
    assert "not it" not in str(findings[0])


def test_encrypted_key_with_passphrase_from_env(
    tmp_path: Path, good: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key, _chain = write_pem(tmp_path, good, SECRET)
    monkeypatch.setenv("TEST_DSO_KEY_PASS", SECRET)
    passphrase, found = passphrase_from(env="TEST_DSO_KEY_PASS")
    assert found == []
    assert passphrase is not None
    assert SECRET not in repr(passphrase)
    assert SECRET not in str(passphrase)
    identity, findings = load_pem_identity(cert, key, passphrase=passphrase)
    assert identity is not None
    assert errors(findings) == []
    assert SECRET not in repr(identity)


def test_passphrase_from_file_strips_one_line_break(tmp_path: Path) -> None:
    path = tmp_path / "pass.txt"
    path.write_text(SECRET + "\n")
    passphrase, findings = passphrase_from(file=path)
    assert findings == []
    assert passphrase is not None
    assert passphrase.value == SECRET.encode()


@pytest.mark.parametrize(
    ("env", "environ", "check"),
    [
        ("UNSET_VAR", {}, "pkio.load.passphrase_missing"),
        ("EMPTY_VAR", {"EMPTY_VAR": ""}, "pkio.load.passphrase_missing"),
    ],
)
def test_passphrase_env_problems(env: str, environ: dict[str, str], check: str) -> None:
    passphrase, findings = passphrase_from(env=env, environ=environ)
    assert passphrase is None
    assert checks(findings) == [check]
    assert env in findings[0].message


def test_passphrase_file_missing(tmp_path: Path) -> None:
    _passphrase, findings = passphrase_from(file=tmp_path / "none.txt")
    assert checks(findings) == ["pkio.load.missing"]


def test_no_passphrase_source_is_no_passphrase() -> None:
    assert passphrase_from() == (None, [])


# --- PKCS#12 --------------------------------------------------------------------------------


def test_pkcs12_loads_with_its_chain(tmp_path: Path, good: Issued) -> None:
    path = write_p12(tmp_path / "id.p12", good, SECRET)
    identity, findings = load_pkcs12_identity(path, Passphrase(SECRET.encode(), "file f"))
    assert identity is not None, findings
    assert identity.certificate == good.certificate
    assert identity.chain == good.issuers[:-1]


def test_pkcs12_bad_passphrase(tmp_path: Path, good: Issued) -> None:
    path = write_p12(tmp_path / "id.p12", good, SECRET)
    identity, findings = load_pkcs12_identity(path, Passphrase(b"wrong", "file f"))
    assert identity is None
    assert checks(findings) == ["pkio.load.passphrase_wrong"]
    assert_no_secrets(findings, good)


def test_pkcs12_missing_passphrase(tmp_path: Path, good: Issued) -> None:
    path = write_p12(tmp_path / "id.p12", good, SECRET)
    _identity, findings = load_pkcs12_identity(path, None)
    assert checks(findings) == ["pkio.load.passphrase_required"]


def test_pkcs12_corrupt(tmp_path: Path, good: Issued) -> None:
    path = write_p12(tmp_path / "id.p12", good, SECRET)
    path.write_bytes(path.read_bytes()[:200])
    _identity, findings = load_pkcs12_identity(path, Passphrase(SECRET.encode(), "file f"))
    assert checks(findings) == ["pkio.load.corrupt"]


def test_pkcs12_without_passphrase_loads_with_a_warning(tmp_path: Path, good: Issued) -> None:
    path = write_p12(tmp_path / "id.p12", good, None)
    identity, findings = load_pkcs12_identity(path, Passphrase(b"unused", "file f"))
    assert identity is not None
    assert [f.check for f in findings if f.severity == Severity.WARNING] == [
        "pkio.load.pkcs12_not_encrypted"
    ]


def test_pkcs12_with_certificate_only(tmp_path: Path, good: Issued) -> None:
    path = tmp_path / "certonly.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", None, good.certificate, None, serialization.NoEncryption()
        )
    )
    identity, findings = load_pkcs12_identity(path)
    assert identity is None
    assert checks(findings) == ["pkio.load.no_key"]


# --- configuration and bundles ----------------------------------------------------------------


def test_configured_pkcs12_with_passphrase_file(tmp_path: Path, good: Issued) -> None:
    p12 = write_p12(tmp_path / "id.p12", good, SECRET)
    secret = tmp_path / "pass.txt"
    secret.write_text(SECRET)
    config = CertificateConfig(pkcs12=p12, passphrase_file=secret)
    identity, findings = load_configured_identity(config)
    assert identity is not None
    assert errors(findings) == []
    assert identity.label == "certificate"


def test_configured_passphrase_env_unset_is_reported_first(tmp_path: Path, good: Issued) -> None:
    p12 = write_p12(tmp_path / "id.p12", good, SECRET)
    config = CertificateConfig(pkcs12=p12, passphrase_env="DSO_TEST_NOT_SET")
    identity, findings = load_configured_identity(config, environ={})
    assert identity is None
    assert checks(findings) == ["pkio.load.passphrase_missing"]


def test_an_unset_passphrase_is_not_needed_for_a_key_that_is_not_encrypted(
    tmp_path: Path, good: Issued
) -> None:
    cert, key, _ = write_pem(tmp_path, good)
    config = CertificateConfig(cert=cert, key=key, passphrase_env="DSO_TEST_NOT_SET")
    identity, findings = load_configured_identity(config, environ={})
    assert identity is not None
    assert identity.certificate == good.certificate
    assert errors(findings) == []
    assert [f.check for f in findings] == ["pkio.load.passphrase_not_needed"]
    assert findings[0].severity is Severity.WARNING
    assert "DSO_TEST_NOT_SET" in findings[0].message
    assert "remove passphrase_env" in findings[0].hint


@pytest.mark.parametrize("kind", ["pem", "pkcs12"])
def test_an_empty_passphrase_variable_is_not_needed_without_encryption(
    tmp_path: Path, good: Issued, kind: str
) -> None:
    if kind == "pem":
        cert, key, _ = write_pem(tmp_path, good)
        config = CertificateConfig(cert=cert, key=key, passphrase_env="EMPTY_VAR")
    else:
        config = CertificateConfig(pkcs12=write_p12(tmp_path / "id.p12", good, None),
                                   passphrase_env="EMPTY_VAR")
    identity, findings = load_configured_identity(config, environ={"EMPTY_VAR": ""})
    assert identity is not None
    assert [f.check for f in findings] == ["pkio.load.passphrase_not_needed"]


def test_an_encrypted_key_still_asks_for_its_unset_passphrase(
    tmp_path: Path, good: Issued
) -> None:
    cert, key, _ = write_pem(tmp_path, good, SECRET)
    config = CertificateConfig(cert=cert, key=key, passphrase_env="DSO_TEST_NOT_SET")
    identity, findings = load_configured_identity(config, environ={})
    assert identity is None
    assert checks(findings) == ["pkio.load.passphrase_missing"]
    assert SECRET not in repr(findings)


def test_configured_without_files() -> None:
    identity, findings = load_configured_identity(CertificateConfig())
    assert identity is None
    assert checks(findings) == ["pkio.load.not_configured"]


def test_ca_bundle(tmp_path: Path, hierarchy: TestHierarchy) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(certificates_pem([hierarchy.root.certificate, hierarchy.domain.certificate]))
    anchors, findings = load_ca_bundle(bundle)
    assert findings == []
    assert anchors == (hierarchy.root.certificate, hierarchy.domain.certificate)


def test_ca_bundle_problems(tmp_path: Path) -> None:
    assert checks(load_ca_bundle(tmp_path / "missing.pem")[1]) == ["pkio.load.missing"]
    empty = tmp_path / "empty.pem"
    empty.write_text("\n")
    assert checks(load_ca_bundle(empty)[1]) == ["pkio.load.corrupt"]
