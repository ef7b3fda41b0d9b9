"""Verzoek indienen v5 (default) or v4 (public, ``x-api-key``): the submission that stands in
for the Omgevingsloket.

Confirmed [C]: ``POST /verzoeken`` with the indienbericht returns a temporary verzoek id plus
links; documents are uploaded; ``POST /verzoeken/{verzoekId}`` finalises and returns the
verzoeknummer; an unfinished flow is dropped after 24 h. The live v4 OpenAPI (4.3.2) marks v4
deprecated: in v5 ``machtiging`` is replaced by ``rolaanduiding``, ``/info`` and ``/health``
are gone, errors are ``application/problem+json`` (v4: ``application/json``), empty address
elements are refused, and type "Idee" uses ``/ideeverkenningen``. The real API also needs an
OIDC login of the initiatiefnemer, which the simulator does not ask for. The indienbericht
fields, the ``rolaanduiding`` values and the upload format are the simulator's model [?]
(``pytest_dso.dso.shapes.Indienbericht``). Simulator extensions: ``bijlagen`` the simulator
generates from a seed and size, and ``"definitief": true``, which submits in one call (used by
``dso-sim load``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from pytest_dso.dso.shapes import (
    MAX_GENERATED_SIZE,
    MIN_GENERATED_SIZE,
    RD_LIMIT,
    ROLAANDUIDINGEN,
    Indienbericht,
    ShapeError,
)
from pytest_dso.sim.rest import schemas
from pytest_dso.sim.rest.backend import Backend, Concept, Submitted
from pytest_dso.sim.rest.http import (
    API_VERSIONS,
    JSON,
    PROBLEM_JSON,
    Api,
    ApiRequest,
    Handler,
    hal_response,
    json_response,
    link,
    templates,
)
from pytest_dso.stam.model import VerzoekType
from pytest_dso.transport.api import ApiError, ApiResponse, Route, SpooledBody

NAME = "indienen"
#: The default major version (v4 is deprecated [C]).
DEFAULT_VERSION = "v5"
VERSIONS = ("v4", "v5")
BASE_PATH = "/publiek/verzoeken/api/indienen/v5"
#: Default bound of one uploaded document (``Quotas.max_document``).
MAX_DOCUMENT = 20 * 1024 * 1024
#: The type that uses ``/ideeverkenningen`` in v5 [C].
IDEE = "Idee"


def base_path(version: str = DEFAULT_VERSION) -> str:
    """The base path of indienen ``version`` (``"v4"`` or ``"v5"``)."""
    if version not in VERSIONS:
        raise ValueError(f"indienen version {version!r} is not simulated; choose v4 or v5")
    return f"/publiek/verzoeken/api/indienen/{version}"


def _description(version: str) -> str:
    extra = ("v4 is deprecated (use v5); it takes 'machtiging' and answers errors as "
             "application/json." if version == "v4" else
             "v5: 'rolaanduiding' replaces 'machtiging', errors are application/problem+json, "
             "type 'Idee' goes to /ideeverkenningen.")
    return (
        f"Simulated Verzoek indienen {version} (pytest-dso dso-sim), standing in for the "
        "Omgevingsloket. The three-step flow (POST /verzoeken, upload documents, POST "
        "/verzoeken/{verzoekId}) and the v4 to v5 changes are documented by DSO; the "
        "indienbericht fields, the rolaanduiding values, the upload format and the one-call "
        f"'definitief' extension are the simulator's own model, not the official "
        f"specification. No OIDC login is simulated. {extra}"
    )


_OIN = {"type": "string", "pattern": "^[0-9]{20}$"}
_RD = {"type": "number", "minimum": -RD_LIMIT, "maximum": RD_LIMIT}
_PROJECTLOCATIE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "adres": {"type": ["object", "null"], "properties": {
            "postcode": {"type": "string"}, "huisnummer": {"type": ["integer", "null"]},
            "huisletter": {"type": "string"}, "huisnummertoevoeging": {"type": "string"},
            "straatnaam": {"type": "string"}, "woonplaats": {"type": "string"},
            "nummeraanduidingId": {"type": "string"}}},
        "punt": {"type": ["object", "null"], "required": ["x", "y"],
                 "properties": {"x": _RD, "y": _RD}},
        "vlak": {"type": "array", "maxItems": 10_000, "items": {
            "type": "array", "minItems": 2, "maxItems": 2, "items": _RD}},
    },
}
#: JSON schema of the indienbericht (the simulator's model, ``dso.shapes.Indienbericht``).
INDIENBERICHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The simulator's indienbericht, not the official Omgevingsloket format.",
    "required": ["type", "activiteiten"],
    "properties": {
        "type": {"type": "string", "minLength": 1, "maxLength": 200,
                 "examples": [t.value for t in VerzoekType],
                 "description": "The indieningsvereiste (verzoektype), one of the examples: "
                 "'Melding' for a bevoegd gezag, 'Informatie' for a behandeldienst (the "
                 "handler names the right endpoint for 'Idee')"},
        "doel": {"type": "string", "description": "Default 'initiëren'"},
        "naam": {"type": "string", "description": "Name of the project"},
        "toelichting": {"type": "string"},
        "locatieOin": {"type": "string", "pattern": "^([0-9]{20})?$",
                       "description": "OIN of the gemeente (or waterschap, provincie) whose "
                       "area holds the location; the simulator routes on it"},
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
                            "vraagId": {"type": "string"}, "antwoord": {"type": "string"},
                            "vraagtekst": {"type": "string"},
                            "vraagclassificatie": {"type": "string"},
                            "groepering": {"type": "string"},
                            "documentIds": {"type": "array", "items": {"type": "string"}}}}},
                },
            },
        },
        "bijlagen": {"type": "array", "description": "Simulator extension: documents it "
                     "generates from a seed and a size", "items": {
                         "type": "object", "required": ["seed", "size"], "properties": {
                             "seed": {"type": "integer", "minimum": 0,
                                      "maximum": 2**63 - 1},
                             "size": {"type": "integer", "minimum": MIN_GENERATED_SIZE,
                                      "maximum": MAX_GENERATED_SIZE},
                             "bestandsnaam": {"type": "string"},
                             "mediatype": {"type": "string"}}}},
        "projectlocaties": {"type": "array", "maxItems": 1_000, "items": _PROJECTLOCATIE},
        "initiatiefnemer": {"type": ["object", "null"], "required": ["bsn"], "properties": {
            "bsn": {"type": "string", "maxLength": 20}, "achternaam": {"type": "string"},
            "voorletters": {"type": "string"}, "emailadres": {"type": "string"}}},
        "contactpersoon": {"type": "object", "description": "Only when a company submits",
                           "required": ["naam"], "properties": {
                               "naam": {"type": "string"},
                               "organisatieNaam": {"type": "string"},
                               "emailadres": {"type": "string"}}},
    },
}



def request_schema(version: str = DEFAULT_VERSION, *, idee: bool = False) -> dict[str, Any]:
    """:data:`INDIENBERICHT_SCHEMA` for ``version``: v5 with ``rolaanduiding``, v4 with
    ``machtiging``; ``idee`` for ``/ideeverkenningen`` (type "Idee" only)."""
    properties = dict(INDIENBERICHT_SCHEMA["properties"])
    if idee:
        properties["type"] = {"type": "string", "enum": [IDEE],
                              "description": "An ideeverkenning (indienen v5)"}
    if version == "v4":
        properties["machtiging"] = {"type": "object", "description": "v4 only; replaced by "
                                    "rolaanduiding in v5"}
    else:
        properties["rolaanduiding"] = {"type": "string", "enum": list(ROLAANDUIDINGEN),
                                       "description": "Who submits (v5; replaces machtiging). "
                                       "The real value list is not public"}
    return {**INDIENBERICHT_SCHEMA, "properties": properties}


_VERZOEK_KEYS = ("finaliseren", "document")
_IDEE_KEYS = ("idee_finaliseren", "idee_document")


def _version_rules(raw: Mapping[str, Any], version: str) -> None:
    """Refuse the element of the other version, with the reason [C]."""
    if version != "v4" and "machtiging" in raw:
        raise ApiError(400, "Ongeldig indienbericht",
                       "indienen v5 has no 'machtiging': it is replaced by 'rolaanduiding' "
                       "(initiatiefnemer or gemachtigde)")
    if version == "v4" and "rolaanduiding" in raw:
        raise ApiError(400, "Ongeldig indienbericht",
                       "'rolaanduiding' is an indienen v5 element; v4 takes 'machtiging'")
    if version != "v4":
        for n, locatie in enumerate(raw.get("projectlocaties") or ()):
            adres = locatie.get("adres") if isinstance(locatie, dict) else None
            empty = [k for k, v in adres.items() if v in ("", None)] if isinstance(
                adres, dict) else []
            if empty:
                raise ApiError(400, "Ongeldig indienbericht",
                               f"projectlocaties[{n}].adres has empty elements "
                               f"({', '.join(empty)}); indienen v5 no longer allows them: "
                               "leave them out")


def _concept_json(concept: Concept, base_url: str, p: Mapping[str, str],
                  keys: tuple[str, str] = _VERZOEK_KEYS) -> dict[str, Any]:
    final, document = keys
    self_url = f"{base_url}/{p[final].replace('{verzoekId}', concept.verzoek_id)}"
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
                f"{base_url}/{p[document].replace('{verzoekId}', concept.verzoek_id)}"
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


#: Header with which a client makes a retried submission return the first result.
IDEMPOTENCY_HEADER = "idempotency-key"


def idempotency_key(request: ApiRequest) -> str | None:
    """The request's ``Idempotency-Key`` (400 when it is not 1-200 printable ASCII)."""
    key = request.header(IDEMPOTENCY_HEADER)
    if key is None:
        return None
    if not 0 < len(key) <= 200 or not all(" " < ch < "\x7f" for ch in key):
        raise ApiError(400, "Ongeldige Idempotency-Key",
                       "Idempotency-Key must be 1 to 200 printable ASCII characters (e.g. a "
                       "UUID)")
    return key


