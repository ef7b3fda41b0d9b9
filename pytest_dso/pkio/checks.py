"""All certificate checks under one policy, and a key-free summary for evidence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pytest_dso.findings import Finding
from pytest_dso.pkio.chain import DEFAULT_ACCEPTED_ROOT_FINGERPRINTS, check_chain, describe_path
from pytest_dso.pkio.identity import Identity, fingerprint_sha256, subject_oin
from pytest_dso.pkio.oin import check_oin, explain_oin
from pytest_dso.pkio.profile import check_profile
from pytest_dso.pkio.validity import check_validity, days_left


@dataclass(frozen=True)
class CertificatePolicy:
    """What a certificate is checked against.

    ``anchors`` are the trusted roots (``ca_bundle``; the test root in local mode);
    ``require_pkio_root`` demands a PKIoverheid private root (PRE and PROD);
    ``accepted_root_fingerprints`` are SHA-256 fingerprints of roots accepted as PKIoverheid
    private roots (default: the G1 Private Root; add the G4 root's once verified);
    ``host`` is the adapter host the SAN must name; ``now`` fixes the clock (default: now).
    """

    expected_oin: str | None = None
    env: str = "local"
    require_pkio_root: bool = False
    anchors: tuple[x509.Certificate, ...] = ()
    accepted_root_fingerprints: frozenset[str] = DEFAULT_ACCEPTED_ROOT_FINGERPRINTS
    expiry_warning_days: int = 30
    host: str | None = None
    now: dt.datetime | None = None

    def clock(self) -> dt.datetime:
        """``now``, or the current UTC time."""
        return self.now or dt.datetime.now(dt.UTC)


def oin_findings(certificate: x509.Certificate, policy: CertificatePolicy) -> list[Finding]:
    """OIN present, well-formed, equal to the configured one; no test OIN on PRE/PROD."""
    return check_oin(certificate, policy.expected_oin, policy.env)


def chain_findings(
    certificate: x509.Certificate, chain: Sequence[x509.Certificate], policy: CertificatePolicy
) -> list[Finding]:
    """The chain from the certificate to a trusted root allowed in this environment."""
    return check_chain(
        certificate,
        chain,
        policy.anchors,
        require_pkio_root=policy.require_pkio_root,
        accepted_root_fingerprints=policy.accepted_root_fingerprints,
        now=policy.clock(),
    )


def profile_findings(certificate: x509.Certificate, policy: CertificatePolicy) -> list[Finding]:
    """Key usage, EKU, key size, signature hash, SAN and basic constraints."""
    return check_profile(certificate, policy.host)


def validity_findings(certificate: x509.Certificate, policy: CertificatePolicy) -> list[Finding]:
    """Validity period at the policy's clock, with the expiry warning threshold."""
    return check_validity(certificate, policy.clock(), policy.expiry_warning_days)


def check_certificate(
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    policy: CertificatePolicy,
) -> list[Finding]:
    """Every check on a certificate and the chain presented with it."""
    return [
        *oin_findings(certificate, policy),
        *chain_findings(certificate, chain, policy),
        *profile_findings(certificate, policy),
        *validity_findings(certificate, policy),
    ]


def check_identity(identity: Identity, policy: CertificatePolicy) -> list[Finding]:
    """Every check on an identity's certificate and chain (the key is checked when loading)."""
    return check_certificate(identity.certificate, identity.chain, policy)


def _key_description(certificate: x509.Certificate) -> str:
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__.removeprefix("_")


def certificate_summary(
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate] = (),
    anchors: Sequence[x509.Certificate] = (),
    now: dt.datetime | None = None,
) -> dict[str, str]:
    """Subject, OIN, issuer chain, validity, key type and SHA-256 fingerprint (never the key)."""
    oin = subject_oin(certificate)
    now = now or dt.datetime.now(dt.UTC)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "oin": explain_oin(oin) if oin else "none (no subject serialNumber)",
        "issuer": certificate.issuer.rfc4514_string(),
        "issuer chain": describe_path(certificate, chain, anchors),
        "valid from": certificate.not_valid_before_utc.isoformat(),
        "valid until": certificate.not_valid_after_utc.isoformat(),
        "days left": str(days_left(certificate, now)),
        "serial number": f"{certificate.serial_number:x}",
        "key": _key_description(certificate),
        "sha256 fingerprint": fingerprint_sha256(certificate),
    }
