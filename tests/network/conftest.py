"""Real TLS servers on 127.0.0.1 (port 0) for the network self-tests.

The server is deliberately minimal: it accepts connections on a background thread, completes
(or fails) the handshake, waits briefly for the client to close, and stops when the test ends.
Every wait has a timeout and ``stop()`` wakes the accept loop at once (0.1 s at most).
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa

from pytest_dso.network.endpoint import Endpoint
from pytest_dso.pkio.identity import Identity, certificates_pem
from pytest_dso.pkio.testpki import TestPki


class MiniTlsServer:
    """Accepts TLS connections on 127.0.0.1 with ``context`` until stopped."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.handshakes: list[str] = []
        self.failures: list[str] = []
        self._accept = threading.Thread(target=self._loop, name="mini-tls", daemon=True)
        self._accept.start()

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("127.0.0.1", int(self._listener.getsockname()[1]))

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(3.0)
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.handshakes.append(f"{tls.version()} {tls.cipher()}")
                with contextlib.suppress(OSError):
                    tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            self.failures.append(str(exc))
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the waiting accept() at once
        self._listener.close()
        self._accept.join(2)
        for worker in self._threads:
            worker.join(4)


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """A test PKI with RSA 2048 keys (RSA, so static-RSA suites can be served): the one the
    in-process pytester runs marked ``pki("rsa2048")`` use, made once per process."""
    shared = importlib.import_module("dso_selftest_plugin").shared_pki
    return cast(TestPki, shared("rsa2048"))


@pytest.fixture(scope="session")
def server_identity(pki: TestPki) -> Identity:
    """The simulator stand-in: the test PKI's dso-lv identity (leaf + TSP CA + domain CA)."""
    return pki.identity("dso-lv")


@pytest.fixture(scope="session")
def client_identity(pki: TestPki) -> Identity:
    """The adapter side: the test PKI's Digikoppelaar."""
    return pki.identity("digikoppelaar")


ServerFactory = Callable[..., MiniTlsServer]


@pytest.fixture
def tls_server(pki: TestPki, server_identity: Identity) -> Iterator[ServerFactory]:
    """Start servers: ``tls_server(minimum=, maximum=, ciphers=, identity=, mtls=)``; all
    are stopped at the end of the test."""
    started: list[MiniTlsServer] = []

    def start(
        *,
        minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
        maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
        ciphers: str | None = None,
        identity: Identity | None = None,
        mtls: bool = True,
    ) -> MiniTlsServer:
        who = identity or server_identity
        context = who.server_context(
            pki.hierarchy.anchors, require_client_certificate=mtls
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = minimum
            context.maximum_version = maximum
        if ciphers:
            context.set_ciphers(ciphers)
        server = MiniTlsServer(context)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class OpenSslServer:
    """A real ``openssl s_server`` on 127.0.0.1 (port 0): configured the way TLS servers in the
    wild are (``-Verify`` / ``-verify`` / no client auth, ``-dhparam``). Answers HTTP (``-www``)."""

    def __init__(self, folder: Path, identity: Identity, anchors: Sequence[x509.Certificate],
                 args: Sequence[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "cert.pem").write_bytes(certificates_pem([identity.certificate]))
        (folder / "chain.pem").write_bytes(certificates_pem(identity.chain))
        key = folder / "key.pem"
        key.write_bytes(identity.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
        (folder / "roots.pem").write_bytes(certificates_pem(anchors))
        self.log = folder / "s_server.log"
        command = [
            "openssl", "s_server", "-accept", "127.0.0.1:0", "-www",
            "-cert", str(folder / "cert.pem"), "-key", str(key),
            "-cert_chain", str(folder / "chain.pem"), "-CAfile", str(folder / "roots.pem"),
            *args,
        ]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        self.port = self._await_port()

    def _await_port(self) -> int:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = re.search(rb"ACCEPT 127\.0\.0\.1:(\d+)", self.log.read_bytes())
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"openssl s_server did not start: {self.log.read_text()[-500:]}")

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint("127.0.0.1", self.port)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


OpenSslFactory = Callable[..., OpenSslServer]


@pytest.fixture
def openssl_server(
    tmp_path: Path, pki: TestPki, server_identity: Identity
) -> Iterator[OpenSslFactory]:
    """Start ``openssl s_server`` processes: ``openssl_server(*s_server_args)``; stopped at the
    end of the test. Skips when there is no ``openssl`` executable."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl executable")
    started: list[OpenSslServer] = []

    def start(*args: str) -> OpenSslServer:
        server = OpenSslServer(tmp_path / f"s_server{len(started)}", server_identity,
                               pki.hierarchy.anchors, args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    length = bytes([size]) if size < 0x80 else (
        bytes([0x80 | (size.bit_length() + 7) // 8]) + size.to_bytes((size.bit_length() + 7) // 8)
    )
    return bytes([tag]) + length + body


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1))


@pytest.fixture(scope="session")
def dh1024(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh 1024-bit DH group (not an RFC 7919 group), as old servers still configure, in
    the PKCS #3 file ``openssl s_server -dhparam`` reads.

    DSA-style (the prime and generator of fresh DSA parameters): made in a tenth of a second,
    where a safe prime of this size takes seconds to minutes. The key exchange is judged by the
    size and the group, which are the same."""
    numbers = dsa.generate_parameters(1024).parameter_numbers()
    pkcs3 = _der(0x30, _der_integer(numbers.p) + _der_integer(numbers.g))
    path = tmp_path_factory.mktemp("dh") / "dh1024.pem"
    path.write_bytes(b"-----BEGIN DH PARAMETERS-----\n" + base64.encodebytes(pkcs3)
                     + b"-----END DH PARAMETERS-----\n")
    return path
