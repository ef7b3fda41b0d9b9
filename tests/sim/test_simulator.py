"""The simulator end to end in-process: indienen → verzoeknotificatie over ebMS to the harness
receiver → verzoek fetched with the right certificate; authorisation; the REST APIs."""

from __future__ import annotations

import json
from pathlib import Path

from sim_helpers import (
    GEMEENTE,
    OMGEVINGSDIENST,
    WATERSCHAP,
    Dka,
    body_json,
    client_for,
    get,
    melding,
    start_sim,
    submit,
)

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import EbmsClient
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.envelope import PartyId, ping
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.server import Simulator
from pytest_dso.stam.bijlagen import BijlageSpec
from pytest_dso.stam.xml import parse_verzoek
from pytest_dso.transport.client import HttpClient


def test_melding_reaches_the_dka_once_and_is_fetched_with_its_certificate(
    sim: Simulator, dka: Dka, sim_pki: TestPki
) -> None:
    [nummer] = submit(sim, melding(bijlagen=1))
    delivery = sim.wait_for_delivery(nummer, timeout=10)
    assert delivery.recipient_oin == GEMEENTE
    assert dka.received(nummer) == 1

    base = sim.api_url("afhandelen")
    refs = get(sim, sim_pki, "digikoppelaar", f"{base}/verzoeken/{nummer}")
    assert refs.status == 200
    assert refs.header("API-Version") == "2.0.0"
    links = body_json(refs)["_links"]
    xml = get(sim, sim_pki, "digikoppelaar", links["verzoek"]["href"])
    assert xml.status == 200
    verzoek = parse_verzoek(xml.response_body)
    assert verzoek.verzoeknummer == nummer
    assert verzoek.bevoegd_gezag.oin == GEMEENTE
    pdf = get(sim, sim_pki, "gemeente", links["pdf"]["href"])
    assert pdf.response_body.startswith(b"%PDF-")
    assert b"Jan Tester" not in pdf.response_body  # publishable: no personal answers
    [document] = links["documenten"]
    content = get(sim, sim_pki, "gemeente", document["href"]).response_body
    assert content == BijlageSpec(0, 2000, "tekening-0.pdf").read()


def test_other_bevoegd_gezag_gets_403_and_no_certificate_401(
    module_sim: Simulator, sim_pki: TestPki
) -> None:
    [nummer] = submit(module_sim, melding())
    url = f"{module_sim.api_url('afhandelen')}/verzoeken/{nummer}"
    other = get(module_sim, sim_pki, "waterschap", url)
    assert other.status == 403
    assert other.content_type == "application/problem+json"
    assert WATERSCHAP in body_json(other)["detail"]
    assert get(module_sim, sim_pki, None, url).status == 401
    assert get(module_sim, sim_pki, "gemeente", url).status == 200
    unknown = f"{module_sim.api_url('afhandelen')}/verzoeken/1"
    assert get(module_sim, sim_pki, "gemeente", unknown).status == 404


def test_public_apis_need_the_api_key(module_sim: Simulator) -> None:
    http = HttpClient.for_identity(None, module_sim.trust_anchors)
    url = module_sim.api_url("indienen") + "/verzoeken"
    body = json.dumps(melding()).encode()
    missing = http.post(url, body, headers={"Content-Type": "application/json"})
    wrong = http.post(url, body, headers={"x-api-key": "nope"})
    assert (missing.status, wrong.status) == (401, 401)
    assert module_sim.api_key not in wrong.response_body.decode()


def test_every_api_serves_openapi_json_that_says_what_is_modelled(
    module_sim: Simulator, sim_pki: TestPki
) -> None:
    for name, url in module_sim.api_base_urls.items():
        answer = get(module_sim, sim_pki, "digikoppelaar", f"{url}/openapi.json")
        assert answer.status == 200, name
        doc = body_json(answer)
        assert doc["openapi"].startswith("3.")
        assert "not" in doc["info"]["description"], name
        assert doc["paths"], name


def test_behandeldienstconfiguratie_routes_a_verzoek_to_the_behandeldienst(
    sim: Simulator, dka: Dka, sim_pki: TestPki
) -> None:
    base = sim.api_url("behandeldienstconfiguratie")
    config = {"oin": GEMEENTE,
              "activiteit": {"naam": "Gemeentes – Informatie", "oin": GEMEENTE},
              "behandeldienstOin": OMGEVINGSDIENST}
    gemeente = client_for(sim_pki.identity("gemeente"), sim.trust_anchors)
    headers = {"Content-Type": "application/json"}
    created = gemeente.post(base, json.dumps(config).encode(), headers=headers)
    assert created.status == 200, created.response_body
    config_id = body_json(created)["id"]
    clash = gemeente.post(base, json.dumps(config).encode(), headers=headers)
    assert clash.status == 409
    waterschap = client_for(sim_pki.identity("waterschap"), sim.trust_anchors)
    assert waterschap.post(base, json.dumps(config).encode(), headers=headers).status == 403
    listed = body_json(gemeente.get(base))["_embedded"]["behandeldienstconfiguraties"]
    assert [item["id"] for item in listed] == [config_id]

    anon = HttpClient.for_identity(None, sim.trust_anchors)
    refs = {"functioneleStructuurRefs": ["Gemeentes – Informatie"], "locatieOin": GEMEENTE}
    public = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    routering = sim.api_url("verzoeksroutering")
    advies = anon.post(routering + "/behandeldienst/_bepaal", json.dumps(refs).encode(),
                       headers=public)
    assert body_json(advies)["behandeldienst"]["oin"] == OMGEVINGSDIENST
    gezagen = anon.post(routering + "/bevoegdGezag/_bepaal", json.dumps(refs).encode(),
                        headers=public)
    assert [b["oin"] for b in body_json(gezagen)["bevoegdeGezagen"]] == [GEMEENTE]
    concept = anon.post(routering + "/conceptverzoek/_bepaal", json.dumps(refs).encode(),
                        headers=public)
    assert body_json(concept)["conceptverzoekToegestaan"] is False
    other = anon.post(routering + "/behandeldienst/_bepaal",
                      json.dumps({**refs, "bevoegdGezag": {"oin": OMGEVINGSDIENST}}).encode(),
                      headers=public)
    assert body_json(other)["behandeldienst"] is None
    assert anon.post(routering + "/routering", json.dumps(refs).encode(),
                     headers=public).status == 404

    [nummer] = submit(sim, melding(activiteit="Gemeentes – Informatie"))
    sim.wait_for_delivery(nummer, timeout=10)
    recipients = sorted(d.recipient_oin for d in sim.deliveries(nummer))
    assert recipients == sorted([OMGEVINGSDIENST, GEMEENTE])  # BD + kopie for the BG
    fetched = get(sim, sim_pki, "omgevingsdienst",
                  f"{sim.api_url('afhandelen')}/verzoeken/{nummer}")
    assert body_json(fetched)["uitvoerendeInstantie"]["oin"] == OMGEVINGSDIENST

    assert gemeente.request("DELETE", f"{base}/{config_id}").status == 204
    assert gemeente.get(f"{base}/{config_id}").status == 404


