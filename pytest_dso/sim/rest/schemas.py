"""JSON Schemas of the simulator's REST bodies, and helpers that put them into OpenAPI.

These describe the **simulator's model** of the DSO-LV APIs (``pytest_dso.dso.shapes`` and
the API modules), which follows what DSO documents where it is public and is configurable
where it is not (``docs/unknowns.md``); they are never the official DSO-LV specification.
The documents are OpenAPI 3.1, so the schemas are JSON Schema 2020-12 (``"type": [..,
"null"]`` rather than 3.0's ``nullable``).

Every request body with a JSON schema here is validated against it before a handler sees it
(:func:`pytest_dso.sim.rest.router.RestRouter`), and the contract run (``python3 tasks.py
contract``) checks every response against these schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_dso.dso.shapes import RD_LIMIT
from pytest_dso.pkio.testpki import STANDARD_PARTIES

HAL_JSON = "application/hal+json"
JSON = "application/json"
PROBLEM_JSON = "application/problem+json"

#: An OIN: 20 characters (digits in practice; the simulator's test parties use digits).
OIN: dict[str, Any] = {"type": "string", "pattern": "^[0-9A-Za-z]{20}$"}
#: A 20-digit OIN, as the indienbericht takes it.
OIN_DIGITS: dict[str, Any] = {"type": "string", "pattern": "^[0-9]{20}$"}
TEXT: dict[str, Any] = {"type": "string", "maxLength": 10_000}
NAME: dict[str, Any] = {"type": "string", "maxLength": 1_000}

#: A HAL link object.
LINK: dict[str, Any] = {
    "type": "object",
    "required": ["href"],
    "properties": {
        "href": {"type": "string"},
        "title": {"type": "string"},
        "type": {"type": "string"},
        "name": {"type": "string"},
        "templated": {"type": "boolean"},
    },
}
ORGANISATIE: dict[str, Any] = {
    "type": "object",
    "required": ["oin"],
    "properties": {"oin": {"type": ["string", "null"]}, "naam": {"type": "string"}},
}


def links(*required: str, **extra: Mapping[str, Any]) -> dict[str, Any]:
    """A HAL ``_links`` object with ``required`` relations (each a link)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**dict.fromkeys(required, LINK), **extra},
        "additionalProperties": LINK,
    }


# -- afhandelen --------------------------------------------------------------------------------

REFERENTIES: dict[str, Any] = {
    "type": "object",
    "description": "The simulator's verzoekreferenties (HAL): links to the STAM XML, the "
    "publishable PDF and the documenten [? field names].",
    "required": ["verzoeknummer", "_links"],
    "properties": {
        "verzoeknummer": {"type": "string"},
        "volgnummer": {"type": "integer"},
        "type": {"type": "string"},
        "doel": {"type": "string"},
        "indiendatum": {"type": "string"},
        "bevoegdGezag": ORGANISATIE,
        "uitvoerendeInstantie": ORGANISATIE,
        "activiteiten": {"type": "array", "items": {"type": "string"}},
        "_links": links("self", "verzoek", documenten={"type": "array", "items": LINK}),
    },
}

ZOEK_VRAAG: dict[str, Any] = {
    "type": "object",
    "description": "A _zoek request: a verzoeknummer or an RD polygon, plus a period "
    "(the simulator's model [? field names]).",
    "required": ["periode"],
    "properties": {
        "periode": {
            "type": "object",
            "required": ["van", "tot"],
            "properties": {"van": {"type": "string", "format": "date"},
                           "tot": {"type": "string", "format": "date"}},
        },
        "verzoeknummer": {"type": "string", "maxLength": 100},
        "polygoon": {
            "type": "object",
            "required": ["coordinates"],
            "properties": {
                "type": {"type": "string", "enum": ["Polygon"]},
                "crs": {"type": "string"},
                "coordinates": {
                    "type": "array", "minItems": 1, "maxItems": 1,
                    "items": {"type": "array", "minItems": 3, "maxItems": 10_000,
                              "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                        "items": {"type": "number", "minimum": -RD_LIMIT,
                                                  "maximum": RD_LIMIT}}},
                },
            },
        },
        "page": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
        "pageSize": {"type": "integer", "minimum": 1, "maximum": 500},
    },
}

