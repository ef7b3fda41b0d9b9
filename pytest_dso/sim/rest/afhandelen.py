"""Verzoek afhandelen v2: verzoekreferenties with HAL links, the STAM XML, a publishable PDF,
the bijlagen and ``_zoek``.

Confirmed [C]: the two-step flow (referenties by verzoeknummer, then the linked XML, PDF and
documenten) and that only the BG, its BD, or a party mandated by them may fetch. The paths
and JSON shapes are **not public** [?]; this module's shapes are the simulator's model,
documented in ``docs/simulator.md`` and overridable per path template.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_dso.dso.shapes import (
    DocumentLink,
    Referenties,
    ShapeError,
    Zaakverwijzing,
    ZoekVraag,
    zoek_resultaat_to_json,
)
from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.sim.rest import schemas
from pytest_dso.sim.rest.auth import pkio_caller
from pytest_dso.sim.rest.backend import Backend, Caller
from pytest_dso.sim.rest.http import Api, ApiRequest, hal_response, link, templates
from pytest_dso.stam.model import Verzoek
from pytest_dso.transport.api import ApiError, ApiResponse, Route

NAME = "afhandelen"
BASE_PATH = "/overheid/verzoeken/api/afhandelen/v2"
DESCRIPTION = (
    "Simulated Verzoek afhandelen v2 (pytest-dso dso-sim). The two-step flow (referenties, then "
    "the STAM XML, a publishable PDF and the documenten) and the authorisation per OIN are "
    "documented by DSO; the exact paths, JSON/HAL field names, paging of _zoek and the error "
    "body are NOT public. This document describes the simulator's own configurable model "
    "(path templates via [api.paths]), not the official DSO-LV specification."
)
MANDATE = Mandaat.OPHALEN_VERZOEK


def _fill(template: str, **values: str) -> str:
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def referenties(verzoek: Verzoek, base_url: str, paths: Mapping[str, str]) -> dict[str, Any]:
    """The HAL referenties document of ``verzoek``."""
    nr = verzoek.verzoeknummer

    def url(key: str, **extra: str) -> str:
        return f"{base_url}/{_fill(paths[key], verzoeknummer=nr, **extra)}"

    body = Referenties(
        verzoeknummer=nr,
        verzoek_href=url("verzoek"),
        pdf_href=url("pdf"),
        documenten=tuple(
            DocumentLink(url("document", documentId=d.document_id), d.document_id,
                         d.bestandsnaam, d.mediatype)
            for d in verzoek.bijlagen
        ),
        volgnummer=verzoek.volgnummer,
    ).to_json(url("referenties"))
    body["_links"]["samenvatting"] = link(url("samenvatting"), "Origineel STAM-bericht",
                                          "application/xml")
    return {
        **body,
        "type": verzoek.type.value,
        "doel": verzoek.doel.value,
        "indiendatum": verzoek.indiendatum.isoformat(),
        "bevoegdGezag": {"oin": verzoek.bevoegd_gezag.oin, "naam": verzoek.bevoegd_gezag.naam},
        "uitvoerendeInstantie": {"oin": verzoek.uitvoerende_instantie.oin,
                                 "naam": verzoek.uitvoerende_instantie.naam},
        "activiteiten": [a.activiteit_naam for a in verzoek.projectactiviteiten],
    }


#: Rerouting goes to afhandelen v1 in a vendor's example [V]; the simulator serves the same
#: operations on v1 as on v2, so either ``[api] rerouting_version`` works.
V1_NAME = "afhandelen_v1"
V1_BASE_PATH = "/overheid/verzoeken/api/afhandelen/v1"


def build(backend: Backend, paths: Mapping[str, str] | None = None,
          acting_header: str | None = None, version: str = "v2") -> Api:
    """The afhandelen API (``version`` ``"v2"``, or ``"v1"`` for rerouting) on ``backend``;
    ``paths`` holds ``[api.paths]`` overrides."""
    p = templates(NAME, paths)

    def caller(request: ApiRequest) -> Caller:
        return pkio_caller(request, backend, acting_header, MANDATE)

    def authorised(request: ApiRequest) -> Verzoek:
        who = caller(request)
        nr = request.params["verzoeknummer"]
        verzoek = backend.verzoek(nr)
        if verzoek is None:
            raise ApiError(404, "Verzoek niet gevonden", f"no verzoek with verzoeknummer {nr}")
        allowed, reason = backend.may_fetch(who, verzoek)
        if not allowed:
            raise ApiError(403, "Niet geautoriseerd", reason, oin=who.oin or "")
        return verzoek

    def get_referenties(request: ApiRequest) -> ApiResponse:
        return hal_response(referenties(authorised(request), request.base_url, p))

    def get_xml(request: ApiRequest) -> ApiResponse:
        verzoek = authorised(request)
        return ApiResponse(200, backend.stam_xml(verzoek.verzoeknummer),
                           "application/xml; charset=utf-8")

    def get_pdf(request: ApiRequest) -> ApiResponse:
        verzoek = authorised(request)
        return ApiResponse(200, backend.publiceerbaar_pdf(verzoek.verzoeknummer),
                           "application/pdf")

    def get_document(request: ApiRequest) -> ApiResponse:
        verzoek = authorised(request)
        found = backend.document(verzoek.verzoeknummer, request.params["documentId"])
        if found is None:
            raise ApiError(404, "Document niet gevonden",
                           f"verzoek {verzoek.verzoeknummer} has no document "
                           f"{request.params['documentId']}")
        info, chunks = found  # streamed from the store (a file, or generated), not in memory
        return ApiResponse(200, b"", info.mediatype,
                           {"Content-Disposition": f'attachment; filename="{info.bestandsnaam}"'},
                           stream=chunks, length=info.size)

    def post_zoek(request: ApiRequest) -> ApiResponse:
        who = caller(request)
        try:
            vraag = ZoekVraag.from_json(request.json())
        except ShapeError as exc:
            raise ApiError(400, "Ongeldige zoekvraag", str(exc), problems=exc.problems) from None
        found = list(backend.zoek(who, vraag))
        start = vraag.page * vraag.page_size
        chunk = found[start: start + vraag.page_size]
        hits = [
            Zaakverwijzing(v.verzoeknummer, v.bevoegd_gezag.oin,
                           v.uitvoerende_instantie.oin
                           if v.uitvoerende_instantie.oin != v.bevoegd_gezag.oin else "")
            for v in chunk
        ]
        body = zoek_resultaat_to_json(hits, vraag.page, len(found))
        links: dict[str, Any] = {"self": link(f"{request.base_url}/{p['zoek']}")}
        if start + vraag.page_size < len(found):
            links["next"] = link(f"{request.base_url}/{p['zoek']}", "POST with page + 1")
        for hit, verzoek in zip(body["_embedded"]["zaakverwijzingen"], chunk, strict=True):
            hit["indiendatum"] = verzoek.indiendatum.isoformat()
            nr = verzoek.verzoeknummer
            hit["_links"] = {"verzoek": link(
                f"{request.base_url}/" + _fill(p["referenties"], verzoeknummer=nr)
            )}
        body["_links"] = links
        return hal_response(body)

    def post_wijzig(request: ApiRequest) -> ApiResponse:
        verzoek = authorised(request)
        nieuw = str(request.json()["bevoegdGezag"]["oin"])  # checked against the schema
        moved = backend.wijzig_bevoegd_gezag(caller(request), verzoek, nieuw)
        return hal_response(referenties(moved, request.base_url, p))

    referenties_ok = schemas.answer(schemas.REFERENTIES, "HAL verzoekreferenties")
    routes = (
        Route.of("POST", p["wijzig_bevoegd_gezag"], post_wijzig,
                 "Bevoegd gezag wijzigen (model of the simulator)",
                 requestBody=schemas.json_body(schemas.WIJZIG_BEVOEGD_GEZAG),
                 responses=referenties_ok,
                 errors={"409": "the verzoek cannot be handed to that bevoegd gezag",
                         "422": "the simulator knows no such bevoegd gezag"}),
        Route.of("POST", p["zoek"], post_zoek, "Verzoeken zoeken (zaakverwijzingen)",
                 requestBody=schemas.json_body(schemas.ZOEK_VRAAG, example=schemas.ZOEK_EXAMPLE),
                 responses=schemas.answer(schemas.ZOEK_RESULTAAT, "A page of zaakverwijzingen")),
        Route.of("GET", p["referenties"], get_referenties, "Verzoekreferenties ophalen",
                 responses=referenties_ok),
        Route.of("GET", p["verzoek"], get_xml, "Verzoek (STAM XML) ophalen",
                 responses=schemas.binary("application/xml", "The STAM verzoek XML")),
        Route.of("GET", p["samenvatting"], get_xml, "Origineel STAM-bericht ophalen",
                 responses=schemas.binary("application/xml", "The original STAM message")),
        Route.of("GET", p["pdf"], get_pdf, "Publiceerbare PDF ophalen",
                 responses=schemas.binary("application/pdf", "The publishable PDF")),
        Route.of("GET", p["document"], get_document, "Document (bijlage) ophalen",
                 responses=schemas.binary("*/*", "The document, in its own media type")),
    )
    if version == "v1":
        return Api(V1_NAME, "Verzoek afhandelen (v1)", V1_BASE_PATH, "pkio", routes,
                   DESCRIPTION.replace("v2", "v1") + " A vendor calls v1 to reroute a verzoek "
                   "to another bevoegd gezag or behandeldienst; the simulator serves the same "
                   "operations as on v2.", semver="1.0.0")
    return Api(NAME, "Verzoek afhandelen", BASE_PATH, "pkio", routes, DESCRIPTION)
