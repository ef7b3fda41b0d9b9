"""The certificate chain a TLS server sends, read from the handshake or with ``openssl s_client``.

Python 3.13 has ``SSLSocket.get_unverified_chain()``; 3.10 to 3.12 have the same call on the
private ``SSLSocket._sslobj``. When neither exists, ``openssl s_client -showcerts`` (if
installed) reads the chain; otherwise the chain is not inspectable and the caller reports that.
"""

from __future__ import annotations

import re
import shutil
import ssl
import subprocess
from dataclasses import dataclass

from cryptography import x509

from pytest_dso.network.endpoint import Endpoint

_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class SentChain:
    """The certificates the server sent (leaf first), or ``None`` with the reason; ``source``
    says how they were read."""

    certificates: tuple[x509.Certificate, ...] | None
    source: str
    note: str = ""


def _to_der(item: object) -> bytes | None:
    if isinstance(item, bytes | bytearray):
        return bytes(item)
    public_bytes = getattr(item, "public_bytes", None)
    if public_bytes is None:
        return None
    encoding_der = getattr(ssl._ssl, "ENCODING_DER", None)  # type: ignore[attr-defined]
    if encoding_der is not None:
        data = public_bytes(encoding_der)
        return data if isinstance(data, bytes) else None
    pem = public_bytes()
    return ssl.PEM_cert_to_DER_cert(pem) if isinstance(pem, str) else None


def chain_from_socket(sock: ssl.SSLSocket) -> SentChain:
    """The chain of an established TLS connection, without verifying it."""
    getter = getattr(sock, "get_unverified_chain", None)
    where = "SSLSocket.get_unverified_chain"
    if getter is None:
        getter = getattr(getattr(sock, "_sslobj", None), "get_unverified_chain", None)
        where = "ssl (unverified chain)"
    if getter is None:
        return SentChain(None, "", "this Python's ssl module cannot show the sent chain")
    try:
        items = getter() or []
        ders = [_to_der(i) for i in items]
        if any(d is None for d in ders):
            return SentChain(None, "", "unrecognised certificate objects from the ssl module")
        certs = tuple(x509.load_der_x509_certificate(d) for d in ders if d is not None)
    except (ValueError, ssl.SSLError, TypeError) as exc:
        return SentChain(None, "", f"cannot read the chain from the ssl module: {exc}")
    return SentChain(certs, where)


def chain_via_openssl(
    endpoint: Endpoint,
    server_hostname: str | None = None,
    timeout: float = 10.0,
    executable: str = "openssl",
) -> SentChain:
    """The chain as ``openssl s_client -showcerts`` prints it (no client certificate is sent;
    servers send their chain before they ask for one)."""
    binary = shutil.which(executable)
    if binary is None:
        return SentChain(None, "", f"{executable} is not installed")
    command = [binary, "s_client", "-connect", str(endpoint), "-showcerts"]
    if server_hostname:
        command += ["-servername", server_hostname]
    try:
        done = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return SentChain(None, "", f"openssl s_client gave no answer within {timeout:g}s")
    except OSError as exc:
        return SentChain(None, "", f"cannot run openssl: {exc}")
    blocks = _PEM.findall(done.stdout)
    if not blocks:
        return SentChain(None, "", "openssl s_client showed no certificates")
    try:
        certs = tuple(x509.load_pem_x509_certificate(b) for b in blocks)
    except ValueError as exc:
        return SentChain(None, "", f"openssl s_client printed an unreadable certificate: {exc}")
    return SentChain(certs, "openssl s_client -showcerts")
