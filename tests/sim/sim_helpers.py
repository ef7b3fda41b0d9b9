"""Helpers for the simulator tests: a DKA (the harness receiver with an application that
records verzoeknotificaties), a simulator wired to it, and HTTP shortcuts."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pytest_dso.ebms.cpa import parse_cpa
from pytest_dso.ebms.msh import AcceptedMessage, Msh
from pytest_dso.ebms.receiver import EbmsReceiver
from pytest_dso.pkio.identity import Identity
from pytest_dso.pkio.testpki import TestPki
from pytest_dso.sim.config import SimOptions
from pytest_dso.sim.server import Simulator
from pytest_dso.stam.xml import parse_verzoeknotificatie
from pytest_dso.transport.client import HttpClient, HttpExchange

GEMEENTE = "00000099000000101000"
WATERSCHAP = "00000099000000102000"
OMGEVINGSDIENST = "00000099000000201000"


class Dka:
    """The harness receiver as DKA, plus the 'application' behind it: every verzoeknummer it
    passes on (after the MSH's duplicate elimination)."""

    def __init__(self, pki: TestPki | None, port: int = 0, *,
                 identity: Identity | None = None,
                 trust: Sequence[x509.Certificate] = ()) -> None:
        if pki is not None:
            identity, trust = pki.identity("digikoppelaar"), pki.hierarchy.anchors
        assert identity is not None
        self.lock = threading.Lock()
        self.application: list[str] = []
        self.msh = Msh(own_party_ids=(identity.oin or "",), on_deliver=self._deliver)
        self.receiver = EbmsReceiver(identity, trust, self.msh, port=port)

    def _deliver(self, delivery: AcceptedMessage) -> None:
        payload = delivery.message.attachments[0].data
        with self.lock:
            self.application.append(parse_verzoeknotificatie(payload).verzoeknummer)

    @property
    def url(self) -> str:
        return self.receiver.url

    def use(self, cpa_xml: bytes) -> None:
        self.receiver.add_cpa(parse_cpa(cpa_xml))

    def copies(self, message_id: str) -> int:
        return sum(1 for r in self.receiver.records()
                   if r.message is not None and r.message.message_id == message_id)

    def received(self, verzoeknummer: str) -> int:
        with self.lock:
            return self.application.count(verzoeknummer)


_CONTEXTS: dict[tuple[bytes, tuple[bytes, ...]], ssl.SSLContext] = {}
_CONTEXTS_LOCK = threading.Lock()


def client_for(identity: Identity | None, trust: Sequence[x509.Certificate],
               **kwargs: Any) -> HttpClient:
    """A fresh :class:`HttpClient` (no connection shared with any other) presenting
    ``identity`` and trusting ``trust``, on a TLS context made once per identity and trust
    (loading a key costs about 15 ms; a context holds no connection or session)."""
    key = (identity.certificate.fingerprint(hashes.SHA256()) if identity is not None else b"",
           tuple(anchor.fingerprint(hashes.SHA256()) for anchor in trust))
    with _CONTEXTS_LOCK:
        context = _CONTEXTS.get(key)
        if context is None:
            made = HttpClient.for_identity(identity, trust).context
            assert made is not None
            context = _CONTEXTS[key] = made
    label = identity.label if identity is not None else "anonymous"
    return HttpClient(context, label=label, **kwargs)


FAST = SimOptions(retry_interval=0.3, retries=20, time_to_live=60.0, workers=4)


def start_sim(pki: TestPki, store: Path, dka: Dka | None, **changes: Any) -> Simulator:
    """A started simulator on ``store`` connected to ``dka`` (when given)."""
    sim = Simulator(FAST.with_changes(**changes), pki, store)
    sim.start()
    if dka is not None:
        cpa = sim.local_cpa(dka.url)
        sim.install_cpa(cpa)
        dka.use(cpa)
    return sim


@contextmanager
def running_dka(pki: TestPki) -> Iterator[Dka]:
    """A started DKA for ``pki``'s Digikoppelaar, stopped on leaving."""
    dka = Dka(pki)
    dka.receiver.start()
    try:
        yield dka
    finally:
        dka.receiver.stop()


@contextmanager
def running_sim(pki: TestPki, store: Path, dka: Dka | None, **changes: Any) -> Iterator[Simulator]:
    """:func:`start_sim`, stopped on leaving."""
    sim = start_sim(pki, store, dka, **changes)
    try:
        yield sim
    finally:
        sim.stop()


def melding(oin: str = GEMEENTE, activiteit: str = "Gemeentes – Melding",
            bijlagen: int = 0) -> dict[str, Any]:
    """An indienbericht (one activiteit) in the simulator's JSON model."""
    return {
        "type": "Melding" if activiteit.endswith("Melding") else "Informatie",
        "naam": "Aansluittest",
        "locatieOin": GEMEENTE,
        "activiteiten": [{
            "activiteit": {"naam": activiteit, "oin": oin},
            "bevoegdGezag": {"oin": oin},
            "specificaties": [{"vraagId": "4", "antwoord": "Jan Tester"}],
        }],
        "bijlagen": [{"seed": n, "size": 2000, "bestandsnaam": f"tekening-{n}.pdf"}
                     for n in range(bijlagen)],
    }


def submit(sim: Simulator, bericht: dict[str, Any]) -> list[str]:
    """Submit ``bericht`` through the indienen API (three steps) and return the
    verzoeknummers."""
    http = HttpClient.for_identity(None, sim.trust_anchors)
    headers = {"x-api-key": sim.api_key, "Content-Type": "application/json"}
    base = sim.api_url("indienen")
    started = http.post(f"{base}/verzoeken", json.dumps(bericht).encode(), headers=headers)
    assert started.status == 201, started.response_body
    verzoek_id = json.loads(started.response_body)["verzoekId"]
    done = http.post(f"{base}/verzoeken/{verzoek_id}", b"{}", headers=headers)
    assert done.status == 200, done.response_body
    return [str(n) for n in json.loads(done.response_body)["verzoeknummers"]]


def get(sim: Simulator, pki: TestPki | None, slug: str | None, url: str,
        **headers: str) -> HttpExchange:
    """GET ``url`` with the certificate of party ``slug`` (``None``: no certificate)."""
    identity = pki.identity(slug) if pki is not None and slug else None
    return client_for(identity, sim.trust_anchors).get(url, headers=headers)


def body_json(exchange: HttpExchange) -> Any:
    return json.loads(exchange.response_body)
