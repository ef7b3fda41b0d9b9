"""The simulator's certificates: its own (DSO-LV) identity, the trust anchors, and the parties.

A simulator runs either on a test PKI (generated once and kept in ``<state>/certs`` so a
restart, ``dso-sim cpa`` and ``dso-sim serve`` all use the same certificates) or on the user's
own certificate and CA bundle. Test keys are written unencrypted with mode 0600: they belong to
a throw-away test CA whose every name says ``TEST``.
"""

from __future__ import annotations

import datetime as dt
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pytest_dso.findings import errors, render
from pytest_dso.pkio.identity import Identity, certificates_pem
from pytest_dso.pkio.load import load_certificates, load_pem_identity, parse_private_key
from pytest_dso.pkio.testpki import (
    Issued,
    LeafSpec,
    TestPki,
    build_hierarchy,
    build_test_pki,
    issue_leaf,
)

#: The slug of the simulator's own party in the test PKI.
SIM_SLUG = "dso-lv"
#: The slug of the party that plays the DKA (Digikoppelaar) in local mode.
DKA_SLUG = "digikoppelaar"


class IdentityError(ValueError):
    """Certificates for the simulator cannot be loaded; the message says which and why."""


@dataclass(frozen=True)
class SimIdentities:
    """Everything certificate-related a simulator needs.

    ``server``: the simulator's identity (TLS server and client for outgoing triggers);
    ``trust``: anchors for client certificates and for the DKA's server certificate;
    ``parties``: the test PKI's identities by slug (empty with the user's own certificates);
    ``issuer``: a CA that can issue a deliberately expired server certificate (test PKI only);
    ``trust_issuing_cas``: accept an anchor in ``trust`` that is not a root (OpenSSL's partial
    chain), so a user's issuing CA can be trusted without its root.
    """

    server: Identity
    trust: tuple[x509.Certificate, ...]
    parties: Mapping[str, Identity] = field(default_factory=lambda: MappingProxyType({}))
    issuer: Issued | None = field(default=None, repr=False)
    folder: Path | None = None
    trust_issuing_cas: bool = False

    def apply_trust_flags(self, context: ssl.SSLContext) -> ssl.SSLContext:
        """``context`` with the verification flags ``trust`` needs (partial chain or not)."""
        if self.trust_issuing_cas:
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return context

    @classmethod
    def from_test_pki(cls, pki: TestPki, folder: Path | None = None) -> SimIdentities:
        """Identities from an in-memory :class:`TestPki`."""
        parties = {p.slug: pki.identity(p.slug) for p in pki.parties if p.slug in pki.leaves}
        return cls(parties[SIM_SLUG], pki.hierarchy.anchors, MappingProxyType(parties),
                   pki.hierarchy.tsp, folder)

    def party(self, slug: str) -> Identity:
        """The test-PKI identity ``slug``; :class:`IdentityError` when there is none."""
        try:
            return self.parties[slug]
        except KeyError:
            known = ", ".join(sorted(self.parties)) or "none (own certificates in use)"
            raise IdentityError(f"no test identity {slug!r}; known: {known}") from None

    def bad_server_identity(self, mode: str) -> Identity:
        """A server identity for the ``server_cert`` fault.

        ``expired``: same subject and host names, issued by the real CA, validity in the past
        (so clients fail with "certificate has expired"). ``wrong``: issued by an unrelated CA
        for another host name (clients fail with "unknown CA" / host name mismatch). Without a
        test CA, ``expired`` is issued by an unrelated CA too.
        """
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        san = self.server.certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        ).value
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(a) for a in san.get_values_for_type(x509.IPAddress))
        if mode == "expired":
            spec = LeafSpec(
                common_name="expired.dso-sim.test.localhost", oin=self.server.oin,
                dns_names=dns, ip_addresses=ips, key_type="ec256",
                not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=2),
            )
            issuer = self.issuer or build_hierarchy("dso-sim-untrusted", key_type="ec256").tsp
        else:
            spec = LeafSpec(
                common_name="wrong.dso-sim.invalid", oin=self.server.oin,
                dns_names=("wrong.dso-sim.invalid",), ip_addresses=(), key_type="ec256",
            )
            issuer = build_hierarchy("dso-sim-untrusted", key_type="ec256").tsp
        issued = issue_leaf(issuer, spec)
        return issued.identity(f"{mode} server certificate")


