"""The threaded mTLS server: routing, requests, failures, limits and keep-alive, on loopback."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
from typing import TYPE_CHECKING

from pytest_dso.transport.api import Route
from pytest_dso.transport.client import HttpClient
from pytest_dso.transport.server import HttpsServer, Request, Response

if TYPE_CHECKING:
    from tests.transport.conftest import Pki, ServerFactory


def _echo(request: Request) -> Response:
    doc = {
        "method": request.method,
        "path": request.path,
        "subpath": request.subpath,
        "query": request.query,
        "oin": request.peer_oin,
        "tls": request.tls_version,
        "x-test": request.header("X-Test"),
        "length": len(request.body),
        "client": request.client_address[0],
        "base_url": request.base_url,
    }
    return Response.json(doc)


def test_request_carries_peer_certificate_headers_and_body(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("POST", "/api", _echo),))
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        ex = client.post(server.url + "/api/items?x=1&x=2", b"abc", headers={"X-Test": "yes"})
    assert ex.status == 200, ex.failure
    doc = json.loads(ex.response_body)
    assert doc["oin"] == pki.client.oin
    assert doc["tls"] in ("TLSv1.2", "TLSv1.3")
    assert doc["x-test"] == "yes"
    assert doc["length"] == 3
    assert doc["subpath"] == "/items"
    assert doc["query"] == {"x": ["1", "2"]}
    assert doc["client"] == "127.0.0.1"
    assert doc["base_url"] == server.url
    assert server.url.startswith("https://127.0.0.1:")
    assert ex.peer_certificate is not None
    assert ex.peer_certificate.subject == pki.server.certificate.subject


def test_longest_prefix_wins_and_unknown_paths_and_methods_are_answered(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server(
        (
            Route("GET", "/a", lambda r: Response.text("short")),
            Route("GET", "/a/b", lambda r: Response.text("long")),
            Route("*", "/any", lambda r: Response.text(r.method)),
        )
    )
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        assert client.get(server.url + "/a/b/c").response_body == b"long"
        assert client.get(server.url + "/a/x").response_body == b"short"
        assert client.get(server.url + "/ab").status == 404  # a prefix is a path segment
        assert client.request("DELETE", server.url + "/any").response_body == b"DELETE"
        not_allowed = client.post(server.url + "/a", b"")
        assert not_allowed.status == 405
        assert not_allowed.header("Allow") == "GET"
        missing = client.get(server.url + "/nowhere")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"


def test_routes_added_while_running_are_served(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server()
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        assert client.get(server.url + "/late").status == 404
        server.route("GET", "/late", lambda r: Response.text("here"))
        assert client.get(server.url + "/late").response_body == b"here"


def test_handler_exception_gives_500_problem_and_server_keeps_serving(
    pki: Pki, make_server: ServerFactory
) -> None:
    def broken(request: Request) -> Response:
        raise KeyError("no such thing")

    server = make_server((Route("GET", "/broken", broken), Route("GET", "/ok", _echo)))
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        bad = client.get(server.url + "/broken")
        assert bad.status == 500
        problem = json.loads(bad.response_body)
        assert problem["status"] == 500
        assert "KeyError" in problem["detail"]
        assert client.get(server.url + "/ok").status == 200
    assert server.stats().handler_errors == 1
    assert "KeyError" in server.handler_errors()[0]


def test_body_above_limit_is_refused_with_413(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("POST", "/", _echo),), max_body=1000)
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        assert client.post(server.url + "/", b"x" * 1000).status == 200
        too_big = client.post(server.url + "/", b"x" * 1001)
    assert too_big.status == 413
    assert too_big.header("Connection") == "close"


def test_chunked_request_body_is_read(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("POST", "/", _echo),))
    context = pki.client.client_context(pki.anchors)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=5)
    try:
        conn.request("POST", "/", body=iter([b"abc", b"defg"]), encode_chunked=True)
        response = conn.getresponse()
        assert json.loads(response.read())["length"] == 7
    finally:
        conn.close()


def test_keep_alive_reuses_one_connection(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server((Route("POST", "/", _echo),))
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        exchanges = [client.post(server.url + "/", b"x") for _ in range(5)]
    assert [e.status for e in exchanges] == [200] * 5
    assert [e.reused_connection for e in exchanges] == [False, True, True, True, True]
    assert server.stats().connections == 1
    assert server.stats().requests == 5


def test_head_and_204_have_no_body(pki: Pki, make_server: ServerFactory) -> None:
    server = make_server(
        (
            Route("HEAD", "/h", lambda r: Response(200, b"12345", "text/plain")),
            Route("POST", "/n", lambda r: Response(204)),
        )
    )
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        head = client.request("HEAD", server.url + "/h")
        empty = client.post(server.url + "/n", b"x")
        again = client.post(server.url + "/n", b"x")
    assert (head.status, head.response_body, head.header("Content-Length")) == (200, b"", "5")
    assert (empty.status, empty.response_body) == (204, b"")
    assert again.reused_connection


def test_plain_http_mode(make_server: ServerFactory) -> None:
    server = HttpsServer(None, routes=(Route("GET", "/", _echo),))
    with server, HttpClient() as client:
        ex = client.get(server.url + "/")
    assert server.url.startswith("http://")
    assert ex.status == 200
    assert json.loads(ex.response_body)["oin"] is None


def test_stalled_handshake_does_not_block_other_clients(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("GET", "/", _echo),), handshake_timeout=2.0)
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    try:
        with HttpClient.for_identity(pki.client, pki.anchors, connect_timeout=1.0) as client:
            ex = client.get(server.url + "/")
        assert ex.status == 200, ex.failure
    finally:
        stalled.close()


def test_concurrent_clients_are_served_in_parallel(pki: Pki, make_server: ServerFactory) -> None:
    barrier = threading.Barrier(4, timeout=5)

    def wait_for_all(request: Request) -> Response:
        barrier.wait()  # only passes when four requests are in handlers at once
        return Response.text("ok")

    server = make_server((Route("GET", "/", wait_for_all),))
    results: list[int | None] = []
    with HttpClient.for_identity(pki.client, pki.anchors) as client:
        threads = [
            threading.Thread(target=lambda: results.append(client.get(server.url + "/").status))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
    assert results == [200] * 4


def test_client_without_certificate_is_recorded_as_tls_failure(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("GET", "/", _echo),))
    with HttpClient.for_identity(None, pki.anchors) as client:
        ex = client.get(server.url + "/")
    assert ex.failure is not None
    deadline = time.monotonic() + 5
    while not server.tls_failures() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.tls_failures()
    assert "CERTIFICATE" in server.tls_failures()[0].reason


def test_stop_releases_port_and_closes_kept_alive_connections(
    pki: Pki, make_server: ServerFactory
) -> None:
    server = make_server((Route("GET", "/", _echo),))
    context = pki.client.client_context(pki.anchors)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=5)
    try:
        conn.request("GET", "/")
        assert conn.getresponse().read()
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
        assert not server.running
        try:
            conn.request("GET", "/")
            conn.getresponse()
            raised = False
        except (OSError, http.client.HTTPException, ssl.SSLError):
            raised = True
        assert raised
    finally:
        conn.close()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


def _raw(server: HttpsServer, data: bytes, *, reads: int = 1) -> bytes:
    """Send ``data`` on a plain connection; what came back until the server closed or
    ``reads`` responses were seen."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while received.count(b"HTTP/1.1 ") < reads or not received.endswith((b"}", b"\r\n\r\n")):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_request_head_parser_answers_protocol_errors() -> None:
    server = HttpsServer(None, routes=(Route("*", "/", _echo),), max_body=100)
    with server:
        assert _raw(server, b"GARBAGE\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert _raw(server, b"GET / HTTP/x.y\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        assert _raw(server, b"GET / HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505 ")
        assert _raw(server, b"BREW / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 501 ")
        trace = _raw(server, b"TRACE / HTTP/1.1\r\n\r\n")
        assert trace.startswith(b"HTTP/1.1 405 ")  # a known method no route serves
        assert b"\r\nAllow: DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT\r\n" in trace
        assert _raw(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n").startswith(
            b"HTTP/1.1 414 "
        )
        long_header = b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n"
        assert _raw(server, long_header).startswith(b"HTTP/1.1 431 ")
        many = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(101)) + b"\r\n"
        assert _raw(server, many).startswith(b"HTTP/1.1 431 ")
        assert _raw(server, b"GET / HTTP/1.1\r\nno colon\r\n\r\n").startswith(b"HTTP/1.1 400 ")
        bad_length = b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n"
        assert _raw(server, bad_length).startswith(b"HTTP/1.1 400 ")
        too_big = _raw(server, b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")
        assert too_big.startswith(b"HTTP/1.1 413 ")
        assert b"Connection: close" in too_big
        assert server.stats().handler_errors == 0


def test_request_head_parser_keep_alive_rules_headers_and_continue() -> None:
    server = HttpsServer(None, routes=(Route("*", "/", _echo),))
    with server:
        two = _raw(server, b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", reads=2)
        assert two.count(b"HTTP/1.1 200 OK") == 2
        assert b'"path": "/b"' in two
        closing = b"GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n"
        closed = _raw(server, closing)
        assert closed.count(b"HTTP/1.1 200") == 1
        assert b"Connection: close" in closed
        old = _raw(server, b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
        assert old.count(b"HTTP/1.1 200") == 1
        kept = _raw(
            server, b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
            reads=2,
        )
        assert kept.count(b"HTTP/1.1 200") == 2
        folded = _raw(server, b"GET / HTTP/1.1\r\nX-Test: a\r\n  b\r\nConnection: close\r\n\r\n")
        assert b'"x-test": "a b"' in folded
        continued = _raw(
            server,
            b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n"
            b"Connection: close\r\n\r\nabc",
            reads=2,
        )
        assert continued.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n")
        assert b'"length": 3' in continued
        chunked = _raw(
            server,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            b"3;x=y\r\nabc\r\n4\r\ndefg\r\n0\r\nTrailer: 1\r\n\r\n",
        )
        assert b'"length": 7' in chunked
        assert b"\r\nServer: pytest-dso\r\n" in chunked
        assert b"\r\nDate: " in chunked
