"""Mandates (may_fetch) and the aansluitactiviteiten per type of bevoegd gezag."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_dso.sim.domain.activiteiten import (
    CATALOGUE,
    PROD_TESTDATUM,
    aansluitactiviteit,
    verzoektype_for,
)
from pytest_dso.sim.domain.mandates import Mandaat, MandateTable
from pytest_dso.stam.model import Organisatie, Verzoek, VerzoekType

BG = "00000099000000101000"
BD = "00000099000000201000"
LEVERANCIER = "00000099000000003000"
VREEMD = "00000099000000999000"

VERZOEK = Verzoek(
    verzoeknummer="2026060200001",
    type=VerzoekType.MELDING,
    bevoegd_gezag=Organisatie(BG),
    uitvoerende_instantie=Organisatie(BD),
    indiendatum=dt.datetime(2026, 6, 2, tzinfo=dt.UTC),
)


def test_bg_and_bd_may_fetch_themselves() -> None:
    table = MandateTable()
    assert table.may_fetch(BG, VERZOEK)
    assert table.may_fetch(BD, VERZOEK)


def test_stranger_may_not_fetch() -> None:
    decision = MandateTable().may_fetch(VREEMD, VERZOEK)
    assert not decision
    assert "Ophalen verzoek" in decision.reason


def test_leverancier_with_mandate_may_fetch() -> None:
    table = MandateTable().grant(LEVERANCIER, BG, Mandaat.OPHALEN_VERZOEK)
    decision = table.may_fetch(LEVERANCIER, VERZOEK)
    assert decision
    assert decision.namens_oin == BG
    assert (
        not MandateTable()
        .grant(LEVERANCIER, BG, Mandaat.CPA_AANBIEDEN)
        .may_fetch(LEVERANCIER, VERZOEK)
    )


def test_acting_oin_must_be_a_party_and_mandated() -> None:
    table = MandateTable().grant(LEVERANCIER, BG)
    assert table.may_fetch(LEVERANCIER, VERZOEK, acting_oin=BG)
    assert not table.may_fetch(LEVERANCIER, VERZOEK, acting_oin=BD)
    assert not table.may_fetch(LEVERANCIER, VERZOEK, acting_oin=VREEMD)
    assert table.may_fetch(BD, VERZOEK, acting_oin=BD)


def test_revoke_and_namens() -> None:
    table = MandateTable().grant(LEVERANCIER, BG).grant(LEVERANCIER, BD, Mandaat.CPA_AANBIEDEN)
    assert table.namens(LEVERANCIER, Mandaat.CPA_AANBIEDEN) == (LEVERANCIER, BG, BD)
    assert table.namens(LEVERANCIER, Mandaat.OPHALEN_VERZOEK) == (LEVERANCIER, BG)
    assert not table.revoke(LEVERANCIER, BG).may(LEVERANCIER, BG, Mandaat.OPHALEN_VERZOEK)
    assert table.revoke(LEVERANCIER).regels == ()


def test_prod_aansluitactiviteiten_need_the_testdatum() -> None:
    for kind in ("gemeente", "waterschap", "provincie", "omgevingsdienst", "rijk"):
        act = aansluitactiviteit(kind, "prod")
        assert act.naam.startswith("Aansluitactiviteit ")
        assert act.testdatum == PROD_TESTDATUM == dt.date(2030, 1, 1)
        assert act.naam in CATALOGUE
        assert "01-01-2030" in act.steps()[0]


def test_pre_names_and_types() -> None:
    assert aansluitactiviteit("waterschap", "pre").naam == "Waterschappen – Melding"
    assert aansluitactiviteit("provincie", "pre").filter == "Rijk"
    bd = aansluitactiviteit("omgevingsdienst", "pre")
    assert (bd.naam, bd.verzoektype) == ("Gemeentes – Informatie", VerzoekType.INFORMATIE)
    rijk = aansluitactiviteit("rijk", "pre")
    assert rijk.ergens_anders_indienen
    assert any("Ergens anders indienen" in s for s in rijk.steps())
    assert aansluitactiviteit("gemeente", "local").note


def test_six_prod_aansluitactiviteiten_in_the_catalogue() -> None:
    assert len([n for n in CATALOGUE if n.startswith("Aansluitactiviteit")]) == 6


def test_unknown_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown type"):
        aansluitactiviteit("ministerie", "pre")
    with pytest.raises(ValueError, match="unknown environment"):
        aansluitactiviteit("gemeente", "test")


def test_verzoektype_from_the_name() -> None:
    assert verzoektype_for("Aansluitactiviteit Gemeentes – Informatie") is VerzoekType.INFORMATIE
    assert verzoektype_for("Rijk - Melding") is VerzoekType.MELDING
    with pytest.raises(ValueError, match="not an aansluitactiviteit"):
        verzoektype_for("DakkapelPlaatsen")
