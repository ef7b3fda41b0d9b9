"""Client of CPA aanbieden: offering a CPA to DSO-LV (mTLS with OIN/HRN).

The API exists [C] but its endpoint, method and payload are not published [?]: all three are
configurable (``[api.base_urls] cpa_aanbieden``, ``[api.paths] "cpa_aanbieden.aanbieden"``,
and the ``method``/``content_type`` arguments). Offering a CPA changes state, so it is guarded
by ``writes_allowed``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pytest_dso.dso.rest import ApiError, ApiResponse, RestSession, WritesNotAllowed
from pytest_dso.findings import Finding, error, info


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


@dataclass(frozen=True)
class CpaOffer:
    """The outcome of offering a CPA (PRE 2.4 / PROD 3 "CPA inladen"), kept as evidence.

    ``status`` is the HTTP status (``None`` when the call did not complete), ``response`` the
    response body as text (cut at :data:`EVIDENCE_LIMIT` characters), ``cpa_id`` the CPAId the
    answer names (else the one offered).
    """

    url: str
    offered_at: str
    findings: tuple[Finding, ...]
    status: int | None = None
    cpa_id: str | None = None
    response: str = ""
    content_type: str = ""

    @property
    def accepted(self) -> bool:
        """True when DSO-LV accepted the CPA (a 2xx answer)."""
        return self.status is not None and 200 <= self.status < 300

    def evidence(self) -> dict[str, Any]:
        """The record for the evidence bundle (no secrets: the CPA and its answer only)."""
        return {"url": self.url, "offered_at": self.offered_at, "status": self.status,
                "accepted": self.accepted, "cpaId": self.cpa_id,
                "content_type": self.content_type, "response": self.response}


#: Upper bound of the response text kept as evidence.
EVIDENCE_LIMIT = 20_000


def _cpa_id_of(body: bytes, offered: str | None) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return offered
    if isinstance(data, dict) and isinstance(data.get("cpaId"), str):
        return str(data["cpaId"])
    return offered


def offer_cpa(session: RestSession, cpa_xml: bytes, *, writes_allowed: bool,
              cpa_id: str | None = None) -> CpaOffer:
    """Offer ``cpa_xml`` through CPA aanbieden; never raises for a refused or failed call."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        url = session.config.base_url("cpa_aanbieden")
    except KeyError as exc:
        return CpaOffer("", now, (error("cpa.offer.no_url", str(exc.args[0]),
                                         "set [api.base_urls] cpa_aanbieden in dso.toml"),))
    client = CpaAanbiedenClient(session, writes_allowed=writes_allowed)
    try:
        response = client.aanbieden(cpa_xml)
    except WritesNotAllowed as exc:
        return CpaOffer(url, now, (error("cpa.offer.not_allowed", str(exc),
                                         "offer the CPA only when you mean to: add "
                                         "--dso-allow-writes (PRE) or --dso-allow-prod-writes "
                                         "(PROD)"),))
    except (ApiError, OSError) as exc:
        return CpaOffer(url, now, (error(
            "cpa.offer.failed", f"CPA aanbieden could not be called: {exc}",
            "check [api.base_urls] cpa_aanbieden, the network path and the client certificate",
            url),))
    text = response.body[:EVIDENCE_LIMIT].decode("utf-8", "replace")
    found_id = _cpa_id_of(response.body, cpa_id)

    def outcome(finding: Finding) -> CpaOffer:
        return CpaOffer(response.url, now, (finding,), response.status, found_id, text,
                        response.content_type)

    if response.ok:
        return outcome(info(
            "cpa.offer.accepted",
            f"CPA {found_id or '(id unknown)'} offered: HTTP {response.status} from "
            f"{response.url}", "", response.url))
    hint = {
        401: "CPA aanbieden needs your PKIoverheid certificate (with OIN or HRN) for mTLS",
        403: "the certificate's OIN may not offer this CPA: the bevoegd gezag must have "
             "mandated you for 'CPA aanbieden' (mandate Excel, PRE 1.2)",
    }.get(response.status, "fix what the answer names (see the CPA checks, suites/test_cpa.py) "
                           "and offer the CPA again")
    return outcome(error(
        "cpa.offer.refused",
        f"CPA aanbieden refused the CPA {found_id or ''}: HTTP {response.status}: "
        f"{text[:500]}", hint, response.url))
