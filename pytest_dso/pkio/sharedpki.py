"""One test PKI for the processes of one run (the workers of pytest-xdist).

The first process that asks makes it and writes it to a file in a folder the run's processes
share (the controller's private temporary folder); the others wait for that file and load it.
So a run shows one set of test certificates, as a serial run does, and makes its keys once.
A process that waits too long (the maker died) makes its own. The file holds private keys:
it is written readable by its owner only, and the folder goes when the run ends.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from pytest_dso.pkio.testpki import EndEntity, Issued, TestHierarchy, TestPki

#: The seconds a process waits for another to make the PKI (RSA-3072 takes a few).
WAIT_S = 120.0
_POLL_S = 0.05
_LEVELS = ("root", "domain", "tsp")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _issued_data(issued: Issued) -> dict[str, Any]:
    der = serialization.Encoding.DER
    return {
        "certificate": _b64(issued.certificate.public_bytes(der)),
        "key": _b64(issued.key.private_bytes(der, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption())),
        "issuers": [_b64(c.public_bytes(der)) for c in issued.issuers],
    }


def _issued(data: Mapping[str, Any]) -> Issued:
    # our own keys, made in this run: RSA's slow consistency check adds nothing
    key = serialization.load_der_private_key(base64.b64decode(data["key"]), None,
                                             unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError("a test PKI key is RSA or EC")
    return Issued(x509.load_der_x509_certificate(base64.b64decode(data["certificate"])), key,
                  tuple(x509.load_der_x509_certificate(base64.b64decode(c))
                        for c in data["issuers"]))


def pki_to_json(pki: TestPki) -> str:
    """``pki`` as JSON (DER in base64), private keys included: never put it in a report."""
    h = pki.hierarchy
    return json.dumps({
        "hierarchy": {level: _issued_data(getattr(h, level)) for level in _LEVELS},
        "leaves": {slug: _issued_data(issued) for slug, issued in pki.leaves.items()},
        "parties": [asdict(party) for party in pki.parties],
    })


def pki_from_json(text: str) -> TestPki:
    """The :class:`TestPki` that :func:`pki_to_json` wrote; :class:`ValueError` when ``text``
    is not one."""
    try:
        data = json.loads(text)
        h = data["hierarchy"]
        return TestPki(
            TestHierarchy(*(_issued(h[level]) for level in _LEVELS)),
            {slug: _issued(item) for slug, item in data["leaves"].items()},
            tuple(EndEntity(**{**party, "dns_names": tuple(party["dns_names"])})
                  for party in data["parties"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a test PKI: {exc}") from None


def _write_private(path: Path, text: str) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def shared_test_pki(path: Path, build: Callable[[], TestPki], *,
                    wait: float = WAIT_S) -> TestPki:
    """The run's test PKI in ``path``: loaded when another process made it, else made with
    ``build`` and written there for the others. While another process makes it, wait for it
    (at most ``wait`` seconds, then make an own one)."""
    lock = path.with_name(f"{path.name}.lock")
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        if path.is_file():
            try:
                return pki_from_json(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return build()
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            if time.monotonic() >= deadline:
                return build()
            time.sleep(_POLL_S)
            continue
        except OSError:  # the folder is gone or read-only: this process alone
            return build()
        os.close(fd)
        try:
            pki = build()
        except BaseException:
            lock.unlink(missing_ok=True)  # a waiting process makes it instead
            raise
        try:
            _write_private(path, pki_to_json(pki))
        except OSError:
            lock.unlink(missing_ok=True)
        return pki
