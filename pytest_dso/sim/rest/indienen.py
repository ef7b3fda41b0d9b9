"""Verzoek indienen v4 (public, ``x-api-key``): the submission that stands in for the
Omgevingsloket.

Confirmed [C]: ``POST /verzoeken`` with the indienbericht returns a temporary verzoek id plus
links; documents are uploaded; ``POST /verzoeken/{verzoekId}`` finalises and returns the
verzoeknummer; an unfinished flow is dropped after 24 h. The real API also needs an OIDC login
of the initiatiefnemer, which the simulator does not ask for. The indienbericht fields and the
upload format are the simulator's model [?] (``pytest_dso.dso.shapes.Indienbericht``).
Simulator extensions: ``bijlagen`` the simulator generates from a seed and size, and
``"definitief": true``, which submits in one call (used by ``dso-sim load``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_dso.dso.shapes import Indienbericht, ShapeError
from pytest_dso.sim.rest.backend import Backend, Concept, Submitted
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
from pytest_dso.stam.model import VerzoekType

NAME = "indienen"
BASE_PATH = "/publiek/verzoeken/api/indienen/v4"
DESCRIPTION = (
    "Simulated Verzoek indienen v4 (pytest-dso dso-sim), standing in for the Omgevingsloket. The "
    "three-step flow (POST /verzoeken, upload documents, POST /verzoeken/{verzoekId}) is "
    "documented by DSO; the indienbericht fields, the upload format and the one-call "
    "'definitief' extension are the simulator's own model, not the official specification. "
    "No OIDC login is simulated."
)
MAX_DOCUMENT = 20 * 1024 * 1024

_OIN = {"type": "string", "pattern": "^[0-9]{20}$"}
#: JSON schema of the indienbericht (the simulator's model, ``dso.shapes.Indienbericht``).
INDIENBERICHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The simulator's indienbericht, not the official Omgevingsloket format.",
    "required": ["type", "activiteiten"],
    "properties": {
        "type": {"type": "string", "enum": [t.value for t in VerzoekType],
                 "description": "The indieningsvereiste (verzoektype): 'Melding' for a "
                 "bevoegd gezag, 'Informatie' for a behandeldienst"},
        "doel": {"type": "string", "description": "Default 'initiëren'"},
        "naam": {"type": "string", "description": "Name of the project"},
        "toelichting": {"type": "string"},
        "locatieOin": {**_OIN, "description": "OIN of the gemeente (or waterschap, provincie) "
                       "whose area holds the location; the simulator routes on it"},
        "definitief": {"type": "boolean", "description": "Simulator extension: submit in one "
                       "call; the response then holds the verzoeknummers"},
        "activiteiten": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object",
                "required": ["activiteit", "bevoegdGezag"],
                "properties": {
                    "activiteit": {"type": "object", "required": ["naam", "oin"], "properties": {
                        "naam": {"type": "string", "description": "e.g. 'Gemeentes – "
                                 "Informatie' (the aansluitactiviteit)"},
                        "oin": _OIN}},
                    "bevoegdGezag": {"type": "object", "required": ["oin"], "properties": {
                        "oin": _OIN, "naam": {"type": "string"}}},
                    "toestemming": {"type": "object", "required": ["code"], "properties": {
                        "code": {"type": "string"}, "waarde": {"type": "string"}}},
                    "specificaties": {"type": "array", "items": {
                        "type": "object", "required": ["vraagId", "antwoord"], "properties": {
                            "vraagId": {"type": "string"}, "antwoord": {"type": "string"}}}},
                },
            },
        },
        "bijlagen": {"type": "array", "description": "Simulator extension: documents it "
                     "generates from a seed and a size", "items": {
                         "type": "object", "required": ["seed", "size"], "properties": {
                             "seed": {"type": "integer"}, "size": {"type": "integer",
                                                                   "minimum": 0},
                             "bestandsnaam": {"type": "string"},
                             "mediatype": {"type": "string"}}}},
        "projectlocaties": {"type": "array", "items": {"type": "object"}},
        "initiatiefnemer": {"type": "object"},
    },
}


def _concept_json(concept: Concept, base_url: str, p: Mapping[str, str]) -> dict[str, Any]:
    self_url = f"{base_url}/{p['finaliseren'].replace('{verzoekId}', concept.verzoek_id)}"
    return {
        "verzoekId": concept.verzoek_id,
        "status": "ingediend" if concept.verzoeknummers else "concept",
        "documenten": [
            {"documentId": d.document_id, "bestandsnaam": d.bestandsnaam,
             "mimetype": d.mimetype, "grootte": d.size}
            for d in concept.documenten
        ],
        "_links": {
            "self": link(self_url),
            "documenten": link(
                f"{base_url}/{p['document'].replace('{verzoekId}', concept.verzoek_id)}"
            ),
            "indienen": link(self_url, "Verzoek definitief indienen (POST)"),
        },
    }


def _submitted_json(submitted: Submitted) -> dict[str, Any]:
    return {
        "verzoeknummer": submitted.verzoeknummers[0] if submitted.verzoeknummers else None,
        "verzoeknummers": list(submitted.verzoeknummers),
        "verzoeknotificaties": list(submitted.notificaties),
    }


def build(backend: Backend, paths: Mapping[str, str] | None = None) -> Api:
    """The indienen API on ``backend``."""
    p = templates(NAME, paths)

    def start(request: ApiRequest) -> ApiResponse:
        raw = request.json()
        try:
            bericht = Indienbericht.from_json(raw)
        except ShapeError as exc:
            raise ApiError(400, "Ongeldig indienbericht", str(exc), problems=exc.problems) from None
        concept = backend.concept_start(bericht)
        if isinstance(raw, dict) and raw.get("definitief") is True:
            return hal_response(_submitted_json(backend.concept_finalise(concept.verzoek_id)),
                                201)
        return hal_response(_concept_json(concept, request.base_url, p), 201)

    def concept_of(request: ApiRequest) -> Concept:
        concept = backend.concept(request.params["verzoekId"])
        if concept is None:
            raise ApiError(404, "Verzoek niet gevonden",
                           f"no open verzoek {request.params['verzoekId']} (unfinished flows "
                           "are dropped after 24 hours)")
        return concept

    def show(request: ApiRequest) -> ApiResponse:
        return hal_response(_concept_json(concept_of(request), request.base_url, p))

    def upload(request: ApiRequest) -> ApiResponse:
        concept = concept_of(request)
        if not request.body:
            raise ApiError(400, "Leeg document", "the request body (the document) is empty")
        if len(request.body) > MAX_DOCUMENT:
            raise ApiError(413, "Document te groot",
                           f"documents are limited to {MAX_DOCUMENT // (1024 * 1024)} MB here")
        name = request.arg("bestandsnaam") or request.header("x-bestandsnaam") or "document"
        mimetype = (request.header("content-type") or "application/octet-stream").split(";")[0]
        info = backend.concept_document(concept.verzoek_id, name, mimetype, request.body)
        return hal_response({"documentId": info.document_id, "bestandsnaam": info.bestandsnaam,
                             "mimetype": info.mimetype, "grootte": info.size}, 201)

    def finalise(request: ApiRequest) -> ApiResponse:
        concept = concept_of(request)
        return hal_response(_submitted_json(backend.concept_finalise(concept.verzoek_id)))

    routes = (
        Route.of("POST", p["start"], start, "Verzoek starten (indienbericht)",
                 requestBody={"required": True, "content": {
                     "application/json": {"schema": INDIENBERICHT_SCHEMA}}},
                 responses={"201": {"description": "Concept created (or submitted with "
                                    "definitief=true)"}}),
        Route.of("GET", p["finaliseren"], show, "Concept-verzoek opvragen"),
        Route.of("POST", p["finaliseren"], finalise, "Verzoek definitief indienen"),
        Route.of("POST", p["document"], upload, "Document toevoegen",
                 parameters=[{"name": "bestandsnaam", "in": "query", "required": False,
                              "schema": {"type": "string"}}],
                 responses={"201": {"description": "Document stored"}}),
    )
    return Api(NAME, "Verzoek indienen", BASE_PATH, "public", routes, DESCRIPTION)
