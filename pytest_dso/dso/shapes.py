"""JSON shapes shared by the REST clients and the simulator's REST implementation.

Where DSO-LV publishes a shape it is followed and tagged [C]; everything else is **this
project's model** [?] (the public documentation does not give it) and every client that reads
one accepts configurable link relations or field names where it matters. The simulator serves
exactly these shapes, so the harness and the simulator agree by construction.

- Behandeldienstconfiguratie body: ``oin``, ``activiteit{naam, oin}``, ``behandeldienstOin``,
  optional ``toestemming{code, waarde}`` and ``locatieOins[]`` [C]; ``id`` in responses [C, name
  of the field: I].
- Verzoekreferenties: HAL ``_links`` with ``self``, ``verzoek`` (STAM XML), ``pdf`` and
  ``documenten`` (a list, one link per document) [I].
- ``_zoek`` request and response [V operation, ? fields].
- Verzoeksroutering advies [C content, ? fields].
- Indienbericht [C content, ? fields].
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_dso.stam.bijlagen import MIN_SIZE as GENERATED_MIN_SIZE
from pytest_dso.stam.model import (
    Contactpersoon,
    Doel,
    NatuurlijkPersoon,
    Organisatie,
    Projectlocatie,
    RdPunt,
    Specificatie,
    VerzoekType,
    contactpersoon_from_dict,
    contactpersoon_to_dict,
    persoon_from_dict,
    persoon_to_dict,
    projectlocatie_from_dict,
    projectlocatie_to_dict,
    specificatie_from_dict,
    specificatie_to_dict,
)

_OIN_RE = re.compile(r"^[0-9]{20}$")
#: HAL media type.
HAL_JSON = "application/hal+json"


class ShapeError(ValueError):
    """A JSON body does not have the expected shape; ``problems`` lists every issue."""

    def __init__(self, what: str, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(f"invalid {what}: " + "; ".join(self.problems))


#: Bounds of what a request may ask for (documented in docs/simulator.md, "Bounds").
MAX_GENERATED_BIJLAGEN = 50
MIN_GENERATED_SIZE = GENERATED_MIN_SIZE
MAX_GENERATED_SIZE = 64 * 1024 * 1024
MAX_POLYGON_POINTS = 10_000
RD_LIMIT = 1e7
MAX_TEXT = 10_000
# characters XML 1.0 cannot carry (STAM XML is built from these strings)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _rd(value: object) -> float:
    """An RD coordinate: a finite number within :data:`RD_LIMIT` metres."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{value!r} is not a number")
    number = float(value)
    if not -RD_LIMIT <= number <= RD_LIMIT:
        raise ValueError(f"coordinate {str(value)[:30]} is out of range")
    return number


def _text(value: object, where: str) -> str:
    """``value`` as text that fits in XML: at most :data:`MAX_TEXT` characters, no control
    characters."""
    text = str(value)
    if len(text) > MAX_TEXT:
        raise ValueError(f"{where} is longer than {MAX_TEXT} characters")
    bad = _NOT_XML.search(text)
    if bad:
        raise ValueError(f"{where} contains the control character U+{ord(bad.group()):04X}")
    return text


def xml_text_problems(data: object, where: str = "", depth: int = 0) -> list[str]:
    """Every string in the JSON value ``data`` (keys too) that cannot go into XML or is too
    long, as ``where: problem`` lines (at most 20)."""
    problems: list[str] = []

    def walk(value: object, path: str, level: int) -> None:
        if len(problems) >= 20 or level > 100:
            return
        if isinstance(value, str):
            try:
                _text(value, path or "a value")
            except ValueError as exc:
                problems.append(str(exc))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(key, f"{path}.{key}" if path else str(key), level + 1)
                walk(item, f"{path}.{key}" if path else str(key), level + 1)
        elif isinstance(value, list):
            for n, item in enumerate(value):
                walk(item, f"{path}[{n}]", level + 1)

    walk(data, where, depth)
    return problems


