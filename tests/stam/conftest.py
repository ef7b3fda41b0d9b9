"""Shared sample data for the STAM tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from pytest_dso.stam.bijlagen import spec_for
from pytest_dso.stam.model import (
    Adres,
    Contactpersoon,
    NatuurlijkPersoon,
    Organisatie,
    Projectactiviteit,
    Projectlocatie,
    RdPunt,
    Specificatie,
    Verzoek,
    VerzoekType,
    example_bsn,
)

BG_OIN = "00000099000000101000"
BD_OIN = "00000099000000201000"


def make_verzoek(**changes: object) -> Verzoek:
    """A complete sample verzoek: a melding for the test gemeente, handled by the test BD."""
    values: dict[str, object] = {
        "verzoeknummer": "2026060200019",
        "type": VerzoekType.MELDING,
        "naam": "Aansluittest",
        "indiendatum": dt.datetime(2026, 6, 2, 10, 15, 0, tzinfo=dt.UTC),
        "bevoegd_gezag": Organisatie(BG_OIN, "TEST Gemeente Oefenstad"),
        "uitvoerende_instantie": Organisatie(BD_OIN, "TEST Omgevingsdienst Oefenregio"),
        "projectlocaties": (
            Projectlocatie(
                Adres(
                    postcode="1234AB",
                    huisnummer=12,
                    huisletter="a",
                    straatnaam="Proefstraat",
                    woonplaats="Oefenstad",
                    nummeraanduiding_id="0000200000123456",
                ),
                RdPunt(155000.25, 463000.0),
                (RdPunt(155000, 463000), RdPunt(155010, 463000), RdPunt(155010, 463010),
                 RdPunt(155000, 463000)),
            ),
        ),
        "projectactiviteiten": (
            Projectactiviteit(
                "Gemeentes – Melding",
                (Specificatie("1", "Jan Tester"),
                 Specificatie("42", "ja", vraagtekst="Is er een tekening?",
                              vraagclassificatie="Bijlage", groepering="Tekeningen",
                              document_ids=("doc-1",))),
                "nl.imow-gm0000.activiteit.Test",
            ),
        ),
        "initiatiefnemer": NatuurlijkPersoon(example_bsn(), "Tester", "J.", "jan@example.test"),
        "bijlagen": (spec_for(7, min_size=2_000, max_size=4_000).bijlage("doc-1"),),
        "toelichting": "Test van de aansluiting",
        "contactpersoon": Contactpersoon("P. Contact", "Voorbeeld B.V.", "p@example.test"),
    }
    values.update(changes)
    return Verzoek(**values)  # type: ignore[arg-type]


@pytest.fixture
def make() -> Callable[..., Verzoek]:
    """The sample-verzoek factory; keyword arguments replace fields."""
    return make_verzoek


@pytest.fixture
def verzoek() -> Verzoek:
    """A complete sample verzoek."""
    return make_verzoek()
