"""Client of Verzoek afhandelen v2: fetch a verzoek after its verzoeknotificatie.

Flow [C]: fetch the verzoekreferenties by verzoeknummer, then follow the links to the STAM
XML, the publishable PDF and the documenten. Paths other than the links are templates from
:mod:`pytest_dso.dso.paths` (mostly [V]/[?]). Only the addressed bevoegd gezag and its
behandeldienst may fetch; the exact status for "not authorised" is unknown [?], so callers
should assert "not 2xx" via :meth:`AfhandelenClient.referenties_response`.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_dso.dso.rest import ApiError, ApiResponse, RestSession, WritesNotAllowed
from pytest_dso.dso.shapes import (
    DocumentLink,
    Referenties,
    ShapeError,
    Zaakverwijzing,
    ZoekVraag,
    zoek_resultaat_from_json,
)

API = "afhandelen"


class AfhandelenClient:
    """Verzoek afhandelen v2 for one session (identity and acting OIN)."""

    def __init__(self, session: RestSession) -> None:
        self.session = session

    def referenties_response(self, verzoeknummer: str) -> ApiResponse:
        """The raw referenties response (any status), for authorisation checks."""
        return self.session.call("afhandelen.referenties", verzoeknummer=verzoeknummer)

    def referenties(self, verzoeknummer: str) -> Referenties:
        """The links of a verzoek; :class:`ApiError` on a non-2xx status or an unexpected
        body."""
        response = self.referenties_response(verzoeknummer).expect(
            what=f"verzoekreferenties of {verzoeknummer}"
        )
        try:
            return Referenties.from_json(response.json(), self.session.config.relations)
        except ShapeError as exc:
            raise ApiError(
                f"{exc}; if DSO-LV uses other link relations, configure them", response
            ) from None

    def _get(self, href: str, accept: str, what: str) -> ApiResponse:
        url = self.session.resolve(API, href)
        return self.session.request("GET", url, api=API, operation=what, accept=accept).expect(
            what=what
        )

    def verzoek_xml(self, verzoeknummer: str, referenties: Referenties | None = None) -> bytes:
        """The STAM XML of the verzoek, via the referenties' link."""
        refs = referenties or self.referenties(verzoeknummer)
        return self._get(refs.verzoek_href, "application/xml", "afhandelen.verzoek").body

    def pdf(self, verzoeknummer: str, referenties: Referenties | None = None) -> bytes:
        """The publishable PDF, via the referenties' link (or the path template)."""
        refs = referenties or self.referenties(verzoeknummer)
        href = refs.pdf_href or self.session.url("afhandelen.pdf", verzoeknummer=verzoeknummer)
        return self._get(href, "application/pdf", "afhandelen.pdf").body

    def document(self, link: DocumentLink | str) -> bytes:
        """One document's bytes."""
        href = link.href if isinstance(link, DocumentLink) else link
        return self._get(href, "*/*", "afhandelen.document").body

    def documenten(self, referenties: Referenties) -> Iterator[tuple[DocumentLink, bytes]]:
        """Every document of the verzoek, one at a time."""
        for link in referenties.documenten:
            yield link, self.document(link)

    def samenvatting(self, verzoeknummer: str) -> bytes:
        """The original STAM message via ``samenvatting`` [V]."""
        return (
            self.session.call(
                "afhandelen.samenvatting", verzoeknummer=verzoeknummer, accept="application/xml"
            )
            .expect(what=f"samenvatting of {verzoeknummer}")
            .body
        )

    def zoek(self, vraag: ZoekVraag) -> tuple[Zaakverwijzing, ...]:
        """One page of ``_zoek`` results [V operation, ? shape]."""
        response = self.session.call("afhandelen.zoek", json_body=vraag.to_json()).expect(
            what="verzoeken/_zoek"
        )
        try:
            return zoek_resultaat_from_json(response.json())
        except ShapeError as exc:
            raise ApiError(str(exc), response) from None

    def zoek_alle(self, vraag: ZoekVraag, *, max_pages: int = 20) -> tuple[Zaakverwijzing, ...]:
        """All pages of a search, at most ``max_pages`` (stops at the first short page)."""
        hits: list[Zaakverwijzing] = []
        for page in range(vraag.page, vraag.page + max_pages):
            found = self.zoek(
                ZoekVraag(
                    vraag.van, vraag.tot, vraag.verzoeknummer, vraag.polygoon, page, vraag.page_size
                )
            )
            hits.extend(found)
            if len(found) < vraag.page_size:
                break
        return tuple(hits)

    def wijzig_bevoegd_gezag(
        self, verzoeknummer: str, nieuw_oin: str, *, writes_allowed: bool
    ) -> ApiResponse:
        """Hand the verzoek to another bevoegd gezag (path and body [?]). Changes state."""
        if not writes_allowed:
            raise WritesNotAllowed(
                f"changing the bevoegd gezag of {verzoeknummer} changes state in DSO-LV; "
                "allow writes (--dso-allow-writes, or --dso-allow-prod-writes on PROD)"
            )
        return self.session.call(
            "afhandelen.wijzig_bevoegd_gezag",
            json_body={"bevoegdGezag": {"oin": nieuw_oin}},
            verzoeknummer=verzoeknummer,
        )

    def openapi(self) -> ApiResponse:
        """The API's ``openapi.json`` (any status), for evidence."""
        return self.session.call("afhandelen.openapi", accept="application/json")
