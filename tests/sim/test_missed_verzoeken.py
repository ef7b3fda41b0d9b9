"""Gemiste verzoeken against a real simulator on loopback: a verzoek whose trigger was dropped
on purpose is reported with a samenvatting link that returns its STAM message; when every
trigger arrived, nothing is reported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from xml.etree import ElementTree

import pytest
from sim_helpers import GEMEENTE, WATERSCHAP, Dka, melding, submit

from pytest_dso.dso.afhandelen import AfhandelenClient
from pytest_dso.dso.rest import RestConfig, RestSession
from pytest_dso.dso.shapes import ZoekVraag
from pytest_dso.e2e.missed import SharedSearch, missed_verzoeken
from pytest_dso.findings import errors
from pytest_dso.sim.server import Simulator

VX = {"vx": "http://www.omgevingswet.nl/koppelvlak/stam-v4/verzoek"}


@pytest.fixture(scope="module")
def dka(module_dka: Dka) -> Dka:
    """One DKA for the module: no test here changes what it received."""
    return module_dka


@pytest.fixture(scope="module")
def sim(module_sim: Simulator) -> Simulator:
    """One simulator for the module: the tests only search and fetch the same three
    meldingen, and none changes them."""
    return module_sim


@pytest.fixture(scope="module")
def afhandelen(sim: Simulator) -> Iterator[AfhandelenClient]:
    """The leverancier's afhandelen client (mandated for every bevoegd gezag)."""
    config = RestConfig(base_urls=dict(sim.api_base_urls))
    with RestSession(config, sim.identities.party("leverancier"), sim.trust_anchors) as session:
        yield AfhandelenClient(session)


@pytest.fixture(scope="module")
def submitted(sim: Simulator, dka: Dka) -> list[str]:
    """Three meldingen for the gemeente, each delivered to the DKA."""
    nummers = [n for _ in range(3) for n in submit(sim, melding())]
    for nummer in nummers:
        sim.wait_for_delivery(nummer, timeout=10)
        assert dka.received(nummer) == 1
    return nummers


def test_a_dropped_trigger_is_reported(
    submitted: list[str], dka: Dka, afhandelen: AfhandelenClient
) -> None:
    dropped = submitted[1]
    with dka.lock:  # the trigger source never passes this one on
        log = [n for n in dka.application if n != dropped]

    report = missed_verzoeken(afhandelen, GEMEENTE, lambda nr: nr in log, days=7)

    assert sorted(report.found) == sorted(submitted)
    assert [m.verzoeknummer for m in report.missed] == [dropped]
    [finding] = errors(report.findings("TEST Gemeente"))
    assert finding.check == "health.missed_verzoek"
    assert dropped in finding.message
    link = report.missed[0].samenvatting_url
    assert link.endswith(f"/overheid/verzoeken/api/afhandelen/v2/verzoeken/{dropped}/samenvatting")
    assert link in finding.hint
    stam = afhandelen.session.request("GET", link, accept="application/xml").expect()
    root = ElementTree.fromstring(stam.body)  # noqa: S314 - our own simulator's output
    assert root.findtext(".//vx:verzoeknummer", namespaces=VX) == dropped


def test_a_complete_run_reports_none(
    submitted: list[str], dka: Dka, afhandelen: AfhandelenClient
) -> None:
    with dka.lock:
        log = list(dka.application)
    report = missed_verzoeken(afhandelen, GEMEENTE, lambda nr: nr in log, days=7)
    assert sorted(report.found) == sorted(submitted)
    assert report.missed == ()
    assert errors(report.findings()) == []
    other = missed_verzoeken(afhandelen, WATERSCHAP, lambda nr: False, days=7)
    assert other.found == ()


def test_tenants_calling_as_one_party_share_one_search(
    sim: Simulator, submitted: list[str], dka: Dka, afhandelen: AfhandelenClient
) -> None:
    calls: list[str] = []
    config = RestConfig(base_urls=dict(sim.api_base_urls))
    with RestSession(config, sim.identities.party("leverancier"), sim.trust_anchors,
                     recorder=lambda exchange: calls.append(exchange.url)) as session:
        client = AfhandelenClient(session)
        shared = SharedSearch()
        with dka.lock:
            log = list(dka.application)
        gemeente = missed_verzoeken(client, GEMEENTE, lambda nr: nr in log, shared=shared)
        searches = len(calls)
        waterschap = missed_verzoeken(client, WATERSCHAP, lambda nr: False, shared=shared)
        assert len(calls) == searches >= 1  # the second tenant's answer came from the first
        # each tenant keeps only its own, exactly as when it searches alone
        assert sorted(gemeente.found) == sorted(submitted)
        assert waterschap.found == ()
        alone = missed_verzoeken(afhandelen, GEMEENTE, lambda nr: nr in log)
        assert (gemeente.found, gemeente.missed) == (alone.found, alone.missed)
        # another caller (no client certificate) is searched again
        with RestSession(config, None, sim.trust_anchors) as anonymous:
            assert SharedSearch.caller_key(AfhandelenClient(anonymous), _vraag(), 1) != (
                SharedSearch.caller_key(client, _vraag(), 1))


def _vraag() -> ZoekVraag:
    today = dt.date(2026, 1, 1)
    return ZoekVraag(today, today)


def test_days_are_bounded(afhandelen: AfhandelenClient) -> None:
    with pytest.raises(ValueError, match=r"1\.\.366"):
        missed_verzoeken(afhandelen, GEMEENTE, lambda nr: True, days=0)


def test_what_nothing_can_check_is_undecided_not_missed(
    submitted: list[str], afhandelen: AfhandelenClient
) -> None:
    from pytest_dso.findings import warnings_of

    report = missed_verzoeken(afhandelen, GEMEENTE, lambda nr: None, days=7)
    assert report.missed == ()
    assert sorted(m.verzoeknummer for m in report.undecided) == sorted(submitted)
    assert errors(report.findings()) == []
    [warning] = warnings_of(report.findings())
    assert warning.check == "health.missed_undecided"
    assert all(nr in warning.message for nr in submitted)
