"""The end-entity profile of a PKIoverheid private services server certificate.

Expectations (PKIoverheid Programma van Eisen part 3h and the Digikoppeling certificate
guidance): keyUsage digitalSignature + keyEncipherment (critical, nothing else), EKU serverAuth
+ clientAuth, RSA ≥ 2048 bits (3072 advised; the G4 profile requires it) or EC P-256 or larger,
a SHA-2 signature, the adapter host in the SAN, and basicConstraints cA=false.
"""

from __future__ import annotations

import ipaddress
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.pkio.names import subject_of

_KU_REQUIRED = ("digital_signature", "key_encipherment")
_KU_OTHER = (
    "content_commitment", "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign"
)
_EC_MIN_BITS = 256
_RSA_MIN_BITS = 2048
_RSA_ADVISED_BITS = 3072
_WEAK_HASHES = (hashes.SHA1, hashes.MD5)


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(cert: x509.Certificate, kind: type[_E]) -> x509.Extension[_E] | None:
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def check_key_usage(cert: x509.Certificate) -> list[Finding]:
    """keyUsage: digitalSignature and keyEncipherment, critical, nothing else."""
    where = subject_of(cert)
    ext = _extension(cert, x509.KeyUsage)
    if ext is None:
        return [
            error(
                "pkio.profile.key_usage",
                "the certificate has no keyUsage extension; digitalSignature and "
                "keyEncipherment are required",
                "order a PKIoverheid private services server certificate (it has the right "
                "key usage)",
                where=where,
            )
        ]
    usage = ext.value
    findings: list[Finding] = []
    missing = [name for name in _KU_REQUIRED if not getattr(usage, name)]
    if missing:
        findings.append(
            error(
                "pkio.profile.key_usage",
                f"keyUsage lacks {' and '.join(missing)}",
                "the certificate must allow digitalSignature and keyEncipherment for TLS and "
                "ebMS; ask your TSP for a server certificate with that key usage",
                where=where,
                missing=", ".join(missing),
            )
        )
    extra = [name for name in _KU_OTHER if getattr(usage, name)]
    if extra:
        findings.append(
            warning(
                "pkio.profile.key_usage_extra",
                f"keyUsage also allows {', '.join(extra)}; the profile allows only "
                "digitalSignature and keyEncipherment",
                "check that this is an end-entity server certificate, not a CA or signing "
                "certificate",
                where=where,
            )
        )
    if not ext.critical:
        findings.append(
            warning(
                "pkio.profile.key_usage_not_critical",
                "keyUsage is not marked critical",
                "PKIoverheid certificates mark keyUsage critical; check the certificate's origin",
                where=where,
            )
        )
    return findings


def check_extended_key_usage(cert: x509.Certificate) -> list[Finding]:
    """EKU: serverAuth and clientAuth (one certificate for both TLS roles); no EKU at all is an
    ERROR too, as the PKIoverheid PvE requires both."""
    where = subject_of(cert)
    ext = _extension(cert, x509.ExtendedKeyUsage)
    if ext is None:
        return [
            error(
                "pkio.profile.extended_key_usage",
                "the certificate has no extendedKeyUsage; the PKIoverheid PvE requires "
                "serverAuth and clientAuth in server certificates",
                "ask your TSP for a current PKIoverheid server certificate (EKU serverAuth + "
                "clientAuth); one certificate serves as TLS server and TLS client",
                where=where,
                missing="serverAuth, clientAuth",
            )
        ]
    usages = set(ext.value)
    wanted = {
        ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
        ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    }
    missing = [label for oid, label in wanted.items() if oid not in usages]
    if not missing:
        return []
    return [
        error(
            "pkio.profile.extended_key_usage",
            f"extendedKeyUsage lacks {' and '.join(missing)}",
            "Digikoppeling uses one certificate as TLS server (incoming ebMS) and TLS client "
            "(outgoing calls); ask your TSP for a certificate with serverAuth and clientAuth",
            where=where,
            missing=", ".join(missing),
        )
    ]


