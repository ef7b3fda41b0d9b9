"""A route with ``streamed_body`` gets its request body as a file in the spool folder (size
and sha256 computed as it arrived, ``body`` empty) instead of bytes; the file is gone after
the handler unless the handler moved it, also after a 413, a handler error, a deadline or a
client that went away mid-body."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_dso.transport.api import Route
from pytest_dso.transport.server import Limits, Request, Response

if TYPE_CHECKING:
    from tests.transport.conftest import Pki, ServerFactory


class _Keeper:
    """A handler that records what it got and moves the spooled file to ``kept``."""

    def __init__(self, kept: Path) -> None:
        self.kept = kept
        self.seen: list[Request] = []

    def __call__(self, request: Request) -> Response:
        self.seen.append(request)
        spooled = request.spooled
        assert spooled is not None
        assert spooled.path.is_file()  # readable while the handler runs
        spooled.take(self.kept)
        return Response.json({"size": spooled.size, "sha256": spooled.sha256,
                              "body": len(request.body)}, 201)


def _failing(request: Request) -> Response:
    assert request.spooled is not None
    assert request.spooled.path.is_file()
    raise RuntimeError("handler bug")


def _post(pki: Pki, port: int, body: bytes | Iterator[bytes],
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    context = pki.client.client_context(pki.anchors)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    try:
        connection.request("POST", "/upload", body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def _left(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def _wait_until(check: object, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(check) and check():
            return True
        time.sleep(0.02)
    return False


def test_a_streamed_body_arrives_as_a_hashed_file_and_the_handler_can_keep_it(
    pki: Pki, make_server: ServerFactory, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    keeper = _Keeper(tmp_path / "kept.bin")
    server = make_server((Route("POST", "/upload", keeper, streamed_body=True,
                                max_body=1_000_000),), spool_folder=spool)
    content = os.urandom(700_001)
    status, answer = _post(pki, server.port, content)
    assert status == 201, answer
    assert b'"body": 0' in answer
    [request] = keeper.seen
    assert request.body == b""
    assert request.spooled is not None
    assert request.spooled.size == len(content)
    assert request.spooled.sha256 == hashlib.sha256(content).hexdigest()
    assert request.spooled.path.parent == spool
    assert keeper.kept.read_bytes() == content
    assert _left(spool) == []


def test_a_chunked_streamed_body_is_spooled_too(
    pki: Pki, make_server: ServerFactory, tmp_path: Path
) -> None:
    keeper = _Keeper(tmp_path / "kept.bin")
    server = make_server((Route("POST", "/upload", keeper, streamed_body=True,
                                max_body=1_000_000),), spool_folder=tmp_path)
    parts = [os.urandom(n) for n in (1, 65_536, 300_000, 17)]
    status, answer = _post(pki, server.port, iter(parts))  # no length: chunked
    assert status == 201, answer
    assert "chunked" in keeper.seen[0].headers.get("transfer-encoding", "")
    assert keeper.kept.read_bytes() == b"".join(parts)
    assert sorted(p.name for p in _left(tmp_path)) == ["kept.bin"]


def test_an_oversized_streamed_body_gets_413_and_leaves_no_file(
    pki: Pki, make_server: ServerFactory, tmp_path: Path
) -> None:
    keeper = _Keeper(tmp_path / "never")
    server = make_server((Route("POST", "/upload", keeper, streamed_body=True,
                                max_body=100_000),), spool_folder=tmp_path,
                         stream_limit_hint=" (set upload_limit)")
    status, answer = _post(pki, server.port, b"x" * 100_001)
    assert status == 413
    assert b"exceeds 100000 bytes" in answer
    assert b"upload_limit" in answer
    status, answer = _post(pki, server.port, iter([b"y" * 60_000, b"y" * 60_000]))
    assert status == 413  # chunked: found out while it arrives
    assert keeper.seen == []
    assert _left(tmp_path) == []


def test_the_spooled_file_is_removed_when_the_handler_fails_or_does_not_take_it(
    pki: Pki, make_server: ServerFactory, tmp_path: Path
) -> None:
    def ignore(request: Request) -> Response:
        assert request.spooled is not None
        return Response.text("not kept", 400)

    server = make_server((Route("POST", "/upload", _failing, streamed_body=True),
                          Route("POST", "/upload/ignored", ignore, streamed_body=True)),
                         spool_folder=tmp_path)
    status, _ = _post(pki, server.port, b"z" * 5000)
    assert status == 500
    assert any("handler bug" in e for e in server.handler_errors())
    context = pki.client.client_context(pki.anchors)
    connection = http.client.HTTPSConnection("127.0.0.1", server.port, context=context,
                                             timeout=30)
    try:
        connection.request("POST", "/upload/ignored", body=b"z" * 5000)
        assert connection.getresponse().status == 400
    finally:
        connection.close()
    assert _left(tmp_path) == []


def test_a_client_that_goes_away_mid_body_or_stalls_leaves_no_file(
    pki: Pki, make_server: ServerFactory, tmp_path: Path
) -> None:
    keeper = _Keeper(tmp_path / "never")
    server = make_server((Route("POST", "/upload", keeper, streamed_body=True,
                                max_body=10_000_000),), spool_folder=tmp_path,
                         limits=Limits(body_timeout=0.5))
    context = pki.client.client_context(pki.anchors)
    for stall in (False, True):
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock: ssl.SSLSocket = context.wrap_socket(raw, server_hostname="127.0.0.1")
        try:
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n")
            sock.sendall(b"a" * 400_000)
            assert _wait_until(lambda: any(p.name.startswith(".spool-")
                                           for p in tmp_path.iterdir()))
            if stall:  # the body deadline cuts it
                assert _wait_until(lambda: _left(tmp_path) == [], 10)
        finally:
            sock.close()
        assert _wait_until(lambda: _left(tmp_path) == [])
    assert keeper.seen == []
