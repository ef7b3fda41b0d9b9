"""A small threaded HTTPS server with mutual TLS and a route table.

``HttpsServer`` binds to 127.0.0.1 on a free port by default, runs one thread per connection
(HTTP/1.1 keep-alive), does the TLS handshake in that thread (a slow or failing client never
blocks the accept loop), and hands each request to a handler ``Request -> Response`` chosen by
``(method, path prefix)``. A handler that raises gives a 500 with a problem body; the server
keeps serving. Request bodies are bounded (413 above ``max_body``). A route with
``streamed_body`` (or a request the server's ``streamed(method, path, headers)`` callback
gives a size limit) gets its body streamed in bounded chunks to a temporary file in
``spool_folder``, hashed (sha256) as it is written, and handed over as a
:class:`~pytest_dso.transport.api.SpooledBody`; the file is deleted after the handler unless
the handler moved it away.

What a client can make the server spend is bounded (see :class:`Limits`): at most
``max_connections`` connections at a time (one thread each); when they are all taken, a new
connection pushes out the one that has waited longest without a request in progress (a slow
handshake, a head that trickles in, an idle keep-alive), and when every connection is busy
the newcomer gets 429 with ``Retry-After``. Deadlines, enforced by a watchdog thread rather
than per-read timeouts a trickling client could extend: the TLS handshake, the request head
(408), the body (408) and idle keep-alive connections.

The server is framework-free: the harness receiver, the local MSH peer and the simulator's REST
API all run on it.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import email.utils
import functools
import hashlib
import json
import selectors
import socket
import socketserver
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography import x509

from pytest_dso.pkio.identity import subject_oin
from pytest_dso.pkio.readable import UNREADABLE, readable_subject
from pytest_dso.transport.api import Route, SpooledBody

#: Default upper bound for a request body (ebMS messages with attachments stay well below).
DEFAULT_MAX_BODY = 32 * 1024 * 1024
PROBLEM_JSON = "application/problem+json"
#: Largest block a streamed body is read (and written to its spool file) in.
SPOOL_CHUNK = 256 * 1024


@dataclass(frozen=True, repr=False)
class PeerCertificate:
    """The client certificate a peer presented (and the server verified)."""

    der: bytes
    certificate: x509.Certificate

    @functools.cached_property
    def oin(self) -> str | None:
        """The OIN in subject serialNumber, if any (``None`` when the subject cannot be
        decoded); read once per certificate."""
        try:
            return subject_oin(self.certificate)
        except UNREADABLE:
            return None

    @property
    def subject(self) -> str:
        """The subject as an RFC 4514 string (a placeholder when it cannot be decoded)."""
        return readable_subject(self.certificate)

    def __repr__(self) -> str:
        return f"PeerCertificate({self.subject!r}, oin={self.oin})"


@dataclass(frozen=True)
class Request:
    """One HTTP request as a handler sees it. Header names are lower case.

    For a streamed route ``body`` is empty and ``spooled`` holds the file the body was
    written to (its size and sha256)."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    client_address: tuple[str, int]
    peer: PeerCertificate | None = None
    tls_version: str | None = None
    cipher: str | None = None
    route_prefix: str = ""
    base_url: str = ""
    spooled: SpooledBody | None = None

    @property
    def path(self) -> str:
        """The path of the request target, without the query."""
        return urlsplit(self.target).path

    @property
    def subpath(self) -> str:
        """The path after the matched route prefix."""
        return self.path[len(self.route_prefix) :]

    @property
    def query(self) -> dict[str, list[str]]:
        """The query parameters."""
        return parse_qs(urlsplit(self.target).query, keep_blank_values=True)

    @property
    def peer_oin(self) -> str | None:
        """The OIN of the verified client certificate, if any."""
        return self.peer.oin if self.peer else None

    @property
    def content_type(self) -> str:
        """The Content-Type header (empty when absent)."""
        return self.headers.get("content-type", "")

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive)."""
        return self.headers.get(name.lower())


@dataclass(frozen=True)
class Response:
    """What a handler answers. ``Content-Length`` is always set by the server. A large body
    is given as ``stream`` (called once, yielding the chunks) with its ``length``, so it is
    written as it is read, never held in memory."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    close: bool = False
    stream: Callable[[], Iterable[bytes]] | None = field(default=None, compare=False)
    length: int = 0

    @classmethod
    def problem(cls, status: int, title: str, detail: str = "") -> Response:
        """An RFC 9457 problem response."""
        doc = {"type": "about:blank", "title": title, "status": status}
        if detail:
            doc["detail"] = detail
        return cls(status, json.dumps(doc).encode(), PROBLEM_JSON)

    @classmethod
    def json(
        cls, data: object, status: int = 200, content_type: str = "application/json"
    ) -> Response:
        """A JSON response."""
        return cls(status, json.dumps(data).encode(), content_type)

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> Response:
        """A UTF-8 text response."""
        return cls(status, text.encode(), f"{content_type}; charset=utf-8")


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class TlsFailure:
    """A connection whose TLS handshake failed on the server side."""

    client_address: tuple[str, int]
    reason: str