def is_oin(value: object) -> bool:
    """True for a 20-digit OIN string."""
    return isinstance(value, str) and bool(_OIN_RE.match(value))


# -- behandeldienstconfiguratie --------------------------------------------------------------


@dataclass(frozen=True)
class Toestemming:
    """The optional toestemming key of a configuration; matched on ``code``."""

    code: str
    waarde: str = ""


@dataclass(frozen=True)
class ActiviteitRef:
    """An activiteit as registered in the RTR: its name, unique per owning OIN."""

    naam: str
    oin: str


@dataclass(frozen=True)
class BehandeldienstConfiguratie:
    """activiteit + bevoegd gezag (+ toestemming) (+ locaties) → one behandeldienst [C].

    Empty ``locatie_oins`` means the whole area; ``toestemming`` ``None`` means every
    toestemming. ``id`` is empty until the configuration is stored.
    """

    oin: str
    activiteit: ActiviteitRef
    behandeldienst_oin: str
    toestemming: Toestemming | None = None
    locatie_oins: tuple[str, ...] = ()
    id: str = ""

    def describe(self) -> str:
        """One line for messages: ``activiteit X of BG -> BD [toestemming] [locaties]``."""
        text = f"activiteit {self.activiteit.naam!r} of {self.oin} -> {self.behandeldienst_oin}"
        if self.toestemming:
            text += f", toestemming {self.toestemming.code}"
        if self.locatie_oins:
            text += f", locaties {', '.join(self.locatie_oins)}"
        return text + (f" (id {self.id})" if self.id else "")

    def to_json(self) -> dict[str, Any]:
        """The API body [C] (plus ``id`` when set)."""
        body: dict[str, Any] = {
            "oin": self.oin,
            "activiteit": {"naam": self.activiteit.naam, "oin": self.activiteit.oin},
            "behandeldienstOin": self.behandeldienst_oin,
        }
        if self.toestemming is not None:
            body["toestemming"] = {"code": self.toestemming.code, "waarde": self.toestemming.waarde}
        if self.locatie_oins:
            body["locatieOins"] = list(self.locatie_oins)
        if self.id:
            body["id"] = self.id
        return body

    @classmethod
    def from_json(cls, data: object) -> BehandeldienstConfiguratie:
        """Parse an API body; raises :class:`ShapeError` listing every problem."""
        if not isinstance(data, Mapping):
            raise ShapeError("behandeldienstconfiguratie", ["the body must be a JSON object"])
        problems: list[str] = xml_text_problems(data)
        if problems:
            raise ShapeError("behandeldienstconfiguratie", problems)
        oin = data.get("oin")
        if not is_oin(oin):
            problems.append(f"'oin' must be the 20-digit OIN of the bevoegd gezag, got {oin!r}")
        act = data.get("activiteit")
        naam: object = None
        act_oin: object = None
        if not isinstance(act, Mapping):
            problems.append("'activiteit' must be an object {naam, oin}")
        else:
            naam, act_oin = act.get("naam"), act.get("oin")
            if not isinstance(naam, str) or not naam.strip():
                problems.append("'activiteit.naam' must be the activiteit name as in the RTR")
            if not is_oin(act_oin):
                problems.append(f"'activiteit.oin' must be a 20-digit OIN, got {act_oin!r}")
        bd = data.get("behandeldienstOin")
        if not is_oin(bd):
            problems.append(f"'behandeldienstOin' must be a 20-digit OIN, got {bd!r}")
        toestemming = None
        raw_t = data.get("toestemming")
        if raw_t is not None:
            if (
                not isinstance(raw_t, Mapping)
                or not isinstance(raw_t.get("code"), str)
                or not raw_t["code"]
            ):
                problems.append("'toestemming' must be an object {code, waarde} with a code")
            else:
                toestemming = Toestemming(str(raw_t["code"]), str(raw_t.get("waarde", "")))
        raw_l = data.get("locatieOins", [])
        locaties: tuple[str, ...] = ()
        if raw_l is None:
            raw_l = []
        if not isinstance(raw_l, list) or not all(is_oin(x) for x in raw_l):
            problems.append("'locatieOins' must be a list of 20-digit OINs")
        else:
            locaties = tuple(raw_l)
            if len(set(locaties)) != len(locaties):
                problems.append("'locatieOins' lists an OIN twice")
        ident = data.get("id", "")
        if problems:
            raise ShapeError("behandeldienstconfiguratie", problems)
        return cls(
            oin=str(oin),
            activiteit=ActiviteitRef(str(naam).strip(), str(act_oin)),
            behandeldienst_oin=str(bd),
            toestemming=toestemming,
            locatie_oins=locaties,
            id=str(ident) if ident is not None else "",
        )


