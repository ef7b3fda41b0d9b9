"""Mandates: which client OIN may act for which bevoegd gezag or behandeldienst.

DSO-LV grants API mandates from the Excel "Aanvragen Mandateringen STAM" (aansluitproces §9)
[C]. Authorisation of Verzoek afhandelen is per OIN: data comes back only when that OIN is the
bevoegd gezag or behandeldienst of the verzoek [V], or when the calling party holds the
"Ophalen verzoek" mandate for one of them (a leverancier or Digikoppelaar fetching on behalf
of the BG). The acting-on-behalf OIN may be named in a request header whose name is unknown
[?]; :meth:`MandateTable.may_fetch` takes it as an optional argument.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

from pytest_dso.stam.model import Verzoek


class Mandaat(enum.StrEnum):
    """The mandate columns of "Aanvragen Mandateringen STAM"."""

    SAMENWERKFUNCTIONALITEIT = "Samenwerkfunctionaliteit"
    BEHANDELDIENSTCONFIGURATIE = "Behandeldienstconfiguratie"
    OPHALEN_VERZOEK = "Ophalen verzoek"
    TOEPASBARE_REGELS_AANLEVEREN = "Toepasbare Regels aanleveren"
    CPA_AANBIEDEN = "CPA aanbieden"
    CONCEPTOVERLEG = "Conceptoverleg"


@dataclass(frozen=True)
class MandaatRegel:
    """``client_oin`` may do ``soorten`` on behalf of ``namens_oin``."""

    client_oin: str
    namens_oin: str
    soorten: frozenset[Mandaat]


@dataclass(frozen=True)
class Decision:
    """The answer to "may this client do this?", with the reason (for logs and 403 bodies)."""

    allowed: bool
    reason: str
    namens_oin: str = ""

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True)
class MandateTable:
    """An immutable set of mandate rules; :meth:`grant` returns a new table."""

    regels: tuple[MandaatRegel, ...] = ()

    @functools.cached_property
    def _granted(self) -> dict[tuple[str, str], frozenset[Mandaat]]:
        """(client OIN, namens OIN) -> every mandate kind the rules give that pair."""
        granted: dict[tuple[str, str], frozenset[Mandaat]] = {}
        for r in self.regels:
            key = (r.client_oin, r.namens_oin)
            granted[key] = granted.get(key, frozenset()) | r.soorten
        return granted

    def grant(self, client_oin: str, namens_oin: str, *soorten: Mandaat) -> MandateTable:
        """A table with one more rule (all mandate kinds when ``soorten`` is empty)."""
        kinds = frozenset(soorten) if soorten else frozenset(Mandaat)
        return MandateTable((*self.regels, MandaatRegel(client_oin, namens_oin, kinds)))

    def revoke(self, client_oin: str, namens_oin: str | None = None) -> MandateTable:
        """A table without the rules of ``client_oin`` (for ``namens_oin``, or for everyone)."""
        return MandateTable(
            tuple(
                r
                for r in self.regels
                if not (r.client_oin == client_oin and namens_oin in (None, r.namens_oin))
            )
        )

    def may(self, client_oin: str, namens_oin: str, soort: Mandaat) -> Decision:
        """May ``client_oin`` do ``soort`` for ``namens_oin``? An organisation may always act
        for itself."""
        if client_oin == namens_oin:
            return Decision(True, f"{client_oin} acts for itself", namens_oin)
        if soort in self._granted.get((client_oin, namens_oin), ()):
            return Decision(
                True, f"{client_oin} holds mandate '{soort}' for {namens_oin}", namens_oin
            )
        return Decision(
            False,
            f"{client_oin} holds no mandate '{soort}' for {namens_oin}; the bevoegd gezag "
            "requests it from DSO-beheer (Aanvragen Mandateringen STAM)",
            namens_oin,
        )

    def namens(self, client_oin: str, soort: Mandaat) -> tuple[str, ...]:
        """The OINs ``client_oin`` may do ``soort`` for (itself first)."""
        others = [
            r.namens_oin for r in self.regels if r.client_oin == client_oin and soort in r.soorten
        ]
        return tuple(dict.fromkeys([client_oin, *others]))

    def may_fetch(
        self, client_oin: str, verzoek: Verzoek, acting_oin: str | None = None
    ) -> Decision:
        """May ``client_oin`` fetch ``verzoek`` (referenties, XML, PDF, documenten)?

        Allowed for the bevoegd gezag and the uitvoerende instantie themselves, and for a
        client with the "Ophalen verzoek" mandate for one of them. With ``acting_oin`` (the
        value of the acting-on-behalf header), that OIN must be the BG or the uitvoerende
        instantie and the client must be it or hold the mandate for it.
        """
        parties = (verzoek.bevoegd_gezag.oin, verzoek.uitvoerende_instantie.oin)
        if acting_oin:
            if acting_oin not in parties:
                return Decision(
                    False,
                    f"acting OIN {acting_oin} is neither the bevoegd gezag ({parties[0]}) nor "
                    f"the uitvoerende instantie ({parties[1]}) of verzoek {verzoek.verzoeknummer}",
                    acting_oin,
                )
            return self.may(client_oin, acting_oin, Mandaat.OPHALEN_VERZOEK)
        for party in dict.fromkeys(parties):
            decision = self.may(client_oin, party, Mandaat.OPHALEN_VERZOEK)
            if decision:
                return decision
        return Decision(
            False,
            f"{client_oin} is not the bevoegd gezag ({parties[0]}) or uitvoerende instantie "
            f"({parties[1]}) of verzoek {verzoek.verzoeknummer} and holds no 'Ophalen verzoek' "
            "mandate for either",
        )
