"""Verzoek ophalen (PRE 4.1 / PROD 6): fetch everything of a verzoek and check it.

With the tenant's certificate and OIN: the verzoekreferenties, the STAM XML (schema-validated
and parsed), every bijlage (size and SHA-256 compared with the metadata in the STAM XML and,
where present, in the referenties) and the publishable PDF. Then the content checks: the
verzoeknummer and type match the submission, the bevoegd gezag is the expected one, the tenant
is the uitvoerende instantie or (a kopiebericht, reported not failed) the bevoegd gezag.

Every problem is a finding with its own check id, so each broken link gets its own verdict:

=================================  =========================================================
``e2e.ophalen.unauthorised``       401/403: the certificate or OIN may not fetch this verzoek
``e2e.ophalen.not_found``          404 on the referenties
``e2e.ophalen.status``             another non-2xx status
``e2e.ophalen.transport``          no HTTP answer (DNS, TCP, TLS, timeout)
``e2e.ophalen.referenties``        the referenties body is not usable
``e2e.ophalen.stam_unreadable``    the STAM XML cannot be read as a verzoek
``stam.*`` (validation)            the STAM XML fails schema validation
``stam.bijlage.size``/``sha256``   a bijlage differs from its metadata
``e2e.ophalen.bijlage_missing``    a bijlage in the XML has no link
``e2e.ophalen.pdf``                the publishable PDF is missing or not a PDF
``e2e.verzoek.bevoegd_gezag``      the bevoegd gezag differs from the one submitted to
``stam.verzoek.*``                 verzoeknummer, type, OIN and kopiebericht checks
=================================  =========================================================
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.rest import ApiError, ApiResponse, TransportError
from pytest_dso.dso.shapes import DocumentLink, Referenties, ShapeError
from pytest_dso.e2e.openapi import OpenApiDocument
from pytest_dso.findings import Finding, error, info, warning
from pytest_dso.stam.model import Bijlage, Verzoek, VerzoekType
from pytest_dso.stam.validate import check_bijlage, check_verzoek, validate_verzoek
from pytest_dso.stam.xml import StamParseError, parse_verzoek
from pytest_dso.xmlsafe import UnsafeXmlError

#: Link relations tried for the publishable PDF when the configured one is absent.
PDF_RELATIONS = ("pdf", "publiceerbaarVerzoek", "publiceerbaar", "publiceerbareVersie")


@dataclass(frozen=True)
class Expectation:
    """What the fetched verzoek must match."""

    tenant_oin: str
    verzoeknummer: str
    verzoektype: VerzoekType | None = None
    bevoegd_gezag_oin: str | None = None
    verzoeknummer_pattern: str = r"^\d{13}$"
    xsd_dir: Path | None = None


@dataclass(frozen=True)
class FetchedDocument:
    """One fetched bijlage: its id, size and SHA-256."""

    document_id: str
    bestandsnaam: str
    size: int
    sha256: str
    content: bytes = field(default=b"", repr=False)


@dataclass(frozen=True)
class OphaalResult:
    """Everything fetched, and the verdicts."""

    verzoeknummer: str
    findings: tuple[Finding, ...]
    referenties: Referenties | None = None
    stam_xml: bytes = field(default=b"", repr=False)
    verzoek: Verzoek | None = None
    pdf: bytes = field(default=b"", repr=False)
    documents: tuple[FetchedDocument, ...] = ()
    fetched_at: dt.datetime | None = None
    api_version: str = ""

    @property
    def kopiebericht(self) -> bool:
        """True when the tenant received this verzoek as a kopiebericht."""
        return any(f.check == "stam.verzoek.kopiebericht" for f in self.findings)

    @property
    def complete(self) -> bool:
        """True when the STAM XML was fetched and parsed."""
        return self.verzoek is not None


def _status_finding(exc: ApiError, what: str, tenant_oin: str, where: str) -> Finding:
    if isinstance(exc, TransportError):
        return error("e2e.ophalen.transport",
                     f"{what}: no HTTP answer ({exc.kind}): {exc}",
                     "check DNS, the whitelist and the TLS set-up (run the network and PKIo "
                     "suites)", where)
    status = exc.status
    body = exc.response.body[:300].decode("utf-8", "replace") if exc.response else ""
    if status in (401, 403):
        return error("e2e.ophalen.unauthorised",
                     f"{what}: HTTP {status}; the caller (certificate OIN, acting for "
                     f"{tenant_oin}) may not fetch this verzoek. Answer: {body}",
                     "check that DSO-LV mandated your certificate's OIN for 'Ophalen verzoek' "
                     "for this bevoegd gezag (mandate Excel), that the tenant is the bevoegd "
                     "gezag or its behandeldienst, and [api] acting_oin_header", where,
                     status=str(status))
    if status == 404:
        return error("e2e.ophalen.not_found", f"{what}: HTTP 404. Answer: {body}",
                     "check the verzoeknummer and [api.paths] afhandelen.referenties", where)
    return error("e2e.ophalen.status", f"{what}: HTTP {status}. Answer: {body}",
                 "retry later; if it persists, report it to DSO-beheer with the evidence",
                 where, status=str(status or ""))


def _document_id(link: DocumentLink) -> str:
    if link.document_id:
        return link.document_id
    return unquote(urlsplit(link.href).path.rstrip("/").rsplit("/", 1)[-1])


def _pdf_href(refs: Referenties) -> str:
    if refs.pdf_href:
        return refs.pdf_href
    links = refs.raw.get("_links", {}) if isinstance(refs.raw, Mapping) else {}
    for rel in PDF_RELATIONS:
        value = links.get(rel) if isinstance(links, Mapping) else None
        if isinstance(value, Mapping) and isinstance(value.get("href"), str):
            return str(value["href"])
    return ""


class Ophaler:
    """Fetches and checks verzoeken through one :class:`AfhandelenClient`."""

    def __init__(
        self,
        client: AfhandelenClient,
        *,
        openapi: OpenApiDocument | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.client = client
        self.openapi = openapi
        self._clock = clock

    def _openapi(self, response: ApiResponse | None, method: str = "GET") -> list[Finding]:
        if self.openapi is None or response is None:
            return []
        return self.openapi.validate_response(
            method, response.url, response.status, response.content_type, response.body
        )

    def fetch(self, expect: Expectation) -> OphaalResult:
        """Fetch and check the verzoek ``expect.verzoeknummer`` for ``expect.tenant_oin``."""
        nr = expect.verzoeknummer
        where = f"verzoek {nr} for {expect.tenant_oin}"
        findings: list[Finding] = []
        try:
            response = self.client.referenties_response(nr)
        except ApiError as exc:
            return OphaalResult(nr, (_status_finding(exc, "verzoekreferenties", expect.tenant_oin,
                                                     where),))
        findings.extend(self._openapi(response))
        version = response.headers.get("api-version", "")
        if not response.ok:
            failure = ApiError("referenties", response)
            return OphaalResult(nr, (*findings, _status_finding(
                failure, "verzoekreferenties", expect.tenant_oin, where)), api_version=version)
        try:
            refs = Referenties.from_json(response.json(), self.client.session.config.relations)
        except (ShapeError, ApiError) as exc:
            findings.append(error("e2e.ophalen.referenties",
                                  f"the verzoekreferenties are not usable: {exc}",
                                  "configure the link relations if DSO-LV uses other names",
                                  where))
            return OphaalResult(nr, tuple(findings), api_version=version)
        if refs.verzoeknummer and refs.verzoeknummer != nr:
            findings.append(error("e2e.ophalen.referenties_verzoeknummer",
                                  f"asked for {nr}, the referenties are for "
                                  f"{refs.verzoeknummer}", "", where))
        try:
            xml = self.client.verzoek_xml(nr, refs)
        except ApiError as exc:
            findings.append(_status_finding(exc, "STAM XML", expect.tenant_oin, where))
            return OphaalResult(nr, tuple(findings), refs, api_version=version)
        findings.extend(validate_verzoek(xml, expect.xsd_dir))
        verzoek: Verzoek | None
        try:
            verzoek = parse_verzoek(xml)
        except (StamParseError, UnsafeXmlError) as exc:
            verzoek = None
            findings.append(error("e2e.ophalen.stam_unreadable",
                                  f"the STAM XML cannot be read as a verzoek: {exc}",
                                  "compare the XML with the STAM XSD ([stam] xsd_dir)", where))
        documents: list[FetchedDocument] = []
        if verzoek is not None:
            findings.extend(check_verzoek(verzoek, expect.tenant_oin, nr, expect.verzoektype,
                                          pattern=expect.verzoeknummer_pattern))
            findings.extend(self._bevoegd_gezag(verzoek, expect, where))
            documents, doc_findings = self._bijlagen(verzoek, refs, expect, where)
            findings.extend(doc_findings)
        pdf, pdf_findings = self._pdf(refs, expect, where)
        findings.extend(pdf_findings)
        return OphaalResult(nr, tuple(findings), refs, xml, verzoek, pdf, tuple(documents),
                            self._clock(), version)

    @staticmethod
    def _bevoegd_gezag(verzoek: Verzoek, expect: Expectation, where: str) -> list[Finding]:
        wanted = expect.bevoegd_gezag_oin
        if not wanted or verzoek.bevoegd_gezag.oin == wanted:
            return []
        return [error("e2e.verzoek.bevoegd_gezag",
                      f"the verzoek's bevoegd gezag is {verzoek.bevoegd_gezag.oin} "
                      f"({verzoek.bevoegd_gezag.naam or 'no name'}), the submission went to "
                      f"{wanted}",
                      "check the address and activiteit chosen in the loket, and the "
                      "bevoegd gezag the aansluitactiviteit belongs to", where)]

    def _bijlagen(
        self, verzoek: Verzoek, refs: Referenties, expect: Expectation, where: str
    ) -> tuple[list[FetchedDocument], list[Finding]]:
        findings: list[Finding] = []
        fetched: list[FetchedDocument] = []
        links = {_document_id(link): link for link in refs.documenten}
        by_name = {link.bestandsnaam: link for link in refs.documenten if link.bestandsnaam}
        announced = _referenties_metadata(refs)
        used: set[str] = set()
        for bijlage in verzoek.bijlagen:
            link = links.get(bijlage.document_id) or by_name.get(bijlage.bestandsnaam)
            if link is None:
                findings.append(error("e2e.ophalen.bijlage_missing",
                                      f"bijlage {bijlage.document_id} ({bijlage.bestandsnaam}) is "
                                      "in the STAM XML but the referenties have no link for it",
                                      "report it to DSO-beheer with the evidence", where))
                continue
            used.add(link.href)
            try:
                content = self.client.document(link)
            except ApiError as exc:
                findings.append(_status_finding(exc, f"bijlage {bijlage.document_id}",
                                                expect.tenant_oin, where))
                continue
            digest = hashlib.sha256(content).hexdigest()
            findings.extend(check_bijlage(bijlage, content, sha256=digest))
            meta = announced.get(bijlage.document_id)
            if meta is not None:
                findings.extend(check_bijlage(meta, content, sha256=digest))
            fetched.append(FetchedDocument(bijlage.document_id, bijlage.bestandsnaam,
                                           len(content), digest, content))
        extra = [link for link in refs.documenten if link.href not in used]
        if extra and verzoek.bijlagen:
            findings.append(warning("e2e.ophalen.bijlage_unannounced",
                                    f"{len(extra)} document link(s) in the referenties are not in "
                                    "the STAM XML: "
                                    + ", ".join(_document_id(link) for link in extra[:5]),
                                    "", where))
        return fetched, findings

    def _pdf(self, refs: Referenties, expect: Expectation,
             where: str) -> tuple[bytes, list[Finding]]:
        href = _pdf_href(refs)
        try:
            pdf = self.client.pdf(expect.verzoeknummer, Referenties(
                refs.verzoeknummer, refs.verzoek_href, href, refs.documenten, refs.volgnummer,
                refs.raw))
        except ApiError as exc:
            finding = _status_finding(exc, "publishable PDF", expect.tenant_oin, where)
            return b"", [Finding("e2e.ophalen.pdf", finding.severity, finding.message,
                                 finding.hint, where)]
        if not pdf.startswith(b"%PDF-"):
            return pdf, [error("e2e.ophalen.pdf",
                               f"the publishable version is not a PDF (starts with {pdf[:8]!r})",
                               "", where)]
        return pdf, [info("e2e.ophalen.pdf", f"publishable PDF fetched ({len(pdf)} bytes)", "",
                          where)]


def _referenties_metadata(refs: Referenties) -> dict[str, Bijlage]:
    """Size/SHA-256 the referenties announce per document, when their links carry them."""
    links = refs.raw.get("_links", {}) if isinstance(refs.raw, Mapping) else {}
    raw_docs = links.get("documenten") if isinstance(links, Mapping) else None
    items = raw_docs if isinstance(raw_docs, list) else [raw_docs] if raw_docs else []
    found: dict[str, Bijlage] = {}
    for item in items:
        if not isinstance(item, Mapping) or not isinstance(item.get("href"), str):
            continue
        size = item.get("size", item.get("grootte"))
        digest = item.get("sha256")
        if size is None and digest is None:
            continue
        doc_id = _document_id(DocumentLink(str(item["href"]), str(item.get("name", ""))))
        found[doc_id] = Bijlage(doc_id, str(item.get("title", "")),
                                size=int(size) if isinstance(size, int) else 0,
                                sha256=str(digest or ""))
    return found
