"""Indienen: split per bevoegd gezag, routing, at most two triggers, kopieberichten,
aanvulling and intrekking."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_dso.dso.shapes import (
    ActiviteitRef,
    BehandeldienstConfiguratie,
    GegenereerdeBijlage,
    IndienActiviteit,
    Indienbericht,
    Toestemming,
)
from pytest_dso.sim.domain.routing import RoutingTable
from pytest_dso.sim.domain.submission import (
    MAX_TRIGGERS_PER_VERZOEK,
    SubmissionError,
    aanvullen,
    intrekken,
    submit,
    wijzig_bevoegd_gezag,
)
from pytest_dso.stam.model import (
    Doel,
    NatuurlijkPersoon,
    Organisatie,
    Specificatie,
    VerzoekType,
    example_bsn,
)
from pytest_dso.stam.validate import check_verzoek, validate_verzoek
from pytest_dso.stam.verzoeknummer import MemoryCounters, VerzoeknummerAllocator
from pytest_dso.stam.xml import render_verzoek

GEMEENTE = Organisatie("00000099000000101000", "TEST Gemeente Oefenstad")
WATERSCHAP = Organisatie("00000099000000102000", "TEST Waterschap Oefenwater")
OD = "00000099000000201000"
OD2 = "00000099000000202000"
NOW = dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.UTC)
MELDING = ActiviteitRef("Gemeentes – Melding", "00000099000000001000")
INFORMATIE = ActiviteitRef("Gemeentes – Informatie", "00000099000000001000")
WATER = ActiviteitRef("Waterschappen – Melding", "00000099000000001000")
NAMES = {OD: "TEST Omgevingsdienst Oefenregio"}


def bericht(*acts: tuple[ActiviteitRef, Organisatie], **kw: object) -> Indienbericht:
    return Indienbericht(
        type=kw.pop("type", VerzoekType.MELDING),  # type: ignore[arg-type]
        activiteiten=tuple(
            IndienActiviteit(a, bg, None, (Specificatie("1", "Jan Tester"),)) for a, bg in acts
        ),
        naam="Aansluittest",
        initiatiefnemer=NatuurlijkPersoon(example_bsn(), "Tester"),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def allocate() -> VerzoeknummerAllocator:
    return VerzoeknummerAllocator(MemoryCounters(), clock=lambda: NOW.date())


@pytest.fixture
def routing() -> RoutingTable:
    table = RoutingTable()
    table.create(BehandeldienstConfiguratie(GEMEENTE.oin, INFORMATIE, OD))
    return table


def test_single_bg_without_behandeldienst(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    result = submit(
        bericht((MELDING, GEMEENTE)), routing=routing, allocate=allocate.allocate, now=NOW
    )
    (v,) = result.verzoeken
    assert v.verzoeknummer == "2026060200001"
    assert v.uitvoerende_instantie == GEMEENTE
    assert v.volgnummer == 0
    assert [(n.recipient_oin, n.kopie) for n in result.notifications] == [(GEMEENTE.oin, False)]
    assert result.notifications[0].notificatie.verzoeknummer == v.verzoeknummer
    assert result.undelivered == ()


def test_routed_to_behandeldienst_with_kopie_for_the_bg(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    result = submit(
        bericht((INFORMATIE, GEMEENTE), type=VerzoekType.INFORMATIE),
        routing=routing,
        allocate=allocate.allocate,
        now=NOW,
        names=NAMES,
    )
    (v,) = result.verzoeken
    assert v.uitvoerende_instantie == Organisatie(OD, NAMES[OD])
    assert [(n.recipient_oin, n.kopie) for n in result.notifications] == [
        (OD, False),
        (GEMEENTE.oin, True),
    ]
    kopie = check_verzoek(v, GEMEENTE.oin, v.verzoeknummer, VerzoekType.INFORMATIE)
    assert [f.check for f in kopie] == ["stam.verzoek.kopiebericht"]
    assert check_verzoek(v, OD, v.verzoeknummer, VerzoekType.INFORMATIE) == []


def test_meervoudig_verzoek_is_split_per_bevoegd_gezag(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    result = submit(
        bericht((MELDING, GEMEENTE), (WATER, WATERSCHAP), (INFORMATIE, GEMEENTE)),
        routing=routing,
        allocate=allocate.allocate,
        now=NOW,
    )
    gemeente, waterschap = result.verzoeken
    assert gemeente.verzoeknummer != waterschap.verzoeknummer
    assert [a.activiteit_naam for a in gemeente.projectactiviteiten] == [
        MELDING.naam,
        INFORMATIE.naam,
    ]
    assert [a.activiteit_naam for a in waterschap.projectactiviteiten] == [WATER.naam]
    assert waterschap.bevoegd_gezag == WATERSCHAP
    assert gemeente.uitvoerende_instantie.oin == OD
    per_verzoek = {
        v.verzoeknummer: [
            n.recipient_oin for n in result.notifications if n.verzoeknummer == v.verzoeknummer
        ]
        for v in result.verzoeken
    }
    assert per_verzoek == {
        gemeente.verzoeknummer: [OD, GEMEENTE.oin],
        waterschap.verzoeknummer: [WATERSCHAP.oin],
    }
    for v in result.verzoeken:
        assert validate_verzoek(render_verzoek(v)) == []


def test_at_most_two_triggers_per_verzoek(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    routing.create(BehandeldienstConfiguratie(GEMEENTE.oin, MELDING, OD2))
    result = submit(
        bericht((INFORMATIE, GEMEENTE), (MELDING, GEMEENTE)),
        routing=routing,
        allocate=allocate.allocate,
        now=NOW,
    )
    assert MAX_TRIGGERS_PER_VERZOEK == 2
    assert [n.recipient_oin for n in result.notifications] == [OD, GEMEENTE.oin]
    (lost,) = result.undelivered
    assert lost.recipient_oin == OD2
    assert "at most 2" in lost.reason


def test_routing_uses_toestemming_and_locatie(allocate: VerzoeknummerAllocator) -> None:
    table = RoutingTable()
    noord = "00000099000000301000"
    table.create(
        BehandeldienstConfiguratie(GEMEENTE.oin, MELDING, OD, Toestemming("M", "Melding"), (noord,))
    )
    act = IndienActiviteit(MELDING, GEMEENTE, Toestemming("M", "Melding"))
    inside = Indienbericht(VerzoekType.MELDING, (act,), locatie_oin=noord)
    outside = Indienbericht(VerzoekType.MELDING, (act,), locatie_oin="00000099000000302000")
    assert (
        submit(inside, routing=table, allocate=allocate.allocate, now=NOW)
        .verzoeken[0]
        .uitvoerende_instantie.oin
        == OD
    )
    assert (
        submit(outside, routing=table, allocate=allocate.allocate, now=NOW)
        .verzoeken[0]
        .uitvoerende_instantie.oin
        == GEMEENTE.oin
    )


def test_generated_bijlagen_are_attached_with_their_hash(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    b = bericht(
        (MELDING, GEMEENTE),
        (WATER, WATERSCHAP),
        bijlagen=(GegenereerdeBijlage(1, 3_000, "situatie.pdf"), GegenereerdeBijlage(2, 4_000)),
    )
    result = submit(b, routing=routing, allocate=allocate.allocate, now=NOW)
    for v in result.verzoeken:
        assert [d.document_id for d in v.bijlagen] == [
            f"{v.verzoeknummer}-001",
            f"{v.verzoeknummer}-002",
        ]
        assert v.bijlagen[0].bestandsnaam == "situatie.pdf"
        for d in v.bijlagen:
            spec = result.documenten[d.document_id]
            assert spec.size == d.size
            assert spec.sha256() == d.sha256


def test_empty_submission_is_refused(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    with pytest.raises(SubmissionError, match="no activiteiten"):
        submit(
            Indienbericht(VerzoekType.MELDING, ()),
            routing=routing,
            allocate=allocate.allocate,
            now=NOW,
        )


def test_aanvulling_and_intrekking(routing: RoutingTable, allocate: VerzoeknummerAllocator) -> None:
    (v,) = submit(
        bericht((INFORMATIE, GEMEENTE)), routing=routing, allocate=allocate.allocate, now=NOW
    ).verzoeken
    later = NOW + dt.timedelta(days=1)
    aanvulling = aanvullen(v, now=later, bijlagen=())
    (v1,) = aanvulling.verzoeken
    assert (v1.verzoeknummer, v1.volgnummer, v1.doel) == (v.verzoeknummer, 1, Doel.AANVULLEN)
    assert [(n.recipient_oin, n.volgnummer) for n in aanvulling.notifications] == [
        (OD, 1),
        (GEMEENTE.oin, 1),
    ]
    (v2,) = aanvullen(v1, now=later).verzoeken
    assert v2.volgnummer == 2
    intrekking = intrekken(v2, now=later)
    (v999,) = intrekking.verzoeken
    assert (v999.volgnummer, v999.doel) == (999, Doel.INTREKKEN)
    assert intrekking.notifications[0].notificatie.volgnummer == 999
    assert validate_verzoek(render_verzoek(v999)) == []
    with pytest.raises(SubmissionError, match="withdrawn"):
        aanvullen(v999, now=later)
    with pytest.raises(SubmissionError, match="already withdrawn"):
        intrekken(v999, now=later)


def test_wijzig_bevoegd_gezag_keeps_the_behandeldienst(
    routing: RoutingTable, allocate: VerzoeknummerAllocator
) -> None:
    (v,) = submit(
        bericht((INFORMATIE, GEMEENTE)), routing=routing, allocate=allocate.allocate, now=NOW
    ).verzoeken
    result = wijzig_bevoegd_gezag(v, WATERSCHAP, now=NOW)
    (moved,) = result.verzoeken
    assert moved.bevoegd_gezag == WATERSCHAP
    assert moved.uitvoerende_instantie.oin == OD
    assert [(n.recipient_oin, n.kopie) for n in result.notifications] == [(WATERSCHAP.oin, True)]
    (plain,) = submit(
        bericht((MELDING, GEMEENTE)), routing=routing, allocate=allocate.allocate, now=NOW
    ).verzoeken
    assert (
        wijzig_bevoegd_gezag(plain, WATERSCHAP, now=NOW).verzoeken[0].uitvoerende_instantie
        == WATERSCHAP
    )
    with pytest.raises(SubmissionError, match="already has"):
        wijzig_bevoegd_gezag(plain, GEMEENTE, now=NOW)
