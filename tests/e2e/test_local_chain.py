"""``pytest`` (local default) runs submit → trigger → ophalen for every tenant through every
locally runnable trigger source, and each broken link gets its own verdict."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
SUITE = (ROOT / "suites" / "test_e2e.py").read_text(encoding="utf-8")
MISBEHAVING = (Path(__file__).parent / "misbehaving.py").read_text(encoding="utf-8")
WATERSCHAP = "00000099000000102000"
#: EC keys make the session's test PKI quick to build (RSA-3072 takes seconds per run).
FAST_PKI = """
import pytest
from pytest_dso.pkio.testpki import build_test_pki

@pytest.fixture(scope="session")
def dso_test_pki():
    return build_test_pki(key_type="ec256")
"""


def _setup(pytester: pytest.Pytester, source: str, timeout: float = 15.0,
           conftest: str = "") -> None:
    # the polling sources (folder, ebms-core) look every 0.05 s instead of every 0.5 s
    pytester.makefile(".toml", dso=f'[triggers]\nsource = "{source}"\ntimeout = {timeout}\n'
                      'poll_interval = 0.05\n')
    pytester.makepyfile(test_e2e=SUITE)
    pytester.makeconftest(FAST_PKI + conftest)


@pytest.mark.parametrize("source", ["receiver", "folder", "http-forward", "ebms-core"])
def test_every_tenant_passes_through_each_local_source(
    pytester: pytest.Pytester, source: str
) -> None:
    _setup(pytester, source)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    # 3 tenants (gemeente, waterschap, omgevingsdienst) x 3 automated steps; the VTH step is
    # manual without a dso_vth_check.
    result.assert_outcomes(passed=9, skipped=3)
    result.stdout.fnmatch_lines(["*MANUAL: no VTH check is configured*"])


def test_a_verzoeknummer_given_by_hand_never_proves_a_received_trigger(
    pytester: pytest.Pytester,
) -> None:
    _setup(pytester, "manual")
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs")
    # submitted and fetched for each of the 3 tenants; the trigger and VTH steps are manual
    result.assert_outcomes(passed=6, skipped=6)
    result.stdout.fnmatch_lines(["*MANUAL: the manual trigger source observes no "
                                 "verzoeknotificatie*proves the submission*"])
    assert "e2e.trigger.duplicate" not in result.stdout.str()


def test_no_trigger_within_the_timeout(pytester: pytest.Pytester) -> None:
    empty = pytester.mkdir("adapter-writes-nothing-here")
    _setup(pytester, "folder", 0.3, f"""
from pathlib import Path
from pytest_dso.triggers.folder import FolderTriggerSource

def pytest_dso_trigger_source(name, settings):
    return FolderTriggerSource(Path({str(empty)!r}), poll_interval=0.05)
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-tenant", WATERSCHAP)
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*e2e.trigger.timeout: no verzoeknotificatie for * arrived*"])


def test_a_trigger_for_another_verzoek(pytester: pytest.Pytester) -> None:
    _setup(pytester, "receiver", 0.5, """
import threading
from pytest_dso.triggers.base import LoggingSource

class WrongAdapter(LoggingSource):
    name = "wrong-adapter"

    def wait_for(self, verzoeknummer, timeout, *, recipient_oin=None):
        raw = (b"<verzoeknotificatie><verzoeknummer>2000010100001</verzoeknummer>"
               b"</verzoeknotificatie>")
        timer = threading.Timer(0.05, lambda: self.log.record(raw, verzoeknummer="2000010100001"))
        timer.start()
        try:
            return super().wait_for(verzoeknummer, timeout, recipient_oin=recipient_oin)
        finally:
            timer.cancel()

def pytest_dso_trigger_source(name, settings):
    return WrongAdapter()
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-tenant", WATERSCHAP)
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*e2e.trigger.other_verzoek*2000010100001*",
        "*dso triggers (wrong-adapter)*",
        "*e2e.trigger.unmatched: a trigger no test waited for: 2000010100001*",
    ])


def test_ophalen_with_a_certificate_that_is_not_authorised(pytester: pytest.Pytester) -> None:
    _setup(pytester, "receiver", 15.0, """
import dataclasses
import pytest

@pytest.fixture(scope="session")
def dso_tenants(dso_tenants, dso_test_pki):  # noqa: F811
    # The waterschap's verzoek fetched with the omgevingsdienst's certificate: real 403.
    other = dso_test_pki.identity("omgevingsdienst")
    return tuple(dataclasses.replace(t, identity=other) for t in dso_tenants)
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-tenant", WATERSCHAP)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*e2e.ophalen.unauthorised: verzoekreferenties: HTTP 403*"])


@pytest.mark.parametrize(
    ("mode", "verdict"),
    [
        ("bad-xml", "*stam.*onbekendVeld*"),
        ("bad-size", "*stam.bijlage.size: received * bytes, the verzoek announces *"),
        ("bad-hash", "*stam.bijlage.sha256*"),
        ("wrong-bg", "*e2e.verzoek.bevoegd_gezag: *bevoegd gezag is 00000099000000999000*"),
    ],
)
def test_a_misbehaving_afhandelen_gets_its_own_verdict(
    pytester: pytest.Pytester, mode: str, verdict: str
) -> None:
    pytester.makepyfile(misbehaving=MISBEHAVING)
    _setup(pytester, "receiver", 15.0, f"""
import dataclasses
import pytest
from misbehaving import MisbehavingAfhandelen

@pytest.fixture(scope="session")
def _dso_e2e_chain(_dso_e2e_chain):
    chain = _dso_e2e_chain
    proxy = MisbehavingAfhandelen(chain.rest.base_url("afhandelen"),
                                  chain.simulator.identities.party("leverancier"),
                                  chain.trust, {mode!r})
    proxy.start()
    chain.rest = dataclasses.replace(
        chain.rest, base_urls={{**chain.rest.base_urls, "afhandelen": proxy.base_url}})
    yield chain
    proxy.stop()
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "--dso-tenant", WATERSCHAP)
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines([verdict])
