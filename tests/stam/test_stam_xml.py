"""Rendering and parsing STAM-shaped XML: round trip, lenient matching, wrappers, hostile XML."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from pytest_dso.stam.model import (
    Doel,
    Organisatie,
    RdPunt,
    Specificatie,
    Verzoek,
    Verzoeknotificatie,
    VerzoekType,
)
from pytest_dso.stam.xml import (
    NS_COMMON,
    NS_GML,
    NS_IMAM,
    NS_VERZOEK,
    StamNamespaces,
    StamParseError,
    parse_verzoek,
    parse_verzoeknotificatie,
    render_verzoek,
    render_verzoeknotificatie,
)


def test_round_trip(verzoek: Verzoek) -> None:
    assert parse_verzoek(render_verzoek(verzoek)) == verzoek


@pytest.mark.parametrize("vtype", list(VerzoekType))
@pytest.mark.parametrize("doel", list(Doel))
def test_round_trip_every_type_and_doel(
    make: Callable[..., Verzoek], vtype: VerzoekType, doel: Doel
) -> None:
    v = make(type=vtype, doel=doel, initiatiefnemer=None, bijlagen=(), projectlocaties=())
    assert parse_verzoek(render_verzoek(v)) == v


VX = {"vx": NS_VERZOEK, "gml": NS_GML}


def test_a_namespace_exact_consumer_finds_what_real_messages_carry(verzoek: Verzoek) -> None:
    """The element names and case public parsers of real STAM v4 messages look up."""
    root = etree.fromstring(render_verzoek(verzoek))
    assert root.tag == f"{{{NS_VERZOEK}}}verzoek"

    def text(path: str) -> str | None:
        found = root.find(path, VX)
        return None if found is None else found.text

    assert text(".//vx:verzoeknummer") == verzoek.verzoeknummer
    assert text(".//vx:activiteitnaam") == "Gemeentes – Melding"
    assert text(".//vx:type") == "Melding"
    assert text(".//vx:indienDatum") == "2026-06-02T10:15:00+00:00"
    assert text(".//vx:bevoegdGezagNaam") == "TEST Gemeente Oefenstad"
    assert text(".//vx:adresaanduiding/vx:postcode") == "1234AB"
    assert text(".//vx:initiatiefnemer/vx:naam") == "J. Tester"
    assert text(".//vx:contactpersoon/vx:naam") == "P. Contact"
    assert text(".//vx:contactpersoon/vx:organisatieNaam") == "Voorbeeld B.V."
    spec = root.findall(".//vx:specificatie", VX)[1]
    assert [spec.findtext(f"vx:{n}", namespaces=VX) for n in
            ("vraagId", "vraagtekst", "vraagclassificatie", "groepering", "antwoord")] == [
        "42", "Is er een tekening?", "Bijlage", "Tekeningen", "ja"]
    asked = spec.find("vx:gevraagdeBijlage", VX)
    assert asked is not None
    doc = asked.find(".//vx:document", VX)
    assert doc is not None
    assert doc.findtext("vx:documentId", namespaces=VX) == "doc-1"
    assert doc.findtext("vx:bestandsnaam", namespaces=VX) == verzoek.bijlagen[0].bestandsnaam
    pos_list = root.findall(".//gml:posList", VX)
    assert [p.text for p in pos_list] == [
        "155000 463000 155010 463000 155010 463010 155000 463000"]
    assert root.find(f".//{{{NS_IMAM}}}verzoeknummer") is None  # nothing left in imam


def test_namespace_map_is_configurable(verzoek: Verzoek) -> None:
    ns = StamNamespaces(vx="urn:test:verzoek")
    xml = render_verzoek(verzoek, ns)
    assert b"urn:test:verzoek" in xml
    assert NS_VERZOEK.encode() not in xml
    assert parse_verzoek(xml, namespaces=ns) == verzoek
    with pytest.raises(StamParseError, match="namespace"):
        parse_verzoek(xml, namespaces=StamNamespaces())


def test_the_earlier_imam_layout_still_reads() -> None:
    """This project's earlier layout (imam/ic elements, activiteitNaam, indiendatum,
    adresAanduiding, gml:pos) parses to the same values."""
    xml = f"""<?xml version="1.0"?>
