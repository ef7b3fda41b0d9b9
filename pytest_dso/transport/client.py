"""A lean HTTP(S) client with mutual TLS and connection reuse.

One :class:`HttpClient` holds one ``ssl.SSLContext`` (one identity) and a small thread-safe pool
of kept-alive ``http.client`` connections per host. Every call returns an :class:`HttpExchange`
record (request and response, timings, and on failure the classified
:class:`~pytest_dso.findings.Finding`) so evidence can be recorded; calls never raise for
network or TLS failures.
"""

from __future__ import annotations

import http.client
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


class _OneWriteMixin(http.client.HTTPConnection):
    """Sends the request head and a ``bytes`` body in one write (one TLS record, one syscall)
    instead of two; other bodies go the standard way."""

    def _send_output(self, message_body: object = None, encode_chunked: bool = False) -> None:
        if isinstance(message_body, bytes) and not encode_chunked:
            buffer: list[bytes] = self._buffer  # type: ignore[attr-defined]
            buffer.extend((b"", b""))
            head = b"\r\n".join(buffer)
            del buffer[:]
            self.send(head + message_body)
            return
        super()._send_output(message_body, encode_chunked)  # type: ignore[misc]


class _HTTPConnection(_OneWriteMixin, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_OneWriteMixin, http.client.HTTPSConnection):
    pass


class _Connection:
    __slots__ = ("conn", "peer_der", "tls_version")

    def __init__(self, conn: http.client.HTTPConnection) -> None:
        self.conn = conn
        self.peer_der: bytes | None = None
        self.tls_version: str | None = None


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
        for attempt in range(2):
            try:
                wrapped, reused = self._acquire(key)
            except Exception as exc:
                return self._failed(method, url, sent_headers, body, started, t0, exc, False)
            conn = wrapped.conn
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(read_timeout)
                conn.putrequest(method.upper(), target, skip_accept_encoding=True)
                for name, value in sent_headers:
                    conn.putheader(name, value)
                conn.endheaders(body or None)
                response = conn.getresponse()
                data = response.read(self.max_response + 1)
                if len(data) > self.max_response:
                    raise http.client.HTTPException(
                        f"the response body exceeds {self.max_response} bytes"
                    )
            except Exception as exc:
                conn.close()
                if reused and attempt == 0 and isinstance(exc, _STALE):
                    continue  # the peer closed an idle kept-alive connection: retry once fresh
                return self._failed(
                    method, url, sent_headers, body, started, t0, exc, reused, wrapped
                )
            if response.will_close:
                conn.close()
            else:
                self._release(key, wrapped)
            return HttpExchange(
                method=method.upper(),
                url=url,
                request_headers=sent_headers,
                request_body=body,
                started=started,
                stopped=time.time(),
                duration=time.perf_counter() - t0,
                status=response.status,
                reason=response.reason,
                response_headers=tuple(response.getheaders()),
                response_body=data,
                peer_certificate_der=wrapped.peer_der,
                tls_version=wrapped.tls_version,
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
                wrapped.conn.close()

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
    def _acquire(self, key: _Key) -> tuple[_Connection, bool]:
        with self._lock:
            conns = self._idle.get(key)
            if conns:
                return conns.pop(), True
        scheme, host, port = key
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = self.context or ssl.create_default_context()
            conn = _HTTPSConnection(host, port, timeout=self.connect_timeout, context=context)
        else:
            conn = _HTTPConnection(host, port, timeout=self.connect_timeout)
        wrapped = _Connection(conn)
        try:
            conn.connect()
        except BaseException:
            conn.close()
            raise
        sock = conn.sock
        if isinstance(sock, ssl.SSLSocket):
            wrapped.peer_der = sock.getpeercert(binary_form=True)
            wrapped.tls_version = sock.version()
        return wrapped, False

    def _release(self, key: _Key, wrapped: _Connection) -> None:
        with self._lock:
            if not self._closed:
                conns = self._idle.setdefault(key, [])
                if len(conns) < self.max_idle_per_host:
                    conns.append(wrapped)
                    return
        wrapped.conn.close()

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
            reused_connection=reused,
        )


def _pairs(headers: Headers) -> tuple[tuple[str, str], ...]:
    if isinstance(headers, Mapping):
        return tuple((str(k), str(v)) for k, v in headers.items())
    return tuple((str(k), str(v)) for k, v in headers)
