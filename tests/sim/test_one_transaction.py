"""One transaction per verzoek: a verzoek is stored together with its verzoeknotificaties or
not at all, and a retried submission (same ``Idempotency-Key``, or the same concept) returns
the first result instead of a second verzoek."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim_helpers import Dka, melding, start_sim

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpClient, HttpExchange


def _post(sim: Simulator, path: str, body: dict[str, Any], **headers: str) -> HttpExchange:
    http = HttpClient.for_identity(None, sim.trust_anchors)
    return http.post(sim.api_url("indienen") + path, json.dumps(body).encode(), headers={
        "x-api-key": sim.api_key, "Content-Type": "application/json", **headers})


def test_a_verzoek_whose_notificatie_cannot_be_scheduled_is_not_stored(
    sim_pki: TestPki, tmp_path: Path
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None)  # no CPA: nothing can be sent
    try:
        answer = _post(sim, "/verzoeken", {**melding(), "definitief": True})
        assert answer.status == 503, answer.response_body
        assert "was not stored" in json.loads(answer.response_body)["detail"]
        assert sim.store.count_verzoeken() == 0
        assert sim.deliveries() == ()
    finally:
        sim.stop()


def test_a_retried_submission_returns_the_first_result(sim: Simulator, dka: Dka) -> None:
    body = {**melding(), "definitief": True}
    first = _post(sim, "/verzoeken", body, **{"Idempotency-Key": "retry-1"})
    again = _post(sim, "/verzoeken", body, **{"Idempotency-Key": "retry-1"})
    assert first.status == again.status == 201, again.response_body
    assert json.loads(first.response_body) == json.loads(again.response_body)
    other = _post(sim, "/verzoeken", {**body, "naam": "Iets anders"},
                  **{"Idempotency-Key": "retry-1"})
    assert other.status == 422
    assert sim.store.count_verzoeken() == 1
    [nummer] = json.loads(first.response_body)["verzoeknummers"]
    sim.wait_for_delivery(str(nummer), timeout=10)
    assert dka.received(str(nummer)) == 1
    assert len(sim.deliveries(str(nummer))) == 1
    bad = _post(sim, "/verzoeken", body, **{"Idempotency-Key": "x" * 300})
    assert bad.status == 400


def test_finalising_a_concept_twice_returns_the_first_result(sim: Simulator) -> None:
    started = _post(sim, "/verzoeken", melding())
    assert started.status == 201
    verzoek_id = json.loads(started.response_body)["verzoekId"]
    first = _post(sim, f"/verzoeken/{verzoek_id}", {})
    again = _post(sim, f"/verzoeken/{verzoek_id}", {})
    assert first.status == again.status == 200, again.response_body
    assert json.loads(first.response_body) == json.loads(again.response_body)
    assert sim.store.count_verzoeken() == 1
    assert _post(sim, "/verzoeken/unknown-id", {}).status == 404
