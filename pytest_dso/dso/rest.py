"""The REST side of the harness: calls to the DSO-LV APIs per identity, over mTLS.

Each :class:`RestSession` sends through the harness's one HTTP client stack,
:class:`~pytest_dso.transport.client.HttpClient`, with the identity's ``ssl.SSLContext``
(client certificate + exactly the configured trust anchors): pooled kept-alive connections,
a connect and a read timeout, a bounded response body, and per call the TLS facts of the
connection (protocol, cipher, server certificate). Every call is recorded as an
:class:`Exchange` for the evidence, with secret headers masked at capture time.

Conventions [C]: ``Accept: application/hal+json``; ``x-api-key`` on public APIs (taken from an
environment variable, never from a file in the repository). The acting-on-behalf OIN header
is sent only when its name is configured (``[api] acting_oin_header``), because the real name
is unknown [?].
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from cryptography import x509

from pytest_dso.dso.paths import join_url, operation, render_path, with_major
from pytest_dso.dso.shapes import DEFAULT_RELATIONS, HAL_JSON
from pytest_dso.findings import Finding
from pytest_dso.transport.api import ApiError as ApiError
from pytest_dso.transport.api import ApiResponse as ApiResponse
from pytest_dso.transport.client import DEFAULT_MAX_RESPONSE, HttpClient, HttpExchange

if TYPE_CHECKING:

    from pytest_dso.environments import EnvironmentProfile
    from pytest_dso.pkio.identity import Identity
    from pytest_dso.settings import DsoSettings

#: The value an Allure HTTP exchange shows as a masked header.
REDACTED = "__ALLURE_REDACTED__"
#: Headers always masked in recorded exchanges.
SECRET_HEADERS = frozenset({"x-api-key", "authorization", "proxy-authorization", "cookie"})
#: APIs that take the x-api-key by default (the public ``publiek`` APIs) [C].
PUBLIC_APIS = frozenset({"verzoeksroutering", "indienen"})
#: Operations sent to afhandelen ``[api] rerouting_version`` (v1 in a vendor's example [V]).
REROUTING_OPERATIONS = frozenset({"afhandelen.wijzig_bevoegd_gezag"})
#: Bodies larger than this are recorded truncated.
MAX_RECORDED_BODY = 1024 * 1024


class WritesNotAllowed(PermissionError):
    """A state-changing call was refused because the settings do not allow writes."""


class TransportError(ApiError):
    """No HTTP response: DNS, TCP, TLS or timeout. ``kind`` says which (``tls``,
    ``timeout``, ``connection`` or ``http``); ``finding`` is the classified verdict."""

    def __init__(self, message: str, kind: str, finding: Finding | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.finding = finding


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response (or error), for evidence.

    Field names follow the Allure HTTP exchange format; secret headers carry
    :data:`REDACTED`. Bodies above :data:`MAX_RECORDED_BODY` are cut (``*_truncated``).
    ``tls_version``, ``cipher`` and ``peer_certificate_der`` describe the TLS connection the
    call used (``None`` for plain HTTP or when no handshake completed).
    """

    api: str
    operation: str
    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes | None
    started_at: dt.datetime
    stopped_at: dt.datetime
    status: int | None = None
    reason: str = ""
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes = b""
    request_truncated: bool = False
    response_truncated: bool = False
    response_size: int = 0
    error_name: str = ""
    error_message: str = ""
    tls_version: str | None = None
    cipher: str | None = None
    peer_certificate_der: bytes | None = field(default=None, repr=False)

    @property
    def peer_certificate(self) -> x509.Certificate | None:
        """The server certificate seen on the connection."""
        if not self.peer_certificate_der:
            return None
        return x509.load_der_x509_certificate(self.peer_certificate_der)

    @property
    def elapsed_ms(self) -> float:
        """Duration in milliseconds."""
        return (self.stopped_at - self.started_at).total_seconds() * 1000.0

    def header(self, name: str) -> str | None:
        """A response header (case-insensitive)."""
        wanted = name.lower()
        return next((v for k, v in self.response_headers if k.lower() == wanted), None)


