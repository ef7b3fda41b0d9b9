"""Parties are bound to their certificates: the simulator takes a Ping, Acknowledgment or
MessageError only from the TLS client certificate of the From party, and an Acknowledgment
only from the party the verzoeknotificatie went to."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

from cryptography import x509
from sim_helpers import WATERSCHAP, Dka, client_for, melding, start_sim, submit

from pytest_dso.ebms import constants as c
from pytest_dso.ebms.client import EbmsClient
from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.envelope import EbmsMessage, PartyId, acknowledgment_for, ping
from pytest_dso.pkio.testpki import TestPki, build_test_pki
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpExchange
from pytest_dso.transport.server import Response


def test_the_waterschap_certificate_gets_no_pong_as_the_digikoppelaar(
    sim: Simulator, dka: Dka, sim_pki: TestPki
) -> None:
    cpa = parse_cpa(sim.cpa_path.read_bytes())
    message = ping(cpa_id=cpa.cpa_id, from_party=PartyId(sim_pki.party("digikoppelaar").oin),
                   to_party=PartyId(sim.sim_oin), host="127.0.0.1")
    dka.receiver.expect(message.message_id)
    result = EbmsClient(client_for(sim_pki.identity("waterschap"), sim.trust_anchors)).send(
        sim.ebms_url, message)
    assert result.status == 500
    assert b"Invalid SSL Client Certificate" in result.exchange.response_body
    time.sleep(0.3)
    assert dka.receiver.wait_for(lambda r: r.action == c.ACTION_PONG, 0.2) is None


def _held(dka: Dka) -> None:
    """The DKA takes messages but sends no Acknowledgment (the test sends them)."""
    dka.receiver.handler = lambda request, result: (Response(204), ())


def _received(dka: Dka) -> EbmsMessage:
    record = dka.receiver.wait_for(
        lambda r: r.message is not None and r.action not in c.MSH_ACTIONS, 10)
    assert record is not None
    assert record.message is not None
    return record.message


def test_another_tenants_acknowledgment_leaves_the_delivery_pending(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None, retry_interval=30.0)
    try:
        waterschap_cpa = sim.install_cpa(sim.local_cpa(
            "https://127.0.0.1:9/ebms", sim_pki.leaves["waterschap"].certificate,
            dka_oin=WATERSCHAP))
        cpa_xml = sim.local_cpa(dka.url)
        sim.install_cpa(cpa_xml)
        dka.use(cpa_xml)
        _held(dka)
        [nummer] = submit(sim, melding())
        original = _received(dka)
        ack = acknowledgment_for(original, host="127.0.0.1")
        waterschap = EbmsClient(client_for(sim_pki.identity("waterschap"), sim.trust_anchors))
        # 1. the waterschap's certificate speaking for the Digikoppelaar: refused outright
        forged = waterschap.send(sim.ebms_url, ack)
        assert forged.status == 500
        # 2. the waterschap under its own CPA, acknowledging the Digikoppelaar's message
        own = dataclasses.replace(
            ack, header=dataclasses.replace(
                ack.header, cpa_id=waterschap_cpa.cpa_id,
                from_parties=(PartyId(WATERSCHAP),)))
        foreign = waterschap.send(sim.ebms_url, own)
        assert foreign.status in (200, 204), foreign.exchange.response_body
        time.sleep(0.3)
        [delivery] = sim.deliveries(nummer)
        assert delivery.status.value != "acked"
        # the Digikoppelaar's own Acknowledgment is taken
        real = EbmsClient(client_for(sim_pki.identity("digikoppelaar"),
                                     sim.trust_anchors)).send(sim.ebms_url, ack)
        assert real.status in (200, 204), real.exchange.response_body
        assert sim.wait_for_delivery(nummer, timeout=5).status.value == "acked"
    finally:
        sim.stop()


def _offer(sim: Simulator, pki: TestPki, xml: bytes) -> HttpExchange:
    return client_for(pki.identity("digikoppelaar"), sim.trust_anchors).post(
        sim.api_url("cpa_aanbieden") + "/cpa", xml, headers={"Content-Type": "application/xml"})


def _active_endpoint(sim: Simulator) -> str:
    [cpa] = sim.cpas.all()
    return cpa.endpoint_for(cpa.other_party(sim.sim_oin))


def test_cpa_aanbieden_validates_fully_before_replacing_the_active_cpa(
    sim: Simulator, sim_pki: TestPki, dka: Dka, hostile_certificates: dict[str, x509.Certificate]
) -> None:
    before = _active_endpoint(sim)
    dka_oin = sim_pki.party("digikoppelaar").oin
    foreign = build_test_pki(key_type="ec256").leaves["digikoppelaar"].certificate
    offers = {
        "foreign CA": sim.local_cpa("https://127.0.0.1:9/ebms", foreign, dka_oin=dka_oin),
        "undecodable": sim.local_cpa("https://127.0.0.1:9/ebms",
                                     hostile_certificates["ff-subject"], dka_oin=dka_oin),
        "bad endpoint": sim.local_cpa("https://[::1/ebms",
                                      sim_pki.leaves["digikoppelaar"].certificate),
        "other party's OIN": sim.local_cpa("https://127.0.0.1:9/ebms",
                                           sim_pki.leaves["waterschap"].certificate,
                                           dka_oin=dka_oin),
    }
    expected = {"foreign CA": "does not chain", "undecodable": "cannot be read",
                "bad endpoint": "not a URL", "other party's OIN": "carries OIN"}
    for what, xml in offers.items():
        answer = _offer(sim, sim_pki, xml)
        assert answer.status == 400, (what, answer.response_body)
        assert expected[what] in json.loads(answer.response_body)["detail"], what
        assert _active_endpoint(sim) == before, what
    good = _offer(sim, sim_pki, sim.local_cpa("https://127.0.0.1:9/ebms"))
    assert good.status == 201, good.response_body
    assert _active_endpoint(sim) == "https://127.0.0.1:9/ebms"
