"""Verzoek indienen v5 (the default) and v4 (deprecated, selectable) on a real simulator: v5
takes ``rolaanduiding`` and refuses ``machtiging``, answers errors as
``application/problem+json`` and has ``/ideeverkenningen``; v4 is the other way round."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from sim_helpers import Dka, body_json, client_for, melding, start_sim

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpClient, HttpExchange


def _post(sim: Simulator, path: str, body: dict[str, Any]) -> HttpExchange:
    http = HttpClient.for_identity(None, sim.trust_anchors)
    return http.post(sim.api_url("indienen") + path, json.dumps(body).encode(),
                     headers={"x-api-key": sim.api_key, "Content-Type": "application/json"})


def _content_type(exchange: HttpExchange) -> str:
    return next(v for k, v in exchange.response_headers if k.lower() == "content-type")


def test_v5_is_the_default(sim: Simulator) -> None:
    assert sim.api_url("indienen").endswith("/publiek/verzoeken/api/indienen/v5")
    ok = _post(sim, "/verzoeken", {**melding(), "rolaanduiding": "gemachtigde",
                                   "contactpersoon": {"naam": "P. Contact",
                                                      "organisatieNaam": "Voorbeeld B.V."},
                                   "definitief": True})
    assert ok.status == 201, ok.response_body
    [nummer] = body_json(ok)["verzoeknummers"]
    leverancier = client_for(sim.identities.party("leverancier"), sim.trust_anchors)
    xml = leverancier.get(f"{sim.api_url('afhandelen')}/verzoeken/{nummer}/samenvatting")
    root = ElementTree.fromstring(xml.response_body)  # noqa: S314 - our own simulator's output
    vx = {"vx": "http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoek"}
    assert root.findtext(".//vx:contactpersoon/vx:organisatieNaam", namespaces=vx) == (
        "Voorbeeld B.V.")

    old = _post(sim, "/verzoeken", {**melding(), "machtiging": {"gemachtigde": True}})
    assert old.status == 400
    assert _content_type(old).startswith("application/problem+json")
    assert "rolaanduiding" in body_json(old)["detail"]

    empty = _post(sim, "/verzoeken", {**melding(), "projectlocaties": [
        {"adres": {"postcode": "1234AB", "huisletter": ""}, "punt": None}]})
    assert empty.status == 400
    assert "huisletter" in body_json(empty)["detail"]

    http = HttpClient.for_identity(None, sim.trust_anchors)
    for gone in ("/info", "/health"):  # removed in v5
        answer = http.get(sim.api_url("indienen") + gone, headers={"x-api-key": sim.api_key})
        assert answer.status == 404
        assert _content_type(answer).startswith("application/problem+json")


def test_v5_ideeverkenningen_take_type_idee_only(sim: Simulator, dka: Dka) -> None:
    idee = _post(sim, "/ideeverkenningen", {**melding(), "type": "Idee"})
    assert idee.status == 201, idee.response_body
    links = body_json(idee)["_links"]
    assert "/ideeverkenningen/" in links["indienen"]["href"]
    wrong = _post(sim, "/ideeverkenningen", melding())
    assert wrong.status == 400
    assert "Idee" in body_json(wrong)["detail"]
    elsewhere = _post(sim, "/verzoeken", {**melding(), "type": "Idee"})
    assert elsewhere.status == 400
    assert "ideeverkenningen" in body_json(elsewhere)["detail"]


def test_v4_is_selectable(sim_pki: TestPki, tmp_path: Path, dka: Dka) -> None:
    v4 = start_sim(sim_pki, tmp_path / "v4.sqlite", dka, indienen_version="v4")
    try:
        assert v4.api_url("indienen").endswith("/indienen/v4")
        ok = _post(v4, "/verzoeken", {**melding(), "machtiging": {}, "definitief": True})
        assert ok.status == 201, ok.response_body
        [nummer] = body_json(ok)["verzoeknummers"]
        v4.wait_for_delivery(nummer, timeout=10)
        assert dka.received(nummer) == 1

        bad = _post(v4, "/verzoeken", {**melding(), "rolaanduiding": "initiatiefnemer"})
        assert bad.status == 400
        assert _content_type(bad).startswith("application/json")
        assert _post(v4, "/ideeverkenningen", {**melding(), "type": "Idee"}).status == 404
        http = HttpClient.for_identity(None, v4.trust_anchors)
        info = http.get(v4.api_url("indienen") + "/info", headers={"x-api-key": v4.api_key})
        assert info.status == 200
        assert "deprecated" in body_json(info)["deprecated"]
        spec = http.get(v4.api_url("indienen") + "/openapi.json")
        assert body_json(spec)["info"]["version"] == "4.3.2"
    finally:
        v4.stop()


@pytest.mark.parametrize("version", ["v5", "v4"])
def test_the_harness_client_submits_on_either_version(
    version: str, sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    from pytest_dso.dso.indienen import IndienenClient
    from pytest_dso.dso.rest import RestConfig, RestSession
    from pytest_dso.dso.shapes import ActiviteitRef, IndienActiviteit, Indienbericht
    from pytest_dso.stam.model import Organisatie, VerzoekType

    gemeente = "00000099000000101000"
    bericht = Indienbericht(
        VerzoekType.MELDING,
        (IndienActiviteit(ActiviteitRef("Gemeentes – Melding", gemeente),
                          Organisatie(gemeente)),),
        locatie_oin=gemeente,
    )
    simulator = start_sim(sim_pki, tmp_path / "sim.sqlite", dka, indienen_version=version)
    os.environ["DSO_TEST_INDIENEN_KEY"] = simulator.api_key
    try:
        config = RestConfig(base_urls=dict(simulator.api_base_urls),
                            api_key_env="DSO_TEST_INDIENEN_KEY")
        with RestSession(config, None, simulator.trust_anchors) as session:
            client = IndienenClient(session)
            assert client.major == int(version[1:])
            [nummer] = client.indienen(bericht)
        simulator.wait_for_delivery(nummer, timeout=10)
        assert dka.received(nummer) == 1
    finally:
        del os.environ["DSO_TEST_INDIENEN_KEY"]
        simulator.stop()
