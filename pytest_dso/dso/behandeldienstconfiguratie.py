"""Client of Behandeldienstconfiguratie v1 (PKIoverheid mTLS only) [C].

Create is ``POST`` to the base URL with ``Content-Type: application/json`` and ``Accept:
application/hal+json``, expecting 200 [C]. List, get and delete paths are [I]/[?] templates
(:mod:`pytest_dso.dso.paths`); the accepted status sets are configurable. Writes refuse with
:class:`~pytest_dso.dso.rest.WritesNotAllowed` unless ``writes_allowed`` is true (from
``DsoSettings.writes_allowed()``), before anything is sent.
"""

from __future__ import annotations

from pytest_dso.dso.rest import ApiError, ApiResponse, RestSession, WritesNotAllowed
from pytest_dso.dso.shapes import (
    BehandeldienstConfiguratie,
    ShapeError,
    configuraties_from_json,
)

#: Statuses accepted for a create [C: 200; 201 tolerated].
CREATE_OK = (200, 201)
#: Statuses accepted for a delete [?].
DELETE_OK = (200, 202, 204)


class BehandeldienstconfiguratieClient:
    """Create/list/get/delete behandeldienstconfiguraties for one session."""

    def __init__(
        self,
        session: RestSession,
        *,
        writes_allowed: bool,
        create_ok: tuple[int, ...] = CREATE_OK,
        delete_ok: tuple[int, ...] = DELETE_OK,
    ) -> None:
        self.session = session
        self.writes_allowed = writes_allowed
        self.create_ok = create_ok
        self.delete_ok = delete_ok

    def _guard(self, what: str) -> None:
        if not self.writes_allowed:
            raise WritesNotAllowed(
                f"{what} changes the routing of real verzoeken in DSO-LV and is refused: writes "
                "are not allowed. Use --dso-allow-writes on PRE (--dso-allow-prod-writes on "
                "PROD) when you mean it"
            )

    @staticmethod
    def _parse(response: ApiResponse) -> BehandeldienstConfiguratie:
        try:
            return BehandeldienstConfiguratie.from_json(response.json())
        except ShapeError as exc:
            raise ApiError(str(exc), response) from None

    def create_response(self, configuratie: BehandeldienstConfiguratie) -> ApiResponse:
        """POST the configuration (guarded); the raw response, any status."""
        self._guard(f"creating {configuratie.describe()}")
        body = configuratie.to_json()
        body.pop("id", None)
        return self.session.call("behandeldienstconfiguratie.create", json_body=body)

    def create(self, configuratie: BehandeldienstConfiguratie) -> BehandeldienstConfiguratie:
        """Create; returns the stored configuration (with its id when the response has one)."""
        response = self.create_response(configuratie).expect(
            *self.create_ok, what="creating a behandeldienstconfiguratie"
        )
        if not response.body.strip():
            return configuratie
        return self._parse(response)

    def list(self) -> tuple[BehandeldienstConfiguratie, ...]:
        """The configurations visible to the caller."""
        response = self.session.call("behandeldienstconfiguratie.list").expect(
            what="listing behandeldienstconfiguraties"
        )
        try:
            return configuraties_from_json(response.json())
        except ShapeError as exc:
            raise ApiError(str(exc), response) from None

    def get(self, configuratie_id: str) -> BehandeldienstConfiguratie:
        """One configuration by id."""
        response = self.session.call("behandeldienstconfiguratie.get", id=configuratie_id).expect(
            what=f"behandeldienstconfiguratie {configuratie_id}"
        )
        return self._parse(response)

    def delete(self, configuratie_id: str) -> ApiResponse:
        """Delete by id (guarded)."""
        self._guard(f"deleting behandeldienstconfiguratie {configuratie_id}")
        return self.session.call("behandeldienstconfiguratie.delete", id=configuratie_id).expect(
            *self.delete_ok, what=f"deleting behandeldienstconfiguratie {configuratie_id}"
        )
