"""Authentication and authorisation as DSO-LV does it: the OIN of the client certificate plus
the mandate table (``pkio`` APIs), or an ``x-api-key`` (public APIs)."""

from __future__ import annotations

import hmac

from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.sim.rest.backend import Backend, Caller
from pytest_dso.sim.rest.http import ApiRequest
from pytest_dso.transport.api import ApiError


def require_api_key(request: ApiRequest, key: str) -> None:
    """401 unless the request carries the simulator's ``x-api-key`` (compared in constant
    time; the key itself never appears in a response)."""
    given = request.header("x-api-key")
    if not given:
        raise ApiError(401, "API-key ontbreekt",
                       "this public API needs the header x-api-key; dso-sim serve writes the "
                       "key of this run to api-key in its output folder")
    if not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiError(401, "Ongeldige API-key",
                       "the x-api-key header does not hold this simulator's key")


#: Header that carries the key of the simulator's control API ``/_sim``.
CONTROL_KEY_HEADER = "x-dso-sim-control-key"


def require_control_key(request: ApiRequest, key: str) -> None:
    """401 unless the request carries the control API's own key (the public ``x-api-key``
    never opens ``/_sim``; without a configured key the control API stays closed)."""
    given = request.header(CONTROL_KEY_HEADER)
    if not given or not key or not hmac.compare_digest(given.encode(), key.encode()):
        raise ApiError(401, "Control-key ontbreekt of is ongeldig",
                       f"the simulator's control API needs the header {CONTROL_KEY_HEADER}; "
                       "dso-sim serve writes this run's key to control-key in its output "
                       "folder (the public x-api-key does not open it)")


def pkio_caller(request: ApiRequest, backend: Backend, acting_header: str | None,
                mandate: Mandaat) -> Caller:
    """The caller of a ``pkio`` API: 401 without a client certificate with an OIN; 403 when
    it names an acting OIN it holds no ``mandate`` for."""
    if not request.has_client_certificate:
        raise ApiError(401, "Clientcertificaat ontbreekt",
                       "this API needs mutual TLS with a PKIoverheid client certificate")
    if not request.peer_oin:
        raise ApiError(401, "Geen OIN in certificaat",
                       "the client certificate has no OIN in subject.serialNumber")
    acting = request.header(acting_header) if acting_header else None
    if acting and acting != request.peer_oin:
        if not backend.may_act_for(request.peer_oin, acting, mandate):
            raise ApiError(403, "Geen mandaat",
                           f"OIN {request.peer_oin} holds no '{mandate}' mandate from {acting}",
                           oin=request.peer_oin)
        return Caller(request.peer_oin, acting)
    return Caller(request.peer_oin)
