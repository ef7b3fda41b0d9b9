"""Load against a running simulator: submissions through its indienen API over HTTPS, outcomes
from its delivery events (a verzoek counts as delivered when its verzoeknotificatie is acked).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from cryptography import x509

from pytest_dso.sim.delivery import FINAL_STATES, Delivery, DeliveryStatus
from pytest_dso.sim.load import LoadProgress, LoadRun, Submit
from pytest_dso.sim.stats import LoadReport
from pytest_dso.transport.client import HttpClient

if TYPE_CHECKING:
    from pytest_dso.sim.server import Simulator

#: At most this many failed or open verzoeken are looked up to say why.
REASONS_FROM = 500
#: The activiteit every load verzoek is for (a PRE aansluitactiviteit the simulator knows).
LOAD_ACTIVITEIT = "Gemeentes – Melding"


def load_target_oin(sim: Simulator) -> str:
    """The bevoegd gezag load verzoeken go to: the first configured gemeente."""
    for bg in sim.options.bevoegde_gezagen:
        if bg.type == "gemeente":
            return bg.oin
    if sim.options.bevoegde_gezagen:
        return sim.options.bevoegde_gezagen[0].oin
    raise ValueError("the simulator has no bevoegd gezag to submit verzoeken to")


def make_submitter(sim: Simulator, *, bijlagen: int = 0, bijlage_size: int = 20_000) -> Submit:
    """A ``submit(i)`` for ``sim`` (see :func:`submitter`)."""
    return submitter(sim.api_url("indienen"), sim.api_key, sim.trust_anchors,
                     load_target_oin(sim), bijlagen=bijlagen, bijlage_size=bijlage_size)


def submitter(indienen_url: str, api_key: str, trust: Sequence[x509.Certificate], oin: str,
              *, bijlagen: int = 0, bijlage_size: int = 20_000) -> Submit:
    """A ``submit(i)`` that sends verzoek ``i`` for bevoegd gezag ``oin`` through the indienen
    API at ``indienen_url`` in one call (``definitief: true``) and returns its
    verzoeknummers. Usable from another process than the simulator's."""
    http = HttpClient.for_identity(None, trust, max_idle_per_host=64)
    url = indienen_url + "/verzoeken"
    headers = {"x-api-key": api_key, "Content-Type": "application/json",
               "Accept": "application/hal+json"}

    def submit(index: int) -> list[str]:
        body = {
            "type": "Melding",
            "naam": f"dso-sim load {index}",
            "locatieOin": oin,
            "activiteiten": [{
                "activiteit": {"naam": LOAD_ACTIVITEIT, "oin": oin},
                "bevoegdGezag": {"oin": oin},
                "specificaties": [{"vraagId": "1", "antwoord": f"load {index}"}],
            }],
            "bijlagen": [
                {"seed": index * 100 + n, "size": bijlage_size, "bestandsnaam": f"b{n}.pdf"}
                for n in range(bijlagen)
            ],
            "definitief": True,
        }
        exchange = http.post(url, json.dumps(body).encode(), headers=headers)
        if exchange.status != 201:
            raise RuntimeError(exchange.error or f"HTTP {exchange.status}: "
                               + exchange.response_body[:200].decode("utf-8", "replace"))
        nummers = json.loads(exchange.response_body).get("verzoeknummers") or []
        return [str(n) for n in nummers]

    return submit


def run_load(
    sim: Simulator,
    count: int,
    rate: float,
    *,
    timeout: float = 120.0,
    bijlagen: int = 0,
    bijlage_size: int = 20_000,
    workers: int = 8,
    progress: Callable[[str], None] | None = None,
) -> LoadReport:
    """Submit ``count`` verzoeken at ``rate``/s and wait for their deliveries."""
    run = LoadRun(make_submitter(sim, bijlagen=bijlagen, bijlage_size=bijlage_size), count,
                  rate, workers=workers)

    def on_final(delivery: Delivery) -> None:
        run.completed(delivery.verzoeknummer, delivery.status is DeliveryStatus.ACKED,
                      delivery.attempts > 1)

    def show(p: LoadProgress) -> None:
        if progress is not None:
            progress(f"{p.elapsed:6.1f} s  submitted {p.submitted}/{p.requested}  "
                     f"delivered {p.completed}  failed {p.failed}")

    sim.add_delivery_listener(on_final)
    try:
        report = run.run(timeout, show)
    finally:
        sim.remove_delivery_listener(on_final)
    failed, open_ = run.unsettled()
    if not failed and not open_:
        return report
    # this run's only (the store may hold earlier runs'), and a bounded number of them
    deliveries = [d for number in sorted(failed | open_)[:REASONS_FROM]
                  for d in sim.deliveries(number)]
    return replace(report, pending=pending_reasons(deliveries, time.time()),
                   failures=failure_reasons(deliveries))


def _by_cause(deliveries: Sequence[Delivery]) -> list[tuple[str, str, list[Delivery]]]:
    """``deliveries`` grouped by endpoint and last error, the largest group first."""
    groups: dict[tuple[str, str], list[Delivery]] = {}
    for delivery in deliveries:
        groups.setdefault((delivery.endpoint, delivery.last_error or ""), []).append(delivery)
    return [(endpoint, error, items) for (endpoint, error), items
            in sorted(groups.items(), key=lambda g: -len(g[1]))]


def pending_reasons(deliveries: Sequence[Delivery], now: float) -> tuple[str, ...]:
    """Why the deliveries that are not final are still open: how many per endpoint and last
    error, after how many attempts, and when the next one is due."""
    reasons = []
    for endpoint, last_error, items in _by_cause(
            [d for d in deliveries if d.status not in FINAL_STATES]):
        attempts = max(d.attempts for d in items)
        due = min(d.next_attempt for d in items) - now
        if last_error:
            what = f"last error {last_error!r} after {attempts} attempt(s)"
        elif any(d.status is DeliveryStatus.SENT for d in items):
            what = "taken by the DKA, its Acknowledgment has not come"
        else:
            what = "not sent yet"
        hint = (f"; the next attempt is due in {due:.0f} s (the CPA's RetryInterval: "
                "--retry-interval or --time-scale shorten it)" if due > 1 else "")
        reasons.append(f"{len(items)} verzoeknotificatie(s) to {endpoint or 'the DKA'}: "
                       f"{what}{hint}")
    return tuple(reasons)


def failure_reasons(deliveries: Sequence[Delivery]) -> tuple[str, ...]:
    """Why the failed and expired deliveries failed, per endpoint and last error."""
    ended = [d for d in deliveries
             if d.status in (DeliveryStatus.FAILED, DeliveryStatus.EXPIRED)]
    return tuple(
        f"{len(items)} verzoeknotificatie(s) to {endpoint or 'the DKA'} "
        f"{items[0].status.value} after {max(d.attempts for d in items)} attempt(s): "
        f"{last_error or 'no error recorded'}"
        for endpoint, last_error, items in _by_cause(ended))
