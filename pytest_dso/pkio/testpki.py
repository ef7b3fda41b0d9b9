"""A test PKI shaped like the PKIoverheid private hierarchy (root, domain CA, TSP CA, leaves).

Every name carries ``TEST`` and every OIN the test prefix ``00000099``, so nothing made here can
be taken for a real PKIoverheid certificate. Used by ``dso-certs``, the simulator and self-tests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.parties import STANDARD_PARTIES as STANDARD_PARTIES
from pytest_dso.pkio.parties import TEST_OIN_PREFIX as TEST_OIN_PREFIX
from pytest_dso.pkio.parties import EndEntity as EndEntity
from pytest_dso.pkio.parties import test_oin as test_oin

KeyType = Literal["rsa1024", "rsa2048", "rsa3072", "rsa4096", "ec256", "ec384"]
HashName = Literal["sha256", "sha384", "sha512", "sha1"]

TEST_ORGANIZATION = "TEST pytest-dso"


def new_key(key_type: KeyType = "rsa3072") -> CertificateIssuerPrivateKeyTypes:
    """A fresh private key of the given type."""
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    curve: ec.EllipticCurve = ec.SECP256R1() if key_type == "ec256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


def _hash(name: HashName) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    if name == "sha384":
        return hashes.SHA384()
    if name == "sha512":
        return hashes.SHA512()
    return hashes.SHA256()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(frozen=True)
class LeafSpec:
    """What an end-entity certificate should look like. Defaults follow the G1 Private Services
    server profile: KU digitalSignature+keyEncipherment (critical), EKU serverAuth+clientAuth."""

    common_name: str
    oin: str | None
    organization: str = TEST_ORGANIZATION
    dns_names: tuple[str, ...] = ("localhost",)
    ip_addresses: tuple[str, ...] = ("127.0.0.1",)
    key_type: KeyType = "rsa3072"
    hash_name: HashName = "sha256"
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None
    days: int = 365
    key_usage: tuple[str, ...] = ("digital_signature", "key_encipherment")
    extended_key_usage: tuple[x509.ObjectIdentifier, ...] = (
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    organization_identifier: str | None = None


@dataclass(frozen=True)
class Issued:
    """A certificate with its key and the CA certificates above it (nearest first)."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes = field(repr=False, compare=False)
    issuers: tuple[x509.Certificate, ...] = ()

    def identity(self, label: str = "", *, include_root: bool = False) -> Identity:
        """This certificate as an :class:`Identity` whose chain holds the intermediates."""
        chain = self.issuers if include_root else self.issuers[:-1] if self.issuers else ()
        return Identity(self.certificate, self.key, tuple(chain), label)


def _name(
    cn: str, organization: str, oin: str | None = None, org_id: str | None = None
) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
    ]
    if org_id:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id))
    if oin:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, oin))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ca_certificate(
    cn: str,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: Issued | None,
    path_length: int | None,
    days: int,
) -> Issued:
    now = _now()
    subject = _name(cn, TEST_ORGANIZATION)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    cert = builder.sign(signer_key, hashes.SHA256())
    issuers = (issuer.certificate, *issuer.issuers) if issuer else ()
    return Issued(cert, key, issuers)


@dataclass(frozen=True)
class TestHierarchy:
    """Root, domain CA and TSP CA of a test hierarchy (four levels with the leaf)."""

    __test__ = False

    root: Issued
    domain: Issued
    tsp: Issued

    @property
    def anchors(self) -> tuple[x509.Certificate, ...]:
        """The trust anchors: just the root."""
        return (self.root.certificate,)

    def issue(self, spec: LeafSpec, *, issuer: Issued | None = None) -> Issued:
        """Issue an end-entity certificate under the TSP CA (or ``issuer``)."""
        return issue_leaf(issuer or self.tsp, spec)


def build_hierarchy(
    name: str = "pytest-dso",
    *,
    key_type: KeyType = "rsa3072",
    days: int = 3650,
    root_name: str | None = None,
) -> TestHierarchy:
    """Build a fresh root → domain CA → TSP CA hierarchy with ``TEST`` in every name.

    ``root_name`` overrides the root's CN: only for negative tests that need a root carrying a
    real PKIoverheid name (such a root still has a fresh key, so its fingerprint differs).
    """
    root_cn = root_name or f"TEST {name} Private Root CA - G1"
    root = _ca_certificate(root_cn, new_key(key_type), None, 2, days)
    domain = _ca_certificate(
        f"TEST {name} Private Services CA - G1", new_key(key_type), root, 1, days - 1
    )
    tsp = _ca_certificate(
        f"TEST {name} PKIoverheid Private Services TSP CA - G1", new_key(key_type), domain, 0,
        days - 2,
    )
    return TestHierarchy(root, domain, tsp)