<vx:verzoek xmlns:vx="{NS_VERZOEK}" xmlns:imam="{NS_IMAM}" xmlns:ic="{NS_COMMON}"
    xmlns:gml="{NS_GML}">
  <imam:verzoeknummer>2026060200019</imam:verzoeknummer>
  <imam:volgnummer>0</imam:volgnummer>
  <imam:type>Informatie</imam:type>
  <imam:doel>Initiëren</imam:doel>
  <imam:naam>Oud</imam:naam>
  <imam:indiendatum>2026-06-02T10:15:00+00:00</imam:indiendatum>
  <imam:bevoegdGezag><ic:oin>00000099000000101000</ic:oin><ic:naam>G</ic:naam></imam:bevoegdGezag>
  <imam:uitvoerendeInstantie><ic:oin>00000099000000201000</ic:oin><ic:naam>BD</ic:naam>
  </imam:uitvoerendeInstantie>
  <imam:projectlocaties><imam:projectlocatie>
    <imam:adresAanduiding><ic:postcode>1234AB</ic:postcode></imam:adresAanduiding>
    <imam:punt><gml:Point srsName="urn:ogc:def:crs:EPSG::28992"><gml:pos>155000 463000</gml:pos>
    </gml:Point></imam:punt>
  </imam:projectlocatie></imam:projectlocaties>
  <imam:projectactiviteiten><imam:projectactiviteit>
    <imam:activiteitNaam>Gemeentes – Informatie</imam:activiteitNaam>
    <imam:specificaties><imam:specificatie><imam:vraagId>1</imam:vraagId>
    <imam:antwoord>Jan</imam:antwoord></imam:specificatie></imam:specificaties>
  </imam:projectactiviteit></imam:projectactiviteiten>
</vx:verzoek>""".encode()
    v = parse_verzoek(xml, namespaces=StamNamespaces())
    assert (v.verzoeknummer, v.type, v.naam) == ("2026060200019", VerzoekType.INFORMATIE, "Oud")
    assert v.bevoegd_gezag == Organisatie("00000099000000101000", "G")
    assert v.uitvoerende_instantie.oin == "00000099000000201000"
    assert v.projectactiviteiten[0].activiteit_naam == "Gemeentes – Informatie"
    assert v.projectactiviteiten[0].specificaties == (Specificatie("1", "Jan"),)
    assert v.projectlocaties[0].punt == RdPunt(155000, 463000)
    assert v.projectlocaties[0].adres is not None
    assert v.projectlocaties[0].adres.postcode == "1234AB"


def test_an_unknown_type_is_read_not_refused(verzoek: Verzoek) -> None:
    xml = render_verzoek(verzoek).replace(b">Melding<", b">Idee<")
    v = parse_verzoek(xml)
    assert v.type.value == "Idee"
    assert not v.type.is_known
    assert dataclasses.replace(v, type=VerzoekType.MELDING) == verzoek


def test_element_names_match_case_insensitively() -> None:
    xml = b"""<?xml version="1.0"?>
<verzoek xmlns="http://www.omgevingswet.nl/koppelvlak/stam-v2/IMAM">
  <VerzoekNummer>2022070500133</VerzoekNummer>
  <type>Aanvraag vergunning</type>
  <indienDatum>2022-07-05</indienDatum>
  <bevoegdgezag><oin>00000001001234567000</oin><naam>Gemeente</naam></bevoegdgezag>
  <projectactiviteiten><projectactiviteit><activiteitnaam>Dakkapel</activiteitnaam>
  </projectactiviteit></projectactiviteiten>
  <projectlocaties><projectlocatie><adresaanduiding><postcode>1234AB</postcode>
  </adresaanduiding></projectlocatie></projectlocaties>
