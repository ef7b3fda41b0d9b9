"""Render and parse verzoek and verzoeknotificatie XML (a documented model of STAM v4).

**This is not the official STAM v4 XSD layout.** The element layout below is a model built
from public descriptions (element names seen in real messages as documented by a VTH vendor
[V], namespaces consistent across independent parsers [I], enumerations from CIM-AM [C]). It
is what the embedded simulator emits and what :mod:`pytest_dso.stam.schemas` describes. To
validate real DSO-LV messages against the official schemas, point ``[stam] xsd_dir`` in
``dso.toml`` at the XSDs published on iplo.nl (see :mod:`pytest_dso.stam.validate`).

Parsing is lenient on purpose, as the reference advises: element names are matched
**case-insensitively by local name in any namespace** (``indiendatum`` = ``indienDatum``),
and a verzoek wrapped by an adapter (``<verzoekXML><verzoek>…``) is found inside its wrapper.

Layout of a verzoek (prefixes from :class:`StamNamespaces`; ``?`` optional, ``*`` repeated)::

    vx:verzoek
      imam:verzoeknummer            13 digits [I]
      imam:volgnummer               0, +1 per aanvulling, 999 intrekking [C]
      imam:type                     "Aanvraag vergunning" | "Melding" | ... [V]
      imam:doel                     "Initiëren" | "Conceptverzoek" | "Aanvullen" | "Intrekken"
      imam:naam
      imam:indiendatum              xs:dateTime
      imam:toelichting?
      imam:bevoegdGezag             ic:oin, ic:naam
      imam:uitvoerendeInstantie     ic:oin, ic:naam (the behandeldienst, or the BG itself)
      imam:projectlocaties
        imam:projectlocatie*
          imam:adresAanduiding?     ic:nummeraanduidingId? ic:postcode? ic:huisnummer?
                                    ic:huisletter? ic:huisnummertoevoeging? ic:straatnaam?
                                    ic:woonplaats?
          imam:punt?                gml:Point(srsName EPSG:28992)/gml:pos "x y"
      imam:projectactiviteiten
        imam:projectactiviteit*
          imam:activiteitNaam, imam:activiteitId?
          imam:specificaties/imam:specificatie*   imam:vraagId, imam:antwoord
      imam:initiatiefnemer?
        imam:natuurlijkPersoon      ic:bsn, ic:voorletters?, ic:achternaam?, ic:emailadres?
      imam:verzoekbijlages?
        imam:document*              imam:documentId, imam:bestandsnaam, imam:mediatype,
                                    imam:grootte, imam:sha256

Layout of a verzoeknotificatie (its official namespace and element list are unknown [?]; in
practice it carries only the verzoeknummer [V])::

    vn:verzoeknotificatie
      vn:verzoeknummer
      vn:volgnummer?  vn:type?  vn:bevoegdGezag/ic:oin?  vn:ontvanger/ic:oin?  vn:tijdstip?
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from pytest_dso.stam.model import (
    Adres,
    Bijlage,
    Doel,
    NatuurlijkPersoon,
    Organisatie,
    Projectactiviteit,
    Projectlocatie,
    RdPunt,
    Specificatie,
    Verzoek,
    Verzoeknotificatie,
    VerzoekType,
)
from pytest_dso.xmlsafe import UnsafeXmlError, parse_xml

#: STAM v4 verzoek namespace [I, strong].
NS_VERZOEK = "http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoek"
#: STAM v4 IMAM namespace [I, strong].
NS_IMAM = "http://www.omgevingswet.nl/koppelvlak/stam-v4/IMAM"
#: STAM v4 common namespace [I, strong].
NS_COMMON = "http://www.omgevingswet.nl/koppelvlak/stam-v4/common"
#: GML namespace for geometry [I].
NS_GML = "http://www.opengis.net/gml"
#: Verzoeknotificatie namespace: **this project's assumption** [?]; configurable.
NS_NOTIFICATIE = "http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoeknotificatie"
#: The older IMAM namespace seen in STAM 2 messages.
NS_IMAM_V2 = "http://www.omgevingswet.nl/koppelvlak/stam-v2/IMAM"
#: The RD coordinate reference system.
SRS_RD = "urn:ogc:def:crs:EPSG::28992"


class StamParseError(ValueError):
    """The XML is not a verzoek or verzoeknotificatie this model can read; says why."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message if line is None else f"{message} (line {line})")
        self.line = line


