"""Behandeldienstconfiguratie: activiteit + bevoegd gezag (+ toestemming) (+ locatie) → exactly one
behandeldienst (the behandeldienstconfiguratie rules of the DSO process document).

Reads the configuration of every bevoegd gezag of the run; locally (and on PRE with ``--dso-
allow-writes``) creates and removes a configuration for a test activiteit and checks through
Verzoeksroutering's "Behandeldienst bepalen" that a verzoek for it at a locatie in the gemeente
lands at the behandeldienst; lints the configurations for overlaps (two behandeldiensten for one
key) and gaps. PROD stays read-only unless ``--dso-allow-prod-writes``. A file of configurations
can be linted too: ``[behandeldienst] configuraties`` in dso.toml, a JSON list (or the API's HAL
form).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from pytest_dso.dso.behandeldienstconfiguratie import BehandeldienstconfiguratieClient
from pytest_dso.dso.rest import ApiError, ExchangeLog, RestSession
from pytest_dso.dso.routering import VerzoeksrouteringClient
from pytest_dso.dso.shapes import (
    ActiviteitRef,
    BehandeldienstConfiguratie,
    ShapeError,
    configuraties_from_json,
)
from pytest_dso.evidence.allure import Evidence
from pytest_dso.findings import Finding, error
from pytest_dso.settings import DsoSettings
from pytest_dso.sim.domain.routing import lint_configurations
from pytest_dso.tenants import Tenant
from pytest_dso.verdict import expect_clean

SessionFor = Callable[[Tenant | None], RestSession]


@pytest.fixture(scope="session")
def dso_bdc_test_activiteit(dso_settings: DsoSettings) -> str:
    """The activiteit the write test configures (``[behandeldienst] test_activiteit``); on PRE
    it must exist in the RTR for your bevoegd gezag, with indieningsvereisten."""
    return dso_settings.file.behandeldienst.test_activiteit


@pytest.fixture(scope="module")
def bevoegde_gezagen(dso_tenants: tuple[Tenant, ...]) -> list[Tenant]:
    """The tenants that are bevoegd gezag (not a behandeldienst)."""
    found = [t for t in dso_tenants if not t.is_behandeldienst]
    if not found:
        pytest.skip("this run covers no bevoegd gezag, only behandeldiensten")
    return found


@pytest.fixture(scope="module")
def configuraties(
    bevoegde_gezagen: list[Tenant], dso_rest_session_for: SessionFor
) -> tuple[dict[str, tuple[BehandeldienstConfiguratie, ...]], list[Finding]]:
    """Every bevoegd gezag's configurations as the API lists them, and the read problems."""
    found: dict[str, tuple[BehandeldienstConfiguratie, ...]] = {}
    problems: list[Finding] = []
    for bg in bevoegde_gezagen:
        client = BehandeldienstconfiguratieClient(dso_rest_session_for(bg), writes_allowed=False)
        try:
            found[bg.oin] = client.list()
        except ApiError as exc:
            problems.append(error(
                "behandeldienst.read", f"cannot read the configurations of {bg.name}: {exc}",
                "request the mandate 'Behandeldienstconfiguratie' (form 'Aanvragen beveiligde "
                "REST-services'; about 1-2 days) for the certificate's OIN", f"tenant {bg.oin}"))
    return found, problems


@pytest.mark.health
def test_configuratie_lezen(
    configuraties: tuple[dict[str, tuple[BehandeldienstConfiguratie, ...]], list[Finding]],
    dso_property: Callable[[str, object], None],
    dso_rest_log: ExchangeLog,
    dso_evidence: Evidence,
) -> None:
    """The configurations of every bevoegd gezag can be read with its certificate."""
    found, problems = configuraties
    dso_evidence.attach_rest(e for e in dso_rest_log.exchanges
                             if e.api == "behandeldienstconfiguratie" and e.method == "GET")
    for oin, items in found.items():
        dso_property(f"dso_behandeldienstconfiguraties_{oin}", len(items))
        for item in items:
            print(item.describe())
    expect_clean(problems, "behandeldienstconfiguratie lezen")


def _distinct(
    configuraties: Iterable[BehandeldienstConfiguratie],
) -> list[BehandeldienstConfiguratie]:
    """Each stored configuration once: a certificate mandated for several bevoegde gezagen
    lists the same configuration (the same id) for each of them, and a configuration does
    not overlap with itself."""
    by_id: dict[str, BehandeldienstConfiguratie] = {}
    unstored: list[BehandeldienstConfiguratie] = []
    for c in configuraties:
        if c.id:
            by_id.setdefault(c.id, c)
        else:
            unstored.append(c)
    return [*by_id.values(), *unstored]


