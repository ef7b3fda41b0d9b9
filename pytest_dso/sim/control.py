"""The simulator's own control API under ``/_sim/`` (needs its own key, header
``x-dso-sim-control-key``, never the public ``x-api-key``).

- ``GET /_sim/status``: URLs, CPA, counts;
- ``GET /_sim/faults``; ``POST /_sim/faults`` with a fault object (or a list);
  ``DELETE /_sim/faults[?kind=…]``;
- ``GET /_sim/deliveries[?verzoeknummer=…]``: verzoeknotificatie deliveries with attempts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pytest_dso.sim.faults import FaultError, FaultInjector, parse_faults
from pytest_dso.sim.rest.http import ApiError, ApiRequest, ApiResponse, json_response
from pytest_dso.sim.store import Store


def delivery_json(store: Store, verzoeknummer: str | None) -> list[dict[str, Any]]:
    """Deliveries (with their attempts) as JSON-ready dicts."""
    out = []
    for d in store.deliveries(verzoeknummer=verzoeknummer):
        message = store.get_message(d.message_id)
        out.append({
            "id": d.id,
            "messageId": message.ebms_message_id if message else "",
            "verzoeknummer": d.verzoeknummer,
            "recipientOin": d.recipient_oin,
            "endpoint": d.endpoint,
            "kopie": d.kopie,
            "status": d.status.value,
            "attempts": d.attempts,
            "lastError": d.last_error,
            "lastHttpStatus": d.last_http_status,
            "ackedAt": d.acked_at.isoformat() if d.acked_at else None,
            "attemptLog": [
                {"at": a.at.isoformat(), "ok": a.ok, "httpStatus": a.http_status,
                 "error": a.error, "durationMs": a.duration_ms}
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
