"""Verzoeksroutering v2 (public, ``x-api-key``): who gets activiteit X at locatie Y.

Confirmed [C]: from functionele structuur references plus a locatie the API determines the
selectable bevoegde gezagen (naam, OIN, ``afgeleid``), whether a conceptverzoek is allowed, and
the behandeldienst. The request and response shapes are **not public** [?]; the simulator
answers ``POST routering`` with ``{functioneleStructuurRefs: [...], locatieOin?, locatie?}``
(the activiteit names act as references) in the shape of
:class:`pytest_dso.dso.shapes.RouteringAdvies`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_dso.sim.rest.backend import Backend
from pytest_dso.sim.rest.http import (
    Api,
    ApiError,
    ApiRequest,
    ApiResponse,
    Route,
    hal_response,
    link,
    templates,
)

NAME = "verzoeksroutering"
BASE_PATH = "/publiek/toepasbare-regels/api/verzoeksroutering/v2"
DESCRIPTION = (
    "Simulated Verzoeksroutering v2 (pytest-dso dso-sim). What it determines (bevoegde gezagen "
    "with an afgeleid flag, conceptverzoek allowed, behandeldienst) is documented by DSO; this "
    "request (POST routering with functioneleStructuurRefs and locatieOin) and its JSON shape "
    "are the simulator's own model, not the official DSO-LV specification."
)


def build(backend: Backend, paths: Mapping[str, str] | None = None) -> Api:
    """The verzoeksroutering API on ``backend``."""
    p = templates(NAME, paths)

    def routering(request: ApiRequest) -> ApiResponse:
        body = request.json()
        refs = body.get("functioneleStructuurRefs") if isinstance(body, dict) else None
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            raise ApiError(400, "Parameters ontbreken",
                           "give functioneleStructuurRefs: a non-empty list of activiteit names "
                           "(the simulator's references) and locatieOin: the OIN of the gemeente")
        assert isinstance(body, dict)
        locatie = body.get("locatieOin")
        toestemming = body.get("toestemming")
        answer = backend.route(
            [str(r) for r in refs],
            str(locatie) if locatie else None,
            str(toestemming) if toestemming else None,
        )
        out = answer.to_json()
        out["_links"] = {"self": link(f"{request.base_url}/{p['routering']}")}
        return hal_response(out)

    routes = (
        Route.of("POST", p["routering"], routering, "Bevoegd gezag en behandeldienst bepalen",
                 requestBody={"required": True, "content": {"application/json": {"schema": {
                     "type": "object",
                     "required": ["functioneleStructuurRefs"],
                     "properties": {
                         "functioneleStructuurRefs": {"type": "array",
                                                      "items": {"type": "string"}},
                         "locatieOin": {"type": "string"},
                         "toestemming": {"type": "string"},
                     },
                 }}}}),
    )
    return Api(NAME, "Verzoeksroutering", BASE_PATH, "public", routes, DESCRIPTION)
