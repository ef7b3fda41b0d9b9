"""Framework-free request/response values and routing for the simulator's REST APIs.

Every API module builds an :class:`Api`: a base path plus routes written as path templates
(``verzoeken/{verzoeknummer}``). The server hands each request in as an :class:`ApiRequest` and
writes back the :class:`ApiResponse`; the API modules never touch sockets.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs

from pytest_dso import jsonsafe
from pytest_dso.transport.api import ApiError, ApiResponse, Route, SpooledBody

HAL_JSON = "application/hal+json"
PROBLEM_JSON = "application/problem+json"
JSON = "application/json"
#: Largest JSON request body the simulated APIs parse (documents are uploaded as bytes).
MAX_JSON_BODY = 1024 * 1024
#: The semantic version every simulated API reports in ``API-Version``.
API_VERSIONS: Mapping[str, str] = MappingProxyType(
    {
        "afhandelen": "2.0.0",
        "behandeldienstconfiguratie": "1.0.0",
        "verzoeksroutering": "2.0.0",
        "indienen": "5.0.0",
        "indienen_v4": "4.3.2",
        "cpa_aanbieden": "1.0.0",
    }
)


@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request as the REST layer sees it.

    ``path`` is relative to the API's base path, without a leading slash. ``peer_oin`` is the
    OIN in the verified client certificate (``None`` without a certificate or without an OIN).
    Header names are lower case.
    """

    method: str
    path: str
    query: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    peer_oin: str | None = None
    has_client_certificate: bool = False
    base_url: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    #: The body as parsed (and schema-checked) by the router; ``json()`` returns it.
    parsed: Any = field(default=None, compare=False, repr=False)
    client: str = ""
    #: A streamed body (an upload): the file it was written to; ``body`` is then empty.
    spooled: SpooledBody | None = field(default=None, compare=False, repr=False)

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive)."""
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        """The body parsed as JSON within :mod:`pytest_dso.jsonsafe`'s limits (nesting,
        number size, no NaN/Infinity); :class:`ApiError` 400 when it is not JSON or exceeds
        a limit, 413 above :data:`MAX_JSON_BODY` bytes."""
        if self.parsed is not None:
            return self.parsed
        if len(self.body) > MAX_JSON_BODY:
            raise ApiError(413, "Te groot",
                           f"a JSON body is limited to {MAX_JSON_BODY} bytes here")
        try:
            return jsonsafe.loads(self.body)
        except jsonsafe.JsonLimitError as exc:
            raise ApiError(
                400, "Ongeldige JSON", f"the request body is not accepted as JSON: {exc}"
            ) from None


#: The problem body every error response carries (RFC 9457 fields the simulator fills).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}


def json_response(data: Any, status: int = 200, content_type: str = JSON,
                  headers: Mapping[str, str] | None = None) -> ApiResponse:
    """A JSON response (compact, UTF-8)."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return ApiResponse(status, body, content_type, headers or {})


def hal_response(data: Any, status: int = 200) -> ApiResponse:
    """A HAL JSON response."""
    return json_response(data, status, HAL_JSON)


def problem(status: int, title: str, detail: str, instance: str = "",
            content_type: str = PROBLEM_JSON, **extra: Any) -> ApiResponse:
    """An RFC 7807 problem response. Verzoek indienen v5 answers errors as
    ``application/problem+json`` [C]; the fields DSO-LV fills are not public [?], so this follows
    the NL API Design Rules. ``content_type`` is ``application/json`` for APIs that predate it
    (indienen v4)."""
    data: dict[str, Any] = {"type": "about:blank", "title": title, "status": status,
                            "detail": detail}
    if instance:
        data["instance"] = instance
    data.update(extra)
    return json_response(data, status, content_type)


def link(href: str, title: str = "", type_: str = "", templated: bool = False) -> dict[str, Any]:
    """A HAL link object."""
    out: dict[str, Any] = {"href": href}
    if title:
        out["title"] = title
    if type_:
        out["type"] = type_
    if templated:
        out["templated"] = True
    return out


def parse_query(raw: str) -> Mapping[str, tuple[str, ...]]:
    """A query string as ``{name: values}``."""
    return {k: tuple(v) for k, v in parse_qs(raw, keep_blank_values=True).items()}


Handler = Callable[[ApiRequest], ApiResponse]


