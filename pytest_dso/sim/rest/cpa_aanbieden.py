"""CPA aanbieden: the Digikoppelaar offers a CPA for a bevoegd gezag.

Confirmed [C]: the API exists and needs mTLS with a PKIoverheid certificate. Its endpoint,
method and payload are **unknown** [?]; the simulator accepts ``POST cpas`` with the CPA XML as
body (``application/xml``) at ``cpa`` and lists offered CPAs with ``GET`` on the same path.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.sim.rest import schemas
from pytest_dso.sim.rest.auth import pkio_caller
from pytest_dso.sim.rest.backend import Backend
from pytest_dso.sim.rest.http import Api, ApiRequest, hal_response, link, templates
from pytest_dso.transport.api import ApiError, ApiResponse, Route

NAME = "cpa_aanbieden"
BASE_PATH = "/overheid/digikoppeling/api/cpa-aanbieden/v1"
DESCRIPTION = (
    "Simulated CPA aanbieden (pytest-dso dso-sim). The API exists in DSO-LV but its endpoint, "
    "method and payload are not public; POST cpa with the CPA XML is the simulator's own "
    "model, not the official specification."
)
MANDATE = Mandaat.CPA_AANBIEDEN


def build(backend: Backend, paths: Mapping[str, str] | None = None,
          acting_header: str | None = None) -> Api:
    """The CPA aanbieden API on ``backend``."""
    p = templates(NAME, paths)

    def offer(request: ApiRequest) -> ApiResponse:
        who = pkio_caller(request, backend, acting_header, MANDATE)
        if not request.body.strip():
            raise ApiError(400, "Lege CPA", "send the CPA XML as the request body")
        result = dict(backend.cpa_offer(who, request.body))
        result["_links"] = {"self": link(f"{request.base_url}/{p['aanbieden']}")}
        return hal_response(result, 201)

    def listing(request: ApiRequest) -> ApiResponse:
        pkio_caller(request, backend, acting_header, MANDATE)
        return hal_response({"_embedded": {"cpas": list(backend.cpas())},
                             "_links": {"self": link(f"{request.base_url}/{p['aanbieden']}")}})

    routes = (
        Route.of("POST", p["aanbieden"], offer, "CPA aanbieden",
                 requestBody=schemas.raw_body("application/xml", schemas.CPA_XML),
                 responses=schemas.answer(schemas.CPA_ACCEPTED, "CPA accepted", 201),
                 errors={"501": "this simulator does not accept CPAs"}),
        Route.of("GET", p["aanbieden"], listing, "Aangeboden CPA's opvragen",
                 responses=schemas.answer(schemas.CPAS, "The CPAs the simulator holds")),
    )
    return Api(NAME, "CPA aanbieden", BASE_PATH, "pkio", routes, DESCRIPTION)
