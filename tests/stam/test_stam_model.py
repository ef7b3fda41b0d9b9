"""The verzoek model: enumerations, volgnummer rules, BSN, plain-data round trip."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.stam.model import (
    VOLGNUMMER_INTREKKING,
    Doel,
    NatuurlijkPersoon,
    Verzoek,
    VerzoekType,
    bsn_is_valid,
    example_bsn,
    verzoek_from_dict,
    verzoek_to_dict,
)

LATER = dt.datetime(2026, 6, 3, 9, 0, tzinfo=dt.UTC)


def test_all_seven_types_with_cim_codes() -> None:
    assert [t.value for t in VerzoekType] == [
        "Aanvraag vergunning",
        "Melding",
        "Informatie",
        "Informatie ongewoon voorval",
        "Aanvraag maatwerkvoorschrift",
        "Melding gelijkwaardige maatregel",
        "Aanvraag toestemming gelijkwaardige maatregel",
    ]
    assert VerzoekType.AANVRAAG_TOESTEMMING_GELIJKWAARDIGE_MAATREGEL.cim_code == (
        "aanvraagToestemmingGelijkwaardigeMaatregel"
    )
    assert VerzoekType.parse("informatieOngewoonVoorval") is VerzoekType.INFORMATIE_ONGEWOON_VOORVAL
    assert VerzoekType.parse(" aanvraag  VERGUNNING ") is VerzoekType.AANVRAAG_VERGUNNING


def test_unknown_type_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="Aanvraag vergunning"):
        VerzoekType.parse("Vergunning")


def test_doel_values_and_aliases() -> None:
    assert [d.value for d in Doel] == ["Initiëren", "Conceptverzoek", "Aanvullen", "Intrekken"]
    assert Doel.parse("Vooroverleg") is Doel.CONCEPTVERZOEK
    assert Doel.parse("initieren") is Doel.INITIEREN


def test_initial_verzoek_has_volgnummer_zero(verzoek: Verzoek) -> None:
    assert verzoek.volgnummer == 0
    assert verzoek.doel is Doel.INITIEREN


def test_aanvulling_adds_one_and_keeps_the_verzoeknummer(verzoek: Verzoek) -> None:
    first = verzoek.aanvulling(LATER)
    second = first.aanvulling(LATER, bijlagen=())
    assert (first.volgnummer, second.volgnummer) == (1, 2)
    assert first.verzoeknummer == second.verzoeknummer == verzoek.verzoeknummer
    assert first.doel is Doel.AANVULLEN
    assert first.bijlagen == verzoek.bijlagen
    assert second.bijlagen == ()


def test_intrekking_is_999_and_final(verzoek: Verzoek) -> None:
    ingetrokken = verzoek.aanvulling(LATER).intrekking(LATER)
    assert ingetrokken.volgnummer == VOLGNUMMER_INTREKKING == 999
    assert ingetrokken.doel is Doel.INTREKKEN
    with pytest.raises(ValueError, match="withdrawn"):
        ingetrokken.aanvulling(LATER)
    with pytest.raises(ValueError, match="already withdrawn"):
        ingetrokken.intrekking(LATER)


def test_volgnummer_out_of_range_is_refused(make: Callable[..., Verzoek]) -> None:
    with pytest.raises(ValueError, match="volgnummer 1000"):
        make(volgnummer=1000)


def test_example_bsn_passes_the_elfproef() -> None:
    bsns = {example_bsn(n) for n in range(5)}
    assert len(bsns) == 5
    assert all(bsn_is_valid(b) and b.startswith("9999") for b in bsns)
    assert not bsn_is_valid("999999999")
    assert not bsn_is_valid("000000000")
    assert not bsn_is_valid("12345678")


def test_bsn_is_not_in_repr(make: Callable[..., Verzoek]) -> None:
    person = NatuurlijkPersoon(example_bsn(), "Tester")
    assert example_bsn() not in repr(person)
    assert example_bsn() not in repr(make())


def test_kopie_detection(verzoek: Verzoek) -> None:
    assert verzoek.is_kopie_for(verzoek.bevoegd_gezag.oin)
    assert not verzoek.is_kopie_for(verzoek.uitvoerende_instantie.oin)


def test_plain_data_round_trip(verzoek: Verzoek) -> None:
    assert verzoek_from_dict(verzoek_to_dict(verzoek)) == verzoek
