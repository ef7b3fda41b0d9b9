"""Real TLS servers on 127.0.0.1 (port 0) for the network self-tests.

The server is deliberately minimal: it accepts connections on a background thread, completes
(or fails) the handshake, waits briefly for the client to close, and stops when the test ends.
Every wait has a timeout and the accept loop stops within 0.1 s of ``stop()``.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator

import pytest

from pytest_dso.network.endpoint import Endpoint
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki, build_test_pki


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
        self._listener.close()
        self._accept.join(2)
        for worker in self._threads:
            worker.join(4)


@pytest.fixture(scope="session")
def pki() -> TestPki:
    """A test PKI with RSA 2048 keys (RSA, so static-RSA suites can be served)."""
    return build_test_pki(key_type="rsa2048")


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