@dataclass(frozen=True)
class StamNamespaces:
    """The namespace URIs used when rendering (and, when strict, accepted when parsing)."""

    vx: str = NS_VERZOEK
    imam: str = NS_IMAM
    ic: str = NS_COMMON
    gml: str = NS_GML
    vn: str = NS_NOTIFICATIE

    def as_map(self) -> dict[str, str]:
        """Prefix → URI, for ``nsmap`` and XPath."""
        return {"vx": self.vx, "imam": self.imam, "ic": self.ic, "gml": self.gml, "vn": self.vn}


DEFAULT_NAMESPACES = StamNamespaces()


# -- rendering -------------------------------------------------------------------------------


class _Builder:
    def __init__(self, ns: StamNamespaces) -> None:
        self.ns = ns

    def el(
        self, parent: etree._Element, prefix: str, name: str, text: object = None
    ) -> etree._Element:
        uri = getattr(self.ns, prefix)
        node = etree.SubElement(parent, f"{{{uri}}}{name}")
        if text is not None:
            node.text = str(text)
        return node

    def opt(self, parent: etree._Element, prefix: str, name: str, text: object) -> None:
        if text not in (None, ""):
            self.el(parent, prefix, name, text)

    def organisatie(self, parent: etree._Element, name: str, org: Organisatie) -> None:
        node = self.el(parent, "imam", name)
        self.el(node, "ic", "oin", org.oin)
        self.el(node, "ic", "naam", org.naam)


