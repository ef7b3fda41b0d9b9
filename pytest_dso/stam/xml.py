"""Render and parse verzoek and verzoeknotificatie XML (this project's layout of STAM v4).

**This is not the official STAM v4 XSD layout.** The verzoek layout below is **inferred from
public consumers** [I]: several independent Python parsers written against real STAM v4
messages look up, namespace-exact in ``http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoek``
(prefix ``vx``), ``verzoeknummer``, ``activiteitnaam``, ``type``, ``indienDatum``,
``adresaanduiding``, ``bevoegdGezagNaam``, ``specificatie`` (with ``vraagtekst``, ``antwoord``,
``vraagId``, ``vraagclassificatie``, ``groepering``, ``gevraagdeBijlage//document`` with
``bestandsnaam`` and ``documentId``), ``initiatiefnemer/naam``, ``contactpersoon/naam`` (with
``organisatieNaam``) and ``gml:posList``. The simulator
writes those names with that case in that namespace, so a parser written against real messages
finds them in what ``dso-sim`` hands out. The nesting (which parsers mostly skip with
``.//``) and all other elements are this project's choice; enumerations come from CIM-AM [C]
and a vendor's documentation [V]. :mod:`pytest_dso.stam.schemas` describes exactly this
layout. To validate real DSO-LV messages against the official schemas, point
``[stam] xsd_dir`` in ``dso.toml`` at the XSDs published on iplo.nl (see
:mod:`pytest_dso.stam.validate`).

Parsing is lenient on purpose: element names are matched **case-insensitively by local name
in any namespace** (``indiendatum`` = ``indienDatum``), so this layout, the earlier one of this
project (``imam:verzoeknummer``, ``imam:activiteitNaam``, ``gml:pos``) and real messages all
read; a verzoek wrapped by an adapter (``<verzoekXML><verzoek>…``) is found inside its
wrapper; an unknown verzoek type is kept (``type.is_known`` false) for a warning finding.

Layout of a verzoek (all elements ``vx:`` unless shown; ``?`` optional, ``*`` repeated)::

    verzoek
      verzoeknummer                 13 digits [I]
      volgnummer                    0, +1 per aanvulling, 999 intrekking [C]
      type                          "Aanvraag vergunning" | "Melding" | ... [V]
      doel                          "Initiëren" | "Conceptverzoek" | "Aanvullen" | "Intrekken"
      naam
      indienDatum                   xs:dateTime
      toelichting?
      bevoegdGezag                  oin, bevoegdGezagNaam
      uitvoerendeInstantie          oin, naam (the behandeldienst, or the BG itself)
      projectlocaties
        projectlocatie*
          adresaanduiding?          nummeraanduidingId? postcode? huisnummer? huisletter?
                                    huisnummertoevoeging? straatnaam? woonplaats?
          punt?                     gml:Point(srsName EPSG:28992)/gml:pos "x y"
          vlak?                     gml:Polygon(srsName EPSG:28992)/gml:exterior/
                                    gml:LinearRing/gml:posList "x1 y1 ... x1 y1"
      projectactiviteiten
        projectactiviteit*
          activiteitnaam, activiteitId?
          specificaties/specificatie*   vraagId, vraagtekst?, vraagclassificatie?,
                                        groepering?, antwoord,
                                        gevraagdeBijlage?/documenten/document*
                                          (documentId, bestandsnaam)
      initiatiefnemer?
        naam                        voorletters and achternaam
        natuurlijkPersoon           bsn, voorletters?, achternaam?, emailadres?
      contactpersoon?               naam, organisatieNaam?, emailadres? (a company submits)
      verzoekbijlages?
        document*                   documentId, bestandsnaam, mediatype, grootte, sha256

Layout of a verzoeknotificatie (its official namespace and element list are unknown [?]; in
practice it carries only the verzoeknummer [V])::

    vn:verzoeknotificatie
      vn:verzoeknummer
      vn:volgnummer?  vn:type?  vn:bevoegdGezag/ic:oin?  vn:ontvanger/ic:oin?  vn:tijdstip?
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from pytest_dso.stam.model import (
    Adres,
    Bijlage,
    Contactpersoon,
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


def _fmt_datetime(value: dt.datetime) -> str:
    return value.isoformat(timespec="seconds")


def _fmt_coord(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _ring(points: tuple[RdPunt, ...]) -> str:
    ring = list(points)
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return " ".join(f"{_fmt_coord(p.x)} {_fmt_coord(p.y)}" for p in ring)


def verzoek_element(
    verzoek: Verzoek, namespaces: StamNamespaces = DEFAULT_NAMESPACES
) -> etree._Element:
    """The verzoek as an lxml element tree (see the module docstring for the layout)."""
    b = _Builder(namespaces)
    root = etree.Element(f"{{{namespaces.vx}}}verzoek",
                         nsmap={"vx": namespaces.vx, "gml": namespaces.gml})
    v = verzoek

    def el(parent: etree._Element, name: str, text: object = None) -> etree._Element:
        return b.el(parent, "vx", name, text)

    def opt(parent: etree._Element, name: str, text: object) -> None:
        b.opt(parent, "vx", name, text)

    el(root, "verzoeknummer", v.verzoeknummer)
    el(root, "volgnummer", v.volgnummer)
    el(root, "type", v.type.value)
    el(root, "doel", v.doel.value)
    el(root, "naam", v.naam)
    el(root, "indienDatum", _fmt_datetime(v.indiendatum))
    opt(root, "toelichting", v.toelichting)
    bg = el(root, "bevoegdGezag")
    el(bg, "oin", v.bevoegd_gezag.oin)
    el(bg, "bevoegdGezagNaam", v.bevoegd_gezag.naam)
    ui = el(root, "uitvoerendeInstantie")
    el(ui, "oin", v.uitvoerende_instantie.oin)
    el(ui, "naam", v.uitvoerende_instantie.naam)
    locaties = el(root, "projectlocaties")
    for loc in v.projectlocaties:
        node = el(locaties, "projectlocatie")
        if loc.adres is not None:
            a = loc.adres
            adres = el(node, "adresaanduiding")
            opt(adres, "nummeraanduidingId", a.nummeraanduiding_id)
            opt(adres, "postcode", a.postcode)
            opt(adres, "huisnummer", a.huisnummer)
            opt(adres, "huisletter", a.huisletter)
            opt(adres, "huisnummertoevoeging", a.huisnummertoevoeging)
            opt(adres, "straatnaam", a.straatnaam)
            opt(adres, "woonplaats", a.woonplaats)
        if loc.punt is not None:
            point = b.el(el(node, "punt"), "gml", "Point")
            point.set("srsName", SRS_RD)
            b.el(point, "gml", "pos", f"{_fmt_coord(loc.punt.x)} {_fmt_coord(loc.punt.y)}")
        if loc.vlak:
            polygon = b.el(el(node, "vlak"), "gml", "Polygon")
            polygon.set("srsName", SRS_RD)
            ring = b.el(b.el(polygon, "gml", "exterior"), "gml", "LinearRing")
            b.el(ring, "gml", "posList", _ring(loc.vlak))
    names = {d.document_id: d.bestandsnaam for d in v.bijlagen}
    activiteiten = el(root, "projectactiviteiten")
    for act in v.projectactiviteiten:
        node = el(activiteiten, "projectactiviteit")
        el(node, "activiteitnaam", act.activiteit_naam)
        opt(node, "activiteitId", act.activiteit_id)
        specs = el(node, "specificaties")
        for spec in act.specificaties:
            s = el(specs, "specificatie")
            el(s, "vraagId", spec.vraag_id)
            opt(s, "vraagtekst", spec.vraagtekst)
            opt(s, "vraagclassificatie", spec.vraagclassificatie)
            opt(s, "groepering", spec.groepering)
            el(s, "antwoord", spec.antwoord)
            if spec.document_ids:
                docs = el(el(s, "gevraagdeBijlage"), "documenten")
                for document_id in spec.document_ids:
                    doc = el(docs, "document")
                    el(doc, "documentId", document_id)
                    el(doc, "bestandsnaam", names.get(document_id) or document_id)
    if v.initiatiefnemer is not None:
        p = v.initiatiefnemer
        ini = el(root, "initiatiefnemer")
        el(ini, "naam", " ".join(x for x in (p.voorletters, p.achternaam) if x))
        persoon = el(ini, "natuurlijkPersoon")
        el(persoon, "bsn", p.bsn)
        opt(persoon, "voorletters", p.voorletters)
        opt(persoon, "achternaam", p.achternaam)
        opt(persoon, "emailadres", p.emailadres)
    if v.contactpersoon is not None:
        c = v.contactpersoon
        contact = el(root, "contactpersoon")
        el(contact, "naam", c.naam)
        opt(contact, "organisatieNaam", c.organisatie_naam)
        opt(contact, "emailadres", c.emailadres)
    if v.bijlagen:
        bijlages = el(root, "verzoekbijlages")
        for bijlage in v.bijlagen:
            doc = el(bijlages, "document")
            el(doc, "documentId", bijlage.document_id)
            el(doc, "bestandsnaam", bijlage.bestandsnaam)
            el(doc, "mediatype", bijlage.mediatype)
            el(doc, "grootte", bijlage.size)
            el(doc, "sha256", bijlage.sha256)
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
    return _local_of(tag)


@functools.lru_cache(maxsize=4096)
def _local_of(tag: str) -> str:
    """``{namespace}Name`` -> ``name`` (casefolded); one computation per distinct tag."""
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


def _locate(root: etree._Element, name: str, *, any_parent: bool = False) -> etree._Element:
    """The element named ``name`` carrying a verzoeknummer: the root or inside a wrapper;
    with ``any_parent``, else the parent of the first ``verzoeknummer`` anywhere."""
    if _child(root, "verzoeknummer") is not None:
        return root
    wanted = name.casefold()
    for item in root.iter():
        if local_name(item) == wanted and _child(item, "verzoeknummer") is not None:
            return item
    nummer = _descendant(root, "verzoeknummer") if any_parent else None
    parent = nummer.getparent() if nummer is not None else None
    if parent is not None:
        return parent
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


def _organisatie(node: etree._Element | None, *names: str) -> Organisatie | None:
    if node is None:
        return None
    oin = _text(node, "oin") or _text(_descendant(node, "oin"))
    naam = next((t for t in (_text(node, n) for n in (*names, "naam")) if t), "")
    return Organisatie(oin, naam) if oin else None


def _parse_ring(text: str, node: etree._Element) -> tuple[RdPunt, ...]:
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        raise StamParseError(f"gml:posList {text[:60]!r} holds a non-number", _line(node)) from None
    if len(values) % 2 or len(values) < 8:
        raise StamParseError("gml:posList must hold at least four 'x y' pairs", _line(node))
    return tuple(RdPunt(values[i], values[i + 1]) for i in range(0, len(values), 2))


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
    pos = _descendant(punt_node if punt_node is not None else node, "pos")
    if pos is not None and pos.text:
        parts = pos.text.split()
        try:
            punt = RdPunt(float(parts[0]), float(parts[1]))
        except (IndexError, ValueError):
            raise StamParseError(f"RD point {pos.text!r} is not 'x y'", _line(pos)) from None
    pos_list = _descendant(node, "posList")
    vlak = _parse_ring(pos_list.text, pos_list) if pos_list is not None and pos_list.text else ()
    return Projectlocatie(adres=adres, punt=punt, vlak=vlak)


def _specificatie(node: etree._Element) -> Specificatie:
    asked = _child(node, "gevraagdeBijlage")
    ids = tuple(
        _text(doc, "documentId")
        for doc in (asked.iter() if asked is not None else ())
        if local_name(doc) == "document" and _text(doc, "documentId")
    )
    return Specificatie(
        _text(node, "vraagId"),
        _text(node, "antwoord"),
        vraagtekst=_text(node, "vraagtekst"),
        vraagclassificatie=_text(node, "vraagclassificatie"),
        groepering=_text(node, "groepering"),
        document_ids=ids,
    )


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
    node = _locate(root, "verzoek", any_parent=True)
    if namespaces is not None:
        _check_namespace(node, {namespaces.vx, namespaces.imam, NS_IMAM_V2})
    nummer = _text(node, "verzoeknummer")
    if not nummer:
        raise StamParseError("the verzoek has an empty <verzoeknummer>", _line(node))
    type_text = _text(node, "type")
    try:
        vtype = VerzoekType.of(type_text)
        doel = Doel.parse(_text(node, "doel") or Doel.INITIEREN.value)
    except ValueError as exc:
        raise StamParseError(str(exc), _line(node)) from None
    datum_text = _text(node, "indiendatum")
    if not datum_text:
        raise StamParseError("the verzoek has no <indienDatum>", _line(node))
    bg = _organisatie(_child(node, "bevoegdGezag"), "bevoegdGezagNaam")
    if bg is not None and not bg.naam:
        bg = Organisatie(bg.oin, _text(node, "bevoegdGezagNaam"))
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
    elif _text(node, "initiatiefnemer", "naam"):
        initiatiefnemer = NatuurlijkPersoon(bsn="", achternaam=_text(node, "initiatiefnemer",
                                                                      "naam"))
    contact_node = _child(node, "contactpersoon")
    contactpersoon = None
    if contact_node is not None and _text(contact_node, "naam"):
        contactpersoon = Contactpersoon(_text(contact_node, "naam"),
                                        _text(contact_node, "organisatieNaam"),
                                        _text(contact_node, "emailadres"))
    activiteiten = []
    for act in _items(node, "projectactiviteiten", "projectactiviteit"):
        specs = tuple(_specificatie(s) for s in _items(act, "specificaties", "specificatie"))
        activiteiten.append(
            Projectactiviteit(_text(act, "activiteitnaam"), specs, _text(act, "activiteitId"))
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
            contactpersoon=contactpersoon,
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
