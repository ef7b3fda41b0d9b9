"""Client of CPA aanbieden: offering a CPA to DSO-LV (mTLS with OIN/HRN).

The API exists [C] but its endpoint, method and payload are not published [?]: all three are
configurable (``[api.base_urls] cpa_aanbieden``, ``[api.paths] "cpa_aanbieden.aanbieden"``,
and the ``method``/``content_type`` arguments). Offering a CPA changes state, so it is guarded
by ``writes_allowed``.
"""

from __future__ import annotations

from pytest_dso.dso.rest import ApiResponse, RestSession, WritesNotAllowed


class CpaAanbiedenClient:
    """CPA aanbieden for one session."""

    def __init__(self, session: RestSession, *, writes_allowed: bool) -> None:
        self.session = session
        self.writes_allowed = writes_allowed

    def aanbieden(
        self,
        cpa_xml: bytes,
        *,
        method: str = "POST",
        content_type: str = "application/xml",
    ) -> ApiResponse:
        """Offer ``cpa_xml``; returns the raw response (any status, see ``expect``)."""
        if not self.writes_allowed:
            raise WritesNotAllowed(
                "offering a CPA changes the ebMS configuration in DSO-LV and is refused: writes "
                "are not allowed (--dso-allow-writes on PRE, --dso-allow-prod-writes on PROD)"
            )
        return self.session.call(
            "cpa_aanbieden.aanbieden", data=cpa_xml, content_type=content_type, method=method
        )
