"""The verzoek and verzoeknotificatie as frozen values (a model of STAM v4 / IMAM).

Field names follow the STAM element names seen in public descriptions (see ``docs/unknowns.md``) in
Python spelling. The model holds what the harness and the simulator need; it is not the full
IMAM. Enumerations carry the values as they appear in the XML [V], plus the CIM-AM codes [C].

Volgnummer rules (CIM-AM [C]): the initial verzoek is 0, each aanvulling +1, an intrekking 999;
the verzoeknummer stays the same across versions.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

#: Volgnummer of the initial verzoek.
VOLGNUMMER_INITIEEL = 0
#: Volgnummer of an intrekking (withdrawal) by the initiatiefnemer or gemachtigde.
VOLGNUMMER_INTREKKING = 999
#: A BSN of nine zeros means "empty" in STAM.
EMPTY_BSN = "000000000"


class VerzoekType(enum.StrEnum):
    """The seven verzoek types, valued as in the STAM XML [V].

    :meth:`of` also yields an *unknown* type (``is_known`` false) for any other text, such as
    ``"Idee"`` (a type of Verzoek indienen v5 [C] that is not one of the seven STAM types), so a
    verzoek of a newer type is read, and flagged, instead of refused.
    """

    AANVRAAG_VERGUNNING = "Aanvraag vergunning"
    MELDING = "Melding"
    INFORMATIE = "Informatie"
    INFORMATIE_ONGEWOON_VOORVAL = "Informatie ongewoon voorval"
    AANVRAAG_MAATWERKVOORSCHRIFT = "Aanvraag maatwerkvoorschrift"
    MELDING_GELIJKWAARDIGE_MAATREGEL = "Melding gelijkwaardige maatregel"
    AANVRAAG_TOESTEMMING_GELIJKWAARDIGE_MAATREGEL = "Aanvraag toestemming gelijkwaardige maatregel"

    @property
    def cim_code(self) -> str:
        """The CIM-AM enumeration code (``aanvraagVergunning``, ``melding``, ...) [C]."""
        first, *rest = self.value.split()
        return first.lower() + "".join(word.capitalize() for word in rest)

    @classmethod
    def parse(cls, text: str) -> VerzoekType:
        """The type for an XML value or CIM-AM code, ignoring case and surrounding space."""
        wanted = " ".join(text.split()).casefold()
        for member in cls:
            if wanted in (member.value.casefold(), member.cim_code.casefold()):
                return member
        raise ValueError(
            f"unknown verzoek type {text!r}; expected one of: {', '.join(m.value for m in cls)}"
        )

    @classmethod
    def of(cls, text: str) -> VerzoekType:
        """Like :meth:`parse`, but an unknown non-empty text gives an unknown type carrying
        that text as its value (never an error for a non-empty text)."""
        try:
            return cls.parse(text)
        except ValueError:
            value = " ".join(text.split())
            if not value:
                raise
        unknown = str.__new__(cls, value)
        unknown._name_ = "ONBEKEND"
        unknown._value_ = value
        return unknown

    @property
    def is_known(self) -> bool:
        """False for a type made by :meth:`of` from a text that is none of the seven."""
        return self._name_ != "ONBEKEND"


class Doel(enum.StrEnum):
    """The purpose of a verzoek, valued as in STAM 4 XML [V] (``Vooroverleg`` before STAM 4)."""

    INITIEREN = "Initiëren"
    CONCEPTVERZOEK = "Conceptverzoek"
    AANVULLEN = "Aanvullen"
    INTREKKEN = "Intrekken"

    @classmethod
    def parse(cls, text: str) -> Doel:
        """The doel for an XML value or CIM-AM code; ``Vooroverleg`` maps to conceptverzoek."""
        wanted = text.strip().casefold()
        aliases = {
            "initieren": cls.INITIEREN,
            "vooroverleg": cls.CONCEPTVERZOEK,
            "conceptverzoek": cls.CONCEPTVERZOEK,
        }
        for member in cls:
            if wanted == member.value.casefold():
                return member
        if wanted in aliases:
            return aliases[wanted]
        raise ValueError(
            f"unknown doel {text!r}; expected one of: {', '.join(m.value for m in cls)}"
        )


def bsn_is_valid(bsn: str) -> bool:
    """True when ``bsn`` is nine digits passing the elfproef (weights 9..2 and -1)."""
    if len(bsn) != 9 or not bsn.isascii() or not bsn.isdigit() or bsn == EMPTY_BSN:
        return False
    total = sum(int(d) * w for d, w in zip(bsn[:8], range(9, 1, -1), strict=True))
    return (total - int(bsn[8])) % 11 == 0


def example_bsn(number: int = 0) -> str:
    """A BSN passing the elfproef in the ``9999xxxxx`` range used for test persons.

    Deterministic: the ``number``-th such BSN. Never a real person's number by construction
    of the range, but always redact BSNs in evidence anyway.
    """
    found = -1
    for candidate in range(99990000, 100000000):
        prefix = f"{candidate:08d}"
        total = sum(int(d) * w for d, w in zip(prefix, range(9, 1, -1), strict=True))
        check = total % 11
        if check == 10:
            continue
        found += 1
        if found == number:
            return f"{prefix}{check}"
    raise ValueError(f"no test BSN number {number}")


@dataclass(frozen=True)
class Organisatie:
    """A bevoegd gezag or uitvoerende instantie: OIN and name."""

    oin: str
    naam: str = ""


@dataclass(frozen=True)
class Adres:
    """A Dutch address (adresAanduiding); any of its identifying parts may be set."""

    postcode: str = ""
    huisnummer: int | None = None
    huisletter: str = ""
    huisnummertoevoeging: str = ""
    straatnaam: str = ""
    woonplaats: str = ""
    nummeraanduiding_id: str = ""


@dataclass(frozen=True)
class RdPunt:
    """A point in Rijksdriehoek coordinates (EPSG:28992), in metres."""

    x: float
    y: float


@dataclass(frozen=True)
class Projectlocatie:
    """One projectlocatie: an address, an RD point and/or an RD polygon (``vlak``: a closed
    ring, first point equal to the last)."""

    adres: Adres | None = None
    punt: RdPunt | None = None
    vlak: tuple[RdPunt, ...] = ()


@dataclass(frozen=True)
class Specificatie:
    """An answer to a question of the indieningsvereisten (``vraagId`` is numeric text).

    ``vraagtekst``, ``vraagclassificatie`` and ``groepering`` are optional; ``document_ids``
    name the bijlagen (``documentId`` of the verzoek's documents) asked for by the question.
    """

    vraag_id: str
    antwoord: str
    vraagtekst: str = ""
    vraagclassificatie: str = ""
    groepering: str = ""
    document_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Projectactiviteit:
    """An activiteit in the verzoek, with its answered questions."""

    activiteit_naam: str
    specificaties: tuple[Specificatie, ...] = ()
    activiteit_id: str = ""


@dataclass(frozen=True)
class NatuurlijkPersoon:
    """A natural person; ``bsn`` is personal data and must be redacted in evidence."""

    bsn: str
    achternaam: str = ""
    voorletters: str = ""
    emailadres: str = ""

    def __repr__(self) -> str:
        return f"NatuurlijkPersoon(bsn=<redacted>, achternaam={self.achternaam!r})"


@dataclass(frozen=True)
class Contactpersoon:
    """The contact person, present only when a company or vestiging submits [V]."""

    naam: str
    organisatie_naam: str = ""
    emailadres: str = ""


@dataclass(frozen=True)
class Bijlage:
    """A document attached to a verzoek (``verzoekbijlages/document``)."""

    document_id: str
    bestandsnaam: str
    mediatype: str = "application/pdf"
    size: int = 0
    sha256: str = ""


@dataclass(frozen=True)
class Verzoek:
    """One version of a verzoek as DSO-LV delivers it to a bevoegd gezag or behandeldienst.

    ``uitvoerende_instantie`` is the behandeldienst when one is configured, otherwise the
    bevoegd gezag itself. A party that receives a verzoek whose uitvoerende instantie is not
    its own OIN has received a **kopiebericht** [V].
    """

    verzoeknummer: str
    type: VerzoekType
    bevoegd_gezag: Organisatie
    uitvoerende_instantie: Organisatie
    indiendatum: dt.datetime
    naam: str = ""
    volgnummer: int = VOLGNUMMER_INITIEEL
    doel: Doel = Doel.INITIEREN
    projectlocaties: tuple[Projectlocatie, ...] = ()
    projectactiviteiten: tuple[Projectactiviteit, ...] = ()
    initiatiefnemer: NatuurlijkPersoon | None = None
    bijlagen: tuple[Bijlage, ...] = ()
    toelichting: str = ""
    contactpersoon: Contactpersoon | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.volgnummer <= VOLGNUMMER_INTREKKING:
            raise ValueError(f"volgnummer {self.volgnummer} is outside 0..{VOLGNUMMER_INTREKKING}")

    @property
    def is_intrekking(self) -> bool:
        """True for a withdrawal (volgnummer 999)."""
        return self.volgnummer == VOLGNUMMER_INTREKKING

    def is_kopie_for(self, oin: str) -> bool:
        """True when ``oin`` receives this verzoek but is not its uitvoerende instantie."""
        return self.uitvoerende_instantie.oin != oin

    def aanvulling(
        self,
        indiendatum: dt.datetime,
        *,
        bijlagen: Sequence[Bijlage] | None = None,
        projectactiviteiten: Sequence[Projectactiviteit] | None = None,
        toelichting: str | None = None,
    ) -> Verzoek:
        """The next version (volgnummer + 1, doel Aanvullen), a complete new version.

        Documents missing from the aanvulling count as withdrawn [V], so ``bijlagen`` is the
        full new set (default: the same set).
        """
        if self.is_intrekking:
            raise ValueError(f"verzoek {self.verzoeknummer} is withdrawn; it cannot be aangevuld")
        if self.volgnummer + 1 >= VOLGNUMMER_INTREKKING:
            raise ValueError(
                f"verzoek {self.verzoeknummer} has no volgnummer left for an aanvulling"
            )
        return replace(
            self,
            volgnummer=self.volgnummer + 1,
            doel=Doel.AANVULLEN,
            indiendatum=indiendatum,
            bijlagen=self.bijlagen if bijlagen is None else tuple(bijlagen),
            projectactiviteiten=(
                self.projectactiviteiten
                if projectactiviteiten is None
                else tuple(projectactiviteiten)
            ),
            toelichting=self.toelichting if toelichting is None else toelichting,
        )

    def intrekking(self, indiendatum: dt.datetime) -> Verzoek:
        """The withdrawal (volgnummer 999, doel Intrekken) of this verzoek."""
        if self.is_intrekking:
            raise ValueError(f"verzoek {self.verzoeknummer} is already withdrawn")
        return replace(
            self, volgnummer=VOLGNUMMER_INTREKKING, doel=Doel.INTREKKEN, indiendatum=indiendatum
        )


@dataclass(frozen=True)
class Verzoeknotificatie:
    """The trigger payload DSO-LV sends over ebMS: in practice only the verzoeknummer [V].

    The other fields are optional extras of this project's model (the official element list is
    unknown [?]); a parser must not require them.
    """

    verzoeknummer: str
    volgnummer: int | None = None
    type: VerzoekType | None = None
    bevoegd_gezag_oin: str = ""
    ontvanger_oin: str = ""
    tijdstip: dt.datetime | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


# -- plain-data conversion (for the store and JSON) ----------------------------------------


def projectlocatie_to_dict(p: Projectlocatie) -> dict[str, Any]:
    """A JSON-ready dict of one projectlocatie."""
    return {
        "adres": None
        if p.adres is None
        else {
            "postcode": p.adres.postcode,
            "huisnummer": p.adres.huisnummer,
            "huisletter": p.adres.huisletter,
            "huisnummertoevoeging": p.adres.huisnummertoevoeging,
            "straatnaam": p.adres.straatnaam,
            "woonplaats": p.adres.woonplaats,
            "nummeraanduidingId": p.adres.nummeraanduiding_id,
        },
        "punt": None if p.punt is None else {"x": p.punt.x, "y": p.punt.y},
        **({"vlak": [[q.x, q.y] for q in p.vlak]} if p.vlak else {}),
    }


def projectlocatie_from_dict(p: Mapping[str, Any]) -> Projectlocatie:
    """The inverse of :func:`projectlocatie_to_dict`."""
    a = p.get("adres")
    punt = p.get("punt")
    return Projectlocatie(
        adres=None
        if a is None
        else Adres(
            postcode=str(a.get("postcode", "")),
            huisnummer=None if a.get("huisnummer") is None else int(a["huisnummer"]),
            huisletter=str(a.get("huisletter", "")),
            huisnummertoevoeging=str(a.get("huisnummertoevoeging", "")),
            straatnaam=str(a.get("straatnaam", "")),
            woonplaats=str(a.get("woonplaats", "")),
            nummeraanduiding_id=str(a.get("nummeraanduidingId", "")),
        ),
        punt=None if punt is None else RdPunt(float(punt["x"]), float(punt["y"])),
        vlak=tuple(RdPunt(float(x), float(y)) for x, y in p.get("vlak") or ()),
    )


def persoon_to_dict(p: NatuurlijkPersoon | None) -> dict[str, Any] | None:
    """A JSON-ready dict of a natuurlijk persoon (contains the BSN)."""
    if p is None:
        return None
    return {
        "bsn": p.bsn,
        "achternaam": p.achternaam,
        "voorletters": p.voorletters,
        "emailadres": p.emailadres,
    }


def persoon_from_dict(p: Mapping[str, Any] | None) -> NatuurlijkPersoon | None:
    """The inverse of :func:`persoon_to_dict`."""
    if p is None:
        return None
    return NatuurlijkPersoon(
        bsn=str(p["bsn"]),
        achternaam=str(p.get("achternaam", "")),
        voorletters=str(p.get("voorletters", "")),
        emailadres=str(p.get("emailadres", "")),
    )


def contactpersoon_to_dict(c: Contactpersoon | None) -> dict[str, str] | None:
    """A JSON-ready dict of a contactpersoon."""
    if c is None:
        return None
    return {"naam": c.naam, "organisatieNaam": c.organisatie_naam, "emailadres": c.emailadres}


def contactpersoon_from_dict(c: Mapping[str, Any] | None) -> Contactpersoon | None:
    """The inverse of :func:`contactpersoon_to_dict`."""
    if not c:
        return None
    return Contactpersoon(str(c["naam"]), str(c.get("organisatieNaam", "")),
                          str(c.get("emailadres", "")))


def specificatie_to_dict(s: Specificatie) -> dict[str, Any]:
    """``{"vraagId", "antwoord"}`` plus the optional fields that are set."""
    out: dict[str, Any] = {"vraagId": s.vraag_id, "antwoord": s.antwoord}
    for key, value in (("vraagtekst", s.vraagtekst), ("vraagclassificatie", s.vraagclassificatie),
                       ("groepering", s.groepering)):
        if value:
            out[key] = value
    if s.document_ids:
        out["documentIds"] = list(s.document_ids)
    return out


def specificatie_from_dict(s: Mapping[str, Any]) -> Specificatie:
    """The inverse of :func:`specificatie_to_dict`."""
    return Specificatie(
        str(s["vraagId"]),
        str(s["antwoord"]),
        vraagtekst=str(s.get("vraagtekst", "")),
        vraagclassificatie=str(s.get("vraagclassificatie", "")),
        groepering=str(s.get("groepering", "")),
        document_ids=tuple(str(d) for d in s.get("documentIds") or ()),
    )


def verzoek_to_dict(verzoek: Verzoek) -> dict[str, Any]:
    """A JSON-ready dict of ``verzoek`` (contains the BSN: keep it out of evidence)."""
    v = verzoek
    return {
        "verzoeknummer": v.verzoeknummer,
        "volgnummer": v.volgnummer,
        "type": v.type.value,
        "doel": v.doel.value,
        "naam": v.naam,
        "indiendatum": v.indiendatum.isoformat(),
        "toelichting": v.toelichting,
        "bevoegdGezag": {"oin": v.bevoegd_gezag.oin, "naam": v.bevoegd_gezag.naam},
        "uitvoerendeInstantie": {
            "oin": v.uitvoerende_instantie.oin,
            "naam": v.uitvoerende_instantie.naam,
        },
        "projectlocaties": [projectlocatie_to_dict(p) for p in v.projectlocaties],
        "projectactiviteiten": [
            {
                "activiteitNaam": a.activiteit_naam,
                "activiteitId": a.activiteit_id,
                "specificaties": [specificatie_to_dict(s) for s in a.specificaties],
            }
            for a in v.projectactiviteiten
        ],
        "initiatiefnemer": persoon_to_dict(v.initiatiefnemer),
        **({"contactpersoon": contactpersoon_to_dict(v.contactpersoon)}
           if v.contactpersoon else {}),
        "bijlagen": [
            {
                "documentId": b.document_id,
                "bestandsnaam": b.bestandsnaam,
                "mediatype": b.mediatype,
                "size": b.size,
                "sha256": b.sha256,
            }
            for b in v.bijlagen
        ],
    }


def verzoek_from_dict(data: Mapping[str, Any]) -> Verzoek:
    """The inverse of :func:`verzoek_to_dict`; raises ``ValueError``/``KeyError`` on bad data."""
    bg = data["bevoegdGezag"]
    ui = data["uitvoerendeInstantie"]
    return Verzoek(
        verzoeknummer=str(data["verzoeknummer"]),
        volgnummer=int(data.get("volgnummer", 0)),
        type=VerzoekType.of(str(data["type"])),
        doel=Doel.parse(data.get("doel", Doel.INITIEREN.value)),
        naam=str(data.get("naam", "")),
        indiendatum=dt.datetime.fromisoformat(data["indiendatum"]),
        toelichting=str(data.get("toelichting", "")),
        bevoegd_gezag=Organisatie(str(bg["oin"]), str(bg.get("naam", ""))),
        uitvoerende_instantie=Organisatie(str(ui["oin"]), str(ui.get("naam", ""))),
        projectlocaties=tuple(projectlocatie_from_dict(p) for p in data.get("projectlocaties", ())),
        projectactiviteiten=tuple(
            Projectactiviteit(
                activiteit_naam=str(a["activiteitNaam"]),
                activiteit_id=str(a.get("activiteitId", "")),
                specificaties=tuple(specificatie_from_dict(s) for s in a.get("specificaties", ())),
            )
            for a in data.get("projectactiviteiten", ())
        ),
        initiatiefnemer=persoon_from_dict(data.get("initiatiefnemer")),
        contactpersoon=contactpersoon_from_dict(data.get("contactpersoon")),
        bijlagen=tuple(
            Bijlage(
                document_id=str(b["documentId"]),
                bestandsnaam=str(b["bestandsnaam"]),
                mediatype=str(b.get("mediatype", "application/pdf")),
                size=int(b.get("size", 0)),
                sha256=str(b.get("sha256", "")),
            )
            for b in data.get("bijlagen", ())
        ),
    )