def build(backend: Backend, paths: Mapping[str, str] | None = None,
          version: str = DEFAULT_VERSION, max_document: int = MAX_DOCUMENT) -> Api:
    """The indienen API ``version`` (``"v5"`` default, or ``"v4"``) on ``backend``; one
    uploaded document is at most ``max_document`` bytes (413 above)."""
    p = templates(NAME, paths)
    path = base_path(version)

    def bericht_of(request: ApiRequest, idee: bool) -> tuple[Indienbericht, Any]:
        raw = request.json()
        if isinstance(raw, dict):
            _version_rules(raw, version)
        try:
            bericht = Indienbericht.from_json(raw)
        except ShapeError as exc:
            raise ApiError(400, "Ongeldig indienbericht", str(exc), problems=exc.problems) from None
        if idee and bericht.type.value != IDEE:
            raise ApiError(400, "Ongeldig type",
                           f"/ideeverkenningen takes type {IDEE!r}, not {bericht.type.value!r}; "
                           "submit other types to /verzoeken")
        if not idee and bericht.type.value.casefold() == IDEE.casefold():
            raise ApiError(400, "Ongeldig type",
                           f"type {IDEE!r} is submitted to /ideeverkenningen" if version != "v4"
                           else f"type {IDEE!r} does not exist in v4; use indienen v5")
        if not idee and not bericht.type.is_known:
            raise ApiError(400, "Ongeldig type",
                           f"unknown verzoek type {bericht.type.value!r}; expected one of: "
                           + ", ".join(t.value for t in VerzoekType))
        return bericht, raw

    def open_concept(request: ApiRequest, idee: bool) -> ApiResponse:
        bericht, raw = bericht_of(request, idee)
        key = idempotency_key(request)
        concept = backend.concept_start(bericht, request.client)
        if isinstance(raw, dict) and raw.get("definitief") is True:
            fingerprint = hashlib.sha256(request.body).hexdigest()
            submitted = backend.concept_finalise(concept.verzoek_id, idempotency_key=key,
                                                 fingerprint=fingerprint)
            return hal_response(_submitted_json(submitted), 201)
        keys = _IDEE_KEYS if idee else _VERZOEK_KEYS
        return hal_response(_concept_json(concept, request.base_url, p, keys), 201)

    def start(request: ApiRequest) -> ApiResponse:
        return open_concept(request, idee=False)

    def idee_start(request: ApiRequest) -> ApiResponse:
        return open_concept(request, idee=True)

    def concept_of(request: ApiRequest) -> Concept:
        concept = backend.concept(request.params["verzoekId"])
        if concept is None:
            raise ApiError(404, "Verzoek niet gevonden",
                           f"no open verzoek {request.params['verzoekId']} (unfinished flows "
                           "are dropped after 24 hours)")
        return concept

    def show(request: ApiRequest) -> ApiResponse:
        concept = concept_of(request)
        idee = concept.bericht.type.value == IDEE
        return hal_response(_concept_json(concept, request.base_url, p,
                                          _IDEE_KEYS if idee else _VERZOEK_KEYS))

    def upload(request: ApiRequest) -> ApiResponse:
        concept = concept_of(request)
        content: bytes | SpooledBody = request.spooled or request.body
        size = content.size if isinstance(content, SpooledBody) else len(content)
        if not size:
            raise ApiError(400, "Leeg document", "the request body (the document) is empty")
        if size > max_document:
            raise ApiError(413, "Document te groot",
                           f"a document is limited to {max_document} bytes here "
                           "([simulator.limits] max_document)")
        name = request.arg("bestandsnaam") or request.header("x-bestandsnaam") or "document"
        mimetype = (request.header("content-type") or "application/octet-stream").split(";")[0]
        info = backend.concept_document(concept.verzoek_id, name, mimetype, content)
        return hal_response({"documentId": info.document_id, "bestandsnaam": info.bestandsnaam,
                             "mimetype": info.mimetype, "grootte": info.size}, 201)

    def finalise(request: ApiRequest) -> ApiResponse:
        # no concept lookup first: a retried finalisation returns the first result
        submitted = backend.concept_finalise(request.params["verzoekId"],
                                             idempotency_key=idempotency_key(request))
        return hal_response(_submitted_json(submitted))

    def info(request: ApiRequest) -> ApiResponse:
        return json_response({"naam": "Verzoeken-Indienen", "versie": API_VERSIONS[
            "indienen_v4"], "deprecated": "De v4 van deze API is deprecated, gebruik v5."})

    def health(request: ApiRequest) -> ApiResponse:
        return json_response({"status": "UP"})

    started = schemas.answer(schemas.CONCEPT_OR_SUBMITTED, "Concept created (or submitted "
                             "with definitief=true)", 201)
    start_errors = {"409": "a submission with this Idempotency-Key is being processed",
                    "422": "an unknown bevoegd gezag, or the verzoek cannot be submitted",
                    "503": "the verzoeknotificatie cannot be sent (no CPA)"}
    key_param = [{"name": "Idempotency-Key", "in": "header", "required": False,
                  "schema": {"type": "string", "minLength": 1, "maxLength": 200,
                             "pattern": "^[!-~]+$"}}]
    body = schemas.json_body(request_schema(version), example=schemas.INDIENBERICHT_EXAMPLE)
    idee_body = schemas.json_body(request_schema(version, idee=True))
    upload_params = [{"name": "bestandsnaam", "in": "query", "required": False,
                      "schema": {"type": "string", "maxLength": 255}}]
    upload_body = schemas.raw_body("application/octet-stream",
                                   {"type": "string", "format": "binary"})
    final_body = schemas.json_body(schemas.FINALISE_REQUEST, required=False)
    concept_ok = schemas.answer(schemas.CONCEPT, "The open concept")
    submitted_ok = schemas.answer(schemas.SUBMITTED, "Submitted: the verzoeknummers")
    stored = schemas.answer(schemas.DOCUMENT_INFO, "Document stored", 201)
    routes: list[Route[Handler]] = [
        Route.of("POST", p["start"], start, "Verzoek starten (indienbericht)",
                 parameters=key_param, requestBody=body, responses=started,
                 errors=start_errors),
        Route.of("GET", p["finaliseren"], show, "Concept-verzoek opvragen",
                 responses=concept_ok),
        Route.of("POST", p["finaliseren"], finalise, "Verzoek definitief indienen",
                 parameters=key_param, requestBody=final_body, responses=submitted_ok,
                 errors=start_errors),
        Route.of("POST", p["document"], upload, "Document toevoegen",
                 streamed_body=True, max_body=max_document, parameters=upload_params,
                 requestBody=upload_body, responses=stored),
    ]
    if version == "v4":
        routes += [Route.of("GET", "info", info, "Informatie over de API (v4 only)",
                            responses=schemas.answer(schemas.V4_INFO, media=JSON)),
                   Route.of("GET", "health", health, "Gezondheid (v4 only)",
                            responses=schemas.answer(schemas.V4_HEALTH, media=JSON))]
    else:
        routes += [
            Route.of("POST", p["idee_start"], idee_start, "Ideeverkenning starten (type Idee)",
                     parameters=key_param, requestBody=idee_body, responses=started,
                     errors=start_errors),
            Route.of("GET", p["idee_finaliseren"], show, "Ideeverkenning opvragen",
                     responses=concept_ok),
            Route.of("POST", p["idee_finaliseren"], finalise, "Ideeverkenning indienen",
                     parameters=key_param, requestBody=final_body, responses=submitted_ok,
                     errors=start_errors),
            Route.of("POST", p["idee_document"], upload, "Document toevoegen (ideeverkenning)",
                     streamed_body=True, max_body=max_document, parameters=upload_params,
                     requestBody=upload_body, responses=stored),
        ]
    return Api(NAME, "Verzoek indienen", path, "public", tuple(routes), _description(version),
               semver=API_VERSIONS["indienen_v4"] if version == "v4" else "",
               error_content_type=JSON if version == "v4" else PROBLEM_JSON)
