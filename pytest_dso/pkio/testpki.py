"""A test PKI shaped like the PKIoverheid private hierarchy (root, domain CA, TSP CA, leaves).

Every name carries ``TEST`` and every OIN the test prefix ``00000099``, so nothing made here can
be taken for a real PKIoverheid certificate. Used by ``dso-certs``, the simulator and self-tests.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_dso.pkio.identity import Identity

KeyType = Literal["rsa1024", "rsa2048", "rsa3072", "rsa4096", "ec256", "ec384"]
HashName = Literal["sha256", "sha384", "sha512", "sha1"]

TEST_ORGANIZATION = "TEST pytest-dso"
#: PKIoverheid requests the test OIN prefix; the G4 trial wants ^00000099[0-9]{9}000$.
TEST_OIN_PREFIX = "00000099"


def test_oin(number: int) -> str:
    """A test OIN ``00000099`` + 9-digit number + ``000``."""
    if not 0 <= number < 10**9:
        raise ValueError("test OIN number must have at most 9 digits")
    return f"{TEST_OIN_PREFIX}{number:09d}000"


test_oin.__test__ = False  # type: ignore[attr-defined]


def new_key(key_type: KeyType = "rsa3072") -> CertificateIssuerPrivateKeyTypes:
    """A fresh private key of the given type."""
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    curve: ec.EllipticCurve = ec.SECP256R1() if key_type == "ec256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


def _hash(name: HashName) -> hashes.HashAlgorithm:
    return {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
        "sha1": hashes.SHA1(),  # noqa: S303 - only to build deliberately bad test certificates
    }[name]


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


def _name(cn: str, organization: str, oin: str | None = None, org_id: str | None = None) -> x509.Name:
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
    name: str = "pytest-dso", *, key_type: KeyType = "rsa3072", days: int = 3650
) -> TestHierarchy:
    """Build a fresh root → domain CA → TSP CA hierarchy with ``TEST`` in every name."""
    root = _ca_certificate(f"TEST {name} Private Root CA - G1", new_key(key_type), None, 2, days)
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
        .subject_name(_name(spec.common_name, spec.organization, spec.oin, spec.organization_identifier))
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
    cert = builder.sign(issuer.key, _hash(spec.hash_name))
    return Issued(cert, key, (issuer.certificate, *issuer.issuers))


@dataclass(frozen=True)
class Party:
    """A named end entity of the standard test PKI."""

    slug: str
    role: str
    name: str
    oin: str
    dns_names: tuple[str, ...] = ("localhost",)


#: The end entities ``dso-certs`` creates: the DSO-LV stand-in, a Digikoppelaar, a leverancier,
#: two bevoegde gezagen and a behandeldienst.
STANDARD_PARTIES: tuple[Party, ...] = (
    Party("dso-lv", "dso-lv", "TEST DSO-LV simulator", test_oin(1)),
    Party("digikoppelaar", "digikoppelaar", "TEST Digikoppelaar", test_oin(2)),
    Party("leverancier", "leverancier", "TEST VTH-leverancier", test_oin(3)),
    Party("gemeente", "bevoegd_gezag", "TEST Gemeente Oefenstad", test_oin(101)),
    Party("waterschap", "bevoegd_gezag", "TEST Waterschap Oefenwater", test_oin(102)),
    Party("omgevingsdienst", "behandeldienst", "TEST Omgevingsdienst Oefenregio", test_oin(201)),
)


@dataclass(frozen=True)
class TestPki:
    """A hierarchy plus one issued certificate per party slug."""

    __test__ = False

    hierarchy: TestHierarchy
    leaves: dict[str, Issued] = field(default_factory=dict)
    parties: tuple[Party, ...] = STANDARD_PARTIES

    def identity(self, slug: str) -> Identity:
        """The identity of party ``slug`` (e.g. ``"dso-lv"``, ``"gemeente"``)."""
        return self.leaves[slug].identity(slug)

    def party(self, slug: str) -> Party:
        """The :class:`Party` for ``slug``."""
        return next(p for p in self.parties if p.slug == slug)


def build_test_pki(
    parties: Sequence[Party] = STANDARD_PARTIES,
    *,
    key_type: KeyType = "rsa3072",
    days: int = 365,
    extra_dns_names: Sequence[str] = (),
) -> TestPki:
    """Build a hierarchy and issue a leaf for every party (SAN: localhost, 127.0.0.1, extras)."""
    hierarchy = build_hierarchy(key_type=key_type)
    leaves = {
        p.slug: hierarchy.issue(
            LeafSpec(
                common_name=f"{p.slug}.test.localhost" if p.dns_names == ("localhost",) else p.dns_names[0],
                oin=p.oin,
                organization=p.name if p.name.startswith("TEST") else f"TEST {p.name}",
                dns_names=(*p.dns_names, f"{p.slug}.test.localhost", *extra_dns_names),
                key_type=key_type,
                days=days,
            )
        )
        for p in parties
    }
    return TestPki(hierarchy, leaves, tuple(parties))


def with_spec(spec: LeafSpec, **changes: object) -> LeafSpec:
    """A copy of ``spec`` with ``changes`` applied (for building faulty certificates)."""
    return replace(spec, **changes)  # type: ignore[arg-type]
