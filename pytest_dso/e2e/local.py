"""The local chain: the harness's ebMS receiver as the reference DKA of the simulator.

In local mode nothing real sits between DSO-LV and the VTH system, so the harness plays the
Digikoppeling-adapter: an :class:`~pytest_dso.ebms.receiver.EbmsReceiver` with the test PKI's
Digikoppelaar certificate, registered in the simulator through a CPA whose endpoint is the
receiver. Every verzoeknotificatie it accepts (and acknowledges as the CPA asks) is recorded by
the ``receiver`` trigger source and handed on by the configured forwarders (drop folder,
HTTPS forward, ebms-core stand-in), exactly as a real adapter hands it to the application.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from cryptography import x509

from pytest_dso.e2e.forwarders import Forwarder, Received
from pytest_dso.ebms.cpa import Cpa, parse_cpa
from pytest_dso.ebms.msh import AcceptedMessage
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.pkio.identity import Identity
from pytest_dso.triggers.receiver import ReceiverTriggerSource, payload_of


class _Simulator(Protocol):
    def local_cpa(self, dka_endpoint: str, dka_certificate: x509.Certificate | None = None,
                  *, dka_oin: str | None = None) -> bytes: ...

    def install_cpa(self, xml: bytes) -> Cpa: ...


def _oin(value: str) -> str:
    tail = value.rsplit(":", 1)[-1]
    return tail if tail.isdigit() and len(tail) == 20 else ""


class ReferenceDka:
    """Receive verzoeknotificaties from the simulator and hand them on."""

    def __init__(
        self,
        identity: Identity,
        trust: Sequence[x509.Certificate],
        *,
        source: ReceiverTriggerSource | None = None,
        forwarders: Sequence[Forwarder] = (),
    ) -> None:
        self.receiver = EbmsReceiver(identity, trust, label="dso-reference-dka")
        self.receiver.msh.on_deliver = self._on_deliver
        self.source = source
        self.forwarders = tuple(forwarders)
        self._lock = threading.Lock()
        self._errors: list[str] = []
        self.cpa: Cpa | None = None

    @property
    def url(self) -> str:
        """The ebMS endpoint (after :meth:`start`)."""
        return self.receiver.url

    def start(self) -> ReferenceDka:
        """Start the receiver."""
        self.receiver.start()
        return self

    def stop(self) -> None:
        """Stop the receiver."""
        self.receiver.stop()

    def __enter__(self) -> ReferenceDka:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def attach(self, simulator: _Simulator) -> Cpa:
        """Make ``simulator`` deliver here: install a CPA naming this endpoint (the newest CPA
        receives for every bevoegd gezag) and accept messages under it."""
        xml = simulator.local_cpa(self.url, self.receiver.identity.certificate)
        simulator.install_cpa(xml)
        cpa = parse_cpa(xml)
        self.receiver.add_cpa(cpa)
        self.cpa = cpa
        return cpa

    def errors(self) -> list[str]:
        """Forwarding problems (a forwarder that could not hand a message on)."""
        with self._lock:
            return list(self._errors)

    def _on_deliver(self, delivery: AcceptedMessage) -> None:
        if self.source is not None:
            self.source.on_delivery(delivery)
        header = delivery.message.header
        received = Received(
            payload=payload_of(delivery.message),
            message_id=header.message_id,
            from_oin=next((o for p in header.from_parties if (o := _oin(p.value))), ""),
            to_oin=next((o for p in header.to_parties if (o := _oin(p.value))), ""),
            cpa_id=header.cpa_id,
        )
        for forwarder in self.forwarders:
            try:
                forwarder.forward(received)
            except Exception as exc:  # the DKA acknowledged; the hand-over failing is reported
                with self._lock:
                    if len(self._errors) < 100:
                        self._errors.append(f"{type(forwarder).__name__}: {exc}")
