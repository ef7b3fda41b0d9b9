"""Behandeldienstconfiguratie: exactly one behandeldienst, overlaps refused, lint."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_dso.findings import Severity, with_check
from pytest_dso.sim.domain.routing import (
    ActiviteitRef,
    BehandeldienstConfiguratie,
    ConfiguratieNotFoundError,
    InvalidConfiguratieError,
    RoutingConflictError,
    RoutingTable,
    Toestemming,
    lint_configurations,
)
from pytest_dso.sim.store import Store

BG = "00000099000000101000"
BG2 = "00000099000000102000"
BD_A = "00000099000000201000"
BD_B = "00000099000000202000"
BD_C = "00000099000000203000"
NOORD = "00000099000000301000"
ZUID = "00000099000000302000"
ACT = ActiviteitRef("DakkapelPlaatsen", BG)
VERGUNNING = Toestemming("V", "Vergunning")
ADVIES = Toestemming("A", "Advies")


def cfg(
    bd: str,
    toestemming: Toestemming | None = None,
    locaties: tuple[str, ...] = (),
    act: ActiviteitRef = ACT,
    bg: str = BG,
) -> BehandeldienstConfiguratie:
    return BehandeldienstConfiguratie(bg, act, bd, toestemming, locaties)


@pytest.fixture
def table() -> RoutingTable:
    """The example from the process document: A north, B south (vergunningen), C advies."""
    t = RoutingTable()
    t.create(cfg(BD_A, VERGUNNING, (NOORD,)))
    t.create(cfg(BD_B, VERGUNNING, (ZUID,)))
    t.create(cfg(BD_C, ADVIES))
    return t


def test_exactly_one_behandeldienst_per_key(table: RoutingTable) -> None:
    assert table.route(ACT, BG, VERGUNNING, NOORD) == BD_A
    assert table.route(ACT, BG, "V", ZUID) == BD_B
    assert table.route(ACT, BG, ADVIES, NOORD) == BD_C
    assert table.route(ACT, BG, ADVIES, ZUID) == BD_C
    assert table.route("DakkapelPlaatsen", BG, ADVIES) == BD_C


def test_uncovered_key_stays_with_the_bevoegd_gezag(table: RoutingTable) -> None:
    assert table.route(ACT, BG, VERGUNNING, "00000099000000399000") is None
    assert table.route(ACT, BG, VERGUNNING, None) is None
    assert table.route(ActiviteitRef("Anders", BG), BG, ADVIES) is None
    assert table.route(ACT, BG2, ADVIES) is None


def test_optional_parts_cover_everything() -> None:
    t = RoutingTable()
    t.create(cfg(BD_A))
    assert t.route(ACT, BG, None, None) == BD_A
    assert t.route(ACT, BG, VERGUNNING, ZUID) == BD_A


@pytest.mark.parametrize(
    "clash",
    [
        cfg(BD_C, VERGUNNING, (NOORD,)),  # same key
        cfg(BD_C, None, (ZUID,)),  # every toestemming in the south overlaps B and C
        cfg(BD_C, VERGUNNING),  # whole area overlaps A and B
        cfg(BD_A, ADVIES, (NOORD, ZUID)),  # overlaps C (same BD as none: still refused)
    ],
)
def test_overlaps_are_refused(table: RoutingTable, clash: BehandeldienstConfiguratie) -> None:
    before = table.list()
    with pytest.raises(RoutingConflictError, match="exactly one behandeldienst") as info:
        table.create(clash)
    assert info.value.existing
    assert table.list() == before


def test_disjoint_configurations_are_accepted(table: RoutingTable) -> None:
    other = table.create(cfg(BD_A, VERGUNNING, (NOORD,), act=ActiviteitRef("Kappen", BG)))
    assert other.id
    assert table.create(cfg(BD_B, VERGUNNING, (NOORD,), bg=BG2, act=ActiviteitRef("X", BG2)))
    assert len(table.list()) == 5
    assert len(table.list(BG2)) == 1
    assert len(table.list(BD_A)) == 2


def test_bg_routing_to_itself_is_refused() -> None:
    with pytest.raises(InvalidConfiguratieError, match="itself"):
        RoutingTable().create(cfg(BG))


def test_get_and_delete(table: RoutingTable) -> None:
    first = table.list()[0]
    assert table.get(first.id) == first
    assert table.delete(first.id) == first
    with pytest.raises(ConfiguratieNotFoundError, match=first.id):
        table.get(first.id)
    with pytest.raises(ConfiguratieNotFoundError):
        table.delete(first.id)
    assert table.route(ACT, BG, VERGUNNING, NOORD) is None
    table.create(cfg(BD_C, VERGUNNING, (NOORD,)))
    assert table.route(ACT, BG, VERGUNNING, NOORD) == BD_C


def test_persisted_through_the_store(tmp_path: Path) -> None:
    with Store(tmp_path / "s.sqlite") as store:
        table = RoutingTable.from_store(store)
        keep = table.create(cfg(BD_A, VERGUNNING, (NOORD, ZUID)))
        gone = table.create(cfg(BD_C, ADVIES))
        table.delete(gone.id)
    with Store(tmp_path / "s.sqlite") as store:
        again = RoutingTable.from_store(store)
        assert again.list() == (keep,)
        assert again.route(ACT, BG, VERGUNNING, ZUID) == BD_A


def test_lint_clean_set(table: RoutingTable) -> None:
    assert lint_configurations(table.list()) == []


def test_lint_overlap_and_duplicate() -> None:
    findings = lint_configurations(
        [cfg(BD_A, VERGUNNING), cfg(BD_B, None, (NOORD,)), cfg(BD_A, VERGUNNING, (ZUID,))]
    )
    overlap = with_check(findings, "routing.overlap")
    dup = with_check(findings, "routing.duplicate")
    assert len(overlap) == 1  # BD_B (north, any) vs BD_A (everywhere, V); south is disjoint
    assert all(f.severity == Severity.ERROR for f in overlap)
    assert len(dup) == 1
    assert dup[0].severity == Severity.WARNING


def test_lint_gap_in_named_locaties_and_toestemmingen() -> None:
    configs = [cfg(BD_A, VERGUNNING, (NOORD,)), cfg(BD_B, ADVIES, (NOORD, ZUID))]
    gaps = with_check(lint_configurations(configs), "routing.gap")
    assert len(gaps) == 1
    assert f"toestemming V, locatie {ZUID}" in gaps[0].message
    extra = with_check(lint_configurations(configs, toestemmingen=["M"]), "routing.gap")
    assert "toestemming M" in extra[0].message


def test_lint_gap_for_given_locaties() -> None:
    gaps = with_check(
        lint_configurations([cfg(BD_A, None, (NOORD,))], locatie_oins=[NOORD, ZUID]),
        "routing.gap",
    )
    assert len(gaps) == 1
    assert ZUID in gaps[0].message


def test_lint_against_expected_behandeldiensten(table: RoutingTable) -> None:
    findings = lint_configurations(
        table.list(), expected_behandeldiensten={BG: [BD_A, BD_B, "00000099000000299000"]}
    )
    assert [f.check for f in findings] == [
        "routing.behandeldienst_unconfigured",
        "routing.behandeldienst_unexpected",
    ]
    assert "00000099000000299000" in findings[0].message
    assert BD_C in findings[1].message


def test_lint_self_routing() -> None:
    assert with_check(lint_configurations([cfg(BG)]), "routing.self")


def test_initial_configurations_get_ids() -> None:
    table = RoutingTable([cfg(BD_A, VERGUNNING), cfg(BD_B, ADVIES)])
    for c in table.list():
        assert c.id
        assert table.get(c.id) == c
