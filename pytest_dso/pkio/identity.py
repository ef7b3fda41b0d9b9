"""An identity: a certificate, its chain and its private key, turned into TLS contexts."""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

#: TLS versions Digikoppeling allows (TLS004): 1.2 is required, 1.3 recommended.
MINIMUM_TLS = ssl.TLSVersion.TLSv1_2


def subject_oin(certificate: x509.Certificate) -> str | None:
    """The value of subject serialNumber (OID 2.5.4.5), where PKIoverheid puts the OIN."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def fingerprint_sha256(certificate: x509.Certificate) -> str:
    """Lower-case hex SHA-256 fingerprint of the DER certificate."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def certificates_pem(certificates: Sequence[x509.Certificate]) -> bytes:
    """Concatenated PEM of ``certificates``."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


#: TLS 1.2 suites our servers (simulator, stand-ins) offer: ECDHE with AES-GCM or
#: ChaCha20-Poly1305, the only TLS 1.2 suites rated goed/voldoende in every NCSC edition the
#: harness knows. The TLS 1.3 suites are OpenSSL's defaults, all acceptable.
SERVER_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"

@dataclass(frozen=True, repr=False)
class Identity:
    """A party's certificate, intermediates (leaf excluded, nearest first) and private key.

    The private key never leaves this object except into an ``ssl.SSLContext``; ``repr`` and
    ``str`` show only the subject and OIN.
    """

    certificate: x509.Certificate
    private_key: CertificateIssuerPrivateKeyTypes = field(compare=False)
    chain: tuple[x509.Certificate, ...] = ()
    label: str = ""

    def __repr__(self) -> str:
        return f"Identity({self.label or self.subject!r}, oin={self.oin})"

    __str__ = __repr__

    @property
    def subject(self) -> str:
        """The subject as an RFC 4514 string."""
        return self.certificate.subject.rfc4514_string()

    @property
    def oin(self) -> str | None:
        """The OIN in subject serialNumber, if any."""
        return subject_oin(self.certificate)

    @property
    def fingerprint_sha256(self) -> str:
        """SHA-256 fingerprint of the certificate."""
        return fingerprint_sha256(self.certificate)

    def chain_pem(self) -> bytes:
        """The certificate followed by its intermediates, as PEM."""
        return certificates_pem([self.certificate, *self.chain])

    def _load_into(self, context: ssl.SSLContext) -> None:
        # The stdlib only loads keys from files: write the key encrypted with a one-time
        # password into a private directory and remove it immediately after loading.
        password = secrets.token_urlsafe(32).encode()
        key_pem = self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(password),
        )
        with tempfile.TemporaryDirectory(prefix="dso-id-") as tmp:
            cert_path = Path(tmp) / "chain.pem"
            key_path = Path(tmp) / "key.pem"
            for path, data in ((cert_path, self.chain_pem()), (key_path, key_pem)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            context.load_cert_chain(cert_path, key_path, password=password)

    def client_context(
        self,
        trust: Sequence[x509.Certificate] | None = None,
        *,
        check_hostname: bool = True,
        minimum_version: ssl.TLSVersion = MINIMUM_TLS,
    ) -> ssl.SSLContext:
        """A client context presenting this identity and trusting ``trust`` (or system CAs)."""
        if trust:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(cadata=certificates_pem(trust).decode("ascii"))
        else:  # the system CAs (loading them costs tens of milliseconds: only when used)
            context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.check_hostname = check_hostname
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = minimum_version
        self._load_into(context)
        return context

    def server_context(
        self,
        trust: Sequence[x509.Certificate] | None = None,
        *,
        require_client_certificate: bool = True,
        minimum_version: ssl.TLSVersion = MINIMUM_TLS,
    ) -> ssl.SSLContext:
        """A server context presenting this identity; clients must present a certificate
        issued under ``trust`` unless ``require_client_certificate`` is false."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = minimum_version
        if trust:
            context.load_verify_locations(cadata=certificates_pem(trust).decode("ascii"))
        if require_client_certificate:
            context.verify_mode = ssl.CERT_REQUIRED
        elif trust:
            context.verify_mode = ssl.CERT_OPTIONAL
        context.set_ciphers(SERVER_CIPHERS)
        self._load_into(context)
        return context