def configuraties_to_json(configs: Sequence[BehandeldienstConfiguratie]) -> dict[str, Any]:
    """A HAL collection: ``{"_embedded": {"behandeldienstconfiguraties": [...]}}`` [?]."""
    return {"_embedded": {"behandeldienstconfiguraties": [c.to_json() for c in configs]}}


def configuraties_from_json(data: object) -> tuple[BehandeldienstConfiguratie, ...]:
    """Read a collection: the HAL form above, or a plain JSON list."""
    items: object = data
    if isinstance(data, Mapping):
        embedded = data.get("_embedded", {})
        items = (
            embedded.get("behandeldienstconfiguraties", []) if isinstance(embedded, Mapping) else []
        )
    if not isinstance(items, list):
        raise ShapeError("behandeldienstconfiguratie list", ["expected a list of configurations"])
    return tuple(BehandeldienstConfiguratie.from_json(i) for i in items)


# -- verzoekreferenties (afhandelen) ---------------------------------------------------------

#: Default HAL link relations of a referenties response [?]; overridable per client.
DEFAULT_RELATIONS: Mapping[str, str] = {
    "verzoek": "verzoek",
    "pdf": "pdf",
    "documenten": "documenten",
}


@dataclass(frozen=True)
class DocumentLink:
    """A link to one document (bijlage) of a verzoek."""

    href: str
    document_id: str = ""
    bestandsnaam: str = ""
    mediatype: str = ""


@dataclass(frozen=True)
class Referenties:
    """The links to a verzoek's STAM XML, its publishable PDF and its documents."""

    verzoeknummer: str
    verzoek_href: str
    pdf_href: str = ""
    documenten: tuple[DocumentLink, ...] = ()
    volgnummer: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self, self_href: str = "") -> dict[str, Any]:
        """The HAL body the simulator serves."""
        links: dict[str, Any] = {
            "verzoek": {"href": self.verzoek_href, "type": "application/xml"},
            "documenten": [
                {
                    "href": d.href,
                    "name": d.document_id,
                    "title": d.bestandsnaam,
                    "type": d.mediatype,
                }
                for d in self.documenten
            ],
        }
        if self_href:
            links["self"] = {"href": self_href}
        if self.pdf_href:
            links["pdf"] = {"href": self.pdf_href, "type": "application/pdf"}
        body: dict[str, Any] = {"verzoeknummer": self.verzoeknummer, "_links": links}
        if self.volgnummer is not None:
            body["volgnummer"] = self.volgnummer
        return body

    @classmethod
    def from_json(
        cls, data: object, relations: Mapping[str, str] = DEFAULT_RELATIONS
    ) -> Referenties:
        """Read a HAL referenties body; ``relations`` maps verzoek/pdf/documenten to the
        relation names used. Raises :class:`ShapeError`."""
        if not isinstance(data, Mapping) or not isinstance(data.get("_links"), Mapping):
            raise ShapeError("verzoekreferenties", ["expected a HAL object with '_links'"])
        links = data["_links"]
        rel = {**DEFAULT_RELATIONS, **relations}

        def hrefs(name: str) -> list[Mapping[str, Any]]:
            value = links.get(rel[name])
            if value is None:
                return []
            items = value if isinstance(value, list) else [value]
            return [i for i in items if isinstance(i, Mapping) and isinstance(i.get("href"), str)]

        verzoek = hrefs("verzoek")
        if not verzoek:
            raise ShapeError(
                "verzoekreferenties",
                [f"no '{rel['verzoek']}' link (links present: {', '.join(map(str, links))})"],
            )
        pdf = hrefs("pdf")
        volg = data.get("volgnummer")
        return cls(
            verzoeknummer=str(data.get("verzoeknummer", "")),
            verzoek_href=str(verzoek[0]["href"]),
            pdf_href=str(pdf[0]["href"]) if pdf else "",
            documenten=tuple(
                DocumentLink(
                    href=str(d["href"]),
                    document_id=str(d.get("name", "")),
                    bestandsnaam=str(d.get("title", "")),
                    mediatype=str(d.get("type", "")),
                )
                for d in hrefs("documenten")
            ),
            volgnummer=int(volg) if isinstance(volg, int) else None,
            raw=dict(data),
        )


