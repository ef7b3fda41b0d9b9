"""Certificates whose fields do not decode (0xFF in the subject or a SAN, a duplicated
extension) become findings in every reader: loading, ``dso-certs inspect``, the CPA lint, the
peer certificate of a TLS connection. Never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pytest_dso.cli.certs import main as certs_main
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.cpa_lint import lint_cpa
from pytest_dso.pkio.load import load_certificates, load_pem_identity
from pytest_dso.pkio.readable import certificate_problem
from pytest_dso.pkio.testpki import build_test_pki
from pytest_dso.sim.cpas import simulator_cpa
from pytest_dso.transport.server import PeerCertificate

KINDS = ("ff-subject", "ff-san", "duplicate-extension")


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.mark.parametrize("kind", KINDS)
def test_the_field_that_does_not_decode_is_named(
    kind: str, hostile_certificates: dict[str, x509.Certificate]
) -> None:
    problem = certificate_problem(hostile_certificates[kind])
    assert problem is not None
    assert ("subject" if kind == "ff-subject" else "extensions") in problem


@pytest.mark.parametrize("kind", KINDS)
def test_loading_gives_a_finding(
    kind: str, tmp_path: Path, hostile_certificates: dict[str, x509.Certificate]
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_bytes(_pem(hostile_certificates[kind]))
    key = tmp_path / "key.pem"
    key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    certificates, findings = load_certificates(cert)
    assert certificates == ()
    assert [f.check for f in findings] == ["pkio.load.unreadable"]
    identity, findings = load_pem_identity(cert, key)
    assert identity is None
    assert "pkio.load.unreadable" in [f.check for f in findings]


@pytest.mark.parametrize("kind", KINDS)
def test_dso_certs_inspect_reports_instead_of_raising(
    kind: str, tmp_path: Path, hostile_certificates: dict[str, x509.Certificate],
    capsys: pytest.CaptureFixture[str],
) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_bytes(_pem(hostile_certificates[kind]))
    assert certs_main(["inspect", str(cert)]) == 1
    out = capsys.readouterr().out
    assert "pkio.load.unreadable" in out
    assert "result: FAIL" in out


@pytest.mark.parametrize("kind", KINDS)
def test_cpa_lint_reports_an_unreadable_certificate(
    kind: str, hostile_certificates: dict[str, x509.Certificate]
) -> None:
    pki = build_test_pki(key_type="ec256")
    xml = simulator_cpa(pki.identity("dso-lv"), "https://127.0.0.1:1/ebms",
                        "https://dka.test.localhost/ebms", hostile_certificates[kind],
                        dka_oin=pki.party("digikoppelaar").oin)
    findings = lint_cpa(parse_cpa(xml), now=parse_cpa(xml).start, env="local")
    checks = [f.check for f in findings]
    assert "cpa.certificate.unreadable" in checks


def test_cpa_lint_reports_a_broken_endpoint_url() -> None:
    pki = build_test_pki(key_type="ec256")
    xml = simulator_cpa(pki.identity("dso-lv"), "https://127.0.0.1:1/ebms",
                        "https://[::1/ebms", pki.leaves["digikoppelaar"].certificate)
    cpa = parse_cpa(xml)
    findings = lint_cpa(cpa, now=cpa.start, env="local")
    assert "cpa.endpoint.url" in [f.check for f in findings]


def test_a_peer_certificate_with_an_undecodable_subject_has_no_oin(
    hostile_certificates: dict[str, x509.Certificate],
) -> None:
    certificate = hostile_certificates["ff-subject"]
    peer = PeerCertificate(certificate.public_bytes(serialization.Encoding.DER), certificate)
    assert peer.oin is None
    assert peer.subject == "<undecodable subject>"
    assert "undecodable" in repr(peer)
