"""HTTP exchanges in the Allure HTTP exchange format (``application/vnd.allure.http+json``).

The document has ``schemaVersion: 1``, ``start``/``stop`` (epoch milliseconds), ``request``,
``response`` and ``error``. Sensitive header values are replaced by the Allure redaction
marker ``__ALLURE_REDACTED__`` (rendered as a masked value); URL, query, bodies and error text
are scrubbed with the run's :class:`~pytest_dso.evidence.redaction.Redactor`. Text bodies
larger than ``body_limit`` bytes are cut, binary ones (``base64``) above
:data:`BINARY_BODY_LIMIT`, with ``truncated: true`` and the original ``size``: the first bytes
show the kind of file, the size and the SHA-256 the suites attach (bijlagen) prove the content.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pytest_dso.evidence.redaction import ALLURE_REDACTED, SENSITIVE_QUERY_PARAMS, Redactor

HTTP_EXCHANGE_MIME = "application/vnd.allure.http+json"
HTTP_EXCHANGE_EXTENSION = "httpexchange"
#: Bodies above this many bytes are truncated in attachments (64 KiB).
DEFAULT_BODY_LIMIT = 64 * 1024
#: Binary bodies (a PDF, a bijlage) above this many bytes are truncated (4 KiB).
BINARY_BODY_LIMIT = 4 * 1024

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True, repr=False)
class RecordedExchange:
    """One HTTP request and its response (or the error instead of a response).

    ``start`` and ``stop`` are epoch seconds. Build it yourself or with :func:`as_exchange`
    from a ``requests.Response`` or any object with the same attribute names.
    """

    method: str
    url: str
    request_headers: Headers = ()
    request_body: bytes | str | None = None
    status: int | None = None
    status_text: str = ""
    response_headers: Headers = ()
    response_body: bytes | str | None = None
    start: float | None = None
    stop: float | None = None
    error: str | None = None
    error_name: str = ""
    http_version: str = "HTTP/1.1"

    def __repr__(self) -> str:
        # Headers and bodies may hold secrets: show only the request line and the status.
        return f"RecordedExchange({self.method} {self.url.split('?', 1)[0]} -> {self.status})"


def _headers(value: Any) -> Headers:
    if value is None:
        return ()
    if isinstance(value, Mapping):
        return tuple((str(k), str(v)) for k, v in value.items())
    if hasattr(value, "items"):
        return tuple((str(k), str(v)) for k, v in value.items())
    return tuple((str(k), str(v)) for k, v in value)


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _first(obj: Any, *names: str) -> Any:
    for name in names:
        current = obj
        for part in name.split("."):
            current = getattr(current, part, None)
            if current is None:
                break
        if current is not None:
            return current
    return None


def as_exchange(exchange: Any) -> RecordedExchange:
    """Turn ``exchange`` into a :class:`RecordedExchange`.

    Accepts a :class:`RecordedExchange`, a ``requests.Response`` (its ``request`` is used) and
    objects with attributes such as ``method``, ``url``, ``request_headers``, ``request_body``,
    ``status``/``status_code``, ``response_headers``, ``response_body``, ``started``/``start``,
    ``stopped``/``stop``/``finished`` and ``error``, or with nested ``request``/``response``
    objects. Raises ``TypeError`` when no method and URL can be found.
    """
    if isinstance(exchange, RecordedExchange):
        return exchange
    method = _first(exchange, "method", "request.method")
    url = _first(exchange, "url", "request.url")
    if method is None or url is None:
        raise TypeError(
            f"cannot record {type(exchange).__name__} as an HTTP exchange: it has no method "
            "and url (pass a RecordedExchange or a requests.Response)"
        )
    is_requests = hasattr(exchange, "status_code") and hasattr(exchange, "request")
    status: int | None
    start: float | None
    stop: float | None
    if is_requests:
        req_headers = _headers(exchange.request.headers)
        req_body = exchange.request.body
        resp_headers = _headers(exchange.headers)
        resp_body = exchange.content
        status = int(exchange.status_code)
        status_text = str(exchange.reason or "")
        elapsed = getattr(exchange, "elapsed", None)
        stop = dt.datetime.now(dt.UTC).timestamp()
        start = stop - elapsed.total_seconds() if elapsed is not None else None
        error = None
        error_name = ""
    else:
        req_headers = _headers(_first(exchange, "request_headers", "request.headers"))
        req_body = _first(exchange, "request_body", "request.body")
        resp_headers = _headers(_first(exchange, "response_headers", "response.headers"))
        resp_body = _first(exchange, "response_body", "response.body", "response.content")
        raw_status = _first(exchange, "status", "status_code", "response.status")
        status = int(raw_status) if raw_status is not None else None
        status_text = str(_first(exchange, "status_text", "reason", "response.reason") or "")
        start = _epoch(_first(exchange, "start", "started"))
        stop = _epoch(_first(exchange, "stop", "stopped", "finished"))
        raw_error = _first(exchange, "error")
        error = None if raw_error is None else str(raw_error)
        error_name = type(raw_error).__name__ if isinstance(raw_error, BaseException) else ""
        check = _first(exchange, "failure.check")
        if isinstance(check, str) and not error_name:
            error_name = check  # a pytest-dso Finding: its stable check id
    if req_body is not None and not isinstance(req_body, bytes | str):
        req_body = str(req_body)
    if resp_body is not None and not isinstance(resp_body, bytes | str):
        resp_body = str(resp_body)
    return RecordedExchange(
        method=str(method),
        url=str(url),
        request_headers=req_headers,
        request_body=req_body,
        status=status,
        status_text=status_text,
        response_headers=resp_headers,
        response_body=resp_body,
        start=start,
        stop=stop,
        error=error,
        error_name=error_name,
    )


def _content_type(headers: Headers) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value
    return ""


#: The invalid bytes a cut text may hold (a multi-byte character split at the limit).
_CUT_SLACK = 3


def _utf8_dropping(data: bytes, slack: int) -> str | None:
    """``data.decode("utf-8", "ignore")``, or ``None`` once more than ``slack`` bytes are
    invalid (binary): a binary body stops at its first few bad bytes, not after decoding it
    all."""
    view = memoryview(data)
    parts: list[str] = []
    pos = dropped = 0
    while True:
        try:
            parts.append(str(view[pos:], "utf-8"))
        except UnicodeDecodeError as exc:
            parts.append(str(view[pos:pos + exc.start], "utf-8"))
            dropped += exc.end - exc.start
            if dropped > slack:
                return None
            pos += exc.end
        else:
            return "".join(parts)


def body_document(
    body: bytes | str | None, content_type: str, redactor: Redactor, limit: int
) -> dict[str, Any] | None:
    """The ``body`` object: text as ``utf8`` (redacted), cut at ``limit`` bytes; other bytes as
    ``base64``, cut at ``limit`` or :data:`BINARY_BODY_LIMIT`, whichever is smaller; with
    ``truncated`` and the original ``size``."""
    if body is None:
        return None
    data = body.encode("utf-8") if isinstance(body, str) else body
    size = len(data)
    truncated = size > limit
    kept = data[:limit] if truncated else data
    try:
        text = kept.decode("utf-8")
    except UnicodeDecodeError:
        # A cut may split a multi-byte character: up to 3 invalid bytes are dropped.
        text = (_utf8_dropping(kept, _CUT_SLACK) or "") if truncated else ""
    if text or not kept:
        return {"contentType": content_type, "size": size, "truncated": truncated,
                "encoding": "utf8", "value": redactor.redact_text(text)}
    shown = kept[:BINARY_BODY_LIMIT]
    return {"contentType": content_type, "size": size, "truncated": len(shown) < size,
            "encoding": "base64", "value": base64.b64encode(shown).decode("ascii")}


def _query(url: str, redactor: Redactor) -> list[dict[str, str]]:
    sensitive = {p.lower() for p in SENSITIVE_QUERY_PARAMS}
    out = []
    for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        hidden = name.lower() in sensitive
        out.append(
            {"name": name, "value": ALLURE_REDACTED if hidden else redactor.redact_text(value)}
        )
    return out


def _cookies(headers: Headers, header: str) -> list[dict[str, str]]:
    names: list[str] = []
    for name, value in headers:
        if name.lower() != header:
            continue
        parts = value.split(";") if header == "cookie" else value.split(";")[:1]
        names.extend(p.split("=", 1)[0].strip() for p in parts if "=" in p)
    return [{"name": n, "value": ALLURE_REDACTED} for n in names if n]


def _header_list(headers: Headers, redactor: Redactor) -> list[dict[str, str]]:
    return [
        {"name": name, "value": value}
        for name, value in redactor.redact_headers(headers, marker=ALLURE_REDACTED)
    ]


def _millis(value: float | None) -> int | None:
    return None if value is None else round(value * 1000)


def exchange_document(
    exchange: RecordedExchange, redactor: Redactor, body_limit: int = DEFAULT_BODY_LIMIT
) -> dict[str, Any]:
    """The Allure HTTP exchange document (``schemaVersion: 1``) for ``exchange``, redacted."""
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": redactor.redact_url(exchange.url),
        "httpVersion": exchange.http_version,
        "headers": _header_list(exchange.request_headers, redactor),
        "cookies": _cookies(exchange.request_headers, "cookie"),
        "query": _query(exchange.url, redactor),
        "trailers": [],
    }
    body = body_document(
        exchange.request_body, _content_type(exchange.request_headers), redactor, body_limit
    )
    if body is not None:
        request["body"] = body
    doc: dict[str, Any] = {"schemaVersion": 1, "request": request}
    start, stop = _millis(exchange.start), _millis(exchange.stop)
    if start is not None:
        doc["start"] = start
    if stop is not None:
        doc["stop"] = stop
    if exchange.status is not None:
        response: dict[str, Any] = {
            "status": exchange.status,
            "statusText": exchange.status_text,
            "httpVersion": exchange.http_version,
            "headers": _header_list(exchange.response_headers, redactor),
            "cookies": _cookies(exchange.response_headers, "set-cookie"),
            "trailers": [],
        }
        rbody = body_document(
            exchange.response_body, _content_type(exchange.response_headers), redactor, body_limit
        )
        if rbody is not None:
            response["body"] = rbody
        doc["response"] = response
    if exchange.error is not None:
        doc["error"] = {
            "name": exchange.error_name or "Error",
            "message": redactor.redact_text(exchange.error),
        }
    return doc


def exchange_json(exchange: Any, redactor: Redactor, body_limit: int = DEFAULT_BODY_LIMIT) -> str:
    """:func:`exchange_document` as JSON text, for any object :func:`as_exchange` accepts."""
    return json.dumps(
        exchange_document(as_exchange(exchange), redactor, body_limit), ensure_ascii=False, indent=2
    )


def exchange_title(exchange: RecordedExchange, redactor: Redactor) -> str:
    """A short attachment name: ``POST /path -> 200`` (no query string, so no secrets)."""
    parts = urlsplit(exchange.url)
    outcome = str(exchange.status) if exchange.status is not None else "error"
    return redactor.redact_text(f"{exchange.method} {parts.path or '/'} -> {outcome}")