# -- _zoek -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZoekVraag:
    """A ``_zoek`` request: a verzoeknummer or an RD polygon, plus a date range [V]."""

    van: dt.date
    tot: dt.date
    verzoeknummer: str = ""
    polygoon: tuple[RdPunt, ...] = ()
    page: int = 0
    page_size: int = 50

    def to_json(self) -> dict[str, Any]:
        """The request body [? field names]."""
        body: dict[str, Any] = {
            "periode": {"van": self.van.isoformat(), "tot": self.tot.isoformat()},
            "page": self.page,
            "pageSize": self.page_size,
        }
        if self.verzoeknummer:
            body["verzoeknummer"] = self.verzoeknummer
        if self.polygoon:
            body["polygoon"] = {
                "type": "Polygon",
                "crs": "EPSG:28992",
                "coordinates": [[[p.x, p.y] for p in self.polygoon]],
            }
        return body

    @classmethod
    def from_json(cls, data: object) -> ZoekVraag:
        """Parse a request body; raises :class:`ShapeError`."""
        problems: list[str] = []
        if not isinstance(data, Mapping):
            raise ShapeError("_zoek request", ["the body must be a JSON object"])
        periode = data.get("periode")
        van = tot = dt.date.min
        if not isinstance(periode, Mapping):
            problems.append("'periode' {van, tot} is required")
        else:
            try:
                van = dt.date.fromisoformat(str(periode.get("van")))
                tot = dt.date.fromisoformat(str(periode.get("tot")))
            except ValueError:
                problems.append("'periode.van' and 'periode.tot' must be dates (YYYY-MM-DD)")
        nummer = data.get("verzoeknummer", "")
        poly: tuple[RdPunt, ...] = ()
        raw_poly = data.get("polygoon")
        if raw_poly is not None:
            try:
                ring = raw_poly["coordinates"][0]
                poly = tuple(RdPunt(_rd(x), _rd(y)) for x, y in ring[:MAX_POLYGON_POINTS + 1])
                if len(poly) > MAX_POLYGON_POINTS:
                    raise ValueError("too many points")
            except (KeyError, IndexError, TypeError, ValueError, OverflowError):
                problems.append("'polygoon.coordinates' must be [[[x, y], ...]] in RD: at most "
                                f"{MAX_POLYGON_POINTS} points, coordinates within "
                                f"+-{RD_LIMIT:g} m")
        if not nummer and not poly:
            problems.append("give a 'verzoeknummer' or a 'polygoon'")
        page, size = data.get("page", 0), data.get("pageSize", 50)
        if (
            not isinstance(page, int)
            or page < 0
            or not isinstance(size, int)
            or not 1 <= size <= 500
        ):
            problems.append("'page' must be >= 0 and 'pageSize' 1..500")
        if problems:
            raise ShapeError("_zoek request", problems)
        return cls(
            van=van,
            tot=tot,
            verzoeknummer=str(nummer),
            polygoon=poly,
            page=int(page),
            page_size=int(size),
        )


