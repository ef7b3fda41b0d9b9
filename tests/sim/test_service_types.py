"""A CPA that binds the verzoeknotificatie service under a best-effort and a reliable type:
the simulator sends on the reliable binding and the DKA acknowledges on that channel."""

from __future__ import annotations

import datetime as dt
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

BE = "urn:test:be:services"
RM = "urn:test:rm:services"


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
