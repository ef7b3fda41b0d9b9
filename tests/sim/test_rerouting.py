"""Rerouting through the harness client against a real simulator: sent to afhandelen v1 by
default (``[api] rerouting_version``), v2 when configured; both hand the verzoek over."""

from __future__ import annotations

import pytest
from sim_helpers import GEMEENTE, WATERSCHAP, Dka, melding, submit

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.rest import ExchangeLog, RestConfig, RestSession
from pytest_dso.sim.server import Simulator


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_rerouting_goes_to_the_configured_afhandelen_version(
    sim: Simulator, dka: Dka, version: str
) -> None:
    [nummer] = submit(sim, melding())
    sim.wait_for_delivery(nummer, timeout=10)
    log = ExchangeLog()
    config = RestConfig(base_urls=dict(sim.api_base_urls), rerouting_version=version)
    with RestSession(config, sim.identities.party("leverancier"), sim.trust_anchors,
                     recorder=log.record) as session:
        client = AfhandelenClient(session)
        answer = client.wijzig_bevoegd_gezag(nummer, WATERSCHAP, writes_allowed=True)
        assert answer.status == 200, answer.body
        assert f"/overheid/verzoeken/api/afhandelen/{version}/verzoeken/{nummer}/" in answer.url
        assert answer.headers["api-version"] == ("1.0.0" if version == "v1" else "2.0.0")
        assert client.referenties(nummer).verzoeknummer == nummer
    moved = sim.services.verzoek(nummer)
    assert moved is not None
    assert moved.bevoegd_gezag.oin == WATERSCHAP != GEMEENTE
    assert [e.operation for e in log.exchanges] == ["afhandelen.wijzig_bevoegd_gezag",
                                                   "afhandelen.referenties"]
