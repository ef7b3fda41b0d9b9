"""Stopping the simulator while a delivery reaches its final state does not deadlock: the
delivery listeners run without the lock ``stop`` holds while it waits for attempts in flight."""

from __future__ import annotations

import threading
from pathlib import Path

from sim_helpers import Dka, melding, start_sim, submit

from pytest_dso.ebms.msh import AcceptedMessage
from pytest_dso.pkio.testpki import TestPki


class SlowDka(Dka):
    """A DKA whose application holds each verzoeknotificatie until released."""

    def __init__(self, pki: TestPki) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        super().__init__(pki)

    def _deliver(self, delivery: AcceptedMessage) -> None:
        self.arrived.set()
        self.release.wait(10)
        super()._deliver(delivery)


def test_stop_during_a_final_delivery_returns(sim_pki: TestPki, tmp_path: Path) -> None:
    dka = SlowDka(sim_pki)
    dka.receiver.start()
    try:
        sim = start_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka, sync_reply="mshSignalsOnly")
        finals: list[str] = []
        sim.add_delivery_listener(lambda d: finals.append(d.status.value))
        submit(sim, melding())
        assert dka.arrived.wait(10), "the verzoeknotificatie never reached the DKA"
        stopper = threading.Thread(target=sim.stop, daemon=True)
        stopper.start()
        stopper.join(0.3)  # stop() now waits for the attempt in flight
        dka.release.set()  # the sync Acknowledgment ends the delivery while stop() waits
        stopper.join(15)
        assert not stopper.is_alive(), "Simulator.stop() deadlocked with a finishing delivery"
        assert finals == ["acked"]
    finally:
        dka.release.set()
        dka.receiver.stop()