@pytest.mark.health
def test_configuraties_zonder_overlap(
    configuraties: tuple[dict[str, tuple[BehandeldienstConfiguratie, ...]], list[Finding]],
    bevoegde_gezagen: list[Tenant],
) -> None:
    """No two configurations give one key two behandeldiensten; gaps and behandeldiensten
    missing from ``[[bevoegd_gezag]] behandeldiensten`` are reported as warnings."""
    found, _ = configuraties
    every = _distinct(c for items in found.values() for c in items)
    expected = {bg.oin: bg.behandeldiensten for bg in bevoegde_gezagen if bg.behandeldiensten}
    expect_clean(lint_configurations(every, expected_behandeldiensten=expected),
                 "behandeldienstconfiguraties")


def test_configuraties_uit_bestand(dso_settings: DsoSettings) -> None:
    """Lint a file of configurations (``[behandeldienst] configuraties``), e.g. the set you
    are about to load."""
    path = dso_settings.file.behandeldienst.configuraties
    if path is None:
        pytest.skip("set [behandeldienst] configuraties in dso.toml to a JSON file of "
                    "behandeldienstconfiguraties to lint it")
    try:
        items = configuraties_from_json(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, ShapeError) as exc:
        pytest.fail(f"[behandeldienst] configuraties = {path}: {exc}", pytrace=False)
    expected = {bg.oin: bg.behandeldiensten for bg in dso_settings.tenants() if bg.behandeldiensten}
    expect_clean(lint_configurations(items, expected_behandeldiensten=expected), str(path))


@pytest.mark.writes
def test_configuratie_aanmaken_routeren_verwijderen(
    dso_settings: DsoSettings,
    dso_tenants: tuple[Tenant, ...],
    dso_rest_session_for: SessionFor,
    dso_bdc_test_activiteit: str,
    dso_rest_log: ExchangeLog,
    dso_evidence: Evidence,
) -> None:
    """Create a configuration for the test activiteit, see Verzoeksroutering send a verzoek at
    a locatie in the gemeente to the behandeldienst, and remove the configuration again."""
    first = len(dso_rest_log.exchanges)
    try:
        _create_route_remove(dso_settings, dso_tenants, dso_rest_session_for,
                             dso_bdc_test_activiteit)
    finally:
        dso_evidence.attach_rest(dso_rest_log.exchanges[first:])


def _create_route_remove(
    dso_settings: DsoSettings,
    dso_tenants: tuple[Tenant, ...],
    dso_rest_session_for: SessionFor,
    dso_bdc_test_activiteit: str,
) -> None:
    pair = next(((t, bd) for t in dso_tenants if not t.is_behandeldienst
                 for bd in t.behandeldiensten), None)
    if pair is None:
        pytest.skip("no bevoegd gezag of this run names a behandeldienst "
                    "([[bevoegd_gezag]] behandeldiensten)")
    bg, bd = pair
    activiteit = dso_bdc_test_activiteit
    client = BehandeldienstconfiguratieClient(dso_rest_session_for(bg),
                                              writes_allowed=dso_settings.writes_allowed())
    wanted = BehandeldienstConfiguratie(oin=bg.oin, activiteit=ActiviteitRef(activiteit, bg.oin),
                                        behandeldienst_oin=bd, locatie_oins=(bg.oin,))
    try:
        created = client.create(wanted)
    except ApiError as exc:
        pytest.fail(f"creating {wanted.describe()} failed: {exc}", pytrace=False)
    print(f"created: {created.describe()}")
    problems: list[Finding] = []
    try:
        if not created.id:
            problems.append(error("behandeldienst.create.id",
                                  "the create response carries no configuration id",
                                  "without an id the configuration cannot be removed again"))
        else:
            stored = client.get(created.id)
            if stored.behandeldienst_oin != bd:
                problems.append(error("behandeldienst.create.stored",
                                      f"stored as {stored.describe()}, asked {wanted.describe()}"))
        found = VerzoeksrouteringClient(dso_rest_session_for(None)).behandeldienst_bepalen(
            [activiteit], bevoegd_gezag_oin=bg.oin, locatie_oin=bg.oin)
        routed = found.oin if found else None
        if routed != bd:
            problems.append(error(
                "behandeldienst.routering",
                f"Verzoeksroutering sends {activiteit!r} at a locatie in {bg.name} to "
                f"{routed or 'the bevoegd gezag itself'}, not to behandeldienst {bd}",
                "check the configuration's locatieOins and toestemming, and for overlaps"))
    except ApiError as exc:
        problems.append(error("behandeldienst.check", str(exc)))
    finally:
        if created.id:
            client.delete(created.id)
    if created.id:
        try:
            client.get(created.id)
            problems.append(error("behandeldienst.delete",
                                  f"configuration {created.id} still exists after DELETE"))
        except ApiError as exc:
            if exc.status is None or exc.status < 400:
                raise
    expect_clean(problems, "behandeldienstconfiguratie aanmaken en verwijderen")