ZOEK_RESULTAAT: dict[str, Any] = {
    "type": "object",
    "required": ["_embedded", "page", "_links"],
    "properties": {
        "_embedded": {
            "type": "object",
            "required": ["zaakverwijzingen"],
            "properties": {"zaakverwijzingen": {"type": "array", "items": {
                "type": "object",
                "required": ["verzoeknummer", "bevoegdGezag"],
                "properties": {
                    "verzoeknummer": {"type": "string"},
                    "bevoegdGezag": ORGANISATIE,
                    "behandeldienst": ORGANISATIE,
                    "projectlocatie": {"type": "object", "properties": {
                        "x": {"type": "number"}, "y": {"type": "number"}}},
                    "indiendatum": {"type": "string"},
                    "_links": links("verzoek"),
                },
            }}},
        },
        "page": {
            "type": "object",
            "required": ["number", "size", "totalElements"],
            "properties": {"number": {"type": "integer"}, "size": {"type": "integer"},
                           "totalElements": {"type": "integer"}},
        },
        "_links": links("self"),
    },
}

WIJZIG_BEVOEGD_GEZAG: dict[str, Any] = {
    "type": "object",
    "required": ["bevoegdGezag"],
    "properties": {"bevoegdGezag": {"type": "object", "required": ["oin"],
                                    "properties": {"oin": OIN}}},
}

# -- behandeldienstconfiguratie ------------------------------------------------------------

_TOESTEMMING: dict[str, Any] = {
    "type": "object",
    "required": ["code"],
    "properties": {"code": {"type": "string", "minLength": 1, "maxLength": 200},
                   "waarde": {"type": "string", "maxLength": 1_000}},
}
_CONFIGURATIE_PROPERTIES: dict[str, Any] = {
    "oin": OIN_DIGITS,
    "activiteit": {"type": "object", "required": ["naam", "oin"], "properties": {
        "naam": {"type": "string", "minLength": 1, "maxLength": 1_000}, "oin": OIN_DIGITS}},
    "behandeldienstOin": OIN_DIGITS,
    "toestemming": _TOESTEMMING,
    "locatieOins": {"type": "array", "maxItems": 1_000, "items": OIN_DIGITS},
}
CONFIGURATIE_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "activiteit + bevoegd gezag (+ toestemming) (+ locaties) -> behandeldienst.",
    "required": ["oin", "activiteit", "behandeldienstOin"],
    "properties": {**_CONFIGURATIE_PROPERTIES, "id": {"type": "string", "maxLength": 200}},
}
CONFIGURATIE: dict[str, Any] = {
    "type": "object",
    "required": ["oin", "activiteit", "behandeldienstOin", "id", "_links"],
    "properties": {**_CONFIGURATIE_PROPERTIES, "id": {"type": "string"},
                   "_links": links("self")},
}
CONFIGURATIES: dict[str, Any] = {
    "type": "object",
    "required": ["_embedded", "_links"],
    "properties": {
        "_embedded": {"type": "object", "required": ["behandeldienstconfiguraties"],
                      "properties": {"behandeldienstconfiguraties": {
                          "type": "array", "items": CONFIGURATIE}}},
        "_links": links("self"),
    },
}

# -- CPA aanbieden ---------------------------------------------------------------------------

CPA_XML: dict[str, Any] = {"type": "string", "minLength": 1,
                           "description": "The CPA (ebXML CPPA 2.0 XML)"}
CPA_ACCEPTED: dict[str, Any] = {
    "type": "object",
    "required": ["cpaId", "partij", "_links"],
    "properties": {"cpaId": {"type": "string"}, "partij": ORGANISATIE,
                   "endpoint": {"type": ["string", "null"]}, "_links": links("self")},
}
CPAS: dict[str, Any] = {
    "type": "object",
    "required": ["_embedded", "_links"],
    "properties": {
        "_embedded": {"type": "object", "required": ["cpas"], "properties": {"cpas": {
            "type": "array", "items": {
                "type": "object",
                "required": ["cpaId", "status"],
                "properties": {"cpaId": {"type": "string"}, "status": {"type": "string"},
                               "start": {"type": "string"}, "end": {"type": "string"},
                               "partij": ORGANISATIE},
            }}}},
        "_links": links("self"),
    },
}

# -- indienen --------------------------------------------------------------------------------