def templates(api: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Path templates of ``api``'s operations (short name → template): the defaults of
    :data:`pytest_dso.dso.paths.DEFAULT_PATHS`, so harness clients and simulator agree, with
    ``[api.paths]`` overrides (full operation names such as ``afhandelen.referenties``)."""
    from pytest_dso.dso.paths import DEFAULT_PATHS

    chosen = overrides or {}
    return {
        name.split(".", 1)[1]: chosen.get(name, default.template)
        for name, default in DEFAULT_PATHS.items()
        if default.api == api
    }


@dataclass(frozen=True)
class Api:
    """One simulated API: its name, base path, auth kind and routes.

    ``auth`` is ``"pkio"`` (client certificate with an OIN required) or ``"public"``
    (``x-api-key`` required). ``semver`` overrides the ``API-Version`` of :data:`API_VERSIONS`;
    ``error_content_type`` is the media type of its error bodies.
    """

    name: str
    title: str
    base_path: str
    auth: str
    routes: tuple[Route[Handler], ...]
    description: str = ""
    semver: str = ""
    error_content_type: str = PROBLEM_JSON

    @property
    def version(self) -> str:
        """The full semantic version reported in ``API-Version``."""
        return self.semver or API_VERSIONS.get(self.name, "1.0.0")

    def openapi_document(self, base_url: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document generated from the routes, served at ``openapi.json``:
        each operation's request body and success schemas (:mod:`.schemas`), and the problem
        responses it can give (``errors`` in a route's operation adds API-specific ones)."""
        paths: dict[str, dict[str, Any]] = {}
        for route in self.routes:
            operation = self.operation(route)
            paths.setdefault("/" + route.path, {})[route.method.lower()] = operation
        security: dict[str, Any]
        if self.auth == "public":
            security = {"apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"}}
        else:
            security = {"mutualTLS": {"type": "mutualTLS",
                                      "description": "PKIoverheid client certificate; the "
                                      "OIN in subject.serialNumber identifies the caller."}}
        return {
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": self.version,
                     "description": self.description},
            "servers": [{"url": base_url}],
            "paths": paths,
            "components": {"securitySchemes": security, "schemas": {"Problem": PROBLEM_SCHEMA}},
            "security": [{next(iter(security)): []}],
        }

    @functools.cached_property
    def _operations(self) -> dict[Route[Handler], dict[str, Any]]:
        return {route: self.operation(route) for route in self.routes}

    def operation_of(self, route: Route[Handler]) -> Mapping[str, Any]:
        """The OpenAPI operation of ``route`` (built once per API)."""
        return self._operations[route]

    def operation(self, route: Route[Handler]) -> dict[str, Any]:
        """The OpenAPI operation object of ``route``."""
        slug = re.sub(r"[^a-zA-Z0-9]+", "_", route.path).strip("_") or "root"
        operation: dict[str, Any] = {
            "summary": route.summary,
            "operationId": f"{route.method.lower()}_{slug}",
        }
        extra = dict(route.operation)
        errors: Mapping[str, str] = extra.pop("errors", {})
        operation.update(extra)
        responses = self._error_responses(route)
        responses.update({str(code): self._problem(text) for code, text in errors.items()})
        responses.update(operation.get("responses", {}))
        operation["responses"] = dict(sorted(responses.items()))
        declared = {p.get("name") for p in operation.get("parameters", ())}
        parameters = [
            {"name": p, "in": "path", "required": True,
             "schema": {"type": "string", "minLength": 1, "maxLength": 200}}
            for p in route.parameters if p not in declared
        ] + list(operation.get("parameters", ()))
        if parameters:
            operation["parameters"] = parameters
        else:
            operation.pop("parameters", None)
        return operation

    def _problem(self, text: str) -> dict[str, Any]:
        """A problem response: ``application/problem+json`` (also answered by the HTTPS
        layer for 408/413/429), plus the API's own error media type when it differs."""
        schema = {"$ref": "#/components/schemas/Problem"}
        media = dict.fromkeys((self.error_content_type, PROBLEM_JSON))
        return {"description": text, "content": {m: {"schema": schema} for m in media}}

    def _error_responses(self, route: Route[Handler]) -> dict[str, Any]:
        """The problem responses every operation of this API can give."""
        answer = self._problem
        out = {"404": answer("Not found (an unknown id, or a path the API does not have)"),
               "408": answer("the request head or body did not arrive in time"),
               "429": answer("too many connections or open uploads; retry after Retry-After")}
        if self.auth == "public":
            out["401"] = answer("x-api-key missing or wrong")
        else:
            out["401"] = answer("no client certificate with an OIN")
            out["403"] = answer("the caller's OIN may not do this (no mandate)")
        if route.method in ("POST", "PUT", "PATCH") or route.parameters:
            out["400"] = answer("the request is not valid (a problem names the field)")
        out["413"] = answer("the request (its body or a document) is too large")
        return out

    def match(self, method: str, path: str) -> tuple[Route[Handler] | None, dict[str, str], bool]:
        """The route for ``method path``, its parameters, and whether the path exists at all
        (for 405 versus 404)."""
        path = path.strip("/")
        path_known = False
        for route in self.routes:
            found = route.match(path)
            if found is None:
                continue
            path_known = True
            if route.method == method.upper():
                return route, found, True
        return None, {}, path_known
