"""Fixtures for the simulator tests: a test PKI, a running DKA and a simulator wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sim_helpers import Dka, running_dka, running_sim

from pytest_dso.cli.sim import main
from pytest_dso.pkio.testpki import TestPki, build_test_pki
from pytest_dso.sim.identities import load_test_pki_folder
from pytest_dso.sim.server import Simulator


@pytest.fixture(scope="session")
def sim_pki() -> TestPki:
    """One EC test PKI for all simulator tests (fast to make)."""
    return build_test_pki(key_type="ec256")


@pytest.fixture
def dka(sim_pki: TestPki) -> Iterator[Dka]:
    """A running DKA (stopped after the test)."""
    with running_dka(sim_pki) as dka:
        yield dka


@pytest.fixture
def sim(sim_pki: TestPki, tmp_path: Path, dka: Dka) -> Iterator[Simulator]:
    """A simulator connected to ``dka`` (stopped after the test)."""
    with running_sim(sim_pki, tmp_path / "dso-sim.sqlite", dka) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def module_dka(sim_pki: TestPki) -> Iterator[Dka]:
    """A running DKA shared by one module's tests, for tests that change nothing it keeps."""
    with running_dka(sim_pki) as dka:
        yield dka


@pytest.fixture(scope="module")
def module_sim(sim_pki: TestPki, tmp_path_factory: pytest.TempPathFactory,
               module_dka: Dka) -> Iterator[Simulator]:
    """A simulator connected to ``module_dka``, shared by one module's tests: only for tests
    that leave its store, faults and counters as they found them (e.g. requests it refuses)."""
    store = tmp_path_factory.mktemp("module-sim") / "dso-sim.sqlite"
    with running_sim(sim_pki, store, module_dka) as simulator:
        yield simulator


@pytest.fixture
def output(tmp_path: Path) -> Path:
    """The output folder of a ``dso-sim`` command run by the test."""
    return tmp_path / "dso-sim"


@pytest.fixture
def cli_dka(output: Path) -> Iterator[Dka]:
    """A running DKA with the digikoppelaar certificate ``dso-sim certs`` wrote to
    ``output`` (stopped after the test)."""
    assert main(["certs", "--output", str(output)]) == 0
    ids = load_test_pki_folder(output / "certs")
    dka = Dka(None, identity=ids.party("digikoppelaar"), trust=ids.trust)
    dka.receiver.start()
    try:
        yield dka
    finally:
        dka.receiver.stop()