class ExchangeLog:
    """A thread-safe list of exchanges; pass its :meth:`record` as a session's recorder."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Exchange] = []

    def record(self, exchange: Exchange) -> None:
        """Append ``exchange``."""
        with self._lock:
            self._items.append(exchange)

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        """Everything recorded so far."""
        with self._lock:
            return tuple(self._items)


@dataclass(frozen=True)
class RestConfig:
    """Where and how to call the DSO-LV APIs (from the settings and environment profile)."""

    base_urls: Mapping[str, str]
    paths: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    acting_oin_header: str | None = None
    api_key_env: str | None = None
    #: The ``x-api-key`` itself, passed as a value (local mode: the simulator's); before
    #: ``api_key_env``.
    api_key: str | None = field(default=None, repr=False)
    api_key_apis: frozenset[str] = PUBLIC_APIS
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_response: int = DEFAULT_MAX_RESPONSE
    accept: str = HAL_JSON
    relations: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(dict(DEFAULT_RELATIONS))
    )
    check_hostname: bool = True
    rerouting_version: str = "v1"

    @classmethod
    def from_settings(cls, settings: DsoSettings, environment: EnvironmentProfile) -> RestConfig:
        """Base URLs of the profile overridden by ``[api.base_urls]`` (the profile's indienen
        URL set to ``[api] indienen_version``); paths, header name, API key variable and the
        rerouting version from ``[api]``."""
        api = settings.file.api
        bases = dict(environment.api_base_urls)
        if "indienen" in bases:
            bases["indienen"] = with_major(bases["indienen"], api.indienen_version)
        merged = {**bases, **api.base_urls}
        return cls(
            base_urls=MappingProxyType(merged),
            paths=MappingProxyType(dict(api.paths)),
            acting_oin_header=api.acting_oin_header,
            api_key_env=api.api_key_env,
            rerouting_version=api.rerouting_version,
        )

    def base_url(self, api: str) -> str:
        """The base URL of ``api``; ``KeyError`` with a hint when not configured."""
        try:
            return self.base_urls[api].rstrip("/")
        except KeyError:
            raise KeyError(
                f"no base URL for DSO API {api!r}; set [api.base_urls] {api} in dso.toml"
            ) from None


def _kind(finding: Finding) -> str:
    """``tls``, ``timeout``, ``connection`` or ``http`` for a classified transport failure."""
    if finding.check.startswith("tls."):
        return "tls"
    if finding.check == "net.timeout":
        return "timeout"
    if finding.check in ("net.http_protocol", "net.error"):
        return "http"
    return "connection"


def _cut(body: bytes | None) -> tuple[bytes | None, bool]:
    if body is None or len(body) <= MAX_RECORDED_BODY:
        return body, False
    return body[:MAX_RECORDED_BODY], True


def _context_for(config: RestConfig, identity: Identity | None,
                 trust: Sequence[x509.Certificate] | None) -> ssl.SSLContext:
    """The client context of ``identity`` (none: no client certificate) trusting ``trust``
    (none: the system CAs)."""
    if identity is not None:
        return identity.client_context(trust, check_hostname=config.check_hostname)
    context = ssl.create_default_context()
    if trust:
        from pytest_dso.pkio.identity import certificates_pem

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cadata=certificates_pem(trust).decode("ascii"))
    context.check_hostname = config.check_hostname
    return context


def _client(config: RestConfig, context: ssl.SSLContext, identity: Identity | None,
            max_idle_per_host: int = 8) -> HttpClient:
    return HttpClient(
        context,
        connect_timeout=config.connect_timeout,
        read_timeout=config.timeout,
        max_response=config.max_response,
        max_idle_per_host=max_idle_per_host,
        label=identity.label if identity is not None else "anonymous",
    )


#: How many identity objects :class:`SharedClients` remembers the key of.
_MAX_KEYS = 1024


class SharedClients:
    """One HTTP client per identity, shared by the REST sessions of many tenants: the TLS
    context (client certificate and trust) is built once per identity and kept-alive
    connections are reused, instead of a key load and a handshake per session. Clients are
    keyed by the identity's certificate (SHA-256), so two identities never share a context
    or a connection; the acting OIN and the API key stay per session (headers per call).
    Thread-safe. :meth:`close` closes every client."""

    def __init__(self, config: RestConfig, trust: Sequence[x509.Certificate] | None = None,
                 *, max_idle_per_host: int = 16) -> None:
        self.config = config
        self.trust = tuple(trust or ())
        self.max_idle_per_host = max_idle_per_host
        self._lock = threading.Lock()
        self._clients: dict[str, HttpClient] = {}
        # id(identity) -> (the identity, its key): the fingerprint is computed once per
        # identity object (kept here, so its id cannot be reused while it is cached)
        self._keys: dict[int, tuple[Identity, str]] = {}
        self._closed = False

    @staticmethod
    def key(identity: Identity | None) -> str:
        """What tells identities apart: the certificate's SHA-256 (``""``: no certificate)."""
        return identity.fingerprint_sha256 if identity is not None else ""

    def _key_of(self, identity: Identity | None) -> str:
        if identity is None:
            return ""
        with self._lock:
            known = self._keys.get(id(identity))
        if known is not None and known[0] is identity:
            return known[1]
        key = self.key(identity)
        with self._lock:
            if len(self._keys) >= _MAX_KEYS:
                self._keys.clear()  # bounded: identities made anew per call stay few here
            self._keys[id(identity)] = (identity, key)
        return key

    def client(self, identity: Identity | None) -> HttpClient:
        """The shared client presenting ``identity``."""
        key = self._key_of(identity)
        with self._lock:
            found = self._clients.get(key)
            if found is not None:
                return found
            if self._closed:
                raise RuntimeError("the shared REST clients are closed")
        made = _client(self.config, _context_for(self.config, identity, self.trust or None),
                       identity, self.max_idle_per_host)
        with self._lock:
            found = self._clients.setdefault(key, made)
        if found is not made:
            made.close()
        return found

    def session(self, identity: Identity | None, *, acting_oin: str | None = None,
                recorder: Callable[[Exchange], None] | None = None) -> RestSession:
        """A REST session for ``identity`` over its shared client."""
        return RestSession(self.config, identity, self.trust or None, acting_oin=acting_oin,
                           recorder=recorder, http=self.client(identity))

    def close(self) -> None:
        """Close every client's kept-alive connections."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
            self._closed = True
        for client in clients:
            client.close()


class RestSession:
    """HTTP calls to the DSO-LV APIs on behalf of one identity (thread-safe for calls)."""

    def __init__(
        self,
        config: RestConfig,
        identity: Identity | None = None,
        trust: Sequence[x509.Certificate] | None = None,
        *,
        acting_oin: str | None = None,
        recorder: Callable[[Exchange], None] | None = None,
        context: ssl.SSLContext | None = None,
        http: HttpClient | None = None,
    ) -> None:
        self.config = config
        self.identity = identity
        self.acting_oin = acting_oin
        self._recorder = recorder
        self._api_key: str | None = config.api_key
        if self._api_key is None and config.api_key_env:
            self._api_key = os.environ.get(config.api_key_env) or None
        # a client given (shared per identity, see SharedClients) is its owner's to close
        self._owns_http = http is None
        if http is not None:
            self._http = http
            return
        if context is None:
            context = _context_for(config, identity, trust)
        self._http = _client(config, context, identity)

    def __repr__(self) -> str:
        return f"RestSession(identity={self.identity!r}, acting_oin={self.acting_oin})"

    def close(self) -> None:
        """Close pooled connections (of a shared client: its owner does)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> RestSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, name: str, **params: str) -> str:
        """The absolute URL of operation ``name`` with its path parameters. Rerouting
        (``afhandelen.wijzig_bevoegd_gezag``) goes to afhandelen ``rerouting_version``."""
        op = operation(name)
        base = self.config.base_url(op.api)
        if name in REROUTING_OPERATIONS:
            base = with_major(base, self.config.rerouting_version)
        return join_url(base, render_path(name, self.config.paths, **params))

    def resolve(self, api: str, href: str) -> str:
        """An absolute URL for a HAL ``href`` of ``api``: absolute URLs as they are,
        host-absolute paths (``/…``) on the API's host, other paths below the API base URL."""
        if href.startswith(("https://", "http://")):
            return href
        base = self.config.base_url(api)
        if href.startswith("/"):
            parts = urlsplit(base)
            return f"{parts.scheme}://{parts.netloc}{href}"
        return join_url(base, href)

    def call(
        self,
        name: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        query: Mapping[str, str] | None = None,
        method: str | None = None,
        **params: str,
    ) -> ApiResponse:
        """Call operation ``name`` (see :mod:`pytest_dso.dso.paths`)."""
        op = operation(name)
        return self.request(
            method or op.method,
            self.url(name, **params),
            api=op.api,
            operation=name,
            json_body=json_body,
            data=data,
            content_type=content_type,
            accept=accept,
            query=query,
        )

    def request(
        self,
        method: str,
        url: str,
        *,
        api: str = "",
        operation: str = "",
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        query: Mapping[str, str] | None = None,
    ) -> ApiResponse:
        """One HTTP call; recorded; raises :class:`TransportError` when no response came."""
        headers = {"Accept": accept or self.config.accept, "User-Agent": "pytest-dso"}
        body = data
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = content_type or "application/json"
        elif content_type:
            headers["Content-Type"] = content_type
        if self.config.acting_oin_header and self.acting_oin:
            headers[self.config.acting_oin_header] = self.acting_oin
        if self._api_key and api in self.config.api_key_apis:
            headers["x-api-key"] = self._api_key
        if query:
            url = f"{url}{'&' if urlsplit(url).query else '?'}{urlencode(dict(query))}"
        sent = self._http.request(method, url, body or b"", headers=headers.items())
        started = dt.datetime.fromtimestamp(sent.started, dt.UTC)
        stopped = started + dt.timedelta(seconds=sent.duration)
        if sent.failure is not None or sent.status is None:
            failure = sent.failure
            name = failure.check if failure is not None else "net.error"
            message = failure.message if failure is not None else "no HTTP response"
            self._record(api, operation, method, url, headers, body, started, stopped,
                         error=(name, message), connection=sent)
            kind = _kind(failure) if failure is not None else "http"
            raise TransportError(
                f"{method} {url} failed before any HTTP response ({kind}): {message}",
                kind, failure,
            )
        exchange = self._record(
            api,
            operation,
            method,
            url,
            headers,
            body,
            started,
            stopped,
            status=sent.status,
            reason=sent.reason,
            response_headers=sent.response_headers,
            response_body=sent.response_body,
            connection=sent,
        )
        lowered: dict[str, str] = {}
        for key, value in sent.response_headers:
            name = key.lower()
            lowered[name] = f"{lowered[name]}, {value}" if name in lowered else value
        return ApiResponse(
            status=sent.status,
            headers=MappingProxyType(lowered),
            body=sent.response_body,
            url=url,
            exchange=exchange,
        )

    def _record(
        self,
        api: str,
        operation: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        started: dt.datetime,
        stopped: dt.datetime,
        *,
        status: int | None = None,
        reason: str = "",
        response_headers: tuple[tuple[str, str], ...] = (),
        response_body: bytes = b"",
        error: tuple[str, str] | None = None,
        connection: HttpExchange | None = None,
    ) -> Exchange:
        masked = tuple(
            (k, REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()
        )
        req_body, req_cut = _cut(body)
        resp_body, resp_cut = _cut(response_body)
        exchange = Exchange(
            api=api,
            operation=operation,
            method=method,
            url=url,
            request_headers=masked,
            request_body=req_body,
            started_at=started,
            stopped_at=stopped,
            status=status,
            reason=reason,
            response_headers=tuple(
                (k, REDACTED if k.lower() in SECRET_HEADERS | {"set-cookie"} else v)
                for k, v in response_headers
            ),
            response_body=resp_body or b"",
            request_truncated=req_cut,
            response_truncated=resp_cut,
            response_size=len(response_body),
            error_name=error[0] if error else "",
            error_message=error[1] if error else "",
            tls_version=connection.tls_version if connection else None,
            cipher=connection.cipher if connection else None,
            peer_certificate_der=connection.peer_certificate_der if connection else None,
        )
        if self._recorder is not None:
            self._recorder(exchange)
        return exchange
