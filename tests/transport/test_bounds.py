"""What a client can make the server spend is bounded: connections (and so threads) are
capped, slow handshakes and heads are cut by deadlines (408 for a head), a newcomer pushes out
the connection that waited longest, and a legitimate client is still served within a second
while a slowloris holds every slot."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from pytest_dso.transport.api import Route
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Limits, Request, Response

if TYPE_CHECKING:
    from tests.transport.conftest import Pki, ServerFactory


def _ok(request: Request) -> Response:
    return Response.text("ok")


def _tls(pki: Pki, port: int, context: ssl.SSLContext | None = None) -> ssl.SSLSocket:
    context = context or pki.client.client_context(pki.anchors)
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


@contextlib.contextmanager
def _slowloris(pki: Pki, port: int, count: int, *, tls: bool) -> Iterator[list[socket.socket]]:
    """``count`` connections that start a request head and never finish it (TLS ones share
    one client context, as one attacking client would)."""
    socks: list[socket.socket] = []
    context = pki.client.client_context(pki.anchors)
    try:
        for _ in range(count):
            sock: socket.socket = (_tls(pki, port, context) if tls
                                   else socket.create_connection(("127.0.0.1", port), timeout=5))
            if tls:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.close()


def test_a_head_that_trickles_in_gets_408_after_the_header_deadline(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("GET", "/", _ok),), limits=Limits(header_timeout=0.5))
    assert server.limits.header_timeout == 0.5
    sock = _tls(pki, server.port)
    try:
        started = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\n")
        answer = b""
        for _ in range(3):  # trickle, each byte well inside the 30 s per-read timeout ...
            time.sleep(0.1)
            sock.sendall(b"X")
        # ... then wait, head unfinished: only the header deadline can end this
        sock.settimeout(3)
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert time.monotonic() - started < 3
    assert server.stats().timeouts >= 1


@pytest.mark.parametrize("tls", [True, False], ids=["head", "handshake"])
def test_a_legitimate_client_is_served_within_a_second_during_a_slowloris(
    pki: Pki, make_server: ServerFactory, tls: bool
) -> None:
    limits = Limits(max_connections=20, overflow=4)
    server = make_server((Route("GET", "/", _ok),), limits=limits)
    threads_before = threading.active_count()
    with _slowloris(pki, server.port, 60, tls=tls):
        time.sleep(0.3)
        # one thread per admitted connection, never more than the cap (+ the watchdog)
        assert threading.active_count() - threads_before <= limits.max_connections + 2
        with HttpClient.for_identity(pki.client, pki.anchors) as client:
            started = time.monotonic()
            answer = client.get(server.url + "/")
            elapsed = time.monotonic() - started
    assert answer.status == 200, answer.failure
    assert elapsed < 1.0, elapsed
    stats = server.stats()
    assert stats.evicted + stats.timeouts >= 40  # pushed out at the cap, or out of time


def test_when_every_connection_is_busy_a_newcomer_gets_429_with_retry_after(
    pki: Pki, make_server: ServerFactory
) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(10)
        return Response.text("late")

    server = make_server((Route("GET", "/", slow),), limits=Limits(max_connections=2))
    clients = [HttpClient.for_identity(pki.client, pki.anchors) for _ in range(3)]
    busy = [threading.Thread(target=c.get, args=(server.url + "/",)) for c in clients[:2]]
    try:
        for thread in busy:
            thread.start()
        deadline = time.monotonic() + 5
        while server.stats().requests < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        answer = clients[2].get(server.url + "/")
        assert answer.status == 429, answer.failure
        assert {k.lower(): v for k, v in answer.response_headers}["retry-after"] == "1"
        assert server.stats().refused == 1
    finally:
        release.set()
        for thread in busy:
            thread.join(10)
        for client in clients:
            client.close()
