"""Loading certificates and keys: PEM (certificate, key, optional chain), PKCS#12, CA bundles.

Every problem becomes a :class:`~pytest_dso.findings.Finding` with a distinct check id:

- ``pkio.load.missing``: a file does not exist;
- ``pkio.load.unreadable``: a file exists but cannot be read (permissions, a folder, ...);
- ``pkio.load.corrupt``: the content is not a certificate, key or PKCS#12 file;
- ``pkio.load.no_certificate`` / ``pkio.load.no_key``: a PEM or PKCS#12 without that part;
- ``pkio.load.passphrase_required`` / ``pkio.load.passphrase_wrong`` /
  ``pkio.load.passphrase_missing``: passphrase problems; ``pkio.load.passphrase_not_needed``
  (a warning): a passphrase is named but not set, and the key needs none;
- ``pkio.load.key_mismatch``: the private key does not belong to the certificate.

Passphrases come only from an environment variable (by name) or a file (by path). Messages name
files and variables, never key material or passphrases; parser error texts about keys are not
passed on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.hazmat.primitives.serialization import pkcs12

from pytest_dso.dsofile import CertificateConfig
from pytest_dso.findings import Finding, error, errors, info, warning
from pytest_dso.pkio.bundle import order_findings
from pytest_dso.pkio.identity import Identity, fingerprint_sha256
from pytest_dso.pkio.names import subject_of
from pytest_dso.pkio.readable import certificate_problem

_PEM_LABEL = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")
_CERT_LABELS = {b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE"}


@dataclass(frozen=True, repr=False)
class Passphrase:
    """A passphrase and where it came from. ``repr`` and ``str`` show only the source."""

    value: bytes = field(compare=False)
    source: str = ""

    def __repr__(self) -> str:
        return f"Passphrase(from {self.source})"

    __str__ = __repr__


@dataclass(frozen=True)
class LoadedCertificate:
    """The outcome of loading a configured certificate: the identity (if it loaded), every
    finding of the load, and a description of where it came from."""

    identity: Identity | None
    findings: tuple[Finding, ...] = ()
    source: str = ""


def passphrase_from(
    env: str | None = None,
    file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> tuple[Passphrase | None, list[Finding]]:
    """Read a passphrase from the environment variable named ``env`` or from ``file``.

    Returns ``(None, [])`` when neither is given. A file's single trailing line break is
    removed. There is deliberately no way to pass the passphrase itself.
    """
    environ = os.environ if environ is None else environ
    if env and file:
        return None, [
            error(
                "pkio.load.passphrase_ambiguous",
                "both a passphrase environment variable and a passphrase file are configured",
                "configure only one of passphrase_env and passphrase_file",
            )
        ]
    if env:
        value = environ.get(env)
        if value is None:
            return None, [
                error(
                    "pkio.load.passphrase_missing",
                    f"the environment variable {env} (passphrase_env) is not set",
                    f"export {env} with the passphrase before the run, or use passphrase_file",
                    variable=env,
                )
            ]
        if not value:
            return None, [
                error(
                    "pkio.load.passphrase_missing",
                    f"the environment variable {env} (passphrase_env) is empty",
                    f"set {env} to the passphrase of the key or PKCS#12 file",
                    variable=env,
                )
            ]
        return Passphrase(value.encode("utf-8"), f"environment variable {env}"), []
    if file:
        data, findings = _read(file, "passphrase file")
        if data is None:
            return None, findings
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        if not data:
            return None, [
                error(
                    "pkio.load.passphrase_missing",
                    f"the passphrase file {file} is empty",
                    "write the passphrase into the file (one line), readable only by you",
                    where=str(file),
                )
            ]
        return Passphrase(data, f"file {file}"), []
    return None, []


def _read(path: Path, what: str) -> tuple[bytes | None, list[Finding]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [
            error(
                "pkio.load.missing",
                f"the {what} {path} does not exist",
                f"check the path in dso.toml (relative paths are resolved from the folder of "
                f"dso.toml), or create the {what}",
                where=str(path),
            )
        ]
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return None, [
            error(
                "pkio.load.unreadable",
                f"the {what} {path} cannot be read: {reason}",
                "make the file readable for the user running the tests, and point to a file, "
                "not a folder",
                where=str(path),
            )
        ]
    if not data.strip():
        return None, [
            error(
                "pkio.load.corrupt",
                f"the {what} {path} is empty",
                f"replace it with the real {what}",
                where=str(path),
            )
        ]
    return data, []


def _labels(data: bytes) -> list[bytes]:
    return _PEM_LABEL.findall(data)


def parse_certificates(
    data: bytes, where: str, what: str = "certificate file"
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """Certificates in PEM (one or more) or DER (one) ``data``; a certificate whose fields
    cannot be decoded is left out with a ``pkio.load.unreadable`` error."""
    certificates, findings = _parse_certificates(data, where, what)
    readable = []
    for index, certificate in enumerate(certificates, start=1):
        problem = certificate_problem(certificate)
        if problem is None:
            readable.append(certificate)
            continue
        findings.append(error(
            "pkio.load.unreadable",
            f"certificate {index} in the {what} {where} cannot be used: {problem}",
            "the certificate is damaged or not an X.509 certificate a TLS peer would accept; "
            "export it again from the issuer, or ask for a new one",
            where=where,
        ))
    return tuple(readable), findings


def _parse_certificates(
    data: bytes, where: str, what: str
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    labels = _labels(data)
    if labels:
        if not any(label in _CERT_LABELS for label in labels):
            found = ", ".join(sorted({label.decode() for label in labels}))
            return (), [
                error(
                    "pkio.load.no_certificate",
                    f"the {what} {where} holds no certificate (it contains: {found})",
                    "point to the PEM file with the certificate (-----BEGIN CERTIFICATE-----); "
                    "keys go in 'key', a PKCS#12 file in 'pkcs12'",
                    where=where,
                )
            ]
        try:
            return tuple(x509.load_pem_x509_certificates(data)), []
        except ValueError:
            return (), [_corrupt(where, what, "a PEM certificate block is damaged")]
    try:
        return (x509.load_der_x509_certificate(data),), []
    except ValueError:
        return (), [_corrupt(where, what, "it is neither PEM nor a DER certificate")]


def _corrupt(where: str, what: str, why: str) -> Finding:
    return error(
        "pkio.load.corrupt",
        f"the {what} {where} cannot be read as a certificate: {why}",
        "export the file again from the source (PEM or DER; for PKCS#12 use 'pkcs12')",
        where=where,
    )


def load_certificates(
    path: Path, what: str = "certificate file"
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """All certificates in the PEM or DER file ``path``."""
    data, findings = _read(path, what)
    if data is None:
        return (), findings
    return parse_certificates(data, str(path), what)


def load_ca_bundle(path: Path) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """The trust anchors in the PEM (or DER) bundle ``path``."""
    certificates, findings = load_certificates(path, "CA bundle")
    return certificates, findings


def _issuer_key(
    key: PrivateKeyTypes, where: str
) -> tuple[CertificateIssuerPrivateKeyTypes | None, list[Finding]]:
    if isinstance(
        key,
        rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
        | ed448.Ed448PrivateKey | dsa.DSAPrivateKey,
    ):
        return key, []
    return None, [
        error(
            "pkio.load.unsupported_key",
            f"the key in {where} is of a type that cannot be used for TLS certificates "
            f"({type(key).__name__})",
            "use the RSA (or EC) key that belongs to your PKIoverheid certificate",
            where=where,
        )
    ]


def _passphrase_problem(where: str, passphrase: Passphrase | None, what: str) -> Finding:
    if passphrase is None:
        return error(
            "pkio.load.passphrase_required",
            f"the {what} {where} is protected by a passphrase, but no passphrase is configured",
            "set passphrase_env (the name of an environment variable holding it) or "
            "passphrase_file (a file readable only by you) in dso.toml",
            where=where,
        )
    return error(
        "pkio.load.passphrase_wrong",
        f"the passphrase from {passphrase.source} does not open the {what} {where}",
        "check that the variable or file holds the passphrase of this very file "
        "(no extra spaces or line breaks)",
        where=where,
        passphrase_source=passphrase.source,
    )


def parse_private_key(
    data: bytes, where: str, passphrase: Passphrase | None
) -> tuple[CertificateIssuerPrivateKeyTypes | None, list[Finding]]:
    """The private key in PEM or DER ``data``, decrypted with ``passphrase`` where needed."""
    labels = _labels(data)
    if labels and not any(label.endswith(b"PRIVATE KEY") for label in labels):
        found = ", ".join(sorted({label.decode() for label in labels}))
        return None, [
            error(
                "pkio.load.no_key",
                f"the key file {where} holds no private key (it contains: {found})",
                "point 'key' to the PEM file with the private key of the certificate",
                where=where,
            )
        ]
    loader = serialization.load_pem_private_key if labels else serialization.load_der_private_key
    password = passphrase.value if passphrase else None
    findings: list[Finding] = []
    try:
        try:
            key = loader(data, password)
        except TypeError:
            if password is None:
                return None, [_passphrase_problem(where, None, "key file")]
            key = loader(data, None)
            findings.append(
                info(
                    "pkio.load.key_not_encrypted",
                    f"the key file {where} is not encrypted; the configured passphrase was "
                    "not needed",
                    "keep the key file readable only by you, or store it encrypted",
                    where=where,
                )
            )
    except ValueError as exc:
        if password is not None and "password" in str(exc).lower():
            return None, [_passphrase_problem(where, passphrase, "key file")]
        return None, [
            error(
                "pkio.load.corrupt",
                f"the key file {where} cannot be read as a private key",
                "export the private key again (PEM, PKCS#8 or traditional RSA/EC)",
                where=where,
            )
        ]
    except UnsupportedAlgorithm:
        return None, [
            error(
                "pkio.load.unsupported_key",
                f"the key file {where} uses an algorithm this system cannot load",
                "export the key as unencrypted or AES-encrypted PKCS#8 PEM",
                where=where,
            )
        ]
    issuer_key, problems = _issuer_key(key, where)
    return issuer_key, findings + problems


def key_matches(certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes) -> bool:
    """True when ``key`` is the private half of the certificate's public key."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return certificate.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)


