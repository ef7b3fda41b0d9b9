"""The gemiste-verzoeken suite in local mode: a trigger dropped on purpose is reported with its
samenvatting link; without a dropped trigger the suite passes."""

from __future__ import annotations

from pathlib import Path

import pytest

SUITE = Path(__file__).parents[2] / "suites" / "test_gemiste_verzoeken.py"

CONFTEST = '''
import pytest

from pytest_dso.dso.indienen import IndienenClient
from pytest_dso.dso.shapes import ActiviteitRef, IndienActiviteit, Indienbericht
from pytest_dso.stam.model import Organisatie, VerzoekType

DROP = {drop!r}


class Dropping:
    """The run's trigger source, minus the first verzoek's triggers when DROP is set."""

    def __init__(self, inner, hidden):
        self.inner, self.hidden, self.name = inner, hidden, inner.name

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def all(self):
        return [t for t in self.inner.all() if t.verzoeknummer not in self.hidden]


@pytest.fixture(scope="session")
def dso_trigger_source(_dso_e2e_chain, dso_rest_session_for, dso_tenants, dso_trigger_timeout):
    """Two meldingen submitted through the simulator; both triggers arrive."""
    gemeente = next(t for t in dso_tenants if t.type == "gemeente")
    bericht = Indienbericht(
        VerzoekType.MELDING,
        (IndienActiviteit(ActiviteitRef("Gemeentes – Melding", gemeente.oin),
                          Organisatie(gemeente.oin, gemeente.name)),),
        locatie_oin=gemeente.oin,
    )
    client = IndienenClient(dso_rest_session_for(None))
    nummers = [n for _ in range(2) for n in client.indienen(bericht)]
    for nummer in nummers:
        _dso_e2e_chain.source.wait_for(nummer, dso_trigger_timeout)
    print("submitted:", " ".join(nummers))
    return Dropping(_dso_e2e_chain.source, set(nummers[:1]) if DROP else set())
'''


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_gemiste_verzoeken=SUITE.read_text(encoding="utf-8"))
    return pytester


def _submitted(output: str) -> list[str]:
    line = next(x for x in output.splitlines() if "submitted: " in x)
    return line.split("submitted: ", 1)[1].split()


def test_a_dropped_trigger_is_reported(suite: pytest.Pytester) -> None:
    suite.makeconftest(CONFTEST.format(drop=True))
    result = suite.runpytest("-p", "no:cacheprovider", "--dso-env=local", "-s",
                                        "-m", "health")
    result.assert_outcomes(failed=1)
    first, second = _submitted(result.stdout.str())
    text = result.stdout.str()
    assert f"gemist: {first} " in text
    assert f"/afhandelen/v2/verzoeken/{first}/samenvatting" in text
    assert "health.missed_verzoek" in text
    assert f"gemist: {second}" not in text


def test_nothing_is_reported_when_every_trigger_arrived(suite: pytest.Pytester) -> None:
    suite.makeconftest(CONFTEST.format(drop=False))
    result = suite.runpytest("-p", "no:cacheprovider", "--dso-env=local", "-s",
                                        "-m", "health")
    result.assert_outcomes(passed=1)
    assert len(_submitted(result.stdout.str())) == 2
    assert "gemist:" not in result.stdout.str()
    assert "2 verzoek(en) between" in result.stdout.str()
