"""What the REST modules need from the simulator: a narrow interface over store and domain.

The REST modules only translate HTTP to calls on a :class:`Backend` and results back to JSON;
the simulator implements the backend on its SQLite store and the DSO domain rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pytest_dso.dso.shapes import (
    BehandeldienstConfiguratie,
    Indienbericht,
    RouteringAdvies,
    ZoekVraag,
)
from pytest_dso.sim.domain.mandates import Mandaat
from pytest_dso.stam.model import Bijlage, Verzoek
from pytest_dso.transport.api import SpooledBody


@dataclass(frozen=True)
class DocumentInfo:
    """A document uploaded to a concept (without its content)."""

    document_id: str
    bestandsnaam: str
    mimetype: str
    size: int


@dataclass(frozen=True)
class Caller:
    """Who calls: the OIN of the client certificate and the OIN it says it acts for."""

    oin: str | None
    acting_oin: str | None = None

    @property
    def effective_oin(self) -> str | None:
        """The OIN the request is made for."""
        return self.acting_oin or self.oin


@dataclass(frozen=True)
class Concept:
    """An indienen flow in progress: a temporary id, the bericht and the uploaded documents."""

    verzoek_id: str
    bericht: Indienbericht
    documenten: tuple[DocumentInfo, ...] = ()
    verzoeknummers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Submitted:
    """The outcome of a finalised submission: one verzoeknummer per bevoegd gezag."""

    verzoeknummers: tuple[str, ...]
    notificaties: tuple[str, ...] = field(default=())  # MessageIds of the triggers


class Backend(Protocol):
    """Operations behind the five simulated APIs. Errors are raised as ``ApiError``."""

    # Verzoek afhandelen
    def verzoek(self, verzoeknummer: str) -> Verzoek | None:
        """The latest version of a verzoek."""

    def may_fetch(self, caller: Caller, verzoek: Verzoek) -> tuple[bool, str]:
        """Whether ``caller`` may fetch ``verzoek`` (BG, BD, or mandated by one of them), and
        why (the reason goes into a 403 body)."""

    def may_act_for(self, caller_oin: str, acting_oin: str, what: Mandaat) -> bool:
        """Whether ``caller_oin`` holds a mandate ``what`` from ``acting_oin``."""

    def stam_xml(self, verzoeknummer: str) -> bytes:
        """The STAM XML of the latest version."""

    def publiceerbaar_pdf(self, verzoeknummer: str) -> bytes:
        """A publishable PDF (personal data left out)."""

    def document(self, verzoeknummer: str, document_id: str
                 ) -> tuple[Bijlage, Callable[[], Iterator[bytes]]] | None:
        """A bijlage and a function that streams its content (never all of it in memory)."""

    def zoek(self, caller: Caller, vraag: ZoekVraag) -> Sequence[Verzoek]:
        """Verzoeken ``caller`` may see that match ``vraag`` (all pages)."""

    def wijzig_bevoegd_gezag(self, caller: Caller, verzoek: Verzoek, nieuw_oin: str) -> Verzoek:
        """Hand ``verzoek`` to another bevoegd gezag (notifying it); returns the new state."""

    # Behandeldienstconfiguratie
    def bdc_create(
        self, caller: Caller, config: BehandeldienstConfiguratie
    ) -> BehandeldienstConfiguratie:
        """Create a configuration; returns it with its ``id``."""

    def bdc_list(self, caller: Caller) -> Sequence[BehandeldienstConfiguratie]:
        """The configurations ``caller`` may see."""

    def bdc_get(self, caller: Caller, config_id: str) -> BehandeldienstConfiguratie | None:
        """One configuration."""

    def bdc_delete(self, caller: Caller, config_id: str) -> bool:
        """Delete one configuration; False when unknown."""

    # Verzoeksroutering
    def route(self, activiteiten: Sequence[str], locatie_oin: str | None,
              toestemming: str | None,
              bevoegd_gezag_oin: str | None = None) -> RouteringAdvies:
        """Who gets ``activiteiten`` at the gemeente ``locatie_oin``; with
        ``bevoegd_gezag_oin``, the behandeldienst is the one of that bevoegd gezag."""

    # Verzoek indienen
    def concept_start(self, bericht: Indienbericht, client: str = "") -> Concept:
        """Validate an indienbericht and open a concept for ``client`` (its OIN or address;
        at most so many open concepts per client, else 429)."""

    def concept(self, verzoek_id: str) -> Concept | None:
        """An open concept."""

    def concept_document(self, verzoek_id: str, bestandsnaam: str, mimetype: str,
                         content: bytes | SpooledBody) -> DocumentInfo:
        """Add a document to a concept: its bytes, or the file the server streamed it to
        (moved into the simulator's uploads folder)."""

    def concept_finalise(self, verzoek_id: str, *, idempotency_key: str | None = None,
                         fingerprint: str = "") -> Submitted:
        """Turn a concept into verzoeken (one per BG) and send their verzoeknotificaties, in
        one transaction. A retry (same ``idempotency_key``, or the same ``verzoek_id``)
        returns the first result instead of submitting again."""

    # CPA aanbieden
    def cpa_offer(self, caller: Caller, xml: bytes) -> Mapping[str, Any]:
        """Validate and register a CPA; returns ``{cpaId, parties, endpoint, findings}``."""

    def cpas(self) -> Sequence[Mapping[str, Any]]:
        """The registered CPAs (summary)."""
