"""A lean HTTP(S) client with mutual TLS and connection reuse.

One :class:`HttpClient` holds one ``ssl.SSLContext`` (one identity) and a small thread-safe pool
of kept-alive HTTP/1.1 connections per host (plain ``socket``/``ssl`` with a small response
parser; the exception classes of ``http.client`` name protocol failures). Every call returns
an :class:`HttpExchange` record (request and response, timings, and on failure the classified
:class:`~pytest_dso.findings.Finding`) so evidence can be recorded; calls never raise for
network or TLS failures.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from urllib.parse import urlsplit

from cryptography import x509

from pytest_dso.findings import Finding
from pytest_dso.pkio.identity import Identity
from pytest_dso.transport.tls_errors import classify_failure

Headers = Mapping[str, str] | Iterable[tuple[str, str]]
#: Upper bound of a response body that is read into memory.
DEFAULT_MAX_RESPONSE = 64 * 1024 * 1024
_STALE = (
    http.client.RemoteDisconnected,
    ConnectionResetError,
    BrokenPipeError,
    ssl.SSLEOFError,
    http.client.CannotSendRequest,
)


@dataclass(frozen=True)
class HttpExchange:
    """One request and what came back (or why nothing came back).

    ``started``/``stopped`` are wall-clock epoch seconds; ``duration`` is measured with a
    monotonic clock. ``failure`` is the verdict for a network or TLS failure (``status`` is then
    ``None``); HTTP error statuses are not failures at this level.
    """

    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    started: float
    stopped: float
    duration: float
    status: int | None = None
    reason: str = ""
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""
    failure: Finding | None = None
    exception: BaseException | None = field(default=None, compare=False, repr=False)
    peer_certificate_der: bytes | None = field(default=None, repr=False)
    tls_version: str | None = None
    reused_connection: bool = False
    cipher: str | None = None

    @property
    def ok(self) -> bool:
        """True when an HTTP response was received (whatever its status)."""
        return self.failure is None and self.status is not None

    @property
    def error(self) -> str | None:
        """The failure message, if the exchange failed."""
        return self.failure.message if self.failure else None

    def header(self, name: str) -> str | None:
        """The first response header ``name`` (case-insensitive)."""
        wanted = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == wanted), None)

    @property
    def content_type(self) -> str:
        """The response Content-Type (empty when absent)."""
        return self.header("content-type") or ""

    @property
    def peer_certificate(self) -> x509.Certificate | None:
        """The server certificate seen on this connection."""
        if not self.peer_certificate_der:
            return None
        return x509.load_der_x509_certificate(self.peer_certificate_der)


#: Limits of a response head, as for the server: line length and number of header lines.
_MAX_LINE = 65536
_MAX_HEADERS = 100
_BAD_TARGET = re.compile("[\x00-\x20\x7f]")
_BAD_NAME = re.compile(r"[\x00-\x20:\x7f-\xff]|^$")
_BAD_VALUE = re.compile("[\r\n\x00]")


class _Connection:
    """One kept-alive HTTP/1.1 connection: the (TLS) socket and a buffered reader on it.

    Requests go out as one write (head and body); responses are read with a small parser of
    its own (status line, headers, then a Content-Length, chunked or read-to-close body).
    """

    __slots__ = ("cipher", "host_header", "peer_der", "rfile", "sock", "tls_version")

    def __init__(
        self,
        scheme: str,
        host: str,
        port: int,
        timeout: float,
        context: ssl.SSLContext | None,
    ) -> None:
        self.peer_der: bytes | None = None
        self.tls_version: str | None = None
        self.cipher: str | None = None
        default = 443 if scheme == "https" else 80
        shown = f"[{host}]" if ":" in host else host
        self.host_header = shown if port == default else f"{shown}:{port}"
        sock = socket.create_connection((host, port), timeout)
        try:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = (context or ssl.create_default_context()).wrap_socket(
                    sock, server_hostname=host
                )
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.rfile = sock.makefile("rb")
        if isinstance(sock, ssl.SSLSocket):
            self.peer_der = sock.getpeercert(binary_form=True)
            self.tls_version = sock.version()
            negotiated = sock.cipher()
            self.cipher = negotiated[0] if negotiated else None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.rfile.close()
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(
        self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> None:
        found = _BAD_TARGET.search(target)
        if found is not None:
            raise http.client.InvalidURL(
                f"URL can't contain control characters. {target!r} "
                f"(found at least {found.group()!r})"
            )
        lines = [f"{method} {target} HTTP/1.1\r\n".encode("ascii")]
        if not any(name.lower() == "host" for name, _ in headers):
            lines.append(f"Host: {self.host_header}\r\n".encode("ascii"))
        for name, value in headers:
            if _BAD_NAME.search(name):
                raise ValueError(f"Invalid header name {name!r}")
            if _BAD_VALUE.search(value):
                raise ValueError(f"Invalid header value {value!r}")
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines.append(b"\r\n")
        lines.append(body)
        self.sock.sendall(b"".join(lines))

    def _line(self, what: str) -> bytes:
        line = self.rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE:
            raise http.client.LineTooLong(what)
        return line

    def receive(self, method: str, limit: int) -> _Response:
        """Read one response; ``limit`` bounds the body."""
        while True:
            line = self._line("status line")
            if not line:
                raise http.client.RemoteDisconnected(
                    "Remote end closed connection without response"
                )
            text = line.decode("iso-8859-1")
            version, _, rest = text.rstrip("\r\n").partition(" ")
            code, _, reason = rest.strip().partition(" ")
            if not version.startswith("HTTP/") or len(code) != 3 or not code.isdigit():
                raise http.client.BadStatusLine(text)
            status = int(code)
            headers = self._headers()
            if status != 100:
                break
        keep_alive = version != "HTTP/1.0"
        length: int | None = None
        chunked = False
        for name, value in headers:
            lowered = name.lower()
            if lowered == "connection":
                tokens = {t.strip().lower() for t in value.split(",")}
                if "close" in tokens:
                    keep_alive = False
                elif "keep-alive" in tokens:
                    keep_alive = True
            elif lowered == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif lowered == "content-length" and length is None:
                try:
                    length = int(value)
                except ValueError:
                    length = None
                if length is not None and length < 0:
                    length = None
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif chunked:
            body = self._chunked(limit)
        elif length is not None:
            if length > limit:
                raise http.client.HTTPException(f"the response body exceeds {limit} bytes")
            body = self.rfile.read(length) if length else b""
            if len(body) < length:
                raise http.client.IncompleteRead(body, length - len(body))
        else:
            keep_alive = False
            body = self.rfile.read(limit + 1)
            if len(body) > limit:
                raise http.client.HTTPException(f"the response body exceeds {limit} bytes")
        return _Response(status, reason.strip(), tuple(headers), body, not keep_alive)

    def _headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        for _ in range(_MAX_HEADERS + 1):
            line = self._line("header line")
            if line in (b"\r\n", b"\n", b""):
                return headers
            text = line.decode("iso-8859-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and headers:  # an obsolete folded continuation line
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {text.strip()}".strip())
                continue
            name, colon, value = text.partition(":")
            if colon:
                headers.append((name.strip(), value.strip()))
        raise http.client.HTTPException(f"got more than {_MAX_HEADERS} headers")

    def _chunked(self, limit: int) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self._line("chunk size")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise http.client.IncompleteRead(b"".join(parts)) from None
            if size < 0:
                raise http.client.IncompleteRead(b"".join(parts))
            if size == 0:
                for _ in range(_MAX_HEADERS + 1):  # trailers
                    if self._line("trailer line") in (b"\r\n", b"\n", b""):
                        return b"".join(parts)
                raise http.client.HTTPException(f"got more than {_MAX_HEADERS} trailers")
            total += size
            if total > limit:
                raise http.client.HTTPException(f"the response body exceeds {limit} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise http.client.IncompleteRead(b"".join(parts) + chunk, size - len(chunk))
            parts.append(chunk)
            self._line("chunk end")


@dataclass(frozen=True)
class _Response:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    will_close: bool


_Key = tuple[str, str, int]


class HttpClient:
    """An HTTP/1.1 client for one identity, reusing connections per host (thread-safe).

    ``context`` is the client TLS context (see :meth:`for_identity`); ``None`` uses the system
    defaults for ``https`` URLs. ``connect_timeout`` bounds TCP connect plus TLS handshake,
    ``read_timeout`` each read of the response.
    """

    def __init__(
        self,
        context: ssl.SSLContext | None = None,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 30.0,
        max_idle_per_host: int = 8,
        max_response: int = DEFAULT_MAX_RESPONSE,
        default_headers: Headers = (),
        label: str = "",
    ) -> None:
        self.context = context
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_idle_per_host = max_idle_per_host
        self.max_response = max_response
        self.default_headers = _pairs(default_headers)
        self.label = label
        self._lock = threading.Lock()
        self._idle: dict[_Key, list[_Connection]] = {}
        self._closed = False

    @classmethod
    def for_identity(
        cls,
        identity: Identity | None,
        trust: Sequence[x509.Certificate] | None = None,
        **kwargs: object,
    ) -> HttpClient:
        """A client presenting ``identity`` (none: no client certificate) and trusting ``trust``."""
        if identity is not None:
            context = identity.client_context(trust)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            if trust:
                from pytest_dso.pkio.identity import certificates_pem

                context.load_verify_locations(cadata=certificates_pem(trust).decode("ascii"))
            else:
                context.load_default_certs()
        label = identity.label if identity is not None else "anonymous"
        return cls(context, label=label, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"HttpClient({self.label or 'default'})"

    # -- public API -------------------------------------------------------------------------
    def get(self, url: str, *, headers: Headers = (), timeout: float | None = None) -> HttpExchange:
        """``GET url``."""
        return self.request("GET", url, headers=headers, timeout=timeout)

    def post(
        self,
        url: str,
        body: bytes = b"",
        *,
        headers: Headers = (),
        timeout: float | None = None,
    ) -> HttpExchange:
        """``POST body`` to ``url``."""
        return self.request("POST", url, body, headers=headers, timeout=timeout)

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        *,
        headers: Headers = (),
        timeout: float | None = None,
    ) -> HttpExchange:
        """Send one request and read the whole response. Never raises for network failures:
        the exchange's ``failure`` says what went wrong."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        started = time.time()
        t0 = time.perf_counter()
        sent_headers = (*self.default_headers, *_pairs(headers))
        if body or method.upper() in ("POST", "PUT", "PATCH"):
            sent_headers = (*sent_headers, ("Content-Length", str(len(body))))
        if scheme not in ("http", "https") or not parts.hostname:
            return self._failed(
                method,
                url,
                sent_headers,
                body,
                started,
                t0,
                ValueError(f"not an http(s) URL: {url!r}"),
                False,
            )
        port = parts.port or (443 if scheme == "https" else 80)
        key: _Key = (scheme, parts.hostname, port)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        read_timeout = self.read_timeout if timeout is None else timeout
        method = method.upper()
        for attempt in range(2):
            try:
                wrapped, reused = self._acquire(key, fresh=attempt > 0)
            except Exception as exc:
                return self._failed(method, url, sent_headers, body, started, t0, exc, False)
            try:
                if wrapped.sock.gettimeout() != read_timeout:
                    wrapped.sock.settimeout(read_timeout)
                wrapped.send(method, target, sent_headers, body)
                response = wrapped.receive(method, self.max_response)
            except Exception as exc:
                wrapped.close()
                if reused and attempt == 0 and isinstance(exc, _STALE):
                    continue  # the peer closed an idle kept-alive connection: retry once fresh
                return self._failed(
                    method, url, sent_headers, body, started, t0, exc, reused, wrapped
                )
            if response.will_close:
                wrapped.close()
            else:
                self._release(key, wrapped)
            return HttpExchange(
                method=method,
                url=url,
                request_headers=sent_headers,
                request_body=body,
                started=started,
                stopped=time.time(),
                duration=time.perf_counter() - t0,
                status=response.status,
                reason=response.reason,
                response_headers=response.headers,
                response_body=response.body,
                peer_certificate_der=wrapped.peer_der,
                tls_version=wrapped.tls_version,
                cipher=wrapped.cipher,
                reused_connection=reused,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
            self._closed = True
        for conns in idle.values():
            for wrapped in conns:
                wrapped.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def idle_connections(self) -> int:
        """How many kept-alive connections wait in the pool."""
        with self._lock:
            return sum(len(v) for v in self._idle.values())

    # -- pool -------------------------------------------------------------------------------
    def _acquire(self, key: _Key, *, fresh: bool = False) -> tuple[_Connection, bool]:
        """A kept-alive connection from the pool, else (or when ``fresh``) a new one. The
        retry after a stale connection is always fresh: the other idle connections to the same
        host have often been closed by the peer at the same time."""
        if not fresh:
            with self._lock:
                conns = self._idle.get(key)
                if conns:
                    return conns.pop(), True
        scheme, host, port = key
        return _Connection(scheme, host, port, self.connect_timeout, self.context), False

    def _release(self, key: _Key, wrapped: _Connection) -> None:
        with self._lock:
            if not self._closed:
                conns = self._idle.setdefault(key, [])
                if len(conns) < self.max_idle_per_host:
                    conns.append(wrapped)
                    return
        wrapped.close()

    def _failed(
        self,
        method: str,
        url: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        started: float,
        t0: float,
        exc: BaseException,
        reused: bool,
        wrapped: _Connection | None = None,
    ) -> HttpExchange:
        return HttpExchange(
            method=method.upper(),
            url=url,
            request_headers=headers,
            request_body=body,
            started=started,
            stopped=time.time(),
            duration=time.perf_counter() - t0,
            failure=classify_failure(exc, url=url),
            exception=exc,
            peer_certificate_der=wrapped.peer_der if wrapped else None,
            tls_version=wrapped.tls_version if wrapped else None,
            cipher=wrapped.cipher if wrapped else None,
            reused_connection=reused,
        )


def _pairs(headers: Headers) -> tuple[tuple[str, str], ...]:
    if isinstance(headers, Mapping):
        return tuple((str(k), str(v)) for k, v in headers.items())
    return tuple((str(k), str(v)) for k, v in headers)