@dataclass(frozen=True)
class ServerStats:
    """Counters since start: accepted connections, handled requests, handler errors, and
    what the bounds did: connections pushed out at the cap (``evicted``), newcomers refused
    while all were busy (``refused``), deadlines that ended a connection (``timeouts``)."""

    connections: int
    requests: int
    handler_errors: int
    tls_failures: int
    evicted: int = 0
    refused: int = 0
    timeouts: int = 0


class _Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self.handler_errors = 0
        self.tls_failures = 0
        self.evicted = 0
        self.refused = 0
        self.timeouts = 0


@dataclass(frozen=True)
class Limits:
    """What one client can make the server spend. Every deadline is in seconds.

    ``max_connections``: connections served at a time (a thread each); ``overflow``: extra
    short-lived threads that answer 429 to newcomers while all connections are busy;
    ``handshake_timeout``: TLS handshake; ``header_timeout``: from the first byte of a request
    to the end of its head (408 after); ``body_timeout``: reading the body (408 after);
    ``idle_timeout``: a keep-alive connection without a request, and every single read or
    write.
    """

    max_connections: int = 256
    overflow: int = 16
    handshake_timeout: float = 10.0
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    idle_timeout: float = 30.0


class _Watch:
    """A connection as the watchdog sees it: its phase and when that phase must end."""

    __slots__ = ("deadline", "expired", "phase", "since", "sock")

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self.sock = sock
        self.phase = "handshake"  # handshake, idle, head, body, busy
        self.since = time.monotonic()
        self.deadline = deadline
        self.expired = False

    def enter(self, phase: str, timeout: float | None) -> None:
        self.phase = phase
        self.since = time.monotonic()
        self.deadline = self.since + timeout if timeout is not None else float("inf")

    def cut(self) -> None:
        """End the connection's reads now: a blocked read returns end-of-file."""
        self.expired = True
        with contextlib.suppress(OSError):
            socket.socket.shutdown(self.sock, socket.SHUT_RD)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    #: ``handle_request`` waits at most this long for a connection it was told is pending.
    timeout = 0.5
    owner: HttpsServer

    def serve_until(self, stopping: threading.Event, wake: socket.socket) -> None:
        """Accept connections until ``stopping`` is set; a byte on ``wake`` ends the wait at
        once (``serve_forever`` would notice a shutdown only at its next poll)."""
        with wake, selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not stopping.is_set():
                ready = selector.select(1.0)
                if not stopping.is_set() and any(key.fileobj is self for key, _ in ready):
                    self.handle_request()

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = self.socket.accept()
        return conn, addr

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.owner._admit(request):
            super().process_request(request, client_address)

    def finish_request(self, request: Any, client_address: Any) -> None:
        self.owner._serve_connection(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Recorded by the owner instead of printing a traceback on stderr.
        exc = sys.exception()
        self.owner._record_error(f"connection {client_address}: {type(exc).__name__}: {exc}")


#: Limits of a request head: the length of one line and the number of header lines.
MAX_LINE = 65536
MAX_HEADERS = 100
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
#: Standard methods the server knows but serves nowhere: 405 (an unknown method gets 501).
_UNSERVED = frozenset({"TRACE", "CONNECT", "QUERY"})


def _unserved_method(method: str) -> Response:
    """405 with ``Allow`` for a standard method no route serves, 501 for an unknown one."""
    if method in _UNSERVED:
        return dataclasses.replace(
            Response.problem(405, "Method Not Allowed", f"{method} is not served here"),
            headers=(("Allow", ", ".join(sorted(_METHODS))),),
        )
    return Response.problem(501, "Not Implemented", f"unsupported method {method!r}")
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header value, formatted once per second."""
    global _date_cache
    now = int(time.time())
    second, text = _date_cache
    if second != now:
        text = email.utils.formatdate(now, usegmt=True)
        _date_cache = (now, text)
    return text


class _Protocol(Exception):
    """A request head the server refuses: answered with ``status`` and the connection closed."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _whole_head(buffered: bytes) -> bool:
    """True when ``buffered`` holds a request head up to its blank line (so reading the head
    needs no socket read) and no ``Expect: 100-continue`` (answered while reading it)."""
    return (b"\n\r\n" in buffered or b"\n\n" in buffered) and (
        b"100-continue" not in buffered.lower())


class _HttpConnection:
    """Serves the HTTP/1.1 requests of one (TLS) connection one after another (keep-alive).

    The request head is read with a small parser of its own: a request line of at most
    :data:`MAX_LINE` bytes (414 above), at most :data:`MAX_HEADERS` header lines of at most
    :data:`MAX_LINE` bytes each (431), HTTP/1.0 and 1.1 only (505 for later versions, 400 for
    anything unreadable). HTTP/1.1 connections stay open unless the client sends
    ``Connection: close``; HTTP/1.0 ones only with ``Connection: keep-alive``.
    ``Expect: 100-continue`` is answered before the body is read.
    """

    def __init__(
        self, owner: HttpsServer, sock: socket.socket, client_address: tuple[str, int],
        watch: _Watch | None = None,
    ) -> None:
        self.owner = owner
        self.watch = watch
        self.sock = sock
        self.client_address = client_address
        self.rfile = sock.makefile("rb")
        self.wfile = sock.makefile("wb", 64 * 1024)
        self.command = ""
        self.close_connection = True
        self._peer: PeerCertificate | None = None
        self._peer_loaded = False

    def serve(self) -> None:
        try:
            with contextlib.suppress(OSError):
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(self.owner.idle_timeout)
            while self._one_request():
                pass
        finally:
            with contextlib.suppress(OSError, ValueError):
                self.wfile.flush()
            with contextlib.suppress(OSError, ValueError):
                self.wfile.close()
            with contextlib.suppress(OSError, ValueError):
                self.rfile.close()

    def _phase(self, phase: str, timeout: float | None) -> None:
        if self.watch is not None:
            self.watch.enter(phase, timeout)

    def _expired(self) -> bool:
        return self.watch is not None and self.watch.expired

    def _timed_out(self, what: str) -> bool:
        """True when the watchdog ended a read that took too long (the connection closes)."""
        if not self._expired() or self.watch is None or self.watch.phase == "idle":
            return False
        self.close_connection = True
        return True

    def _answer_timeout(self, what: str) -> None:
        """408 after a read that hit its deadline (the TLS session is still usable)."""
        self.close_connection = True
        with self.owner._counters.lock:
            self.owner._counters.timeouts += 1
        with contextlib.suppress(OSError, ValueError, ssl.SSLError):
            self._write(Response.problem(408, "Request Timeout", what))

    def _one_request(self) -> bool:
        """Serve one request; True when the connection stays open for the next."""
        self.command = ""
        self.close_connection = True
        limits = self.owner.limits
        try:
            # idle: the per-read socket timeout (idle_timeout) is exact while nothing arrives
            self._phase("idle", None)
            buffered = self.rfile.peek(1)
            if not buffered:
                return False
            # head: each read waits at most header_timeout (then 408); the watchdog cuts a
            # head that trickles in byte by byte at twice that. A head already buffered in
            # full is parsed without a read, so the socket keeps its timeout.
            self._phase("head", 2 * limits.header_timeout)
            head_reads = not _whole_head(buffered)
            if head_reads:
                self.sock.settimeout(limits.header_timeout)
            try:
                line = self.rfile.readline(MAX_LINE + 1)
                target_headers: tuple[str, dict[str, str]] | _Protocol | None = None
                if line and len(line) <= MAX_LINE and not self._expired():
                    try:
                        target_headers = self._head(line)
                    except _Protocol as refused:
                        target_headers = refused
            except TimeoutError:
                self._answer_timeout(f"the request head did not arrive within "
                                     f"{limits.header_timeout:g} s")
                return False
            finally:
                if head_reads:
                    with contextlib.suppress(OSError):
                        self.sock.settimeout(limits.idle_timeout)
            if self._timed_out(f"the request head did not arrive within "
                               f"{limits.header_timeout:g} s"):
                return False
            if not line:
                return False
            try:
                if len(line) > MAX_LINE:
                    raise _Protocol(414, "the request line is too long")
                if isinstance(target_headers, _Protocol):
                    raise target_headers
                if target_headers is None:
                    raise _Protocol(400, "the request head is incomplete")
                target, headers = target_headers
            except _Protocol as refused:
                if self._timed_out(f"the request head did not arrive within "
                                   f"{limits.header_timeout:g} s"):
                    return False
                self.close_connection = True
                reason = _REASONS.get(refused.status, "")
                self._write(Response.problem(refused.status, reason, refused.detail))
                return False
            if self.command not in _METHODS:
                self.close_connection = True
                self._write(_unserved_method(self.command))
                return False
            self._dispatch(target, headers)
            self.wfile.flush()
        except TimeoutError:
            return False
        return not self.close_connection and not self._expired()

    def _head(self, line: bytes) -> tuple[str, dict[str, str]]:
        """Parse the request line and the headers; sets ``command`` and ``close_connection``."""
        words = line.decode("iso-8859-1").rstrip("\r\n").split()
        if len(words) != 3:
            raise _Protocol(400, f"bad request line {line[:200]!r}")
        method, target, version = words
        self.command = method
        number = version[5:].split(".") if version.startswith("HTTP/") else []
        if (
            len(number) != 2
            or not all(part.isdigit() and len(part) <= 10 for part in number)
        ):
            raise _Protocol(400, f"bad request version {version[:50]!r}")
        major_minor = (int(number[0]), int(number[1]))
        if major_minor >= (2, 0):
            raise _Protocol(505, f"HTTP version {version[:50]} is not supported")
        if target.startswith("//"):
            target = "/" + target.lstrip("/")
        headers: dict[str, str] = {}
        last = ""
        for _ in range(MAX_HEADERS + 1):
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                raise _Protocol(431, "a header line is too long")
            if not raw:
                raise _Protocol(400, "the connection ended inside the request head")
            if raw in (b"\r\n", b"\n"):
                break
            text = raw.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t"):  # an obsolete folded continuation line
                if not last:
                    raise _Protocol(400, "a header continuation line without a header")
                headers[last] = f"{headers[last]} {text.strip()}".strip()
                continue
            name, colon, value = text.partition(":")
            if not colon or not name or name != name.strip() or " " in name:
                raise _Protocol(400, f"malformed header line {text[:100]!r}")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
            last = key
        else:
            raise _Protocol(431, f"more than {MAX_HEADERS} header lines")
        tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        keep_alive = major_minor >= (1, 1)
        if "close" in tokens:
            keep_alive = False
        elif "keep-alive" in tokens:
            keep_alive = True
        self.close_connection = not keep_alive
        if headers.get("expect", "").lower() == "100-continue" and major_minor >= (1, 1):
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()
        return target, headers

    def _peer_certificate(self) -> PeerCertificate | None:
        if not self._peer_loaded:
            self._peer_loaded = True
            conn = self.sock
            if isinstance(conn, ssl.SSLSocket):
                der = conn.getpeercert(binary_form=True)
                if der:
                    self._peer = PeerCertificate(der, x509.load_der_x509_certificate(der))
        return self._peer

    def _read_body(self, headers: Mapping[str, str], limit: int) -> bytes | Response:
        encoding = headers.get("transfer-encoding", "").lower()
        if "chunked" in encoding:
            parts: list[bytes] = []

            def take(size: int) -> bool:
                parts.append(self.rfile.read(size))
                return len(parts[-1]) == size

            read = self._read_chunked(limit, f"the chunked body exceeds {limit} bytes", take)
            return read if isinstance(read, Response) else b"".join(parts)
        length = _content_length(headers)
        if isinstance(length, Response):
            return length
        if length > limit:
            return Response.problem(
                413, "Content Too Large", f"the body of {length} bytes exceeds {limit} bytes"
            )
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            return Response.problem(
                400, "Bad Request", f"the body ended after {len(body)} of {length} bytes"
            )
        return body

    def _chunk_size(self) -> int | Response:
        """The size on the next chunk-size line, or a 400 when it is not one."""
        line = self.rfile.readline(1024)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            size = -1
        if size < 0:
            return Response.problem(400, "Bad Request", "malformed chunk size")
        return size

    def _skip_trailers(self) -> None:
        """Read the trailer lines after the last chunk (bounded)."""
        for _ in range(100):
            if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                break

    def _read_chunked(self, limit: int, too_large: str,
                      take: Callable[[int], bool]) -> int | Response:
        """Read a chunked body, handing each chunk's size to ``take`` (which reads that many
        bytes and says whether all came): the body's size, or the answer refusing it (a 413
        saying ``too_large`` beyond ``limit``)."""
        total = 0
        for _ in range(1_000_000):
            size = self._chunk_size()
            if isinstance(size, Response):
                return size
            if size == 0:
                self._skip_trailers()
                return total
            total += size
            if total > limit:
                return Response.problem(413, "Content Too Large", too_large)
            if not take(size):
                return Response.problem(400, "Bad Request",
                                        "the chunked body ended inside a chunk")
            self.rfile.readline(8)
        return Response.problem(400, "Bad Request", "too many chunks")

    def _linger(self, most: int = 4 * 1024 * 1024, seconds: float = 2.0) -> None:
        """After refusing a body, read (and drop) what the client still sends, bounded, so it
        gets to read the answer instead of a connection reset."""
        with contextlib.suppress(OSError, ValueError, ssl.SSLError):
            self.wfile.flush()
            self.sock.settimeout(0.2)
            end = time.monotonic() + seconds
            while most > 0 and time.monotonic() < end:
                block = self.rfile.read1(min(most, SPOOL_CHUNK))
                if not block:
                    break
                most -= len(block)

    def _spool_body(self, headers: Mapping[str, str], limit: int,
                    file: Path) -> SpooledBody | Response:
        """Stream the body (Content-Length or chunked) to ``file`` in blocks of at most
        :data:`SPOOL_CHUNK` bytes, hashing it; a 413 as soon as it exceeds ``limit``."""
        digest = hashlib.sha256()
        total = 0
        hint = self.owner.stream_limit_hint
        with file.open("xb") as out:

            def copy(count: int) -> bool:
                nonlocal total
                while count > 0:
                    block = self.rfile.read(min(count, SPOOL_CHUNK))
                    if not block:
                        return False
                    digest.update(block)
                    out.write(block)
                    total += len(block)
                    count -= len(block)
                return True

            if "chunked" in headers.get("transfer-encoding", "").lower():
                read = self._read_chunked(
                    limit, f"the body exceeds {limit} bytes, the limit of this resource{hint}",
                    copy)
                return read if isinstance(read, Response) else SpooledBody(
                    file, total, digest.hexdigest())
            length = _content_length(headers)
            if isinstance(length, Response):
                return length
            if length > limit:
                return Response.problem(
                    413, "Content Too Large",
                    f"the body of {length} bytes exceeds {limit} bytes, the limit of this "
                    f"resource{hint}")
            if not copy(length):
                return Response.problem(
                    400, "Bad Request", f"the body ended after {total} of {length} bytes")
            return SpooledBody(file, total, digest.hexdigest())

    def _dispatch(self, target: str, headers: dict[str, str]) -> None:
        owner = self.owner
        with owner._counters.lock:
            owner._counters.requests += 1
        path = urlsplit(target).path
        route, allowed = owner._match(self.command, path)
        limit = owner._stream_limit(route, self.command, path, headers)
        if limit is None:
            self._serve(target, headers, path, route, allowed, None)
            return
        file = owner.spool_folder / f".spool-{uuid.uuid4().hex}.part"
        try:
            self._serve(target, headers, path, route, allowed, (file, limit))
        finally:  # refused, failed, cut off, or not taken by the handler
            _discard((file, limit))

    def _serve(self, target: str, headers: dict[str, str], path: str,
               route: Route[Handler] | None, allowed: set[str],
               spool: tuple[Path, int] | None) -> None:
        owner = self.owner
        self._phase("body", owner.limits.body_timeout)
        try:
            body: bytes | SpooledBody | Response = (
                self._read_body(headers, owner.max_body) if spool is None
                else self._spool_body(headers, spool[1], spool[0]))
        except TimeoutError:
            self._answer_timeout("the request body stopped arriving")
            return
        if self._timed_out(f"the request body did not arrive within "
                           f"{owner.limits.body_timeout:g} s"):
            return
        self._phase("busy", None)
        if isinstance(body, Response):
            self.close_connection = True
            _discard(spool)
            self._write(body)
            if body.status == 413:
                self._linger()
            return
        if route is None:
            if allowed:
                response = dataclasses.replace(
                    Response.problem(
                        405, "Method Not Allowed", f"{self.command} is not allowed on {path}"
                    ),
                    headers=(("Allow", ", ".join(sorted(allowed))),),
                )
            else:
                response = Response.problem(404, "Not Found", f"nothing is served at {path}")
            self._write(response)
            return
        conn = self.sock
        request = Request(
            method=self.command,
            target=target,
            headers=headers,
            body=body if isinstance(body, bytes) else b"",
            client_address=(str(self.client_address[0]), int(self.client_address[1])),
            peer=self._peer_certificate(),
            tls_version=conn.version() if isinstance(conn, ssl.SSLSocket) else None,
            cipher=_cipher_name(conn),
            route_prefix=route.path,
            base_url=owner.url,
            spooled=body if isinstance(body, SpooledBody) else None,
        )
        try:
            response = route.handler(request)
        except Exception as exc:  # a handler bug must never kill the server
            with owner._counters.lock:
                owner._counters.handler_errors += 1
            owner._record_error(f"{type(exc).__name__}: {exc}")
            detail = f"the handler failed: {type(exc).__name__}: {exc}"
            response = Response.problem(500, "Internal Server Error", detail[:500])
        _discard(spool)  # before answering: the client never sees a file left over
        self._write(response)

    def _write(self, response: Response) -> None:
        status = response.status
        lines = [
            f"HTTP/1.1 {status} {_REASONS.get(status, '')}\r\n"
            f"Server: pytest-dso\r\nDate: {_http_date()}\r\n"
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}\r\n")
        for name, value in response.headers:
            if name.lower() not in ("content-length", "connection"):
                lines.append(f"{name}: {value}\r\n")
        head_only = self.command == "HEAD"
        no_body = head_only or status in (204, 304) or (100 <= status < 200)
        streamed = response.stream is not None
        if not no_body or head_only:
            size = response.length if streamed else len(response.body)
            lines.append(f"Content-Length: {size}\r\n")
        if response.close:
            self.close_connection = True
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1", "strict")
        if streamed and not no_body and response.stream is not None:
            self.wfile.write(head)
            sent = 0
            for chunk in response.stream():
                sent += len(chunk)
                if sent > response.length:
                    raise ValueError("a streamed body is longer than its Content-Length")
                self.wfile.write(chunk)
            if sent != response.length:
                self.close_connection = True  # the client sees a short body, not a hang
        elif no_body or not response.body:
            self.wfile.write(head)
        elif len(response.body) < 64 * 1024:
            self.wfile.write(head + response.body)
        else:
            self.wfile.write(head)
            self.wfile.write(response.body)
        self.wfile.flush()


class HttpsServer:
    """A threaded HTTP/1.1 server; HTTPS with ``context`` (plain HTTP when ``None``).

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Routes can be added before
    or while running with :meth:`route`.
    """

    def __init__(
        self,
        context: ssl.SSLContext | None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        routes: Iterable[Route[Handler]] = (),
        max_body: int = DEFAULT_MAX_BODY,
        handshake_timeout: float | None = None,
        idle_timeout: float | None = None,
        limits: Limits | None = None,
        name: str = "https-server",
        spool_folder: Path | None = None,
        streamed: Callable[[str, str, Mapping[str, str]], int | None] | None = None,
        stream_limit_hint: str = "",
    ) -> None:
        self.context = context
        self.host = host
        self.max_body = max_body
        #: Where streamed bodies are written (a temporary file each); the system's temporary
        #: folder when not given.
        self.spool_folder = spool_folder or Path(tempfile.gettempdir())
        self._streamed = streamed
        #: Appended to the 413 of a streamed body, e.g. the setting that raises the limit.
        self.stream_limit_hint = stream_limit_hint
        base = limits or Limits()
        self.limits = dataclasses.replace(
            base,
            handshake_timeout=handshake_timeout or base.handshake_timeout,
            idle_timeout=idle_timeout or base.idle_timeout,
        )
        self.handshake_timeout = self.limits.handshake_timeout
        self.idle_timeout = self.limits.idle_timeout
        self.name = name
        self._watches: dict[int, _Watch] = {}
        self._overflow = 0
        self._watchdog: threading.Thread | None = None
        self._stopping = threading.Event()
        self._routes: tuple[Route[Handler], ...] = tuple(routes)
        self._requested_port = port
        self._server: _Server | None = None
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._wake: socket.socket | None = None
        self._counters = _Counters()
        self._active: set[socket.socket] = set()
        self._tls_failures: collections.deque[TlsFailure] = collections.deque(maxlen=200)
        self._errors: collections.deque[str] = collections.deque(maxlen=200)

    # -- routes -----------------------------------------------------------------------------
    def route(self, method: str, prefix: str, handler: Handler, *,
              streamed_body: bool = False, max_body: int = 0) -> None:
        """Serve ``method`` (``"*"`` for any) requests below ``prefix`` with ``handler``;
        ``streamed_body``: its body is streamed to a file (at most ``max_body`` bytes, 0 for
        the server's limit).

        A later route with the same method and prefix replaces the earlier one.
        """
        new: Route[Handler] = Route(method.upper(), prefix, handler,
                                    streamed_body=streamed_body, max_body=max_body)
        self._routes = (*(r for r in self._routes if r != new), new)

    def _stream_limit(self, route: Route[Handler] | None, method: str, path: str,
                      headers: Mapping[str, str]) -> int | None:
        """The size limit when this request's body is streamed to a file, else ``None``."""
        if route is None:
            return None
        if route.streamed_body:
            return route.max_body or self.max_body
        if self._streamed is None:
            return None
        return self._streamed(method, path, headers)

    def _match(self, method: str, path: str) -> tuple[Route[Handler] | None, set[str]]:
        best: Route[Handler] | None = None
        allowed: set[str] = set()
        for route in self._routes:
            if not route.matches_path(path):
                continue
            if route.method in ("*", method):
                if best is None or len(route.path) > len(best.path):
                    best = route
            else:
                allowed.add(route.method)
        return best, allowed

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> HttpsServer:
        """Bind and start serving on a background thread."""
        if self._server is not None:
            return self
        address = (self.host, self._requested_port)
        server = _Server(address, socketserver.BaseRequestHandler, bind_and_activate=True)
        server.owner = self
        self._server = server
        self._port = int(server.server_address[1])
        self._stopping.clear()
        self._wake, wake = socket.socketpair()
        self._thread = threading.Thread(
            target=server.serve_until,
            args=(self._stopping, wake),
            name=self.name,
            daemon=True,
        )
        self._thread.start()
        self._watchdog = threading.Thread(
            target=self._watch_loop, name=f"{self.name}-watchdog", daemon=True
        )
        self._watchdog.start()
        return self

    # -- bounds -------------------------------------------------------------------------------
    def _admit(self, sock: socket.socket) -> bool:
        """At the connection cap, push out the connection that waited longest without a
        request in progress; when every one is busy, answer this one 429 (bounded) instead.
        Runs in the accept thread; False when the caller must not start a thread."""
        with self._counters.lock:
            if len(self._watches) < self.limits.max_connections:
                self._watches[id(sock)] = _Watch(
                    sock, time.monotonic() + self.limits.handshake_timeout
                )
                return True
            waiting = [w for w in self._watches.values()
                       if w.phase in ("handshake", "idle", "head") and not w.expired]
            victim = min(waiting, key=lambda w: w.since, default=None)
            if victim is not None:
                victim.cut()
                self._watches[id(sock)] = _Watch(
                    sock, time.monotonic() + self.limits.handshake_timeout
                )
                self._counters.evicted += 1
                return True
            self._counters.refused += 1
            if self._overflow >= self.limits.overflow:
                with contextlib.suppress(OSError):
                    sock.close()
                return False
            self._overflow += 1
        threading.Thread(target=self._refuse, args=(sock,), name=f"{self.name}-busy",
                         daemon=True).start()
        return False

    def _refuse(self, sock: socket.socket) -> None:
        """Answer 429 with Retry-After on a connection over the cap, within two seconds."""
        conn: socket.socket = sock
        try:
            sock.settimeout(2.0)
            if self.context is not None:
                conn = self.context.wrap_socket(sock, server_side=True)
            body = json.dumps({"type": "about:blank", "title": "Too Many Requests",
                               "status": 429, "detail": "all connections are busy; retry "
                               "shortly"}).encode()
            conn.sendall(
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
                b"Content-Type: " + PROBLEM_JSON.encode() + b"\r\nContent-Length: "
                + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
            )
            conn.settimeout(1.0)
            conn.recv(65536)  # the client's request: closing before it would reset the answer
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self._counters.lock:
                self._overflow -= 1

    def _watch_loop(self) -> None:
        """Cut every connection whose handshake, head, body or idle time is over."""
        while not self._stopping.wait(0.1):
            now = time.monotonic()
            with self._counters.lock:
                late = [w for w in self._watches.values() if not w.expired and now > w.deadline]
                self._counters.timeouts += len(late)
            for watch in late:
                watch.cut()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting, close open connections and release the port."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        wake, self._wake = self._wake, None
        if wake is not None:
            with contextlib.suppress(OSError):
                wake.send(b"\0")
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        server.server_close()
        if wake is not None:
            wake.close()
        with self._counters.lock:
            active = list(self._active)
        for sock in active:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> HttpsServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`; kept after :meth:`stop`)."""
        if self._port is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self._port

    @property
    def scheme(self) -> str:
        """``https`` with a TLS context, else ``http``."""
        return "https" if self.context is not None else "http"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``https://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url_for(self, path: str) -> str:
        """The absolute URL of ``path``."""
        return self.url + (path if path.startswith("/") else "/" + path)

    # -- diagnostics --------------------------------------------------------------------------
    def stats(self) -> ServerStats:
        """Counters since start."""
        c = self._counters
        with c.lock:
            return ServerStats(c.connections, c.requests, c.handler_errors, c.tls_failures,
                               c.evicted, c.refused, c.timeouts)

    def tls_failures(self) -> tuple[TlsFailure, ...]:
        """The most recent server-side handshake failures (e.g. a client without certificate)."""
        with self._counters.lock:
            return tuple(self._tls_failures)

    def handler_errors(self) -> tuple[str, ...]:
        """The most recent handler exceptions, as ``Type: message``."""
        with self._counters.lock:
            return tuple(self._errors)

    def _record_error(self, text: str) -> None:
        with self._counters.lock:
            self._errors.append(text)

    # -- per connection (runs in the connection's thread) -------------------------------------
    def _serve_connection(self, sock: socket.socket, client_address: tuple[str, int]) -> None:
        server = self._server
        if server is None:
            sock.close()
            return
        conn: socket.socket = sock
        with self._counters.lock:
            self._counters.connections += 1
            self._active.add(sock)
            watch = self._watches.get(id(sock))
            if watch is None:  # served without the accept loop (tests)
                watch = self._watches[id(sock)] = _Watch(
                    sock, time.monotonic() + self.limits.handshake_timeout
                )
        try:
            if self.context is not None:
                sock.settimeout(self.handshake_timeout)
                tls = self.context.wrap_socket(
                    sock, server_side=True, do_handshake_on_connect=False
                )
                conn = tls
                with self._counters.lock:
                    self._active.discard(sock)
                    self._active.add(tls)
                    watch.sock = tls
                try:
                    tls.do_handshake()
                except (ssl.SSLError, OSError) as exc:
                    reason = getattr(exc, "reason", None) or type(exc).__name__
                    with self._counters.lock:
                        self._counters.tls_failures += 1
                        self._tls_failures.append(TlsFailure(client_address, str(reason)))
                    _drain_and_close(tls)
                    return
                tls.settimeout(self.idle_timeout)
            with contextlib.suppress(OSError, ssl.SSLError):
                _HttpConnection(self, conn, client_address, watch).serve()
        finally:
            with self._counters.lock:
                self._active.discard(sock)
                self._active.discard(conn)
                self._watches.pop(id(sock), None)
            with contextlib.suppress(OSError):
                conn.close()
            with contextlib.suppress(OSError):
                sock.close()


def _discard(spool: tuple[Path, int] | None) -> None:
    """Delete a spool file the handler did not take (no error when it is gone)."""
    if spool is not None:
        with contextlib.suppress(OSError):
            spool[0].unlink(missing_ok=True)


def _drain_and_close(sock: socket.socket) -> None:
    """Half-close and read what the client still sends, briefly, so the TLS alert already sent
    reaches it instead of being lost to a reset (TLS 1.3 clients read it after their request)."""
    with contextlib.suppress(OSError):
        raw = socket.socket(fileno=sock.detach()) if isinstance(sock, ssl.SSLSocket) else sock
        try:
            raw.shutdown(socket.SHUT_WR)
            raw.settimeout(0.5)
            for _ in range(64):
                if not raw.recv(65536):
                    break
        finally:
            raw.close()


def _content_length(headers: Mapping[str, str]) -> int | Response:
    """The request's Content-Length (0 without one), or a 400 when it is not a size."""
    text = headers.get("content-length")
    if text is None:
        return 0
    try:
        length = int(text)
    except ValueError:
        return Response.problem(400, "Bad Request", "Content-Length is not a number")
    if length < 0:
        return Response.problem(400, "Bad Request", "Content-Length is negative")
    return length


def _cipher_name(conn: object) -> str | None:
    """The negotiated cipher suite of a TLS connection, or ``None`` for plain TCP."""
    if isinstance(conn, ssl.SSLSocket):
        negotiated = conn.cipher()
        return negotiated[0] if negotiated else None
    return None
