"""The simulator's OpenAPI documents as contract tools use them: every operation has request
and success schemas and its problem responses, every JSON request body is checked against its
schema before use (400 naming the field), and real responses match the documents."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sim_helpers import GEMEENTE, OMGEVINGSDIENST, body_json, client_for, get, melding

from pytest_dso.dso.shapes import (
    ActiviteitRef,
    BehandeldienstConfiguratie,
    GegenereerdeBijlage,
    IndienActiviteit,
    Indienbericht,
    Toestemming,
    ZoekVraag,
)
from pytest_dso.e2e.openapi import OpenApiDocument, validate_schema
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.rest import indienen
from pytest_dso.sim.rest.schemas import (
    CONFIGURATIE_REQUEST,
    WIJZIG_BEVOEGD_GEZAG,
    ZOEK_VRAAG,
)
from pytest_dso.sim.server import Simulator
from pytest_dso.stam.model import (
    Adres,
    Contactpersoon,
    NatuurlijkPersoon,
    Organisatie,
    Projectlocatie,
    RdPunt,
    Specificatie,
    VerzoekType,
)
from pytest_dso.transport.client import HttpClient, HttpExchange


@pytest.fixture(scope="module")
def sim(module_sim: Simulator) -> Simulator:
    """One simulator for the module: its documents do not change, and each check validates
    answers against them whatever the store holds."""
    return module_sim


def _documents(sim: Simulator) -> dict[str, OpenApiDocument]:
    out = {}
    for name, base in sim.api_base_urls.items():
        answer = HttpClient.for_identity(None, sim.trust_anchors).get(f"{base}/openapi.json")
        assert answer.status == 200, (name, answer.response_body[:200])
        out[name] = OpenApiDocument.from_bytes(name, answer.response_body, base)
    return out


def test_every_operation_documents_its_bodies_and_problems(sim: Simulator) -> None:
    documents = _documents(sim)
    assert {"afhandelen", "indienen", "verzoeksroutering", "behandeldienstconfiguratie",
            "cpa_aanbieden"} <= set(documents)
    operations = 0
    for name, document in documents.items():
        data = document.data
        assert data["openapi"] == "3.1.0"
        assert "Problem" in data["components"]["schemas"]
        for template, item in data["paths"].items():
            for method, op in item.items():
                operations += 1
                where = f"{name} {method.upper()} {template}"
                responses = op["responses"]
                success = [code for code in responses if code.startswith("2")]
                assert success, where
                for code in success:
                    if code != "204":
                        content = responses[code].get("content")
                        assert content, f"{where} {code} has no content"
                        assert all("schema" in m for m in content.values()), where
                expected = {"401", "404", "408", "413", "429"}
                if method in ("post", "put", "patch"):
                    expected.add("400")
                    body = op.get("requestBody", {}).get("content", {})
                    assert body, where
                    assert all("schema" in m for m in body.values()), where
                assert expected <= set(responses), f"{where}: {expected - set(responses)}"
                for code in expected:
                    problem = responses[code]["content"]["application/problem+json"]
                    assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
                assert "nullable" not in json.dumps(op), f"{where}: OpenAPI 3.0 keyword in 3.1"
                for media in op.get("requestBody", {}).get("content", {}).values():
                    if "example" in media:  # examples must pass the check they document
                        assert validate_schema(media["example"], media["schema"]) == [], where
    assert operations >= 18


def _rich_indienbericht() -> Indienbericht:
    return Indienbericht(
        type=VerzoekType.MELDING,
        naam="Dakkapel",
        locatie_oin=GEMEENTE,
        toelichting="Schema-test",
        activiteiten=(IndienActiviteit(
            ActiviteitRef("Gemeentes – Melding", GEMEENTE), Organisatie(GEMEENTE, "Gemeente"),
            Toestemming("melding", "ja"),
            (Specificatie("4", "Jan Tester", vraagtekst="Naam", document_ids=("d1",)),)),),
        projectlocaties=(Projectlocatie(
            Adres("1234AB", 12, straatnaam="Dorpsstraat", woonplaats="Ergens"),
            RdPunt(155000.0, 463000.0), (RdPunt(1, 2), RdPunt(3, 4), RdPunt(5, 6))),),
        initiatiefnemer=NatuurlijkPersoon("999990019", "Tester", "J.", "j@example.org"),
        contactpersoon=Contactpersoon("J. Tester", "Bureau", "j@example.org"),
        bijlagen=(GegenereerdeBijlage(1, 2000, "tekening.pdf"),),
    )


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_what_the_harness_clients_send_matches_the_request_schemas(version: str) -> None:
    bericht = _rich_indienbericht()
    major = int(version[1:])
    assert validate_schema(bericht.to_json(major), indienen.request_schema(version)) == []
    assert validate_schema(Indienbericht(VerzoekType.MELDING, bericht.activiteiten).to_json(
        major), indienen.request_schema(version)) == []
    day = dt.date(2026, 1, 1)
    assert validate_schema(ZoekVraag(day, day, verzoeknummer="2026-1").to_json(),
                           ZOEK_VRAAG) == []
    polygon = ZoekVraag(day, day, polygoon=(RdPunt(0, 0), RdPunt(0, 1), RdPunt(1, 1)))
    assert validate_schema(polygon.to_json(), ZOEK_VRAAG) == []
    config = BehandeldienstConfiguratie(GEMEENTE, ActiviteitRef("Gemeentes – Melding", GEMEENTE),
                                        OMGEVINGSDIENST, Toestemming("x"), (GEMEENTE,))
    assert validate_schema(config.to_json(), CONFIGURATIE_REQUEST) == []
    assert validate_schema({"bevoegdGezag": {"oin": GEMEENTE}}, WIJZIG_BEVOEGD_GEZAG) == []


def _post(sim: Simulator, api: str, path: str, body: bytes, pki: TestPki | None = None,
          slug: str = "") -> HttpExchange:
    identity = pki.identity(slug) if pki is not None and slug else None
    return client_for(identity, sim.trust_anchors).post(
        f"{sim.api_url(api)}/{path}", body,
        headers={"x-api-key": sim.api_key, "Content-Type": "application/json"})


def test_a_body_off_its_schema_gets_400_naming_the_field(sim: Simulator,
                                                          sim_pki: TestPki) -> None:
    wrong = _post(sim, "indienen", "verzoeken", json.dumps(
        {"type": "Melding", "activiteiten": [{"activiteit": {"naam": "x", "oin": "12"},
                                              "bevoegdGezag": {"oin": GEMEENTE}}]}).encode())
    assert wrong.status == 400
    problem = body_json(wrong)
    assert "$.activiteiten[0].activiteit.oin" in problem["detail"]
    assert "openapi.json" in problem["detail"]
    assert problem["problems"]
    missing = _post(sim, "indienen", "verzoeken", b"")
    assert missing.status == 400
    assert "needs a JSON body" in body_json(missing)["detail"]
    zoek = _post(sim, "afhandelen", "verzoeken/_zoek", b'{"periode": {"van": 5}}', sim_pki,
                 "gemeente")
    assert zoek.status == 400
    detail = body_json(zoek)["detail"]
    assert "$.periode.van: expected string" in detail
    assert "$.periode: required property 'tot'" in detail
    long_id = _post(sim, "indienen", "verzoeken/" + "0" * 201, b"{}")
    assert long_id.status == 400
    assert "path parameter 'verzoekId': longer than 200" in body_json(long_id)["detail"]
    long_name = _post(sim, "indienen", "verzoeken/x/documenten?bestandsnaam=" + "a" * 256, b"x")
    assert long_name.status == 400
    assert "query parameter 'bestandsnaam'" in body_json(long_name)["detail"]
    many = _post(sim, "verzoeksroutering", "bevoegdGezag/_bepaal",
                 json.dumps({"functioneleStructuurRefs": [1] * 5000}).encode())
    assert many.status == 400
    assert len(body_json(many)["problems"]) <= 20  # bounded


def test_real_responses_match_the_documents(sim: Simulator, sim_pki: TestPki) -> None:
    documents = _documents(sim)
    findings = []

    def check(api: str, method: str, exchange: HttpExchange) -> Any:
        findings.extend(documents[api].validate_response(
            method, exchange.url, int(exchange.status or 0), exchange.content_type,
            exchange.response_body))
        return body_json(exchange) if "json" in exchange.content_type else None

    started = _post(sim, "indienen", "verzoeken", json.dumps(melding(bijlagen=1)).encode())
    concept = check("indienen", "POST", started)
    verzoek_id = concept["verzoekId"]
    check("indienen", "GET", HttpClient.for_identity(None, sim.trust_anchors).get(
        f"{sim.api_url('indienen')}/verzoeken/{verzoek_id}",
        headers={"x-api-key": sim.api_key}))
    check("indienen", "POST", HttpClient.for_identity(None, sim.trust_anchors).post(
        f"{sim.api_url('indienen')}/verzoeken/{verzoek_id}/documenten?bestandsnaam=a.pdf",
        b"%PDF-1.4 test", headers={"x-api-key": sim.api_key,
                                   "Content-Type": "application/pdf"}))
    done = check("indienen", "POST", _post(sim, "indienen", f"verzoeken/{verzoek_id}", b"{}"))
    [nummer] = done["verzoeknummers"]
    sim.wait_for_delivery(nummer, timeout=10)
    base = sim.api_url("afhandelen")
    refs = check("afhandelen", "GET", get(sim, sim_pki, "gemeente", f"{base}/verzoeken/{nummer}"))
    for relation in ("verzoek", "pdf"):
        check("afhandelen", "GET", get(sim, sim_pki, "gemeente", refs["_links"][relation]["href"]))
    for document in refs["_links"]["documenten"]:
        check("afhandelen", "GET", get(sim, sim_pki, "gemeente", document["href"]))
    check("afhandelen", "GET", get(sim, sim_pki, "gemeente", f"{base}/verzoeken/nope"))
    today = dt.date.today()
    check("afhandelen", "POST", _post(sim, "afhandelen", "verzoeken/_zoek", json.dumps(
        ZoekVraag(today - dt.timedelta(days=1), today + dt.timedelta(days=1),
                  verzoeknummer=nummer).to_json()).encode(), sim_pki, "gemeente"))
    check("verzoeksroutering", "POST", _post(
        sim, "verzoeksroutering", "bevoegdGezag/_bepaal",
        json.dumps({"functioneleStructuurRefs": ["Gemeentes – Melding"],
                    "locatieOin": GEMEENTE}).encode()))
    check("verzoeksroutering", "POST", _post(
        sim, "verzoeksroutering", "behandeldienst/_bepaal",
        json.dumps({"functioneleStructuurRefs": ["Gemeentes – Melding"]}).encode()))
    bdc = sim.api_url("behandeldienstconfiguratie")
    check("behandeldienstconfiguratie", "GET", get(sim, sim_pki, "gemeente", bdc))
    check("cpa_aanbieden", "GET", get(sim, sim_pki, "gemeente",
                                      f"{sim.api_url('cpa_aanbieden')}/cpa"))
    check("indienen", "POST", _post(sim, "indienen", "verzoeken", b"[1]"))
    check("afhandelen", "GET", get(sim, None, None, f"{base}/verzoeken/{nummer}"))
    assert findings == [], [f.message for f in findings]
