"""A CPA that binds the verzoeknotificatie service under several types: with a reliable one
the simulator sends on it (and retries until the Acknowledgment); with best-effort types only
it sends once and never re-sends, recording the outcome."""

from __future__ import annotations

import datetime as dt
import socket
import time
from pathlib import Path

from sim_helpers import Dka, melding, start_sim, submit

from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.cpa_build import (
    PLACEHOLDER_ACTION,
    PLACEHOLDER_SERVICE,
    CpaSpec,
    PartySpec,
    ServiceSpec,
    build_cpa,
)
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim import ebms_side
from pytest_dso.sim.server import Simulator

BE = "urn:test:be:services"
RM = "urn:test:rm:services"
#: The retry interval of the simulators that send best effort: five of them pass without a
#: re-send, where a reliable delivery is re-sent at every one.
RETRY = 0.12


def test_the_simulator_sends_on_the_reliable_binding_of_a_multi_type_cpa(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None)
    try:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        dka_identity = sim_pki.identity("digikoppelaar")
        spec = CpaSpec(
            cpa_id="DSO-SIM_types_1",
            parties=(
                PartySpec(name="DSO-LV", party_id=sim.sim_oin,
                          certificate=sim.identities.server.certificate,
                          endpoint=sim.ebms_url, role="Verzender", sends=(PLACEHOLDER_ACTION,)),
                PartySpec(name="Digikoppelaar", party_id=dka_identity.oin or "",
                          certificate=dka_identity.certificate, endpoint=dka.url,
                          role="Ontvanger"),
            ),
            start=now - dt.timedelta(days=1),
            end=now + dt.timedelta(days=5),
            service=PLACEHOLDER_SERVICE,
            service_type=BE,  # listed first: a lookup by name alone picks best effort
            reliable=False,
            extra_services=(ServiceSpec(PLACEHOLDER_SERVICE, RM, reliable=True),),
        )
        xml = build_cpa(spec)
        sim.install_cpa(xml)
        dka.use(xml)
        send, receive = ebms_side.business_exchange(sim.sim_oin, parse_cpa(xml))
        assert (send.service_type, receive.service_type) == (RM, RM)

        [nummer] = submit(sim, melding())
        sim.wait_for_delivery(nummer, timeout=15)  # "acked": the DKA acknowledged it
        assert dka.received(nummer) == 1
        business = [r.message for r in dka.receiver.records()
                    if r.message is not None and r.message.action == PLACEHOLDER_ACTION]
        assert [m.header.service_type for m in business] == [RM]
        assert all(m.ack_requested is not None for m in business)
    finally:
        sim.stop()


BE_SIGNED = "urn:test:be-signed:services"


def _cpa(sim: Simulator, pki: TestPki, endpoint: str, *, reliable: bool) -> bytes:
    """A CPA with the verzoeknotificatie service under two types: both best effort, or a
    best-effort and a reliable one."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    dka_identity = pki.identity("digikoppelaar")
    other = ServiceSpec(PLACEHOLDER_SERVICE, RM if reliable else BE_SIGNED, reliable=reliable)
    return build_cpa(CpaSpec(
        cpa_id=f"DSO-SIM_types_{'rm' if reliable else 'be'}",
        parties=(
            PartySpec(name="DSO-LV", party_id=sim.sim_oin,
                      certificate=sim.identities.server.certificate,
                      endpoint=sim.ebms_url, role="Verzender", sends=(PLACEHOLDER_ACTION,)),
            PartySpec(name="Digikoppelaar", party_id=dka_identity.oin or "",
                      certificate=dka_identity.certificate, endpoint=endpoint,
                      role="Ontvanger"),
        ),
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(days=5),
        service=PLACEHOLDER_SERVICE,
        service_type=BE,
        reliable=False,
        extra_services=(other,),
    ))


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}/ebms"


def test_a_best_effort_binding_is_sent_once_and_recorded_as_delivered(
    sim_pki: TestPki, tmp_path: Path, dka: Dka
) -> None:
    sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", None, retry_interval=RETRY)
    try:
        xml = _cpa(sim, sim_pki, dka.url, reliable=False)
        sim.install_cpa(xml)
        dka.use(xml)
        [nummer] = submit(sim, melding())
        delivery = sim.wait_for_delivery(nummer, timeout=15, status="delivered")
        time.sleep(5 * RETRY)  # a reliable delivery would have been re-sent by now
        [again] = sim.deliveries(nummer)
        assert again.status.value == "delivered"
        assert again.attempts == 1
        assert dka.copies(delivery.message_id) == 1
        [record] = [r.message for r in dka.receiver.records()
                    if r.message is not None and r.message.action == PLACEHOLDER_ACTION]
        assert record.ack_requested is None  # best effort: no Acknowledgment asked for
        assert record.header.service_type in (BE, BE_SIGNED)
    finally:
        sim.stop()


def test_a_best_effort_delivery_that_fails_is_not_resent_but_a_reliable_one_is(
    sim_pki: TestPki, tmp_path: Path
) -> None:
    for reliable in (False, True):
        sim = start_sim(sim_pki, tmp_path / f"dso-sim-{reliable}.sqlite", None,
                        retry_interval=RETRY)
        try:
            sim.install_cpa(_cpa(sim, sim_pki, _closed_port_url(), reliable=reliable))
            [nummer] = submit(sim, melding())
            if reliable:  # retried every RETRY s until the Acknowledgment comes (it never does)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and sim.deliveries(nummer)[0].attempts < 3:
                    time.sleep(0.05)
                assert sim.deliveries(nummer)[0].attempts >= 3
                continue
            failed = sim.wait_for_delivery(nummer, timeout=15, status="failed")
            assert "best effort, not re-sent" in failed.last_error
            time.sleep(5 * RETRY)  # five retry intervals
            [again] = sim.deliveries(nummer)
            assert again.attempts == 1
            assert again.status.value == "failed"
        finally:
            sim.stop()
