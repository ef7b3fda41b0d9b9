"""Reliable delivery and fault injection, each observable: 503, delay, dropped acks, duplicate
sends, bad server certificates, clock skew; and a restart mid-delivery that still delivers the
verzoeknotificatie exactly once to the application."""

from __future__ import annotations

import datetime as dt
import json
import ssl
import time
from pathlib import Path

import pytest
from sim_helpers import Dka, body_json, get, melding, running_sim, start_sim, submit

from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.faults import FaultHelper
from pytest_dso.sim.server import Simulator
from pytest_dso.transport.client import HttpClient


def _message_id(sim: Simulator, nummer: str) -> str:
    [delivery] = sim.deliveries(nummer)
    return delivery.message_id


#: The RetryInterval of the tests that wait for one resend.
QUICK_RETRY = 0.15


def test_dropped_ack_makes_the_simulator_resend_and_the_dka_deduplicates(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    with running_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka,
                     retry_interval=QUICK_RETRY) as sim:
        FaultHelper(sim.faults).drop_acks(1)
        [nummer] = submit(sim, melding())
        delivery = sim.wait_for_delivery(nummer, timeout=10)
        assert delivery.attempts >= 2
        assert sim.faults.fired("drop_acks") == 1
        assert dka.copies(_message_id(sim, nummer)) >= 2
        assert dka.received(nummer) == 1
        attempts = sim.store.attempts(delivery.id)
        assert len(attempts) == delivery.attempts
        gap = attempts[1].started - attempts[0].started
        assert gap >= QUICK_RETRY * 0.8  # the RetryInterval is waited out


def test_duplicate_send_reaches_the_dka_twice_and_the_application_once(
    sim: Simulator, dka: Dka
) -> None:
    FaultHelper(sim.faults).duplicate_sends(1)
    [nummer] = submit(sim, melding())
    sim.wait_for_delivery(nummer, timeout=10)
    deadline = time.monotonic() + 20  # the second copy may follow the ack on a loaded machine
    while dka.copies(_message_id(sim, nummer)) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dka.copies(_message_id(sim, nummer)) == 2
    assert dka.received(nummer) == 1


def test_503_on_the_ebms_endpoint_loses_the_async_ack_until_the_resend(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    with running_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka,
                     retry_interval=QUICK_RETRY) as sim:
        FaultHelper(sim.faults).http_503(1, scope="ebms")
        [nummer] = submit(sim, melding())
        delivery = sim.wait_for_delivery(nummer, timeout=10)
        assert sim.faults.fired("http_503") == 1
        assert delivery.attempts >= 2
        assert dka.received(nummer) == 1


def test_503_and_delay_on_the_rest_apis(sim: Simulator, sim_pki: TestPki) -> None:
    helper = FaultHelper(sim.faults)
    url = sim.api_url("afhandelen") + "/openapi.json"
    helper.http_503(1, scope="api")
    assert get(sim, sim_pki, None, url).status == 503
    assert get(sim, sim_pki, None, url).status == 200
    helper.delay(0.2, count=1, scope="api")
    started = time.monotonic()
    assert get(sim, sim_pki, None, url).status == 200
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize(("mode", "reason"), [("expired", "certificate has expired"),
                                              ("wrong", "certificate verify failed")])
def test_bad_server_certificate_fails_the_client_handshake(
    sim: Simulator, sim_pki: TestPki, mode: str, reason: str
) -> None:
    FaultHelper(sim.faults).server_certificate(mode, count=1)
    context = sim_pki.identity("digikoppelaar").client_context(sim.trust_anchors)
    host, port = sim.api_origin.removeprefix("https://").rsplit(":", 1)
    import socket

    with socket.create_connection((host, int(port)), timeout=5) as raw, pytest.raises(
        ssl.SSLCertVerificationError, match=reason
    ):
        context.wrap_socket(raw, server_hostname=host)
    assert get(sim, sim_pki, None, sim.api_url("afhandelen") + "/openapi.json").status == 200


def test_clock_skew_shifts_the_ebms_timestamps(sim: Simulator, dka: Dka) -> None:
    FaultHelper(sim.faults).clock_skew(3600)
    [nummer] = submit(sim, melding())
    sim.wait_for_delivery(nummer, timeout=10)
    record = dka.receiver.wait_for(
        lambda r: r.message is not None and r.message.header.action == "Verzoeknotificatie", 5)
    assert record is not None
    assert record.message is not None
    skew = record.message.header.timestamp - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=55) < skew < dt.timedelta(minutes=65)