def _fmt_datetime(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _fmt_coord(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def verzoek_element(
    verzoek: Verzoek, namespaces: StamNamespaces = DEFAULT_NAMESPACES
) -> etree._Element:
    """The verzoek as an lxml element tree (see the module docstring for the layout)."""
    b = _Builder(namespaces)
    nsmap = {k: v for k, v in namespaces.as_map().items() if k != "vn"}
    root = etree.Element(f"{{{namespaces.vx}}}verzoek", nsmap=nsmap)
    v = verzoek
    b.el(root, "imam", "verzoeknummer", v.verzoeknummer)
    b.el(root, "imam", "volgnummer", v.volgnummer)
    b.el(root, "imam", "type", v.type.value)
    b.el(root, "imam", "doel", v.doel.value)
    b.el(root, "imam", "naam", v.naam)
    b.el(root, "imam", "indiendatum", _fmt_datetime(v.indiendatum))
    b.opt(root, "imam", "toelichting", v.toelichting)
    b.organisatie(root, "bevoegdGezag", v.bevoegd_gezag)
    b.organisatie(root, "uitvoerendeInstantie", v.uitvoerende_instantie)
    locaties = b.el(root, "imam", "projectlocaties")
    for loc in v.projectlocaties:
        node = b.el(locaties, "imam", "projectlocatie")
        if loc.adres is not None:
            a = loc.adres
            adres = b.el(node, "imam", "adresAanduiding")
            b.opt(adres, "ic", "nummeraanduidingId", a.nummeraanduiding_id)
            b.opt(adres, "ic", "postcode", a.postcode)
            b.opt(adres, "ic", "huisnummer", a.huisnummer)
            b.opt(adres, "ic", "huisletter", a.huisletter)
            b.opt(adres, "ic", "huisnummertoevoeging", a.huisnummertoevoeging)
            b.opt(adres, "ic", "straatnaam", a.straatnaam)
            b.opt(adres, "ic", "woonplaats", a.woonplaats)
        if loc.punt is not None:
            punt = b.el(node, "imam", "punt")
            point = b.el(punt, "gml", "Point")
            point.set("srsName", SRS_RD)
            b.el(point, "gml", "pos", f"{_fmt_coord(loc.punt.x)} {_fmt_coord(loc.punt.y)}")
    activiteiten = b.el(root, "imam", "projectactiviteiten")
    for act in v.projectactiviteiten:
        node = b.el(activiteiten, "imam", "projectactiviteit")
        b.el(node, "imam", "activiteitNaam", act.activiteit_naam)
        b.opt(node, "imam", "activiteitId", act.activiteit_id)
        specs = b.el(node, "imam", "specificaties")
        for spec in act.specificaties:
            s = b.el(specs, "imam", "specificatie")
            b.el(s, "imam", "vraagId", spec.vraag_id)
            b.el(s, "imam", "antwoord", spec.antwoord)
    if v.initiatiefnemer is not None:
        p = v.initiatiefnemer
        ini = b.el(root, "imam", "initiatiefnemer")
        persoon = b.el(ini, "imam", "natuurlijkPersoon")
        b.el(persoon, "ic", "bsn", p.bsn)
        b.opt(persoon, "ic", "voorletters", p.voorletters)
        b.opt(persoon, "ic", "achternaam", p.achternaam)
        b.opt(persoon, "ic", "emailadres", p.emailadres)
    if v.bijlagen:
        bijlages = b.el(root, "imam", "verzoekbijlages")
        for bijlage in v.bijlagen:
            doc = b.el(bijlages, "imam", "document")
            b.el(doc, "imam", "documentId", bijlage.document_id)
            b.el(doc, "imam", "bestandsnaam", bijlage.bestandsnaam)
            b.el(doc, "imam", "mediatype", bijlage.mediatype)
            b.el(doc, "imam", "grootte", bijlage.size)
            b.el(doc, "imam", "sha256", bijlage.sha256)
    return root


def render_verzoek(verzoek: Verzoek, namespaces: StamNamespaces = DEFAULT_NAMESPACES) -> bytes:
    """The verzoek as UTF-8 XML bytes with an XML declaration, pretty-printed."""
    return etree.tostring(
        verzoek_element(verzoek, namespaces),
        xml_declaration=True,
        encoding="UTF-8",
        pretty_print=True,
    )


def render_verzoeknotificatie(
    notificatie: Verzoeknotificatie, namespaces: StamNamespaces = DEFAULT_NAMESPACES
) -> bytes:
    """The verzoeknotificatie as UTF-8 XML bytes (this project's layout; see module docs)."""
    b = _Builder(namespaces)
    root = etree.Element(
        f"{{{namespaces.vn}}}verzoeknotificatie",
        nsmap={"vn": namespaces.vn, "ic": namespaces.ic},
    )
    n = notificatie
    b.el(root, "vn", "verzoeknummer", n.verzoeknummer)
    if n.volgnummer is not None:
        b.el(root, "vn", "volgnummer", n.volgnummer)
    if n.type is not None:
        b.el(root, "vn", "type", n.type.value)
    if n.bevoegd_gezag_oin:
        b.el(b.el(root, "vn", "bevoegdGezag"), "ic", "oin", n.bevoegd_gezag_oin)
    if n.ontvanger_oin:
        b.el(b.el(root, "vn", "ontvanger"), "ic", "oin", n.ontvanger_oin)
    if n.tijdstip is not None:
        b.el(root, "vn", "tijdstip", _fmt_datetime(n.tijdstip))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


# -- parsing ---------------------------------------------------------------------------------


def local_name(node: etree._Element) -> str:
    """The local name of an element, lower-cased for case-insensitive matching."""
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].casefold()


def _namespace(node: etree._Element) -> str:
    tag = node.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _line(node: etree._Element) -> int | None:
    line = getattr(node, "sourceline", None)
    return line if isinstance(line, int) else None


def _children(node: etree._Element, name: str) -> Iterator[etree._Element]:
    wanted = name.casefold()
    for child in node:
        if local_name(child) == wanted:
            yield child


def _child(node: etree._Element | None, *path: str) -> etree._Element | None:
    current = node
    for name in path:
        if current is None:
            return None
        current = next(_children(current, name), None)
    return current


def _text(node: etree._Element | None, *path: str) -> str:
    found = _child(node, *path)
    if found is None or found.text is None:
        return ""
    return found.text.strip()


def _items(node: etree._Element | None, container: str, item: str) -> list[etree._Element]:
    holder = _child(node, container)
    return [] if holder is None else list(_children(holder, item))


def _descendant(node: etree._Element, name: str) -> etree._Element | None:
    wanted = name.casefold()
    for item in node.iter():
        if local_name(item) == wanted:
            return item
    return None


def _locate(root: etree._Element, name: str) -> etree._Element:
    """The element named ``name`` carrying a verzoeknummer: the root or inside a wrapper."""
    if _child(root, "verzoeknummer") is not None:
        return root
    wanted = name.casefold()
    for item in root.iter():
        if local_name(item) == wanted and _child(item, "verzoeknummer") is not None:
            return item
    raise StamParseError(
        f"no <{name}> with a <verzoeknummer> found (root element is <{local_name(root)}>)",
        _line(root),
    )


def _parse_root(data: bytes | str | etree._Element, what: str) -> etree._Element:
    if isinstance(data, etree._Element):
        return data
    try:
        return parse_xml(data, what=what)
    except UnsafeXmlError as exc:
        raise StamParseError(str(exc), exc.line) from None


def _check_namespace(node: etree._Element, allowed: set[str]) -> None:
    ns = _namespace(node)
    if ns not in allowed:
        raise StamParseError(
            f"element <{local_name(node)}> is in namespace {ns or '(none)'!r}; expected one of "
            f"{sorted(allowed)} (configure the namespace map if DSO-LV uses another)",
            _line(node),
        )


def _datetime(text: str, field_name: str, node: etree._Element) -> dt.datetime:
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise StamParseError(f"{field_name} {text!r} is not an xs:dateTime", _line(node)) from None


def _int(text: str, field_name: str, node: etree._Element) -> int:
    try:
        return int(text)
    except ValueError:
        raise StamParseError(f"{field_name} {text!r} is not an integer", _line(node)) from None


def _organisatie(node: etree._Element | None) -> Organisatie | None:
    if node is None:
        return None
    oin = _text(node, "oin") or _text(_descendant(node, "oin"))
    return Organisatie(oin, _text(node, "naam")) if oin else None


def _locatie(node: etree._Element) -> Projectlocatie:
    adres: Adres | None = None
    adres_node = _child(node, "adresAanduiding")
    if adres_node is not None:
        nummer = _text(adres_node, "huisnummer")
        adres = Adres(
            postcode=_text(adres_node, "postcode"),
            huisnummer=int(nummer) if nummer.isdigit() else None,
            huisletter=_text(adres_node, "huisletter"),
            huisnummertoevoeging=_text(adres_node, "huisnummertoevoeging"),
            straatnaam=_text(adres_node, "straatnaam"),
            woonplaats=_text(adres_node, "woonplaats"),
            nummeraanduiding_id=_text(adres_node, "nummeraanduidingId"),
        )
    punt: RdPunt | None = None
    punt_node = _child(node, "punt")
    pos = _descendant(punt_node, "pos") if punt_node is not None else None
    if pos is not None and pos.text:
        parts = pos.text.split()
        try:
            punt = RdPunt(float(parts[0]), float(parts[1]))
        except (IndexError, ValueError):
            raise StamParseError(f"RD point {pos.text!r} is not 'x y'", _line(pos)) from None
    return Projectlocatie(adres=adres, punt=punt)


def parse_verzoek(
    data: bytes | str | etree._Element,
    *,
    namespaces: StamNamespaces | None = None,
) -> Verzoek:
    """Read a verzoek from XML (hardened parsing; element names matched case-insensitively).

    With ``namespaces`` given, the verzoek element must be in ``namespaces.vx`` or
    ``namespaces.imam``; without, any namespace is accepted. Raises :class:`StamParseError`
    with the line and the problem.
    """
    root = _parse_root(data, "verzoek XML")
    node = _locate(root, "verzoek")
    if namespaces is not None:
        _check_namespace(node, {namespaces.vx, namespaces.imam, NS_IMAM_V2})
    nummer = _text(node, "verzoeknummer")
    if not nummer:
        raise StamParseError("the verzoek has an empty <verzoeknummer>", _line(node))
    type_text = _text(node, "type")
    try:
        vtype = VerzoekType.parse(type_text)
        doel = Doel.parse(_text(node, "doel") or Doel.INITIEREN.value)
    except ValueError as exc:
        raise StamParseError(str(exc), _line(node)) from None
    datum_text = _text(node, "indiendatum")
    if not datum_text:
        raise StamParseError("the verzoek has no <indiendatum>", _line(node))
    bg = _organisatie(_child(node, "bevoegdGezag"))
    if bg is None:
        raise StamParseError("the verzoek has no <bevoegdGezag> with an <oin>", _line(node))
    ui = _organisatie(_child(node, "uitvoerendeInstantie")) or bg
    volgnummer_text = _text(node, "volgnummer")
    person_node = _child(node, "initiatiefnemer", "natuurlijkPersoon")
    initiatiefnemer = None
    if person_node is not None:
        initiatiefnemer = NatuurlijkPersoon(
            bsn=_text(person_node, "bsn"),
            achternaam=_text(person_node, "achternaam"),
            voorletters=_text(person_node, "voorletters"),
            emailadres=_text(person_node, "emailadres"),
        )
    activiteiten = []
    for act in _items(node, "projectactiviteiten", "projectactiviteit"):
        specs = tuple(
            Specificatie(_text(s, "vraagId"), _text(s, "antwoord"))
            for s in _items(act, "specificaties", "specificatie")
        )
        activiteiten.append(
            Projectactiviteit(_text(act, "activiteitNaam"), specs, _text(act, "activiteitId"))
        )
    bijlagen = []
    for doc in _items(node, "verzoekbijlages", "document"):
        size_text = _text(doc, "grootte")
        bijlagen.append(
            Bijlage(
                document_id=_text(doc, "documentId"),
                bestandsnaam=_text(doc, "bestandsnaam"),
                mediatype=_text(doc, "mediatype") or "application/octet-stream",
                size=_int(size_text, "grootte", doc) if size_text else 0,
                sha256=_text(doc, "sha256"),
            )
        )
    try:
        return Verzoek(
            verzoeknummer=nummer,
            volgnummer=_int(volgnummer_text, "volgnummer", node) if volgnummer_text else 0,
            type=vtype,
            doel=doel,
            naam=_text(node, "naam"),
            indiendatum=_datetime(datum_text, "indiendatum", node),
            toelichting=_text(node, "toelichting"),
            bevoegd_gezag=bg,
            uitvoerende_instantie=ui,
            projectlocaties=tuple(
                _locatie(loc) for loc in _items(node, "projectlocaties", "projectlocatie")
            ),
            projectactiviteiten=tuple(activiteiten),
            initiatiefnemer=initiatiefnemer,
            bijlagen=tuple(bijlagen),
        )
    except ValueError as exc:
        if isinstance(exc, StamParseError):
            raise
        raise StamParseError(str(exc), _line(node)) from None


def parse_verzoeknotificatie(
    data: bytes | str | etree._Element,
    *,
    namespaces: StamNamespaces | None = None,
) -> Verzoeknotificatie:
    """Read a verzoeknotificatie; only the verzoeknummer is required.

    Accepts this project's layout and adapter wrappers such as
    ``<triggerbericht><trigger><verzoeknummer>`` [V]. Raises :class:`StamParseError`.
    """
    root = _parse_root(data, "verzoeknotificatie XML")
    if _child(root, "verzoeknummer") is not None:
        node = root
    else:
        found = None
        for name in ("verzoeknotificatie", "trigger", "verzoek"):
            try:
                found = _locate(root, name)
                break
            except StamParseError:
                continue
        if found is None:
            raise StamParseError(
                f"no <verzoeknummer> found in the verzoeknotificatie (root <{local_name(root)}>)",
                _line(root),
            )
        node = found
    if namespaces is not None:
        _check_namespace(node, {namespaces.vn, namespaces.vx, namespaces.imam})
    nummer = _text(node, "verzoeknummer")
    if not nummer:
        raise StamParseError("the verzoeknotificatie has an empty <verzoeknummer>", _line(node))
    volg = _text(node, "volgnummer")
    type_text = _text(node, "type")
    try:
        vtype = VerzoekType.parse(type_text) if type_text else None
    except ValueError as exc:
        raise StamParseError(str(exc), _line(node)) from None
    tijd = _text(node, "tijdstip")
    known = {"verzoeknummer", "volgnummer", "type", "bevoegdgezag", "ontvanger", "tijdstip"}
    extra = {
        local_name(c): (c.text or "").strip()
        for c in node
        if isinstance(c.tag, str) and local_name(c) not in known and len(c) == 0
    }
    return Verzoeknotificatie(
        verzoeknummer=nummer,
        volgnummer=_int(volg, "volgnummer", node) if volg else None,
        type=vtype,
        bevoegd_gezag_oin=_text(node, "bevoegdGezag", "oin"),
        ontvanger_oin=_text(node, "ontvanger", "oin"),
        tijdstip=_datetime(tijd, "tijdstip", node) if tijd else None,
        extra=extra,
    )
