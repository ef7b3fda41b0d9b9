"""Client of Verzoeksroutering v2 (public, x-api-key) [C].

From functioneleStructuurRefs plus a locatie it determines the selectable bevoegde gezagen,
whether a conceptverzoek is allowed, and the behandeldienst [C]. The harness uses it as a
read-only precheck before someone submits in the loket. Path and JSON field names are [?].
"""

from __future__ import annotations

from collections.abc import Sequence

from pytest_dso.dso.rest import ApiError, RestSession
from pytest_dso.dso.shapes import RouteringAdvies, ShapeError
from pytest_dso.stam.model import RdPunt


class VerzoeksrouteringClient:
    """Verzoeksroutering v2 for one session."""

    def __init__(self, session: RestSession) -> None:
        self.session = session

    def bepaal(
        self,
        functionele_structuur_refs: Sequence[str],
        *,
        locatie: RdPunt | None = None,
        locatie_oin: str = "",
    ) -> RouteringAdvies:
        """The routing advice for these activiteiten at this location."""
        body: dict[str, object] = {"functioneleStructuurRefs": list(functionele_structuur_refs)}
        if locatie is not None:
            body["locatie"] = {
                "type": "Point",
                "crs": "EPSG:28992",
                "coordinates": [locatie.x, locatie.y],
            }
        if locatie_oin:
            body["locatieOin"] = locatie_oin
        response = self.session.call("verzoeksroutering.routering", json_body=body).expect(
            what="verzoeksroutering"
        )
        try:
            return RouteringAdvies.from_json(response.json())
        except ShapeError as exc:
            raise ApiError(str(exc), response) from None