</verzoek>"""
    v = parse_verzoek(xml)
    assert v.verzoeknummer == "2022070500133"
    assert v.indiendatum == dt.datetime(2022, 7, 5)
    assert v.type is VerzoekType.AANVRAAG_VERGUNNING
    assert v.uitvoerende_instantie == v.bevoegd_gezag  # absent: the BG itself
    assert v.projectactiviteiten[0].activiteit_naam == "Dakkapel"
    assert v.projectlocaties[0].adres is not None
    assert v.projectlocaties[0].adres.postcode == "1234AB"


def test_verzoek_inside_an_adapter_wrapper_is_found(verzoek: Verzoek) -> None:
    inner = render_verzoek(verzoek).split(b"?>", 1)[1]
    wrapped = b"<verzoekXML>" + inner + b"</verzoekXML>"
    assert parse_verzoek(wrapped) == verzoek


def test_notificatie_round_trip() -> None:
    n = Verzoeknotificatie(
        "2026060200019",
        1,
        VerzoekType.INFORMATIE,
        "00000099000000101000",
        "00000099000000201000",
        dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC),
    )
    assert parse_verzoeknotificatie(render_verzoeknotificatie(n)) == n


def test_minimal_notificatie_needs_only_the_verzoeknummer() -> None:
    n = parse_verzoeknotificatie(render_verzoeknotificatie(Verzoeknotificatie("2026060200019")))
    assert n == Verzoeknotificatie("2026060200019")


def test_notificatie_adapter_wrapper_is_accepted() -> None:
    xml = (
        b"<triggerbericht><trigger><verzoeknummer>2022070500133</verzoeknummer>"
        b"<extra>x</extra></trigger></triggerbericht>"
    )
    n = parse_verzoeknotificatie(xml)
    assert n.verzoeknummer == "2022070500133"
    assert n.extra == {"extra": "x"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda x: x.replace(b"2026060200019", b""), "empty <verzoeknummer>"),
        (lambda x: x.replace(b">Melding<", b"> <"), "unknown verzoek type"),
        (lambda x: x.replace(b"2026-06-02T10:15:00+00:00", b"gisteren"), "xs:dateTime"),
        (lambda x: x.replace(b"<vx:volgnummer>0", b"<vx:volgnummer>nul"), "integer"),
        (lambda x: x.replace(b"155010 463010", b"155010 noord"), "posList"),
    ],
)
def test_parse_errors_say_what_is_wrong(verzoek: Verzoek, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StamParseError, match=message) as info:
        parse_verzoek(mutate(render_verzoek(verzoek)))
    assert "line" in str(info.value)


def test_no_verzoek_at_all() -> None:
    with pytest.raises(StamParseError, match="no <verzoek>"):
        parse_verzoek(b"<iets><anders/></iets>")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE verzoek [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<verzoek><verzoeknummer>&xxe;</verzoeknummer></verzoek>"""

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">]>
<verzoeknotificatie><verzoeknummer>&lol2;</verzoeknummer></verzoeknotificatie>"""


def test_xxe_is_refused() -> None:
    with pytest.raises(StamParseError, match="DOCTYPE"):
        parse_verzoek(XXE)


def test_entity_expansion_is_refused() -> None:
    with pytest.raises(StamParseError, match="DOCTYPE"):
        parse_verzoeknotificatie(LAUGHS)


def test_rendering_is_deterministic(verzoek: Verzoek) -> None:
    assert render_verzoek(verzoek) == render_verzoek(dataclasses.replace(verzoek))


def test_an_unknown_type_is_a_warning_finding(verzoek: Verzoek) -> None:
    from pytest_dso.findings import Severity
    from pytest_dso.stam.validate import check_verzoek

    v = parse_verzoek(render_verzoek(verzoek).replace(b">Melding<", b">Idee<"))
    findings = check_verzoek(v, v.uitvoerende_instantie.oin, v.verzoeknummer)
    assert [(f.check, f.severity) for f in findings] == [
        ("stam.verzoek.type_unknown", Severity.WARNING)]
    assert "Idee" in findings[0].message
    assert check_verzoek(verzoek, verzoek.uitvoerende_instantie.oin) == []
