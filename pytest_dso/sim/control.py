"""The simulator's own control API under ``/_sim/`` (needs its own key, header
``x-dso-sim-control-key``, never the public ``x-api-key``).

- ``GET /_sim/status``: URLs, CPA, counts;
- ``GET /_sim/faults``; ``POST /_sim/faults`` with a fault object (or a list);
  ``DELETE /_sim/faults[?kind=…]``;
- ``GET /_sim/deliveries[?verzoeknummer=…]``: verzoeknotificatie deliveries with attempts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from pytest_dso.sim.faults import FaultError, FaultInjector, parse_faults
from pytest_dso.sim.rest.http import ApiRequest, json_response
from pytest_dso.sim.store import Store
from pytest_dso.transport.api import ApiError, ApiResponse


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="microseconds")


def delivery_json(store: Store, verzoeknummer: str | None) -> list[dict[str, Any]]:
    """Deliveries (with their attempts) as JSON-ready dicts."""
    out = []
    for d in store.deliveries(verzoeknummer=verzoeknummer):
        out.append({
            "id": d.id,
            "messageId": d.message_id,
            "verzoeknummer": d.verzoeknummer,
            "recipientOin": d.recipient_oin,
            "endpoint": d.endpoint,
            "kopie": d.kopie,
            "status": d.status.value,
            "attempts": d.attempts,
            "lastError": d.last_error,
            "lastHttpStatus": d.last_http_status,
            "ackedAt": _iso(d.acked_at) if d.acked_at is not None else None,
            "attemptLog": [
                {"at": _iso(a.started), "ok": a.ok, "httpStatus": a.http_status,
                 "error": a.detail, "durationMs": a.duration * 1000.0}
                for a in store.attempts(d.id)
            ],
        })
    return out


def control_handler(
    faults: FaultInjector, store: Store, status: Callable[[], Mapping[str, Any]]
) -> Callable[[ApiRequest], ApiResponse]:
    """The ``/_sim/`` handler for one simulator."""

    def handle(request: ApiRequest) -> ApiResponse:
        path = request.path.rstrip("/")
        if path == "/_sim/status" and request.method == "GET":
            return json_response(dict(status()))
        if path == "/_sim/faults":
            if request.method == "GET":
                return json_response(faults.snapshot())
            if request.method == "POST":
                try:
                    added = parse_faults(request.json())
                except FaultError as exc:
                    raise ApiError(400, "Ongeldige fout-injectie", str(exc)) from None
                for fault in added:
                    faults.add(fault)
                return json_response(faults.snapshot(), 201)
            if request.method == "DELETE":
                faults.clear(request.arg("kind"))
                return json_response(faults.snapshot())
            raise ApiError(405, "Methode niet toegestaan", "use GET, POST or DELETE")
        if path == "/_sim/deliveries" and request.method == "GET":
            return json_response({"deliveries": delivery_json(store, request.arg("verzoeknummer"))})
        raise ApiError(404, "Niet gevonden",
                       "control endpoints: /_sim/status, /_sim/faults, /_sim/deliveries")

    return handle
