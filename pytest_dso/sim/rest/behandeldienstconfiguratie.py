"""Behandeldienstconfiguratie v1: create, list, get and delete configurations.

Confirmed [C]: mTLS with a PKIoverheid certificate, ``POST`` to the base URL with the body
``{oin, activiteit{naam, oin}, behandeldienstOin, toestemming?{code, waarde}, locatieOins?}``
answered with 200, and an ID per configuration. Read and delete by ``/{id}`` and their status
codes are inferred [I]; the simulator answers 200 for reads and 204 for a delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_dso.dso.shapes import BehandeldienstConfiguratie, ShapeError
from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.sim.rest import schemas
from pytest_dso.sim.rest.auth import pkio_caller
from pytest_dso.sim.rest.backend import Backend
from pytest_dso.sim.rest.http import Api, ApiRequest, hal_response, link, templates
from pytest_dso.transport.api import ApiError, ApiResponse, Route

NAME = "behandeldienstconfiguratie"
BASE_PATH = "/overheid/toepasbare-regels/api/behandeldienstconfiguraties/v1"
DESCRIPTION = (
    "Simulated Behandeldienstconfiguratie v1 (pytest-dso dso-sim). Create (POST to the base URL, "
    "200) and its body are taken from the DSO process document; read/delete by /{id}, their "
    "status codes and the HAL response shape are the simulator's model, not the official "
    "DSO-LV specification."
)
MANDATE = Mandaat.BEHANDELDIENSTCONFIGURATIE


def _with_links(config: BehandeldienstConfiguratie, base_url: str) -> dict[str, Any]:
    return {**config.to_json(), "_links": {"self": link(f"{base_url}/{config.id}")}}


def build(backend: Backend, paths: Mapping[str, str] | None = None,
          acting_header: str | None = None) -> Api:
    """The behandeldienstconfiguratie API on ``backend``."""
    p = templates(NAME, paths)

    def create(request: ApiRequest) -> ApiResponse:
        who = pkio_caller(request, backend, acting_header, MANDATE)
        try:
            config = BehandeldienstConfiguratie.from_json(request.json())
        except ShapeError as exc:
            raise ApiError(400, "Ongeldige configuratie", str(exc), problems=exc.problems) from None
        created = backend.bdc_create(who, config)
        return hal_response(_with_links(created, request.base_url), 200)

    def listing(request: ApiRequest) -> ApiResponse:
        who = pkio_caller(request, backend, acting_header, MANDATE)
        items = [_with_links(c, request.base_url) for c in backend.bdc_list(who)]
        return hal_response({
            "_embedded": {"behandeldienstconfiguraties": items},
            "_links": {"self": link(request.base_url)},
        })

    def get(request: ApiRequest) -> ApiResponse:
        who = pkio_caller(request, backend, acting_header, MANDATE)
        found = backend.bdc_get(who, request.params["id"])
        if found is None:
            raise ApiError(404, "Configuratie niet gevonden",
                           f"no behandeldienstconfiguratie {request.params['id']} for OIN "
                           f"{who.effective_oin}")
        return hal_response(_with_links(found, request.base_url))

    def delete(request: ApiRequest) -> ApiResponse:
        who = pkio_caller(request, backend, acting_header, MANDATE)
        if not backend.bdc_delete(who, request.params["id"]):
            raise ApiError(404, "Configuratie niet gevonden",
                           f"no behandeldienstconfiguratie {request.params['id']} for OIN "
                           f"{who.effective_oin}")
        return ApiResponse(204)

    routes = (
        Route.of("POST", p["create"], create, "Behandeldienstconfiguratie aanmaken",
                 requestBody=schemas.json_body(schemas.CONFIGURATIE_REQUEST,
                                               example=schemas.CONFIGURATIE_EXAMPLE),
                 responses=schemas.answer(schemas.CONFIGURATIE, "The stored configuration"),
                 errors={"409": "the configuration conflicts with a stored one"}),
        Route.of("GET", p["list"], listing, "Behandeldienstconfiguraties opvragen",
                 responses=schemas.answer(schemas.CONFIGURATIES, "The caller's configurations")),
        Route.of("GET", p["get"], get, "Behandeldienstconfiguratie opvragen",
                 responses=schemas.answer(schemas.CONFIGURATIE, "The configuration")),
        Route.of("DELETE", p["delete"], delete, "Behandeldienstconfiguratie verwijderen",
                 responses=schemas.answer(None, "Deleted", 204)),
    )
    return Api(NAME, "Behandeldienstconfiguratie", BASE_PATH, "pkio", routes, DESCRIPTION)
