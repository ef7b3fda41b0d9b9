"""Client of Verzoeksroutering v2 (public, x-api-key) [C].

The portal lists three services [C]: **Bevoegd gezag bepalen** (the selectable bevoegde
gezagen, naam + OIN + ``afgeleid``), **Conceptverzoek bepalen** and **Behandeldienst bepalen**,
each from functioneleStructuurRefs plus a locatie. Their paths are not public [?]: the defaults
follow DSO-LV's ``…/_bepaal`` naming [I] (``verzoeksroutering.bevoegd_gezag``,
``verzoeksroutering.conceptverzoek``, ``verzoeksroutering.behandeldienst`` in ``[api.paths]``).
The harness uses them as a read-only precheck before someone submits in the loket. JSON field
names are [?].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pytest_dso.dso.rest import ApiError, ApiResponse, RestSession
from pytest_dso.dso.shapes import RouteringAdvies, ShapeError
from pytest_dso.stam.model import Organisatie, RdPunt


class VerzoeksrouteringClient:
    """Verzoeksroutering v2 for one session."""

    def __init__(self, session: RestSession) -> None:
        self.session = session

    @staticmethod
    def _body(
        refs: Sequence[str], locatie: RdPunt | None, locatie_oin: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"functioneleStructuurRefs": list(refs)}
        if locatie is not None:
            body["locatie"] = {
                "type": "Point",
                "crs": "EPSG:28992",
                "coordinates": [locatie.x, locatie.y],
            }
        if locatie_oin:
            body["locatieOin"] = locatie_oin
        return body

    def _call(self, name: str, body: dict[str, Any], what: str) -> tuple[Any, ApiResponse]:
        response = self.session.call(name, json_body=body).expect(what=what)
        data = response.json()
        if not isinstance(data, dict):
            raise ApiError(f"{what}: the response is not a JSON object", response)
        return data, response

    def bevoegd_gezag_bepalen(
        self,
        functionele_structuur_refs: Sequence[str],
        *,
        locatie: RdPunt | None = None,
        locatie_oin: str = "",
    ) -> tuple[tuple[Organisatie, bool], ...]:
        """The selectable bevoegde gezagen, each with its ``afgeleid`` flag."""
        data, response = self._call(
            "verzoeksroutering.bevoegd_gezag",
            self._body(functionele_structuur_refs, locatie, locatie_oin),
            "bevoegd gezag bepalen",
        )
        try:
            return RouteringAdvies.from_json(data).bevoegde_gezagen
        except ShapeError as exc:
            raise ApiError(str(exc), response) from None

    def conceptverzoek_bepalen(
        self,
        functionele_structuur_refs: Sequence[str],
        *,
        locatie: RdPunt | None = None,
        locatie_oin: str = "",
    ) -> bool:
        """Whether a conceptverzoek is allowed for these activiteiten here."""
        data, response = self._call(
            "verzoeksroutering.conceptverzoek",
            self._body(functionele_structuur_refs, locatie, locatie_oin),
            "conceptverzoek bepalen",
        )
        value = data.get("conceptverzoekToegestaan")
        if not isinstance(value, bool):
            raise ApiError("conceptverzoek bepalen: no boolean 'conceptverzoekToegestaan'",
                           response)
        return value

    def behandeldienst_bepalen(
        self,
        functionele_structuur_refs: Sequence[str],
        *,
        bevoegd_gezag_oin: str = "",
        locatie: RdPunt | None = None,
        locatie_oin: str = "",
    ) -> Organisatie | None:
        """The behandeldienst (``None``: the bevoegd gezag handles it itself)."""
        body = self._body(functionele_structuur_refs, locatie, locatie_oin)
        if bevoegd_gezag_oin:
            body["bevoegdGezag"] = {"oin": bevoegd_gezag_oin}
        data, response = self._call("verzoeksroutering.behandeldienst", body,
                                    "behandeldienst bepalen")
        bd = data.get("behandeldienst")
        if bd is None:
            return None
        if not isinstance(bd, dict) or not isinstance(bd.get("oin"), str):
            raise ApiError("behandeldienst bepalen: 'behandeldienst' has no 'oin'", response)
        return Organisatie(str(bd["oin"]), str(bd.get("naam", "")))

    def bepaal(
        self,
        functionele_structuur_refs: Sequence[str],
        *,
        locatie: RdPunt | None = None,
        locatie_oin: str = "",
    ) -> RouteringAdvies:
        """All three answers as one advice (three calls)."""
        refs = functionele_structuur_refs
        kwargs: dict[str, Any] = {"locatie": locatie, "locatie_oin": locatie_oin}
        return RouteringAdvies(
            bevoegde_gezagen=self.bevoegd_gezag_bepalen(refs, **kwargs),
            conceptverzoek_toegestaan=self.conceptverzoek_bepalen(refs, **kwargs),
            behandeldienst=self.behandeldienst_bepalen(refs, **kwargs),
        )