def _write(path: Path, data: bytes, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    else:
        path.write_bytes(data)


def _key_pem(issued: Issued) -> bytes:
    return issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_test_pki(pki: TestPki, folder: Path) -> None:
    """Write ``pki`` as PEM files: ``root.pem``, ``<slug>.pem`` (leaf + intermediates),
    ``<slug>.key.pem`` (0600) and the TSP CA certificate and key (to issue fault
    certificates)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "root.pem", certificates_pem(pki.hierarchy.anchors))
    tsp = pki.hierarchy.tsp
    _write(folder / "tsp-ca.pem", certificates_pem([tsp.certificate, *tsp.issuers]))
    _write(folder / "tsp-ca.key.pem", _key_pem(tsp), private=True)
    for slug, issued in pki.leaves.items():
        chain = [issued.certificate, *issued.issuers[:-1]]
        _write(folder / f"{slug}.pem", certificates_pem(chain))
        _write(folder / f"{slug}.key.pem", _key_pem(issued), private=True)


def _load_identity(folder: Path, slug: str) -> Identity:
    identity, findings = load_pem_identity(
        folder / f"{slug}.pem", folder / f"{slug}.key.pem", label=slug
    )
    if identity is None or errors(findings):
        raise IdentityError(
            f"cannot load the {slug} certificate from {folder}:\n{render(findings)}"
        )
    return identity


def load_test_pki_folder(folder: Path) -> SimIdentities:
    """Identities from a folder written by :func:`write_test_pki`."""
    anchors, findings = load_certificates(folder / "root.pem", "root certificate")
    if errors(findings) or not anchors:
        raise IdentityError(f"cannot load {folder / 'root.pem'}:\n{render(findings)}")
    parties = {
        path.name[: -len(".pem")]: _load_identity(folder, path.name[: -len(".pem")])
        for path in sorted(folder.glob("*.pem"))
        if not path.name.endswith(".key.pem") and path.name not in ("root.pem", "tsp-ca.pem")
    }
    if SIM_SLUG not in parties:
        raise IdentityError(f"{folder} has no {SIM_SLUG}.pem; remove the folder to regenerate it")
    issuer = None
    tsp_certs, found = load_certificates(folder / "tsp-ca.pem", "TSP CA certificate")
    key_file = folder / "tsp-ca.key.pem"
    if tsp_certs and not errors(found) and key_file.is_file():
        key, found = parse_private_key(key_file.read_bytes(), str(key_file), None)
        if key is not None and not errors(found):
            issuer = Issued(tsp_certs[0], key, tuple(tsp_certs[1:]))
    return SimIdentities(parties[SIM_SLUG], tuple(anchors), MappingProxyType(parties), issuer,
                         folder)


def test_pki_in(folder: Path) -> SimIdentities:
    """The test PKI kept in ``folder``: loaded when present, else generated and written."""
    if (folder / "root.pem").is_file():
        return load_test_pki_folder(folder)
    pki = build_test_pki(key_type="ec256")
    write_test_pki(pki, folder)
    return SimIdentities.from_test_pki(pki, folder)


test_pki_in.__test__ = False  # type: ignore[attr-defined]


def own_identities(
    cert: Path, key: Path, ca_bundle: Path, chain: Path | None = None
) -> SimIdentities:
    """The user's own server certificate and key, trusting the CAs in ``ca_bundle``.

    The key must be unencrypted PEM here; use ``dso-certs`` to create test certificates.
    """
    identity, findings = load_pem_identity(cert, key, chain, label="dso-sim")
    if identity is None or errors(findings):
        raise IdentityError(f"cannot load the simulator certificate:\n{render(findings)}")
    anchors, findings = load_certificates(ca_bundle, "CA bundle")
    if errors(findings) or not anchors:
        raise IdentityError(f"cannot load the CA bundle {ca_bundle}:\n{render(findings)}")
    return SimIdentities(identity, tuple(anchors))