DOCUMENT_INFO: dict[str, Any] = {
    "type": "object",
    "required": ["documentId", "bestandsnaam", "mimetype", "grootte"],
    "properties": {"documentId": {"type": "string"}, "bestandsnaam": {"type": "string"},
                   "mimetype": {"type": "string"}, "grootte": {"type": "integer", "minimum": 0},
                   "sha256": {"type": "string"}},
}
CONCEPT: dict[str, Any] = {
    "type": "object",
    "description": "An open (concept) verzoek: its temporary id and uploaded documents.",
    "required": ["verzoekId", "status", "documenten", "_links"],
    "properties": {
        "verzoekId": {"type": "string"},
        "status": {"type": "string", "enum": ["concept", "ingediend"]},
        "documenten": {"type": "array", "items": DOCUMENT_INFO},
        "_links": links("self", "documenten", "indienen"),
    },
}
SUBMITTED: dict[str, Any] = {
    "type": "object",
    "description": "A submitted verzoek: one verzoeknummer per bevoegd gezag and the "
    "MessageIds of the verzoeknotificaties.",
    "required": ["verzoeknummer", "verzoeknummers", "verzoeknotificaties"],
    "properties": {
        "verzoeknummer": {"type": ["string", "null"]},
        "verzoeknummers": {"type": "array", "items": {"type": "string"}},
        "verzoeknotificaties": {"type": "array", "items": {"type": "string"}},
    },
}
CONCEPT_OR_SUBMITTED: dict[str, Any] = {"anyOf": [CONCEPT, SUBMITTED]}
FINALISE_REQUEST: dict[str, Any] = {
    "type": "object",
    "description": "Nothing is needed to submit; the body, when sent, is an empty object.",
    "properties": {},
    "additionalProperties": False,
}
V4_INFO: dict[str, Any] = {
    "type": "object", "required": ["naam", "versie"],
    "properties": {"naam": {"type": "string"}, "versie": {"type": "string"},
                   "deprecated": {"type": "string"}},
}
V4_HEALTH: dict[str, Any] = {"type": "object", "required": ["status"],
                             "properties": {"status": {"type": "string", "enum": ["UP"]}}}

# -- examples (the embedded simulator's own test parties, so a contract run reaches them) -------

_OINS = {p.slug: p.oin for p in STANDARD_PARTIES}
GEMEENTE_OIN = _OINS.get("gemeente", "0" * 20)
OMGEVINGSDIENST_OIN = _OINS.get("omgevingsdienst", "0" * 20)
_ACTIVITEIT = "Gemeentes – Melding"
INDIENBERICHT_EXAMPLE: dict[str, Any] = {
    "type": "Melding", "naam": "Contracttest", "locatieOin": GEMEENTE_OIN,
    "activiteiten": [{"activiteit": {"naam": _ACTIVITEIT, "oin": GEMEENTE_OIN},
                      "bevoegdGezag": {"oin": GEMEENTE_OIN},
                      "specificaties": [{"vraagId": "1", "antwoord": "ja"}]}],
}
ROUTERING_EXAMPLE: dict[str, Any] = {"functioneleStructuurRefs": [_ACTIVITEIT],
                                     "locatieOin": GEMEENTE_OIN}
CONFIGURATIE_EXAMPLE: dict[str, Any] = {
    "oin": GEMEENTE_OIN, "activiteit": {"naam": _ACTIVITEIT, "oin": GEMEENTE_OIN},
    "behandeldienstOin": OMGEVINGSDIENST_OIN,
}
ZOEK_EXAMPLE: dict[str, Any] = {"periode": {"van": "2026-01-01", "tot": "2036-12-31"},
                                "polygoon": {"type": "Polygon", "crs": "EPSG:28992",
                                             "coordinates": [[[0, 300000], [300000, 300000],
                                                              [300000, 700000], [0, 700000]]]}}

# -- OpenAPI fragments -------------------------------------------------------------------------


def json_body(schema: Mapping[str, Any], *, required: bool = True, media: str = JSON,
              example: Any = None) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` with a JSON ``schema`` (and an ``example`` that works
    against the embedded simulator)."""
    item: dict[str, Any] = {"schema": dict(schema)}
    if example is not None:
        item["example"] = example
    return {"required": required, "content": {media: item}}


def raw_body(media: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAPI ``requestBody`` of one non-JSON media type."""
    return {"required": True, "content": {media: {"schema": dict(schema)}}}


def answer(schema: Mapping[str, Any] | None, description: str = "OK", status: int = 200,
           media: str = HAL_JSON) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for one success status (no content when ``schema`` is
    ``None``, as for 204)."""
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {media: {"schema": dict(schema)}}
    return {str(status): out}


def binary(media: str, description: str) -> dict[str, Any]:
    """A 200 response with a binary (or text) body of ``media``."""
    return {"200": {"description": description,
                    "content": {media: {"schema": {"type": "string"}}}}}


def request_schema_of(operation: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The JSON schema of an operation's request body, when it takes JSON."""
    body = operation.get("requestBody")
    content = body.get("content") if isinstance(body, Mapping) else None
    if not isinstance(content, Mapping):
        return None
    for media, item in content.items():
        if media.split(";")[0].strip().endswith("json") and isinstance(item, Mapping):
            schema = item.get("schema")
            return schema if isinstance(schema, Mapping) else None
    return None


def body_required(operation: Mapping[str, Any]) -> bool:
    """Whether the operation's request body is required."""
    body = operation.get("requestBody")
    return bool(body.get("required")) if isinstance(body, Mapping) else False
