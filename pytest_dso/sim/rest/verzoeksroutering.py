"""Verzoeksroutering v2 (public, ``x-api-key``): who gets activiteit X at locatie Y.

Confirmed [C]: the portal lists three services, **Bevoegd gezag bepalen** (the selectable
bevoegde gezagen with naam, OIN and an ``afgeleid`` flag), **Conceptverzoek bepalen** (whether
a conceptverzoek is allowed) and **Behandeldienst bepalen**, each from functionele structuur
references plus a locatie. The operation paths are not public [?]; the simulator names them in
the ``…/_bepaal`` style DSO-LV uses for actions elsewhere [I] (``bevoegdGezag/_bepaal``,
``conceptverzoek/_bepaal``, ``behandeldienst/_bepaal``, overridable per path template). The
request ``{functioneleStructuurRefs: [...], locatieOin?, locatie?, toestemming?}`` (the
activiteit names act as references) and the answers are the simulator's model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_dso.sim.rest import schemas
from pytest_dso.sim.rest.backend import Backend
from pytest_dso.sim.rest.http import Api, ApiRequest, hal_response, link, templates
from pytest_dso.transport.api import ApiError, ApiResponse, Route

NAME = "verzoeksroutering"
BASE_PATH = "/publiek/toepasbare-regels/api/verzoeksroutering/v2"
DESCRIPTION = (
    "Simulated Verzoeksroutering v2 (pytest-dso dso-sim). The three services (bevoegd gezag "
    "bepalen, conceptverzoek bepalen, behandeldienst bepalen) and what they determine are "
    "documented by DSO; the operation paths (in DSO-LV's _bepaal style), the request "
    "(functioneleStructuurRefs with activiteit names, locatieOin) and the JSON shapes are the "
    "simulator's own model, not the official DSO-LV specification."
)

_REFS: dict[str, Any] = {"type": "array", "minItems": 1, "maxItems": 50,
                         "items": {"type": "string", "minLength": 1, "maxLength": 200}}
_OIN: dict[str, Any] = {"type": "string", "pattern": "^[0-9A-Za-z]{20}$"}
_POINT: dict[str, Any] = {
    "type": "object",
    "properties": {"type": {"type": "string", "enum": ["Point"]},
                   "crs": {"type": "string"},
                   "coordinates": {"type": "array", "items": {"type": "number"},
                                   "minItems": 2, "maxItems": 2}},
}


def request_schema(with_bevoegd_gezag: bool = False) -> dict[str, Any]:
    """The JSON schema of a ``_bepaal`` request body."""
    properties: dict[str, Any] = {
        "functioneleStructuurRefs": _REFS,
        "locatieOin": _OIN,
        "locatie": _POINT,
        "toestemming": {"type": "string", "maxLength": 200},
    }
    if with_bevoegd_gezag:
        properties["bevoegdGezag"] = {"type": "object", "required": ["oin"],
                                      "properties": {"oin": _OIN}}
    return {"type": "object", "required": ["functioneleStructuurRefs"],
            "properties": properties}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return schemas.json_body(schema, example=schemas.ROUTERING_EXAMPLE)


_ORG = {"type": "object", "properties": {"naam": {"type": "string"}, "oin": _OIN}}
RESPONSE_SCHEMAS: Mapping[str, dict[str, Any]] = {
    "bevoegd_gezag": {"type": "object", "required": ["bevoegdeGezagen"], "properties": {
        "bevoegdeGezagen": {"type": "array", "items": {
            "type": "object", "required": ["oin"],
            "properties": {"naam": {"type": "string"}, "oin": _OIN,
                           "afgeleid": {"type": "boolean"}}}}}},
    "conceptverzoek": {"type": "object", "required": ["conceptverzoekToegestaan"],
                       "properties": {"conceptverzoekToegestaan": {"type": "boolean"}}},
    "behandeldienst": {"type": "object", "properties": {
        "behandeldienst": {**_ORG, "type": ["object", "null"]}}},
}


def _ok(key: str) -> dict[str, Any]:
    schema = RESPONSE_SCHEMAS[key]
    return schemas.answer({**schema, "required": [*schema.get("required", ()), "_links"],
                           "properties": {**schema["properties"],
                                          "_links": schemas.links("self")}})


def build(backend: Backend, paths: Mapping[str, str] | None = None) -> Api:
    """The verzoeksroutering API on ``backend``."""
    p = templates(NAME, paths)

    def parse(request: ApiRequest, need_bg: bool = False) -> tuple[list[str], str | None,
                                                                    str | None, str | None]:
        body = request.json()
        refs = body.get("functioneleStructuurRefs") if isinstance(body, dict) else None
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            raise ApiError(400, "Parameters ontbreken",
                           "give functioneleStructuurRefs: a non-empty list of activiteit names "
                           "(the simulator's references) and locatieOin: the OIN of the gemeente")
        assert isinstance(body, dict)
        locatie = body.get("locatieOin")
        toestemming = body.get("toestemming")
        bg = body.get("bevoegdGezag")
        bg_oin = bg.get("oin") if isinstance(bg, dict) else None
        if need_bg and bg is not None and not isinstance(bg_oin, str):
            raise ApiError(400, "Parameters ontbreken",
                           "bevoegdGezag must be {\"oin\": \"<OIN>\"} when given")
        return ([str(r) for r in refs], str(locatie) if locatie else None,
                str(toestemming) if toestemming else None,
                str(bg_oin) if isinstance(bg_oin, str) and bg_oin else None)

    def answer(request: ApiRequest, key: str, body: dict[str, Any]) -> ApiResponse:
        body["_links"] = {"self": link(f"{request.base_url}/{p[key]}")}
        return hal_response(body)

    def bevoegd_gezag(request: ApiRequest) -> ApiResponse:
        refs, locatie, toestemming, _ = parse(request)
        advies = backend.route(refs, locatie, toestemming).to_json()
        return answer(request, "bevoegd_gezag", {"bevoegdeGezagen": advies["bevoegdeGezagen"]})

    def conceptverzoek(request: ApiRequest) -> ApiResponse:
        refs, locatie, toestemming, _ = parse(request)
        advies = backend.route(refs, locatie, toestemming)
        return answer(request, "conceptverzoek",
                      {"conceptverzoekToegestaan": advies.conceptverzoek_toegestaan})

    def behandeldienst(request: ApiRequest) -> ApiResponse:
        refs, locatie, toestemming, bg_oin = parse(request, need_bg=True)
        advies = backend.route(refs, locatie, toestemming, bg_oin)
        bd = advies.behandeldienst
        return answer(request, "behandeldienst",
                      {"behandeldienst": None if bd is None else {"naam": bd.naam,
                                                                  "oin": bd.oin}})

    routes = (
        Route.of("POST", p["bevoegd_gezag"], bevoegd_gezag, "Bevoegd gezag bepalen",
                 requestBody=_body(request_schema()),
                 responses=_ok("bevoegd_gezag")),
        Route.of("POST", p["conceptverzoek"], conceptverzoek, "Conceptverzoek bepalen",
                 requestBody=_body(request_schema()),
                 responses=_ok("conceptverzoek")),
        Route.of("POST", p["behandeldienst"], behandeldienst, "Behandeldienst bepalen",
                 requestBody=_body(request_schema(with_bevoegd_gezag=True)),
                 responses=_ok("behandeldienst")),
    )
    return Api(NAME, "Verzoeksroutering", BASE_PATH, "public", routes, DESCRIPTION)