def test_faults_by_control_api(sim: Simulator) -> None:
    http = HttpClient.for_identity(None, sim.trust_anchors)
    url = sim.api_origin + "/_sim/faults"
    key = {"x-dso-sim-control-key": sim.control_key, "Content-Type": "application/json"}
    assert http.get(url).status == 401
    public = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    assert http.get(url, headers=public).status == 401  # the public key does not open /_sim
    assert http.get(sim.api_origin + "/_sim/deliveries", headers=public).status == 401
    added = http.post(url, json.dumps({"kind": "http_503", "count": 2, "scope": "api"}).encode(),
                      headers=key)
    assert added.status == 201
    assert body_json(added)["active"][0]["remaining"] == 2
    bad = http.post(url, b'{"kind": "meteor"}', headers=key)
    assert bad.status == 400
    assert "not known" in body_json(bad)["detail"]
    assert http.get(sim.api_url("indienen") + "/openapi.json").status == 503
    assert http.request("DELETE", url, headers=key).status == 200
    assert http.get(sim.api_url("indienen") + "/openapi.json").status == 200
    deliveries = http.get(sim.api_origin + "/_sim/deliveries", headers=key)
    assert body_json(deliveries) == {"deliveries": []}


def test_restart_mid_delivery_delivers_exactly_once(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    store = tmp_path / "dso-sim.sqlite"
    first = start_sim(sim_pki, store, dka, retry_interval=30.0)
    try:
        FaultHelper(first.faults).drop_acks(100)  # the ack never counts: stays "sent"
        [nummer] = submit(first, melding())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (
            dka.received(nummer) == 0 or first.deliveries(nummer)[0].status.value != "sent"
        ):
            time.sleep(0.02)
        assert dka.received(nummer) == 1
        [pending] = first.deliveries(nummer)
        assert pending.status.value == "sent"  # sent, its ack lost: a re-send is due
    finally:
        first.stop()
    second = start_sim(sim_pki, store, None, retry_interval=30.0)
    try:
        delivery = second.wait_for_delivery(nummer, timeout=10)
        assert delivery.attempts == 2  # the resumed re-send, at once rather than after 30 s
    finally:
        second.stop()
    assert dka.received(nummer) == 1


def test_dka_down_then_restart_delivers_once(sim_pki: TestPki, tmp_path: Path) -> None:
    store = tmp_path / "dso-sim.sqlite"
    dka = Dka(sim_pki)
    dka.receiver.start()
    port = int(dka.url.rsplit(":", 1)[1].split("/")[0])
    first = start_sim(sim_pki, store, dka, retry_interval=0.2)
    dka.receiver.stop()  # the DKA is down: attempts fail
    try:
        [nummer] = submit(first, melding())
        deadline = time.monotonic() + 5
        while (not first.deliveries(nummer) or first.deliveries(nummer)[0].attempts < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        assert first.deliveries(nummer)[0].status.value == "pending"
    finally:
        first.stop()
    back = Dka(sim_pki, port=port)
    back.use(first.cpa_path.read_bytes())
    back.receiver.start()
    try:
        second = start_sim(sim_pki, store, None, retry_interval=0.2)
        try:
            second.wait_for_delivery(nummer, timeout=10)
        finally:
            second.stop()
        assert back.received(nummer) == 1
    finally:
        back.receiver.stop()


def test_time_scale_applies_once_across_restarts(sim_pki: TestPki, tmp_path: Path) -> None:
    from pytest_dso.ebms.cpa import parse_cpa
    from pytest_dso.sim.config import SimOptions

    store = tmp_path / "dso-sim.sqlite"
    options = SimOptions(time_scale=0.001, dka_endpoint="https://127.0.0.1:9/ebms")
    with Simulator(options, sim_pki, store) as first:
        assert first.policy.retry_interval == pytest.approx(10.8)  # PT3H x 0.001
        party = parse_cpa(first.cpa_path.read_bytes()).party_by_oin(first.sim_oin)
        assert party is not None
        [exchange] = party.doc_exchanges.values()
        assert exchange.retry_interval == dt.timedelta(hours=3)
    with Simulator(options, sim_pki, store) as second:
        assert second.policy.retry_interval == pytest.approx(10.8)
