"""Rendering and parsing STAM-shaped XML: round trip, lenient matching, wrappers, hostile XML."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from lxml import etree

from pytest_dso.stam.model import Doel, Verzoek, Verzoeknotificatie, VerzoekType
from pytest_dso.stam.xml import (
    NS_COMMON,
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


def test_uses_the_stam_v4_namespaces(verzoek: Verzoek) -> None:
    root = etree.fromstring(render_verzoek(verzoek))
    assert root.tag == f"{{{NS_VERZOEK}}}verzoek"
    assert root.find(f"{{{NS_IMAM}}}verzoeknummer").text == verzoek.verzoeknummer  # type: ignore[union-attr]
    oin = root.find(f"{{{NS_IMAM}}}bevoegdGezag/{{{NS_COMMON}}}oin")
    assert oin is not None
    assert oin.text == verzoek.bevoegd_gezag.oin


def test_namespace_map_is_configurable(verzoek: Verzoek) -> None:
    ns = StamNamespaces(vx="urn:test:verzoek", imam="urn:test:imam")
    xml = render_verzoek(verzoek, ns)
    assert b"urn:test:imam" in xml
    assert NS_IMAM.encode() not in xml
    assert parse_verzoek(xml, namespaces=ns) == verzoek
    with pytest.raises(StamParseError, match="namespace"):
        parse_verzoek(xml, namespaces=StamNamespaces())


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
        (lambda x: x.replace(b">Melding<", b">Vergunning<"), "unknown verzoek type"),
        (lambda x: x.replace(b"2026-06-02T10:15:00+00:00", b"gisteren"), "xs:dateTime"),
        (lambda x: x.replace(b"<imam:volgnummer>0", b"<imam:volgnummer>nul"), "integer"),
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