def check_key(cert: x509.Certificate) -> list[Finding]:
    """Key type and size: RSA ≥ 2048 (warning below 3072) or EC P-256 or larger."""
    where = subject_of(cert)
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return [
            error(
                "pkio.profile.key",
                "the certificate's public key cannot be read",
                "use a certificate with an RSA or EC key",
                where=where,
            )
        ]
    if isinstance(key, rsa.RSAPublicKey):
        bits = key.key_size
        if bits < _RSA_MIN_BITS:
            return [
                error(
                    "pkio.profile.key",
                    f"the RSA key has {bits} bits; at least {_RSA_MIN_BITS} are required",
                    f"request a new certificate with an RSA key of {_RSA_ADVISED_BITS} bits",
                    where=where,
                    key=f"RSA {bits}",
                )
            ]
        if bits < _RSA_ADVISED_BITS:
            return [
                warning(
                    "pkio.profile.key_size",
                    f"the RSA key has {bits} bits; {_RSA_ADVISED_BITS} is advised (the G4 "
                    "profile requires it)",
                    f"use an RSA key of {_RSA_ADVISED_BITS} bits at the next renewal",
                    where=where,
                    key=f"RSA {bits}",
                )
            ]
        return []
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < _EC_MIN_BITS:
            return [
                error(
                    "pkio.profile.key",
                    f"the EC key uses curve {key.curve.name} ({key.curve.key_size} bits); "
                    "P-256 or larger is required",
                    "request a new certificate with an RSA 3072 or EC P-256/P-384 key",
                    where=where,
                    key=f"EC {key.curve.name}",
                )
            ]
        return []
    return [
        error(
            "pkio.profile.key",
            f"the certificate has a {type(key).__name__.removeprefix('_')} key; PKIoverheid "
            "server certificates use RSA (or EC)",
            "request a certificate with an RSA 3072 key",
            where=where,
        )
    ]


def check_signature(cert: x509.Certificate) -> list[Finding]:
    """The certificate is signed with SHA-2 (SHA-1 and MD5 are refused)."""
    where = subject_of(cert)
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return [
            error(
                "pkio.profile.signature",
                "the certificate's signature algorithm is not supported",
                "use a certificate signed with SHA-256 or stronger",
                where=where,
            )
        ]
    if algorithm is not None and isinstance(algorithm, _WEAK_HASHES):
        return [
            error(
                "pkio.profile.signature",
                f"the certificate is signed with {algorithm.name.upper()}, which is broken",
                "request a new certificate signed with SHA-256 or stronger",
                where=where,
                algorithm=algorithm.name,
            )
        ]
    return []


def san_matches(host: str, san: x509.SubjectAlternativeName) -> bool:
    """True when ``san`` names ``host`` (an IP address, or a DNS name; wildcards: one label)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        return address in san.get_values_for_type(x509.IPAddress)
    wanted = host.rstrip(".").lower()
    for name in san.get_values_for_type(x509.DNSName):
        pattern = name.rstrip(".").lower()
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and wanted.partition(".")[2] == pattern[2:]:
            return True
    return False


def host_in_certificate(host: str, certificate: x509.Certificate) -> bool:
    """True when the certificate's subjectAltName names ``host``."""
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return san_matches(host, san)


def check_subject_alt_name(cert: x509.Certificate, host: str | None) -> list[Finding]:
    """The SAN names ``host`` (the adapter host DSO-LV connects to), when one is configured."""
    where = subject_of(cert)
    ext = _extension(cert, x509.SubjectAlternativeName)
    if ext is None:
        if host is None:
            return [
                warning(
                    "pkio.profile.san",
                    "the certificate has no subjectAltName; TLS clients check the host there",
                    "request a certificate whose SAN lists your adapter's host name",
                    where=where,
                )
            ]
        return [
            error(
                "pkio.profile.san",
                f"the certificate has no subjectAltName, so it cannot name host {host}",
                f"request a certificate whose SAN lists {host}",
                where=where,
                host=host,
            )
        ]
    san = ext.value
    names = [*san.get_values_for_type(x509.DNSName),
             *(str(a) for a in san.get_values_for_type(x509.IPAddress))]
    if host is None:
        return [
            info(
                "pkio.profile.san",
                f"SAN: {', '.join(names) or '(no DNS names)'}; no host configured to compare",
                "set [certificate] host (or [network] adapter_host) in dso.toml to check it",
                where=where,
                names=", ".join(names),
            )
        ]
    if san_matches(host, san):
        return []
    return [
        error(
            "pkio.profile.san",
            f"the SAN ({', '.join(names) or 'no names'}) does not name the adapter host {host}",
            f"request a certificate with {host} in the SAN, or correct the host in dso.toml; "
            "DSO-LV checks the host name when it connects to your adapter",
            where=where,
            host=host,
            names=", ".join(names),
        )
    ]


def check_basic_constraints(cert: x509.Certificate) -> list[Finding]:
    """basicConstraints cA=false: an end-entity certificate, not a CA."""
    where = subject_of(cert)
    ext = _extension(cert, x509.BasicConstraints)
    if ext is None:
        return []
    constraints = ext.value
    if constraints.ca:
        return [
            error(
                "pkio.profile.basic_constraints",
                "the certificate is a CA certificate (basicConstraints cA=true), not your "
                "server certificate",
                "configure your own end-entity certificate in [certificate] cert; CA "
                "certificates belong in chain or ca_bundle",
                where=where,
            )
        ]
    return []


def check_profile(cert: x509.Certificate, host: str | None = None) -> list[Finding]:
    """All profile checks on an end-entity certificate."""
    return [
        *check_key_usage(cert),
        *check_extended_key_usage(cert),
        *check_key(cert),
        *check_signature(cert),
        *check_subject_alt_name(cert, host),
        *check_basic_constraints(cert),
    ]
