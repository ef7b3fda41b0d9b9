"""Dispatch a request to one of the simulated APIs: pick the API by base path, serve its
``openapi.json``, check ``x-api-key`` or the client certificate, validate a JSON request body
against the operation's schema, run the handler, and turn every error into
``application/problem+json``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from pytest_dso.e2e.openapi import validate_schema
from pytest_dso.sim.rest.auth import require_api_key, require_control_key
from pytest_dso.sim.rest.http import (
    PROBLEM_JSON,
    Api,
    ApiRequest,
    json_response,
    parse_query,
    problem,
)
from pytest_dso.sim.rest.schemas import body_required, request_schema_of
from pytest_dso.transport.api import ApiError, ApiResponse, SpooledBody

log = logging.getLogger("pytest_dso.sim.rest")

#: Handler for the simulator's own control endpoints under ``/_sim/``.
ControlHandler = Callable[[ApiRequest], ApiResponse]


def _error_type(api: Api | None) -> str:
    return api.error_content_type if api is not None else PROBLEM_JSON


class RestRouter:
    """All simulated APIs behind one HTTPS listener."""

    def __init__(self, apis: Sequence[Api], api_key: str,
                 control: ControlHandler | None = None, *, control_key: str = "") -> None:
        # Longest base path first, so nested bases cannot shadow each other.
        self.apis = tuple(sorted(apis, key=lambda a: -len(a.base_path)))
        self._api_key = api_key
        self._control = control
        self._control_key = control_key

    def __repr__(self) -> str:
        return f"RestRouter({', '.join(a.name for a in self.apis)})"

    def api(self, name: str) -> Api:
        """The API called ``name``."""
        for api in self.apis:
            if api.name == name:
                return api
        raise KeyError(f"no simulated API {name!r}")

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        peer_oin: str | None,
        has_client_certificate: bool,
        origin: str,
        client: str = "",
        spooled: SpooledBody | None = None,
    ) -> ApiResponse:
        """Answer one request. ``target`` is the request path with query; ``origin`` is
        ``https://host:port`` as the client reached us; ``client`` names the caller for
        per-client limits (its OIN, else its address)."""
        path, _, query = target.partition("?")
        lower = {k.lower(): v for k, v in headers.items()}
        request = ApiRequest(method.upper(), path, parse_query(query), lower, body, peer_oin,
                             has_client_certificate, origin, client=client or peer_oin or "",
                             spooled=spooled)
        serving: Api | None = None
        try:
            if path.startswith("/_sim/") or path == "/_sim":
                if self._control is None:
                    raise ApiError(404, "Niet gevonden", "no control API on this simulator")
                require_control_key(request, self._control_key)
                return self._control(request)
            for api in self.apis:
                if path == api.base_path or path.startswith(api.base_path + "/"):
                    serving = api
                    return self._dispatch(api, request, path[len(api.base_path):])
            raise ApiError(404, "Niet gevonden",
                           f"no simulated API at {path}; known base paths: "
                           + ", ".join(a.base_path for a in self.apis))
        except ApiError as exc:
            return problem(exc.status or 500, exc.title, exc.detail, path,
                           content_type=_error_type(serving), **exc.extra)
        except Exception:  # a bug in a handler: answer 500 with a short text, log the detail
            log.exception("dso-sim REST handler failed for %s %s", method, path)
            return problem(500, "Interne fout",
                           "the simulator failed to handle this request; see its log",
                           content_type=_error_type(serving))

    def stream_limit(self, method: str, target: str,
                     headers: Mapping[str, str]) -> int | None:
        """The size limit of a request whose operation takes a streamed body (an upload),
        else ``None`` (the body is read into memory, within ``max_body``). A request without
        the right ``x-api-key`` is never streamed to disk: it gets its 401 from the handler."""
        path = target.partition("?")[0]
        for api in self.apis:
            if path.startswith(api.base_path + "/"):
                route, _, _ = api.match(method.upper(), path[len(api.base_path):])
                if route is None or not route.streamed_body:
                    return None
                if api.auth == "public":
                    try:
                        require_api_key(ApiRequest(method, path, headers=headers),
                                        self._api_key)
                    except ApiError:
                        return None
                return route.max_body or None
        return None

    def _dispatch(self, api: Api, request: ApiRequest, rest: str) -> ApiResponse:
        base_url = request.base_url + api.base_path
        headers = {"API-Version": api.version}
        if rest.strip("/") == "openapi.json" and request.method == "GET":
            body = api.openapi_document(base_url)
            return json_response(body, headers=headers)
        if api.auth == "public":
            require_api_key(request, self._api_key)
        route, params, path_known = api.match(request.method, rest)
        if route is None:
            if path_known:
                raise ApiError(405, "Methode niet toegestaan",
                               f"{request.method} is not allowed on {request.path}")
            raise ApiError(404, "Niet gevonden", f"{api.title} has no resource {rest or '/'}")
        scoped = ApiRequest(request.method, rest.strip("/"), request.query, request.headers,
                            request.body, request.peer_oin, request.has_client_certificate,
                            base_url, params, client=request.client,
                            spooled=request.spooled)
        _check_parameters(api.operation_of(route), scoped)
        schema = request_schema_of(route.operation)
        if schema is not None:
            scoped = _validated(api, route.operation, scoped, schema)
        response = route.handler(scoped)
        return replace(response, headers={**headers, **response.headers})



def _validated(api: Api, operation: Mapping[str, Any], request: ApiRequest,
               schema: Mapping[str, Any]) -> ApiRequest:
    """``request`` with its JSON body parsed and checked against ``schema``: 400 naming the
    first fields that do not match (at most 20 problems; the body is at most 1 MB and parsed
    within :mod:`pytest_dso.jsonsafe`'s limits)."""
    if not request.body.strip():
        if body_required(operation):
            raise ApiError(400, "Body ontbreekt",
                           f"{request.method} {api.base_path}/{request.path} needs a JSON body")
        return request
    data = request.json()
    problems = validate_schema(data, schema)
    if problems:
        shown = "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)"
                                          if len(problems) > 3 else "")
        raise ApiError(400, "Ongeldig verzoek",
                       f"the request body does not match the schema of this operation "
                       f"(see {api.base_path}/openapi.json): {shown}", problems=problems)
    return replace(request, parsed=data)


def _check_parameters(operation: Mapping[str, Any], request: ApiRequest) -> None:
    """400 when a path, query or header parameter the operation declares is missing (when
    required) or does not match its schema (length, pattern)."""
    problems: list[str] = []
    for param in operation.get("parameters", ()):
        name, where = str(param.get("name", "")), param.get("in")
        if where == "path":
            value = request.params.get(name)
        elif where == "query":
            value = request.arg(name)
        elif where == "header":
            value = request.header(name)
        else:
            continue
        if value is None:
            if param.get("required"):
                problems.append(f"{where} parameter {name!r} is required")
            continue
        schema = param.get("schema")
        if isinstance(schema, Mapping):
            problems += [f"{where} parameter {name!r}" + p[1:]
                         for p in validate_schema(value, schema)]
    if problems:
        raise ApiError(400, "Ongeldige parameter", "; ".join(problems[:3]), problems=problems)
