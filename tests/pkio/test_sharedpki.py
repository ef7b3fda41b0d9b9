"""One test PKI for the processes of a run: written once, loaded by the others, never lost."""

from __future__ import annotations

import stat
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from pytest_dso.pkio.load import key_matches
from pytest_dso.pkio.sharedpki import pki_from_json, pki_to_json, shared_test_pki
from pytest_dso.pkio.testpki import TestPki, build_test_pki


def _root(pki: TestPki) -> bytes:
    return pki.hierarchy.root.certificate.fingerprint(hashes.SHA256())


class CountingBuild:
    """An EC test PKI build that counts its calls and can take its time or fail."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls = 0
        self.delay = delay
        self.fail = fail
        self._lock = threading.Lock()

    def __call__(self) -> TestPki:
        with self._lock:
            self.calls += 1
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the build broke")
        return build_test_pki(key_type="ec256")


def test_the_json_form_keeps_certificates_keys_and_parties() -> None:
    pki = build_test_pki(key_type="ec256")
    back = pki_from_json(pki_to_json(pki))
    assert back.parties == pki.parties
    assert back.leaves.keys() == pki.leaves.keys()
    for slug, issued in pki.leaves.items():
        again = back.leaves[slug]
        assert again.certificate == issued.certificate
        assert again.issuers == issued.issuers
        assert key_matches(again.certificate, again.key)
    assert back.hierarchy.tsp.certificate == pki.hierarchy.tsp.certificate
    assert key_matches(back.hierarchy.tsp.certificate, back.hierarchy.tsp.key)


@pytest.mark.parametrize("text", ["", "{}", '{"hierarchy": 1}', "[1]"])
def test_anything_else_is_refused_as_a_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"test PKI|Expecting"):
        pki_from_json(text)


def test_the_first_process_makes_it_and_the_others_load_it(tmp_path: Path) -> None:
    build = CountingBuild(delay=0.3)
    got: list[TestPki] = []
    threads = [threading.Thread(target=lambda: got.append(shared_test_pki(
        tmp_path / "test-pki", build))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert build.calls == 1
    assert len(got) == 3
    assert len({_root(pki) for pki in got}) == 1
    # private keys inside: readable by the owner only
    assert stat.S_IMODE((tmp_path / "test-pki").stat().st_mode) == 0o600
    # a later process loads it without building
    assert _root(shared_test_pki(tmp_path / "test-pki", build)) == _root(got[0])
    assert build.calls == 1


def test_when_the_maker_fails_a_waiting_process_makes_it(tmp_path: Path) -> None:
    broken, sound = CountingBuild(delay=0.3, fail=True), CountingBuild()
    errors: list[BaseException] = []

    def maker() -> None:
        try:
            shared_test_pki(tmp_path / "test-pki", broken)
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=maker)
    first.start()
    time.sleep(0.1)  # the maker holds the lock
    started = time.monotonic()
    pki = shared_test_pki(tmp_path / "test-pki", sound, wait=30)
    first.join(10)
    assert errors
    assert sound.calls == 1
    assert time.monotonic() - started < 5  # not the whole wait
    assert _root(pki_from_json((tmp_path / "test-pki").read_text())) == _root(pki)


def test_a_process_that_waits_too_long_makes_its_own(tmp_path: Path) -> None:
    (tmp_path / "test-pki.lock").touch()  # a maker that never finishes
    build = CountingBuild()
    shared_test_pki(tmp_path / "test-pki", build, wait=0.2)
    assert build.calls == 1


def test_an_unreadable_file_means_an_own_pki(tmp_path: Path) -> None:
    (tmp_path / "test-pki").write_text("not json", encoding="utf-8")
    build = CountingBuild()
    shared_test_pki(tmp_path / "test-pki", build)
    assert build.calls == 1


CONFTEST = """
import os
import pytest_dso.pkio.testpki as testpki

_build = testpki.build_test_pki


def build_test_pki(*args, **kwargs):
    with open(os.environ["PKI_BUILDS"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\\n")
    return _build(*args, **{**kwargs, "key_type": "ec256"})


testpki.build_test_pki = build_test_pki
"""

TESTS = """
import os
import pytest
from cryptography.hazmat.primitives import hashes


@pytest.mark.parametrize("n", range(6))
def test_pki(dso_test_pki, n):
    root = dso_test_pki.hierarchy.root.certificate.fingerprint(hashes.SHA256()).hex()
    with open(os.environ["PKI_SEEN"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {root}\\n")
"""


@pytest.mark.slow
def test_under_xdist_every_worker_uses_the_one_pki_of_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("xdist")
    builds, seen = pytester.path / "builds.log", pytester.path / "seen.log"
    monkeypatch.setenv("PKI_BUILDS", str(builds))
    monkeypatch.setenv("PKI_SEEN", str(seen))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_pki=TESTS)
    # the real dso_test_pki fixture, not the self-tests' quick override of it
    result = pytester.runpytest_subprocess("-p", "no:dso_selftest_plugin", "-p",
                                           "no:cacheprovider", "--dso-env=local", "-n", "2",
                                           timeout=120)
    result.assert_outcomes(passed=6)
    processes = {line.split()[0] for line in seen.read_text().splitlines()}
    roots = {line.split()[1] for line in seen.read_text().splitlines()}
    assert len(processes) == 2, "both workers ran tests"
    assert len(roots) == 1, "one test PKI for the whole run"
    assert len(builds.read_text().splitlines()) == 1, "made once"