def test_zoek_finds_only_what_the_caller_may_see(
    module_sim: Simulator, sim_pki: TestPki
) -> None:
    [nummer] = submit(module_sim, melding())
    url = module_sim.api_url("afhandelen") + "/verzoeken/_zoek"
    vraag = json.dumps({"verzoeknummer": nummer,
                        "periode": {"van": "2000-01-01", "tot": "2100-01-01"}}).encode()
    for slug, expected in (("gemeente", [nummer]), ("waterschap", [])):
        http = client_for(sim_pki.identity(slug), module_sim.trust_anchors)
        hits = body_json(http.post(url, vraag, headers={"Content-Type": "application/json"}))
        found = [h["verzoeknummer"] for h in hits["_embedded"]["zaakverwijzingen"]]
        assert found == expected, slug


def test_ping_from_the_dka_gets_an_async_pong(sim: Simulator, dka: Dka, sim_pki: TestPki) -> None:
    cpa = parse_cpa(sim.cpa_path.read_bytes())
    dka_oin = sim_pki.party("digikoppelaar").oin
    message = ping(cpa_id=cpa.cpa_id, from_party=PartyId(dka_oin),
                   to_party=PartyId(sim.sim_oin), host="127.0.0.1")
    dka.receiver.expect(message.message_id)
    result = EbmsClient(client_for(sim_pki.identity("digikoppelaar"), sim.trust_anchors)).send(
        sim.ebms_url, message)
    assert result.status == 204
    pong = dka.receiver.wait_for(
        lambda r: r.action == c.ACTION_PONG and r.ref_to_message_id == message.message_id, 5)
    assert pong is not None


def test_wrong_soap_action_is_refused_with_a_fault(
    module_sim: Simulator, sim_pki: TestPki
) -> None:
    http = client_for(sim_pki.identity("digikoppelaar"), module_sim.trust_anchors)
    answer = http.post(module_sim.ebms_url, b"<x/>", headers={"SOAPAction": "ebXML",
                                                             "Content-Type": "text/xml"})
    assert answer.status == 500
    assert b"SOAPAction" in answer.response_body


def test_cpa_aanbieden_needs_a_mandate(sim: Simulator, sim_pki: TestPki, dka: Dka) -> None:
    cpa = sim.local_cpa(dka.url)
    url = sim.api_url("cpa_aanbieden") + "/cpa"
    headers = {"Content-Type": "application/xml"}
    refused = client_for(sim_pki.identity("waterschap"), sim.trust_anchors).post(
        url, cpa, headers=headers)
    assert refused.status == 403
    accepted = client_for(sim_pki.identity("digikoppelaar"),
                                       sim.trust_anchors).post(url, cpa, headers=headers)
    assert accepted.status == 201, accepted.response_body
    assert body_json(accepted)["cpaId"] == parse_cpa(cpa).cpa_id
    garbage = client_for(sim_pki.identity("digikoppelaar"),
                                      sim.trust_anchors).post(url, b"<nope/>", headers=headers)
    assert garbage.status == 400


def test_sync_cpa_gives_sync_acks_and_a_sync_pong(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka, sync_reply="mshSignalsOnly")
    try:
        [nummer] = submit(sim, melding())
        delivery = sim.wait_for_delivery(nummer, timeout=10)
        assert delivery.attempts == 1
        assert delivery.last_http_status == 200  # the Acknowledgment came in the response
        cpa = parse_cpa(sim.cpa_path.read_bytes())
        message = ping(cpa_id=cpa.cpa_id, from_party=PartyId(sim_pki.party("digikoppelaar").oin),
                       to_party=PartyId(sim.sim_oin), host="127.0.0.1", sync_reply=True)
        result = EbmsClient(client_for(sim_pki.identity("digikoppelaar"),
                                       sim.trust_anchors)).send(sim.ebms_url, message)
        assert result.status == 200
        assert result.reply is not None
        assert result.reply.action == c.ACTION_PONG
    finally:
        sim.stop()