def issue_leaf(issuer: Issued, spec: LeafSpec) -> Issued:
    """Issue an end-entity certificate for ``spec`` signed by ``issuer``."""
    key = new_key(spec.key_type)
    now = _now()
    not_before = spec.not_before or now - dt.timedelta(hours=1)
    not_after = spec.not_after or not_before + dt.timedelta(days=spec.days)
    usage = set(spec.key_usage)
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            _name(spec.common_name, spec.organization, spec.oin, spec.organization_identifier)
        )
        .issuer_name(issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature="digital_signature" in usage,
                content_commitment="content_commitment" in usage,
                key_encipherment="key_encipherment" in usage,
                data_encipherment="data_encipherment" in usage,
                key_agreement="key_agreement" in usage,
                key_cert_sign="key_cert_sign" in usage,
                crl_sign="crl_sign" in usage,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if spec.extended_key_usage:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(spec.extended_key_usage)), critical=False
        )
    alt_names: list[x509.GeneralName] = [x509.DNSName(n) for n in spec.dns_names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(a)) for a in spec.ip_addresses]
    if alt_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    if spec.hash_name == "sha1":
        cert = _sign_sha1(builder, issuer.key)
    else:
        cert = builder.sign(issuer.key, _hash(spec.hash_name))
    return Issued(cert, key, (issuer.certificate, *issuer.issuers))


# --- SHA-1 signed certificates, only to test that they are refused ---------------------------
# ``cryptography`` no longer signs certificates with SHA-1, so the certificate is signed with
# SHA-256 first; then the signature AlgorithmIdentifier is swapped and the TBS part re-signed.

_ALG_IDS = {
    "rsa": ("300d06092a864886f70d01010b0500", "300d06092a864886f70d0101050500"),
    "ec": ("300a06082a8648ce3d040302", "300906072a8648ce3d0401"),
}


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_wrap(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _der_content(data: bytes) -> bytes:
    first = data[1]
    if first < 0x80:
        return data[2 : 2 + first]
    size = first & 0x7F
    length = int.from_bytes(data[2 : 2 + size], "big")
    return data[2 + size : 2 + size + length]


def _sign_sha1(
    builder: x509.CertificateBuilder, issuer_key: CertificateIssuerPrivateKeyTypes
) -> x509.Certificate:
    draft = builder.sign(issuer_key, hashes.SHA256())
    kind = "rsa" if isinstance(issuer_key, rsa.RSAPrivateKey) else "ec"
    if kind == "ec" and not isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        raise ValueError("SHA-1 test certificates need an RSA or EC issuer key")
    old, new = (bytes.fromhex(h) for h in _ALG_IDS[kind])
    content = _der_content(draft.tbs_certificate_bytes)
    if old not in content:
        raise ValueError("unexpected signature algorithm in the draft certificate")
    tbs = _der_wrap(0x30, content.replace(old, new, 1))
    sha1 = hashes.SHA1()  # noqa: S303 - deliberately weak, for a negative test certificate
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        signature = issuer_key.sign(tbs, padding.PKCS1v15(), sha1)
    elif isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        signature = issuer_key.sign(tbs, ec.ECDSA(sha1))
    der = _der_wrap(0x30, tbs + new + _der_wrap(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


@dataclass(frozen=True)
class TestPki:
    """A hierarchy plus one issued certificate per party slug."""

    __test__ = False

    hierarchy: TestHierarchy
    leaves: dict[str, Issued] = field(default_factory=dict)
    parties: tuple[EndEntity, ...] = STANDARD_PARTIES

    def identity(self, slug: str) -> Identity:
        """The identity of party ``slug`` (e.g. ``"dso-lv"``, ``"gemeente"``)."""
        return self.leaves[slug].identity(slug)

    def party(self, slug: str) -> EndEntity:
        """The :class:`EndEntity` for ``slug``."""
        return next(p for p in self.parties if p.slug == slug)


def party_spec(
    party: EndEntity,
    *,
    key_type: KeyType = "rsa3072",
    days: int = 365,
    extra_dns_names: Sequence[str] = (),
) -> LeafSpec:
    """The :class:`LeafSpec` of ``party`` in the standard test PKI."""
    default_dns = party.dns_names == ("localhost",)
    return LeafSpec(
        common_name=f"{party.slug}.test.localhost" if default_dns else party.dns_names[0],
        oin=party.oin,
        organization=party.name if party.name.startswith("TEST") else f"TEST {party.name}",
        dns_names=(*party.dns_names, f"{party.slug}.test.localhost", *extra_dns_names),
        key_type=key_type,
        days=days,
    )


def build_test_pki(
    parties: Sequence[EndEntity] = STANDARD_PARTIES,
    *,
    key_type: KeyType = "rsa3072",
    days: int = 365,
    extra_dns_names: Sequence[str] = (),
    hierarchy: TestHierarchy | None = None,
) -> TestPki:
    """Build a hierarchy (or use ``hierarchy``) and issue a leaf for every party (SAN:
    localhost, 127.0.0.1, ``<slug>.test.localhost``, extras). The CAs outlive the leaves."""
    if hierarchy is None:
        hierarchy = build_hierarchy(key_type=key_type, days=max(3650, days + 10))
    leaves = {
        p.slug: hierarchy.issue(
            party_spec(p, key_type=key_type, days=days, extra_dns_names=extra_dns_names)
        )
        for p in parties
    }
    return TestPki(hierarchy, leaves, tuple(parties))
