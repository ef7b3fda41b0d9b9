"""Aansluitactiviteiten: the test activiteiten a new connection submits a verzoek for.

Source: *Procesbeschrijving aansluiten op STAM-koppelvlak* v2.1 (aansluitproces.md §8) [C].
Bevoegde gezagen test with a **Melding**; a behandeldienst tests with **Informatie** at a
location inside a gemeente that routes the activiteit to it. On PROD the six
aansluitactiviteiten sit under bestuurslaag "Rijk" and need testdatum on or after 2030-01-01.

Two names are kept "as written" in the process document even where they look inconsistent
(gemeente on PRE: "Gemeentes – Informatie"; rijk on PROD: "Aansluitactiviteit Gemeentes –
Melding"); :attr:`Aansluitactiviteit.note` says so. The simulator knows every name in
:data:`CATALOGUE`, so either reading works locally.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pytest_dso.environments import PROD_TESTDATUM as PROD_TESTDATUM
from pytest_dso.stam.model import VerzoekType
from pytest_dso.tenants import BG_TYPES


@dataclass(frozen=True)
class Aansluitactiviteit:
    """The activiteit a type of organisation submits in one environment, and how."""

    bg_type: str
    env: str
    naam: str
    filter: str
    verzoektype: VerzoekType
    testdatum: dt.date | None = None
    ergens_anders_indienen: bool = False
    note: str = ""

    def steps(self) -> tuple[str, ...]:
        """The loket steps, for instructions shown to a person submitting by hand."""
        steps = [
            "Pick an address " + _ADDRESS_HINT[self.bg_type],
            f"Filter on {self.filter!r} and choose the activiteit {self.naam!r}",
            "Fill in your name at the question in step 4",
        ]
        if self.ergens_anders_indienen:
            steps.append(
                "At '7. Verzoeken indienen' choose 'Ergens anders indienen' and the instantie"
            )
        steps.append("Submit as 'Definitief verzoek'")
        if self.testdatum:
            steps.insert(0, f"Use a testdatum on or after {self.testdatum:%d-%m-%Y}")
        return tuple(steps)


_ADDRESS_HINT = {
    "gemeente": "inside the gemeente",
    "waterschap": "inside the waterschap",
    "provincie": "inside the provincie",
    "omgevingsdienst": "in a gemeente that routes the activiteit to the behandeldienst",
    "samenwerkingsverband": "in a gemeente that routes the activiteit to the behandeldienst",
    "rijk": "anywhere",
}

_PRE = {
    "gemeente": (
        "Gemeentes – Informatie",
        "Gemeente",
        VerzoekType.INFORMATIE,
        False,
        "as written in the process document; bevoegde gezagen otherwise test with a "
        "Melding ('Gemeentes – Melding' is accepted too)",
    ),
    "waterschap": ("Waterschappen – Melding", "Waterschap", VerzoekType.MELDING, False, ""),
    "provincie": ("Provincies – Melding", "Rijk", VerzoekType.MELDING, False, ""),
    "omgevingsdienst": ("Gemeentes – Informatie", "Gemeente", VerzoekType.INFORMATIE, False, ""),
    "samenwerkingsverband": (
        "Gemeentes – Informatie",
        "Gemeente",
        VerzoekType.INFORMATIE,
        False,
        "",
    ),
    "rijk": ("Rijk – Melding", "Rijk", VerzoekType.MELDING, True, ""),
}

_PROD = {
    "gemeente": ("Aansluitactiviteit Gemeentes – Melding", VerzoekType.MELDING, False, ""),
    "waterschap": ("Aansluitactiviteit Waterschappen – Melding", VerzoekType.MELDING, False, ""),
    "provincie": ("Aansluitactiviteit Provincies – Melding", VerzoekType.MELDING, False, ""),
    "omgevingsdienst": (
        "Aansluitactiviteit Gemeentes – Informatie",
        VerzoekType.INFORMATIE,
        False,
        "",
    ),
    "samenwerkingsverband": (
        "Aansluitactiviteit Gemeentes – Informatie",
        VerzoekType.INFORMATIE,
        False,
        "",
    ),
    "rijk": (
        "Aansluitactiviteit Gemeentes – Melding",
        VerzoekType.MELDING,
        True,
        "as written in the process document",
    ),
}

#: Every activiteit name the simulator accepts: PRE names (plus 'Gemeentes – Melding') and
#: the six PROD aansluitactiviteiten ({Gemeentes, Provincies, Waterschappen} × {Informatie,
#: Melding}).
CATALOGUE: tuple[str, ...] = (
    "Gemeentes – Informatie",
    "Gemeentes – Melding",
    "Waterschappen – Melding",
    "Provincies – Melding",
    "Rijk – Melding",
    *(
        f"Aansluitactiviteit {laag} – {soort}"
        for laag in ("Gemeentes", "Provincies", "Waterschappen")
        for soort in ("Informatie", "Melding")
    ),
)


def aansluitactiviteit(bg_type: str, env: str) -> Aansluitactiviteit:
    """The aansluitactiviteit for a type of organisation on ``env`` (``pre``, ``prod`` or
    ``local``, which uses the PRE names)."""
    kind = bg_type.strip().lower()
    if kind not in BG_TYPES:
        raise ValueError(f"unknown type {bg_type!r}; expected one of: {', '.join(BG_TYPES)}")
    environment = env.strip().lower()
    if environment in ("pre", "local"):
        naam, filt, vtype, elders, note = _PRE[kind]
        return Aansluitactiviteit(kind, environment, naam, filt, vtype, None, elders, note)
    if environment == "prod":
        naam, vtype, elders, note = _PROD[kind]
        return Aansluitactiviteit(
            kind, environment, naam, "Aansluitactiviteit", vtype, PROD_TESTDATUM, elders, note
        )
    raise ValueError(f"unknown environment {env!r}; expected local, pre or prod")


def verzoektype_for(activiteit_naam: str) -> VerzoekType:
    """The verzoek type an aansluitactiviteit produces, from its name's last word."""
    last = activiteit_naam.replace("-", "–").rsplit("–", 1)[-1].strip().casefold()
    if last == "melding":
        return VerzoekType.MELDING
    if last == "informatie":
        return VerzoekType.INFORMATIE
    raise ValueError(f"{activiteit_naam!r} is not an aansluitactiviteit (… – Melding/Informatie)")
