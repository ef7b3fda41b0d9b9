"""The pooled mTLS client: exchange records, reuse, retry of stale connections, timeouts."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from pytest_dso.transport.api import Route
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import Request, Response

if TYPE_CHECKING:
    from tests.transport.conftest import Pki, ServerFactory


def _echo(request: Request) -> Response:
    return Response(200, request.body, "application/octet-stream", (("X-Seen", "1"),))


def test_exchange_records_request_response_and_timings(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("POST", "/", _echo),))
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        ex = client.post(server.url + "/", b"payload", headers={"Content-Type": "text/xml"})
    assert ex.ok
    assert (ex.method, ex.status, ex.reason) == ("POST", 200, "OK")
    assert ex.request_body == b"payload"
    assert ("Content-Type", "text/xml") in ex.request_headers
    assert ("Content-Length", "7") in ex.request_headers
    assert ex.response_body == b"payload"
    assert ex.header("x-seen") == "1"
    assert ex.started <= ex.stopped
    assert 0 < ex.duration < 5
    assert ex.failure is None
    assert ex.error is None
    assert ex.tls_version in ("TLSv1.2", "TLSv1.3")


def test_http_error_status_is_not_a_failure(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("GET", "/", lambda r: Response.problem(503, "busy")),))
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        ex = client.get(server.url + "/")
    assert ex.ok
    assert ex.status == 503


def test_stale_kept_alive_connection_is_retried_once_on_a_fresh_one(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("POST", "/", _echo),), idle_timeout=0.1)
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        assert client.post(server.url + "/", b"1").status == 200
        assert client.idle_connections() == 1
        time.sleep(0.35)  # the server drops the idle connection
        again = client.post(server.url + "/", b"2")
    assert again.status == 200, again.failure
    assert again.response_body == b"2"
    assert server.stats().connections == 2


def test_read_timeout_is_a_timeout_verdict(pki: Pki, make_server: ServerFactory) -> None:
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response.text("late")

    server = make_server((Route("GET", "/", slow),))
    try:
        with HttpClient.for_identity(pki.client, pki.anchors, read_timeout=0.15) as client:
            ex = client.get(server.url + "/")
    finally:
        release.set()
    assert ex.status is None
    assert ex.failure is not None
    assert ex.failure.check == "net.timeout"
    assert ex.duration < 3


def test_per_call_timeout_overrides_the_default(pki: Pki, make_server: ServerFactory) -> None:
    release = threading.Event()
    server = make_server((Route("GET", "/", lambda r: (release.wait(5), Response())[1]),))
    try:
        with HttpClient.for_identity(pki.client, pki.anchors, read_timeout=30) as client:
            ex = client.get(server.url + "/", timeout=0.1)
    finally:
        release.set()
    assert ex.failure is not None
    assert ex.failure.check == "net.timeout"


def test_response_above_limit_is_refused(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("GET", "/", lambda r: Response(200, b"x" * 2000)),))
    with HttpClient.for_identity(pki.client, pki.anchors, max_response=1000) as client:
        ex = client.get(server.url + "/")
    assert ex.failure is not None
    assert ex.failure.check == "net.http_protocol"
    assert "1000" in ex.failure.message


def test_not_an_http_url_is_a_clear_failure() -> None:
    with HttpClient() as client:
        ex = client.get("ftp://example.test/file")
    assert ex.failure is not None
    assert "not an http(s) URL" in ex.failure.message


def test_threads_share_one_client_safely(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("POST", "/", _echo),))
    failures: list[str] = []
    with HttpClient.for_identity(pki.client, pki.anchors, max_idle_per_host=4) as client:

        def work(n: int) -> None:
            for i in range(10):
                body = f"{n}-{i}".encode()
                ex = client.post(server.url + "/", body)
                if ex.response_body != body:
                    failures.append(f"{body!r} -> {ex.status} {ex.error}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert client.idle_connections() <= 4
    assert failures == []
    assert server.stats().requests == 60
    assert server.stats().connections <= 10


def test_repr_shows_no_key_material(pki: Pki) -> None:
    client = HttpClient.for_identity(pki.client, pki.anchors)
    assert repr(client) == "HttpClient(client)"


def _one_shot_server(answer: bytes) -> tuple[int, threading.Thread]:
    """A plain TCP server answering one request with ``answer`` bytes, then closing."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn, listener:
            conn.recv(65536)
            conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return port, thread


def test_response_parser_reads_chunked_close_delimited_and_folded_responses() -> None:
    cases = [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
            b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: x\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nuntil close", b"until close"),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
    ]
    for answer, body in cases:
        port, thread = _one_shot_server(answer)
        with HttpClient() as client:
            ex = client.get(f"http://127.0.0.1:{port}/")
        thread.join(5)
        assert (ex.status, ex.response_body, ex.failure) == (200, body, None)
        assert client.idle_connections() == 0


def test_response_parser_failures_are_protocol_verdicts() -> None:
    for answer, check in [
        (b"NOT HTTP\r\n\r\n", "net.http_protocol"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "net.http_protocol"),
        (b"", "net.connection_reset"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "net.http_protocol"),
    ]:
        port, thread = _one_shot_server(answer)
        with HttpClient() as client:
            ex = client.get(f"http://127.0.0.1:{port}/")
        thread.join(5)
        assert ex.failure is not None, answer
        assert ex.failure.check == check, (answer, ex.failure)


def test_header_injection_is_refused_before_sending() -> None:
    port, thread = _one_shot_server(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with HttpClient() as client:
        ex = client.get(f"http://127.0.0.1:{port}/", headers={"X-A": "1\r\nX-B: 2"})
    thread.join(5)
    assert ex.failure is not None
    assert ex.status is None
    assert isinstance(ex.exception, ValueError)
    assert "Invalid header value" in str(ex.exception)


def test_retry_after_a_stale_connection_does_not_take_another_stale_one(
    pki: Pki, make_server: ServerFactory
) -> None:
    both = threading.Barrier(2, timeout=5)

    def paired(request: Request) -> Response:
        if request.body == b"pair":
            both.wait()
        return _echo(request)

    server = make_server((Route("POST", "/", paired),), idle_timeout=0.1)
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        threads = [
            threading.Thread(target=client.post, args=(server.url + "/", b"pair"))
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert client.idle_connections() == 2
        time.sleep(0.35)  # the server drops both idle connections
        again = client.post(server.url + "/", b"3")
    assert again.status == 200, again.failure
    assert again.response_body == b"3"