def _mismatch(certificate: x509.Certificate, where: str) -> Finding:
    return error(
        "pkio.load.key_mismatch",
        f"the private key does not belong to the certificate '{subject_of(certificate)}'",
        "configure the key that was generated with this certificate's request; after a "
        "renewal the certificate comes with a new key pair",
        where=where,
        certificate_sha256=fingerprint_sha256(certificate),
    )


def order_chain(
    leaf: x509.Certificate, certificates: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """``certificates`` without the leaf and duplicates, in issuing order from the leaf up;
    certificates that do not fit the path follow at the end."""
    seen = {fingerprint_sha256(leaf)}
    unique: list[x509.Certificate] = []
    for cert in certificates:
        fp = fingerprint_sha256(cert)
        if fp not in seen:
            seen.add(fp)
            unique.append(cert)
    ordered: list[x509.Certificate] = []
    current = leaf
    for _ in range(len(unique)):
        if current.subject == current.issuer:
            break
        nxt = next((c for c in unique if c not in ordered and c.subject == current.issuer), None)
        if nxt is None:
            break
        ordered.append(nxt)
        current = nxt
    return (*ordered, *(c for c in unique if c not in ordered))


def _with_chain_file(
    chain: Path | None,
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    if chain is None:
        return (), []
    return load_certificates(chain, "chain file")


def load_pem_identity(
    cert: Path,
    key: Path,
    chain: Path | None = None,
    passphrase: Passphrase | None = None,
    label: str = "",
) -> tuple[Identity | None, list[Finding]]:
    """An identity from a PEM (or DER) certificate, its private key and optional chain.

    The certificate file may also hold the intermediates; the leaf is the certificate that
    matches the key.
    """
    findings: list[Finding] = []
    certificates, found = load_certificates(cert, "certificate file")
    findings += found
    key_data, found = _read(key, "key file")
    findings += found
    extra, found = _with_chain_file(chain)
    findings += found
    private_key = None
    if key_data is not None:
        private_key, found = parse_private_key(key_data, str(key), passphrase)
        findings += found
    if not certificates or private_key is None or errors(findings):
        return None, findings
    leaf = next((c for c in certificates if key_matches(c, private_key)), None)
    if leaf is None:
        return None, [*findings, _mismatch(certificates[0], str(cert))]
    rest = [c for c in certificates if c is not leaf]
    identity = Identity(leaf, private_key, order_chain(leaf, [*rest, *extra]), label)
    return identity, [*findings, *order_findings(certificates, leaf, str(cert))]


def load_pkcs12_identity(
    path: Path,
    passphrase: Passphrase | None = None,
    chain: Path | None = None,
    label: str = "",
) -> tuple[Identity | None, list[Finding]]:
    """An identity from a PKCS#12 (``.p12``/``.pfx``) file, plus an optional chain file."""
    data, findings = _read(path, "PKCS#12 file")
    if data is None:
        return None, findings
    where = str(path)
    password = passphrase.value if passphrase else None
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except ValueError as exc:
        if "password" not in str(exc).lower():
            return None, [
                error(
                    "pkio.load.corrupt",
                    f"the PKCS#12 file {where} cannot be read (damaged, or not PKCS#12)",
                    "export the certificate with its key again as PKCS#12 (.p12/.pfx), or "
                    "configure PEM files with cert and key",
                    where=where,
                )
            ]
        if password is None:
            return None, [_passphrase_problem(where, None, "PKCS#12 file")]
        try:
            bundle = pkcs12.load_pkcs12(data, None)
        except ValueError:
            return None, [_passphrase_problem(where, passphrase, "PKCS#12 file")]
        findings.append(
            warning(
                "pkio.load.pkcs12_not_encrypted",
                f"the PKCS#12 file {where} is not protected by a passphrase",
                "export it again with a passphrase; keep the passphrase in a file or "
                "environment variable",
                where=where,
            )
        )
    except UnsupportedAlgorithm:
        return None, [
            error(
                "pkio.load.corrupt",
                f"the PKCS#12 file {where} uses an encryption this system cannot read",
                "export it again with AES-256 (e.g. openssl pkcs12 -export without -legacy)",
                where=where,
            )
        ]
    certificates = [c.certificate for c in bundle.additional_certs]
    if bundle.cert is not None:
        certificates.insert(0, bundle.cert.certificate)
    for certificate in certificates:
        problem = certificate_problem(certificate)
        if problem is not None:
            findings.append(error(
                "pkio.load.unreadable",
                f"a certificate in the PKCS#12 file {where} cannot be used: {problem}",
                "the certificate is damaged; export it again from the issuer",
                where=where,
            ))
    if not certificates:
        findings.append(
            error(
                "pkio.load.no_certificate",
                f"the PKCS#12 file {where} holds no certificate",
                "export the certificate together with its private key",
                where=where,
            )
        )
    if bundle.key is None:
        findings.append(
            error(
                "pkio.load.no_key",
                f"the PKCS#12 file {where} holds no private key "
                f"({len(certificates)} certificate(s) only)",
                "export the certificate together with its private key",
                where=where,
            )
        )
    extra, found = _with_chain_file(chain)
    findings += found
    if not certificates or bundle.key is None or errors(findings):
        return None, findings
    key, found = _issuer_key(bundle.key, where)
    findings += found
    if key is None:
        return None, findings
    leaf = next((c for c in certificates if key_matches(c, key)), None)
    if leaf is None:
        return None, [*findings, _mismatch(certificates[0], where)]
    others = [c for c in certificates if c is not leaf]
    return Identity(leaf, key, order_chain(leaf, [*others, *extra]), label), findings


def load_configured_identity(
    config: CertificateConfig,
    *,
    environ: Mapping[str, str] | None = None,
    label: str = "certificate",
) -> tuple[Identity | None, list[Finding]]:
    """Load a ``[certificate]`` section of dso.toml (PEM cert + key, or PKCS#12)."""
    passphrase, findings = passphrase_from(
        config.passphrase_env, config.passphrase_file, environ=environ
    )
    if errors(findings):
        if any(f.check != "pkio.load.passphrase_missing" for f in errors(findings)):
            return None, findings
        # No passphrase where one is named: enough when the key needs none. Otherwise the
        # missing passphrase is what to fix first.
        identity, found = _load_configured(config, None, label)
        if identity is None:
            return None, findings
        named = (f"the environment variable {config.passphrase_env}" if config.passphrase_env
                 else f"the file {config.passphrase_file}")
        return identity, [
            warning(
                "pkio.load.passphrase_not_needed",
                f"[{label}] names a passphrase ({named}) but none is set; the key is not "
                "encrypted, so it loaded without one",
                "store the key encrypted with that passphrase, or remove passphrase_env / "
                "passphrase_file from dso.toml",
                where=describe_source(config),
            ),
            *found,
        ]
    identity, found = _load_configured(config, passphrase, label)
    return identity, [*findings, *found]


def _load_configured(
    config: CertificateConfig, passphrase: Passphrase | None, label: str
) -> tuple[Identity | None, list[Finding]]:
    if config.pkcs12 is not None:
        return load_pkcs12_identity(config.pkcs12, passphrase, config.chain, label)
    if config.cert is not None and config.key is not None:
        return load_pem_identity(config.cert, config.key, config.chain, passphrase, label)
    return None, [
        error(
            "pkio.load.not_configured",
            f"[{label}] names neither cert + key nor pkcs12",
            "set cert and key (PEM paths) or pkcs12 in dso.toml",
        )
    ]


def describe_source(config: CertificateConfig) -> str:
    """Where a configured certificate comes from, for reports (paths only)."""
    if config.pkcs12 is not None:
        return f"PKCS#12 {config.pkcs12}"
    return f"PEM {config.cert} with key {config.key}"