@dataclass(frozen=True)
class Zaakverwijzing:
    """One ``_zoek`` hit [V content, ? field names]."""

    verzoeknummer: str
    bevoegd_gezag_oin: str
    behandeldienst_oin: str = ""
    locatie: RdPunt | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON of one hit."""
        body: dict[str, Any] = {
            "verzoeknummer": self.verzoeknummer,
            "bevoegdGezag": {"oin": self.bevoegd_gezag_oin},
        }
        if self.behandeldienst_oin:
            body["behandeldienst"] = {"oin": self.behandeldienst_oin}
        if self.locatie is not None:
            body["projectlocatie"] = {"x": self.locatie.x, "y": self.locatie.y}
        return body


def zoek_resultaat_to_json(hits: Sequence[Zaakverwijzing], page: int, total: int) -> dict[str, Any]:
    """A HAL page of hits: ``_embedded.zaakverwijzingen`` plus ``page`` info."""
    return {
        "_embedded": {"zaakverwijzingen": [h.to_json() for h in hits]},
        "page": {"number": page, "size": len(hits), "totalElements": total},
    }


def zoek_resultaat_from_json(data: object) -> tuple[Zaakverwijzing, ...]:
    """The hits of a ``_zoek`` response page."""
    try:
        items = data["_embedded"]["zaakverwijzingen"]  # type: ignore[index]
        return tuple(
            Zaakverwijzing(
                verzoeknummer=str(i["verzoeknummer"]),
                bevoegd_gezag_oin=str(i["bevoegdGezag"]["oin"]),
                behandeldienst_oin=str(i.get("behandeldienst", {}).get("oin", "")),
                locatie=(
                    RdPunt(float(i["projectlocatie"]["x"]), float(i["projectlocatie"]["y"]))
                    if "projectlocatie" in i
                    else None
                ),
            )
            for i in items
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ShapeError("_zoek response", [f"unexpected shape ({exc})"]) from None


# -- verzoeksroutering -----------------------------------------------------------------------


@dataclass(frozen=True)
class RouteringAdvies:
    """What Verzoeksroutering v2 determines [C]: selectable BGs, conceptverzoek, behandeldienst."""

    bevoegde_gezagen: tuple[tuple[Organisatie, bool], ...]
    conceptverzoek_toegestaan: bool = False
    behandeldienst: Organisatie | None = None

    def to_json(self) -> dict[str, Any]:
        """The response body [? field names]."""
        body: dict[str, Any] = {
            "bevoegdeGezagen": [
                {"naam": o.naam, "oin": o.oin, "afgeleid": afgeleid}
                for o, afgeleid in self.bevoegde_gezagen
            ],
            "conceptverzoekToegestaan": self.conceptverzoek_toegestaan,
        }
        if self.behandeldienst is not None:
            body["behandeldienst"] = {
                "naam": self.behandeldienst.naam,
                "oin": self.behandeldienst.oin,
            }
        return body

    @classmethod
    def from_json(cls, data: object) -> RouteringAdvies:
        """Parse a response body; raises :class:`ShapeError`."""
        try:
            assert isinstance(data, Mapping)
            bgs = tuple(
                (Organisatie(str(b["oin"]), str(b.get("naam", ""))), bool(b.get("afgeleid", False)))
                for b in data["bevoegdeGezagen"]
            )
            bd = data.get("behandeldienst")
            return cls(
                bevoegde_gezagen=bgs,
                conceptverzoek_toegestaan=bool(data.get("conceptverzoekToegestaan", False)),
                behandeldienst=Organisatie(str(bd["oin"]), str(bd.get("naam", ""))) if bd else None,
            )
        except (AssertionError, KeyError, TypeError) as exc:
            raise ShapeError("verzoeksroutering response", [f"unexpected shape ({exc})"]) from None


# -- indienen --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndienActiviteit:
    """A chosen activiteit with its bevoegd gezag and the answers to its questions."""

    activiteit: ActiviteitRef
    bevoegd_gezag: Organisatie
    toestemming: Toestemming | None = None
    specificaties: tuple[Specificatie, ...] = ()


@dataclass(frozen=True)
class GegenereerdeBijlage:
    """A simulator extension: a bijlage the simulator generates itself (seed + size)."""

    seed: int
    size: int
    bestandsnaam: str = ""
    mediatype: str = "application/pdf"


#: ``rolaanduiding`` values the simulator accepts: who submits [? the real value list].
ROL_INITIATIEFNEMER = "initiatiefnemer"
ROLAANDUIDINGEN = (ROL_INITIATIEFNEMER, "gemachtigde")


@dataclass(frozen=True)
class Indienbericht:
    """A submission (indienbericht) [C content]: type, doel, activiteiten per BG, locatie.

    ``locatie_oin`` is the OIN of the gemeente whose area holds the location; the simulator
    routes on it (the real DSO-LV derives it from the geometry).
    """

    type: VerzoekType
    activiteiten: tuple[IndienActiviteit, ...]
    naam: str = ""
    doel: Doel = Doel.INITIEREN
    projectlocaties: tuple[Projectlocatie, ...] = ()
    locatie_oin: str = ""
    initiatiefnemer: NatuurlijkPersoon | None = None
    bijlagen: tuple[GegenereerdeBijlage, ...] = ()
    toelichting: str = ""
    rolaanduiding: str = ROL_INITIATIEFNEMER
    contactpersoon: Contactpersoon | None = None

    def to_json(self, major: int = 5) -> dict[str, Any]:
        """The request body for indienen v``major`` [? field names]; contains the BSN, keep it
        out of evidence. v5 carries ``rolaanduiding`` (it replaces v4's ``machtiging`` [C]) and
        no empty address elements (v5 refuses them [C]); v4 carries neither."""
        locaties = [projectlocatie_to_dict(p) for p in self.projectlocaties]
        if major >= 5:
            for locatie in locaties:
                if locatie.get("adres"):
                    locatie["adres"] = {k: v for k, v in locatie["adres"].items()
                                        if v not in ("", None)}
        body: dict[str, Any] = {
            "type": self.type.value,
            "doel": self.doel.value,
            "naam": self.naam,
            "toelichting": self.toelichting,
            "locatieOin": self.locatie_oin,
            "projectlocaties": locaties,
            "initiatiefnemer": persoon_to_dict(self.initiatiefnemer),
            **({"contactpersoon": contactpersoon_to_dict(self.contactpersoon)}
               if self.contactpersoon else {}),
            "activiteiten": [
                {
                    "activiteit": {"naam": a.activiteit.naam, "oin": a.activiteit.oin},
                    "bevoegdGezag": {"oin": a.bevoegd_gezag.oin, "naam": a.bevoegd_gezag.naam},
                    **(
                        {
                            "toestemming": {
                                "code": a.toestemming.code,
                                "waarde": a.toestemming.waarde,
                            }
                        }
                        if a.toestemming
                        else {}
                    ),
                    "specificaties": [specificatie_to_dict(s) for s in a.specificaties],
                }
                for a in self.activiteiten
            ],
            "bijlagen": [
                {
                    "seed": b.seed,
                    "size": b.size,
                    "bestandsnaam": b.bestandsnaam,
                    "mediatype": b.mediatype,
                }
                for b in self.bijlagen
            ],
        }
        if major >= 5:
            body["rolaanduiding"] = self.rolaanduiding
        return body

    @classmethod
    def from_json(cls, data: object) -> Indienbericht:
        """Parse a request body; raises :class:`ShapeError` listing the problems. The type
        may be one this project does not know (``"Idee"``): see ``type.is_known``."""
        if not isinstance(data, Mapping):
            raise ShapeError("indienbericht", ["the body must be a JSON object"])
        problems: list[str] = xml_text_problems(data)
        if problems:
            raise ShapeError("indienbericht", problems)
        try:
            vtype = VerzoekType.of(str(data.get("type", "")))
            doel = Doel.parse(str(data.get("doel", Doel.INITIEREN.value)))
        except ValueError as exc:
            raise ShapeError("indienbericht", [str(exc)]) from None
        activiteiten: list[IndienActiviteit] = []
        raw_acts = data.get("activiteiten")
        if not isinstance(raw_acts, list) or not raw_acts:
            problems.append("'activiteiten' must be a non-empty list")
            raw_acts = []
        for n, a in enumerate(raw_acts):
            try:
                t = a.get("toestemming")
                bg = a["bevoegdGezag"]
                act = ActiviteitRef(str(a["activiteit"]["naam"]), str(a["activiteit"]["oin"]))
                if not is_oin(bg["oin"]) or not act.naam:
                    raise ValueError("bad OIN or empty name")
                activiteiten.append(
                    IndienActiviteit(
                        activiteit=act,
                        bevoegd_gezag=Organisatie(str(bg["oin"]), str(bg.get("naam", ""))),
                        toestemming=Toestemming(str(t["code"]), str(t.get("waarde", "")))
                        if t
                        else None,
                        specificaties=tuple(
                            specificatie_from_dict(s) for s in a.get("specificaties", ())
                        ),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(
                    f"activiteiten[{n}] needs activiteit{{naam, oin}}, bevoegdGezag{{oin}} ({exc})"
                )
        bijlagen: list[GegenereerdeBijlage] = []
        raw_bijlagen = data.get("bijlagen", []) or []
        if not isinstance(raw_bijlagen, list) or len(raw_bijlagen) > MAX_GENERATED_BIJLAGEN:
            problems.append(f"'bijlagen' must be a list of at most {MAX_GENERATED_BIJLAGEN}")
            raw_bijlagen = []
        for n, b in enumerate(raw_bijlagen):
            try:
                seed, size = b["seed"], b["size"]
                if not all(isinstance(v, int) and not isinstance(v, bool) for v in (seed, size)):
                    raise TypeError("seed and size must be whole numbers")
                if not MIN_GENERATED_SIZE <= size <= MAX_GENERATED_SIZE:
                    raise ValueError(f"size must be {MIN_GENERATED_SIZE}..{MAX_GENERATED_SIZE} "
                                     f"bytes, not {size}")
                bijlagen.append(
                    GegenereerdeBijlage(
                        int(seed),
                        int(size),
                        _text(b.get("bestandsnaam", ""), f"bijlagen[{n}].bestandsnaam"),
                        _text(b.get("mediatype", "application/pdf"), f"bijlagen[{n}].mediatype"),
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(f"bijlagen[{n}] needs seed and size ({exc})")
        locaties: tuple[Projectlocatie, ...] = ()
        persoon: NatuurlijkPersoon | None = None
        contact: Contactpersoon | None = None
        try:
            locaties = tuple(projectlocatie_from_dict(p) for p in data.get("projectlocaties", []))
            persoon = persoon_from_dict(data.get("initiatiefnemer"))
            contact = contactpersoon_from_dict(data.get("contactpersoon"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            problems.append(f"projectlocaties or initiatiefnemer malformed ({exc})")
        locatie_oin = str(data.get("locatieOin", "") or "")
        if locatie_oin and not is_oin(locatie_oin):
            problems.append("'locatieOin' must be a 20-digit OIN")
        rol = data.get("rolaanduiding", ROL_INITIATIEFNEMER)
        if not isinstance(rol, str) or rol.casefold() not in ROLAANDUIDINGEN:
            problems.append(f"'rolaanduiding' must be one of {', '.join(ROLAANDUIDINGEN)}")
            rol = ROL_INITIATIEFNEMER
        if problems:
            raise ShapeError("indienbericht", problems)
        return cls(
            rolaanduiding=rol.casefold(),
            type=vtype,
            doel=doel,
            naam=str(data.get("naam", "")),
            toelichting=str(data.get("toelichting", "")),
            activiteiten=tuple(activiteiten),
            projectlocaties=locaties,
            locatie_oin=locatie_oin,
            initiatiefnemer=persoon,
            contactpersoon=contact,
            bijlagen=tuple(bijlagen),
        )
